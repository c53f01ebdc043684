import { accessTokenHash, type DpopKey, type DpopNonceCache, dpopNonceChallenge, originOf, proofTarget } from '#sessiongate/dpop';
import type { AuthorizeOptions, UpstreamAttempt, UpstreamCredential } from '#sessiongate/proxy';

type ReceivedHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A DPoP-bound access token (RFC 9449 §7.1): `Authorization: DPoP <token>`, and for every attempt a
 * new proof binding its method and URL (no query), the token (`ath`) and the latest nonce that origin
 * asked for. The token hash is computed once; each attempt costs one signature.
 */
export class DpopCredential implements UpstreamCredential {
  readonly scheme = 'DPoP';
  readonly authorization: string;
  readonly attemptHeaders: (attempt: UpstreamAttempt) => Readonly<Record<string, string>>;
  /** The origin of the last attempt, which a 401's nonce belongs to. */
  private origin: string | undefined;

  constructor(
    readonly token: string,
    key: DpopKey,
    private readonly nonces: DpopNonceCache,
  ) {
    this.authorization = `DPoP ${token}`;
    const ath = accessTokenHash(token);
    this.attemptHeaders = (attempt) => {
      const htu = proofTarget(attempt.url);
      this.origin = originOf(htu);
      return { dpop: key.proof({ htm: attempt.method, htu, ath, nonce: nonces.get(this.origin) }) };
    };
  }

  /**
   * A `use_dpop_nonce` challenge (RFC 9449 §9) asks for the same token with a proof carrying the nonce:
   * remembered for the origin, so that later requests carry it from the start. Any other 401 refuses the token.
   */
  retryAfter401(refusal: ReceivedHeaders): AuthorizeOptions {
    const nonce = dpopNonceChallenge(refusal);
    if (nonce === undefined || this.origin === undefined) return { rejectedToken: this.token };
    this.nonces.remember(this.origin, nonce);
    return { dpopNonce: nonce };
  }
}
