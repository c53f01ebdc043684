import { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, type CryptoKey, errors, type JWSHeaderParameters } from 'jose';
import { OidcClient } from './oidc.client.js';

/** How long fetched keys are trusted before they are fetched again. */
const CACHE_MAX_AGE_MS = 10 * 60_000;
/**
 * A token naming a `kid` we do not know makes the keys be fetched again (the provider rotated them),
 * but at most once per this interval: a flood of forged kids must not become a flood of requests.
 */
const REFETCH_COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 5000;

/** Fetching the provider's keys failed (unreachable, timed out, or not a JWKS): not the token's fault. */
export class ProviderKeysUnavailable extends Error {
  override readonly name = 'ProviderKeysUnavailable';
}

/**
 * The provider's signing keys, from its discovered `jwks_uri` (jose's remote key set: fetched on first
 * use, cached, refetched on an unknown `kid` at most once per REFETCH_COOLDOWN_MS). For tokens the
 * gateway receives rather than fetches itself: admin bearer tokens and back-channel logout tokens.
 */
@Injectable()
export class ProviderKeys {
  private keySet: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(private readonly oidc: OidcClient) {}

  /** The key for a token's protected header; throws jose's JWKSNoMatchingKey, or ProviderKeysUnavailable. */
  async key(header: JWSHeaderParameters): Promise<CryptoKey> {
    try {
      return await this.keys()(header);
    } catch (error) {
      if (
        error instanceof errors.JWKSTimeout ||
        error instanceof errors.JWKSInvalid ||
        isGenericJoseError(error) ||
        isFetchFailure(error)
      ) {
        throw new ProviderKeysUnavailable(`provider keys unavailable: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  /** The same key as a Node KeyObject, for libraries that verify with node:crypto (jsonwebtoken). */
  async keyObject(header: JWSHeaderParameters): Promise<KeyObject> {
    return KeyObject.from(await this.key(header));
  }

  /** For jose's jwtVerify. */
  readonly getKey = (header: JWSHeaderParameters): Promise<CryptoKey> => this.key(header);

  private keys(): ReturnType<typeof createRemoteJWKSet> {
    if (!this.keySet) {
      if (!this.oidc.ready) throw new ProviderKeysUnavailable('the provider is not discovered yet');
      const uri = this.oidc.jwksUri;
      if (!uri) throw new ProviderKeysUnavailable('the provider publishes no jwks_uri');
      this.keySet = createRemoteJWKSet(new URL(uri), {
        cacheMaxAge: CACHE_MAX_AGE_MS,
        cooldownDuration: REFETCH_COOLDOWN_MS,
        timeoutDuration: FETCH_TIMEOUT_MS,
      });
    }
    return this.keySet;
  }
}

// jose's plain JOSEError here is a JWKS response that was not 200 or not JSON.
function isGenericJoseError(error: unknown): boolean {
  return error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC';
}

// fetch's own failures (connection refused, DNS) are TypeErrors, possibly from another realm.
function isFetchFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TypeError';
}
