/** Origins remembered at most: the provider and the configured upstreams are few; anything more is evicted oldest first. */
const MAX_ORIGINS = 256;

/**
 * The latest DPoP nonce (RFC 9449 §8, §9) each server asked for, by origin: the next proof to that
 * server carries it, so a server that demands nonces challenges once per nonce it issues, not once per request.
 */
export class DpopNonceCache {
  private readonly nonces = new Map<string, string>();

  get(origin: string): string | undefined {
    return this.nonces.get(origin);
  }

  remember(origin: string, nonce: string): void {
    this.nonces.delete(origin);
    if (this.nonces.size >= MAX_ORIGINS) this.nonces.delete(this.nonces.keys().next().value as string);
    this.nonces.set(origin, nonce);
  }
}
