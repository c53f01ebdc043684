import { stepUpChallenge } from '#sessiongate/step-up';
import type { ReceivedHeaders } from './proxy-headers.js';
import type { AuthorizeOptions } from './upstream-authorizer.js';
import type { UpstreamCredential } from './upstream-credential.js';

/** An access token sent as `Authorization: Bearer` (RFC 6750 §2.1): one object per request, nothing per attempt. */
export class BearerCredential implements UpstreamCredential {
  readonly scheme = 'Bearer';
  readonly authorization: string;
  readonly attemptHeaders = undefined;

  constructor(readonly token: string) {
    this.authorization = `Bearer ${token}`;
  }

  /**
   * A bearer token refused before its expiry was revoked or its keys rotated: the authorizer must replace it.
   * Refused for the login behind it (RFC 9470 `insufficient_user_authentication`), it asks for a step-up instead.
   */
  retryAfter401(refusal: ReceivedHeaders): AuthorizeOptions {
    const stepUp = stepUpChallenge(refusal['www-authenticate']);
    return stepUp ? { stepUp } : { rejectedToken: this.token };
  }
}
