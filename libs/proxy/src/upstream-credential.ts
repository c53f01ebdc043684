import type { AuthorizeOptions } from './upstream-authorizer.js';
import type { ReceivedHeaders } from './proxy-headers.js';

/** How the credential is presented: `Bearer` (RFC 6750) today; `DPoP` (RFC 9449 §7.1) is the next. */
export type CredentialScheme = 'Bearer' | 'DPoP';

/** One request sent upstream, as a sender-constrained credential binds it (RFC 9449 §4.2: htm and htu). */
export interface UpstreamAttempt {
  readonly method: string;
  /** The exact upstream URL of this attempt, query included (a DPoP proof's htu leaves the query out). */
  readonly url: string;
}

/**
 * What the gateway sends upstream on a caller's behalf, from the authorizer: to the proxy, the WebSocket
 * handshake, and (next) a forward-auth answer alike.
 */
export interface UpstreamCredential {
  readonly scheme: CredentialScheme;
  readonly token: string;
  /** The Authorization value (`<scheme> <token>`), made once however many attempts send it. */
  readonly authorization: string;
  /**
   * Headers made anew for each attempt, e.g. a DPoP proof, which binds the method and exact URL and must be
   * new per request and per retry. Undefined when there are none, so that a bearer call makes nothing per attempt.
   */
  readonly attemptHeaders: ((attempt: UpstreamAttempt) => Readonly<Record<string, string>>) | undefined;
  /**
   * What to ask the authorizer for once the upstream answered 401 to this credential, given that answer's
   * headers (its WWW-Authenticate challenge; with DPoP, a DPoP-Nonce to sign the next proof with).
   */
  retryAfter401(refusal: ReceivedHeaders): AuthorizeOptions;
}
