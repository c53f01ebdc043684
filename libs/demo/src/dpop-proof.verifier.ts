import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

/** RFC 9449 §11.1: how far a proof's `iat` may be from now, and how long its `jti` is remembered (at least as long). */
const WINDOW_SECONDS = 60;
/** A nonce this API demands is replaced this often (RFC 9449 §9: the server decides). */
const NONCE_LIFETIME_MS = 5 * 60_000;
const ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256'];

export interface ProofRequest {
  readonly method: string;
  /** The request target as received (path and query). */
  readonly url: string;
  readonly host: string | undefined;
  readonly proof: string | string[] | undefined;
  readonly accessToken: string;
}

/** Why a DPoP request is refused: `use_dpop_nonce` comes with the nonce to use (in DPoP-Nonce). */
export interface ProofRefusal {
  readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce';
  readonly description: string;
}

/**
 * The demo API's check of a DPoP proof (RFC 9449 §4.3, §7.1), with jose: the signature by the key
 * embedded in its header, `typ: dpop+jwt`, `htm` and `htu` (the URL as this API was called, without
 * query), `ath` of the token it came with, `iat` within a minute, `jti` never seen in that window, and
 * the token's `cnf.jkt` naming that very key. With `requireNonce`, it must also carry this API's nonce.
 */
export class DpopProofVerifier {
  private readonly seen = new Map<string, number>();
  private currentNonce = newNonce();
  private nonceSince = Date.now();

  constructor(private readonly requireNonce: boolean) {}

  /** The nonce a `use_dpop_nonce` refusal hands out (RFC 9449 §9), replaced every few minutes. */
  get nonce(): string {
    if (Date.now() - this.nonceSince > NONCE_LIFETIME_MS) {
      this.currentNonce = newNonce();
      this.nonceSince = Date.now();
    }
    return this.currentNonce;
  }

  async verify(request: ProofRequest, boundKey: string | undefined): Promise<ProofRefusal | undefined> {
    const refuse = (description: string): ProofRefusal => ({ error: 'invalid_dpop_proof', description });
    if (typeof request.proof !== 'string') return refuse('exactly one DPoP header is required');
    if (boundKey === undefined) return refuse('the access token is not DPoP-bound');
    let payload: Record<string, unknown>;
    let jwk: Record<string, unknown>;
    try {
      const verified = await jwtVerify(request.proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ALGORITHMS });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk as Record<string, unknown>;
    } catch {
      return refuse('the proof signature, type or algorithm is not valid');
    }
    if ('d' in jwk) return refuse('the proof embeds a private key');
    if (payload.htm !== request.method) return refuse('htm does not match the request method');
    if (payload.htu !== `http://${request.host ?? ''}${request.url.split('?', 1)[0]}`) return refuse('htu does not match the request URL');
    if (payload.ath !== createHash('sha256').update(request.accessToken).digest('base64url')) return refuse('ath does not match the token');
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > WINDOW_SECONDS) return refuse('iat is not recent');
    if (typeof payload.jti !== 'string' || payload.jti.length < 8) return refuse('jti is missing');
    if ((await calculateJwkThumbprint(jwk)) !== boundKey) return refuse('the proof key is not the one the token is bound to');
    if (this.requireNonce && payload.nonce !== this.nonce) return { error: 'use_dpop_nonce', description: 'a DPoP nonce is required' };
    this.forgetOld(now);
    if (this.seen.has(payload.jti)) return refuse('jti was used before');
    this.seen.set(payload.jti, now + WINDOW_SECONDS);
    return undefined;
  }

  private forgetOld(now: number): void {
    for (const [jti, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(jti);
    }
  }
}

function newNonce(): string {
  return randomBytes(16).toString('base64url');
}
