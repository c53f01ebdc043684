import type { IncomingHttpHeaders } from 'node:http';
import { Injectable } from '@nestjs/common';
import { type JWTPayload, jwtVerify } from 'jose';
import type { BearerCallers } from '#sessiongate/config';
import { OidcClient, OidcError, ProviderKeys, ProviderKeysUnavailable } from '#sessiongate/oidc';
import { scopeWords } from './claims.policy.js';
import { PolicyError, PolicyErrorCode } from './policy.errors.js';

/** Seconds of clock skew tolerated on `exp` and `nbf`, as on admin tokens. */
const LEEWAY_SECONDS = 30;
const BEARER_SCHEME = /^bearer(?: |$)/i;
/** RFC 6750 §2.1 b64token, which a compact JWS always is. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** A verified bearer caller: the token's claims and every scope it carries (`scope` and `scp`). */
export interface BearerCaller {
  readonly claims: JWTPayload;
  readonly scopes: ReadonlySet<string>;
}

/**
 * The credentials of `Authorization: Bearer <token>` (RFC 6750 §2.1), trimmed; undefined when the header
 * is absent or names another scheme (which a bearer route ignores, as every route does).
 */
export function bearerTokenOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization === undefined || !BEARER_SCHEME.test(authorization)) return undefined;
  return authorization.slice('bearer'.length).trim();
}

/**
 * JWT access tokens of callers without a session on a `bearer` route: signed by the provider (its JWKS,
 * through ProviderKeys as for admin and logout tokens: cached, refetched on an unknown `kid` at most
 * every 30 s), with one of the route's asymmetric algorithms (checked before any key is looked up, so
 * `none` and an HS256 token "signed" with the public key never get that far), `iss` = the provider,
 * `aud` = the route's `bearer.audience`, a mandatory `exp` not passed and any `nbf` reached, and every
 * scope of `bearer.scopes`.
 */
@Injectable()
export class BearerTokenVerifier {
  constructor(
    private readonly keys: ProviderKeys,
    private readonly oidc: OidcClient,
  ) {}

  async verify(token: string, callers: BearerCallers): Promise<BearerCaller> {
    let claims: JWTPayload;
    try {
      if (!B64TOKEN.test(token)) throw new Error('not a b64token');
      ({ payload: claims } = await jwtVerify(token, this.keys.getKey, {
        algorithms: [...callers.algorithms],
        issuer: this.oidc.issuer,
        audience: callers.audience,
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw refusal(error);
    }
    const scopes = new Set([...scopeWords(claims.scope), ...scopeWords(claims.scp)]);
    const missing = callers.scopes.filter((scope) => !scopes.has(scope));
    if (missing.length > 0) {
      throw new PolicyError(PolicyErrorCode.InsufficientScope, {
        detail: `bearer token lacks ${missing.join(' ')}`,
        headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${callers.scopes.join(' ')}"` },
      });
    }
    return { claims, scopes };
  }
}

/** The provider being unreachable (or not discovered yet) is a 503, not the token's fault; anything else is the token's. */
function refusal(error: unknown): Error {
  if (error instanceof OidcError) return error;
  if (error instanceof ProviderKeysUnavailable) return OidcError.idpUnavailable(error.message);
  // jose's messages name the check that failed ('"aud" claim check failed'), never the token.
  return new PolicyError(PolicyErrorCode.InvalidToken, {
    variant: 'bearer',
    detail: error instanceof Error ? `bearer token refused: ${error.name}: ${error.message}` : 'bearer token refused',
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  });
}
