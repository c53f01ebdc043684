import { GatewayError } from '#sessiongate/observability';

export class CsrfError extends GatewayError {
  constructor(detail: string, message = 'Missing X-CSRF: 1 header.') {
    super('csrf', 403, message, { detail });
  }
}
