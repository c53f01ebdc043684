import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

/**
 * Keyed hashes of what sessions are looked up by (`sub`, the provider's `sid`, the public id, a
 * logout token's `jti`) and of rate counters' names. Keyed, not a plain SHA-256: anyone reading
 * Redis could otherwise test whether `alice@example.com` is logged in (or which address is counted)
 * by hashing guesses. The key is derived (HKDF) from the index key (SESSION_INDEX_KEY, by default the single SESSION_ENCRYPTION_KEY), which does not rotate
 * with the encryption keys: these hashes name Redis keys, and a rotation must not rename them.
 */
export class SessionLookups {
  private readonly key: KeyObject;

  constructor(indexKey: Buffer) {
    this.key = createSecretKey(Buffer.from(hkdfSync('sha256', indexKey, Buffer.alloc(0), 'sessiongate session lookups v1', 32)));
  }

  sub(sub: string): string {
    return this.hash('sub', sub);
  }

  idpSessionId(sid: string): string {
    return this.hash('sid', sid);
  }

  publicId(publicId: string): string {
    return this.hash('pub', publicId);
  }

  logoutTokenId(issuer: string, jti: string): string {
    return this.hash('jti', `${issuer}\u0000${jti}`);
  }

  /** A rate counter's name: it is built from a client address, which Redis must not hold. */
  rateCounter(name: string): string {
    return this.hash('rate', name);
  }

  // The kind is part of the input: a `sub` equal to some `sid` still hashes differently.
  private hash(kind: string, value: string): string {
    return createHmac('sha256', this.key).update(`${kind}\u0000${value}`).digest('base64url');
  }
}
