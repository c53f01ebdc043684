import { createPublicKey, type JsonWebKey } from 'node:crypto';

const FETCH_TIMEOUT_MS = 5000;

interface Jwk extends JsonWebKey {
  readonly kid?: string;
  readonly use?: string;
}

/**
 * The provider's signing keys (PEM) by `kid`: fetched on first use, and fetched again, once per
 * lookup, when a token names a kid the cache does not know (the provider rotated its keys).
 */
export class JwksCache {
  private keys = new Map<string, string>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly jwksUri: string) {}

  async key(kid: string): Promise<string | undefined> {
    if (!this.keys.has(kid)) await this.refresh();
    return this.keys.get(kid);
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.fetchKeys().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async fetchKeys(): Promise<void> {
    const response = await fetch(this.jwksUri, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`JWKS request answered ${response.status}`);
    const { keys } = (await response.json()) as { keys: Jwk[] };
    this.keys = new Map(
      keys
        .filter((jwk) => jwk.kid && jwk.kty === 'RSA' && (jwk.use ?? 'sig') === 'sig')
        .map((jwk) => [jwk.kid!, createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()]),
    );
  }
}
