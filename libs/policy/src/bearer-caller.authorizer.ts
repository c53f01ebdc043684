import type { IncomingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { ApiRoute, BearerCallers, RoutePolicy } from '#sessiongate/config';
import { SessionCookies } from '#sessiongate/http';
import { BearerCredential } from '#sessiongate/proxy';
import { assertCallerStepUp } from '#sessiongate/step-up';
import { BearerTokenVerifier } from './bearer-token.verifier.js';
import { PolicyError, PolicyErrorCode } from './policy.errors.js';
import { assertClaims, assertScope } from './route.policy.js';

/**
 * Callers without a session on a `bearer` route (docs/ROUTES.md): no X-CSRF (the token is no ambient
 * credential a page could be tricked into sending), the token verified for the route's audience, the
 * route's `require` judged on its claims and scopes, and the token itself sent upstream as it came.
 */
@Injectable()
export class BearerCallerAuthorizer {
  constructor(
    private readonly cookies: SessionCookies,
    private readonly verifier: BearerTokenVerifier,
  ) {}

  /**
   * The credential to send for `token`, presented on a route with these `callers`, `policy` and `stepUp`
   * (the route's `acr` / `maxAge`, judged on the token's claims); throws a PolicyError or StepUpError to refuse.
   */
  async credentialFor(
    headers: IncomingHttpHeaders,
    callers: BearerCallers,
    policy: RoutePolicy | undefined,
    token: string,
    stepUp: Pick<ApiRoute, 'acr' | 'maxAge'> = { acr: undefined, maxAge: undefined },
  ): Promise<BearerCredential> {
    // Both would make the request a session's and a token holder's at once: neither may be picked silently.
    if (this.cookies.sessionId(headers.cookie) !== undefined) {
      throw new PolicyError(PolicyErrorCode.AmbiguousCredentials, { detail: 'session cookie and bearer token on one request' });
    }
    const caller = await this.verifier.verify(token, callers);
    assertClaims(policy, [caller.claims]);
    assertScope(policy, caller.scopes);
    assertCallerStepUp(caller.claims, stepUp, Date.now());
    return new BearerCredential(token);
  }
}
