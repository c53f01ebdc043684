import { createHash, createPrivateKey, generateKeyPair, type JsonWebKey, type KeyObject, randomBytes, sign, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';

/** The JWS algorithms a session's DPoP key may use (OIDC_DPOP_ALG): both allowed by FAPI 2.0. */
export type DpopAlgorithm = 'ES256' | 'EdDSA';

export const DPOP_ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'EdDSA'];

/**
 * A DPoP key pair as a session keeps it: the private JWK (its public members included). It only ever
 * lives inside the encrypted session record or pending login, and is never logged or listed.
 */
export interface StoredDpopKey {
  readonly alg: DpopAlgorithm;
  readonly jwk: Readonly<JsonWebKey>;
}

/** What a proof binds (RFC 9449 §4.2). */
export interface ProofClaims {
  readonly htm: string;
  /** The target URI without query and fragment. */
  readonly htu: string;
  /** `ath`: accessTokenHash of the token the proof travels with, if any (hashed once per token, not per proof). */
  readonly ath?: string;
  readonly nonce?: string;
}

const generate = promisify(generateKeyPair);

/** A new key pair for a session (at /bff/login, before the code exchange, so that the code is bound to it). */
export async function newDpopKey(alg: DpopAlgorithm): Promise<StoredDpopKey> {
  const { privateKey } = alg === 'ES256' ? await generate('ec', { namedCurve: 'P-256' }) : await generate('ed25519', {});
  return { alg, jwk: (privateKey as KeyObject).export({ format: 'jwk' }) };
}

// A session read from memory is the same object request after request: its key is imported once.
const imported = new WeakMap<StoredDpopKey, DpopKey>();

/** The usable key of a stored one, imported once per stored object. */
export function dpopKeyOf(stored: StoredDpopKey): DpopKey {
  let key = imported.get(stored);
  if (!key) {
    key = new DpopKey(stored);
    imported.set(stored, key);
  }
  return key;
}

/**
 * Signs DPoP proofs synchronously (node:crypto, not WebCrypto): a proof is made per upstream attempt,
 * inside the credential's `attemptHeaders`, and costs one signature plus one SHA-256 of the token.
 */
export class DpopKey {
  /** RFC 7638 thumbprint of the public key: what the provider puts in a bound token's `cnf.jkt`. */
  readonly thumbprint: string;
  readonly publicJwk: Readonly<JsonWebKey>;
  private readonly privateKey: KeyObject;
  private readonly encodedHeader: string;

  constructor(private readonly stored: StoredDpopKey) {
    this.privateKey = createPrivateKey({ key: stored.jwk as JsonWebKey, format: 'jwk' });
    const { kty, crv, x, y } = stored.jwk;
    this.publicJwk = kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
    this.thumbprint = jwkThumbprint(this.publicJwk);
    this.encodedHeader = base64url(JSON.stringify({ typ: 'dpop+jwt', alg: stored.alg, jwk: this.publicJwk }));
  }

  get alg(): DpopAlgorithm {
    return this.stored.alg;
  }

  /** A new proof: fresh `jti` and `iat` every call, so no two attempts ever carry the same one. */
  proof(claims: ProofClaims): string {
    const payload: Record<string, unknown> = {
      jti: randomBytes(16).toString('base64url'),
      htm: claims.htm,
      htu: claims.htu,
      iat: Math.floor(Date.now() / 1000),
    };
    if (claims.ath !== undefined) payload.ath = claims.ath;
    if (claims.nonce !== undefined) payload.nonce = claims.nonce;
    const input = `${this.encodedHeader}.${base64url(JSON.stringify(payload))}`;
    const signature =
      this.stored.alg === 'ES256'
        ? sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign(null, Buffer.from(input), this.privateKey);
    return `${input}.${signature.toString('base64url')}`;
  }

  /** The same key as a WebCrypto pair, for openid-client's DPoP handle at the token endpoint. */
  async cryptoKeyPair(): Promise<webcrypto.CryptoKeyPair> {
    const algorithm = this.stored.alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' };
    const { d: _private, ...publicMembers } = this.stored.jwk;
    const [privateKey, publicKey] = await Promise.all([
      webcrypto.subtle.importKey('jwk', this.stored.jwk as webcrypto.JsonWebKey, algorithm, false, ['sign']),
      webcrypto.subtle.importKey('jwk', publicMembers as webcrypto.JsonWebKey, algorithm, true, ['verify']),
    ]);
    return { privateKey, publicKey };
  }
}

/** `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/** RFC 7638: SHA-256 over the required members, in lexicographic order, without whitespace. */
function jwkThumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
