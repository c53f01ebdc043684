import { All, Controller, Req } from '@nestjs/common';
import type { AuthenticatedRequest } from './access-token.strategy.js';

/** Any other path: what the API received, for tests of the gateway's proxy. */
@Controller()
export class EchoController {
  @All('*')
  echo(@Req() request: AuthenticatedRequest): Record<string, unknown> {
    const { sub, aud, scope, jti } = request.user;
    // The token itself stays out of the body: a browser page calling through the gateway must never see one.
    const headers = { ...request.headers, ...(request.headers.authorization ? { authorization: 'Bearer [redacted]' } : {}) };
    return { method: request.method, path: request.url.split('?', 1)[0], headers, sub, aud, scope, jti };
  }
}
