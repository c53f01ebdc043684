import { All, Controller, Req } from '@nestjs/common';
import type { AuthenticatedRequest } from './access-token.strategy.js';

/** Any other path: what the API received, for tests of the gateway's proxy. */
@Controller()
export class EchoController {
  @All('*')
  echo(@Req() request: AuthenticatedRequest): Record<string, unknown> {
    const { sub, aud, scope, jti } = request.user;
    // The token itself stays out of the body: a browser page calling through the gateway must never see one.
    const { authorization } = request.headers;
    const headers = {
      ...request.headers,
      ...(authorization ? { authorization: `${authorization.split(' ', 1)[0]} [redacted]` } : {}),
      dpop: undefined,
    };
    return { method: request.method, path: request.url.split('?', 1)[0], headers, sub, aud, scope, jti };
  }
}
