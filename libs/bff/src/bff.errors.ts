import { GatewayError } from '#sessiongate/observability';

export enum BffErrorCode {
  /** /bff/logout without the session's own `sid`: a cross-site link cannot log anyone out. */
  InvalidLogoutRequest = 'invalid_logout_request',
}

export class BffError extends GatewayError {
  constructor(code: BffErrorCode, message: string) {
    super(code, 400, message);
  }
}
