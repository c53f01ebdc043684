import { GatewayError } from '#sessiongate/observability';

export class CsrfError extends GatewayError {
  constructor(detail: string) {
    super('csrf', 403, 'Missing X-CSRF: 1 header.', { detail });
  }
}
