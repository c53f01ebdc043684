import type { ApiRoute } from './config.types.js';
import type { ParsedSettings, Rule } from './config-rules.js';
import { settings } from './settings.js';

/** FAPI 2.0 Security Profile (cryptography and secrets): the only JWS algorithms a client and its provider may sign with. */
export const FAPI2_ALGORITHMS: readonly string[] = ['PS256', 'ES256', 'EdDSA'];

/** Whether a route's token is DPoP-bound: its own `dpop` when given, else OIDC_DPOP. */
export function routeUsesDpop(dpop: ParsedSettings['dpop'], route: Pick<ApiRoute, 'dpop'>): boolean {
  return route.dpop ?? (dpop !== undefined && dpop !== 'false');
}

/**
 * What a route's `dpop` may not say: opt out of DPoP-bound tokens (a DPoP token is never sent as
 * Bearer), share the login token while that one is not bound, or disagree with another route about
 * the same token.
 */
export function dpopRouteProblems(v: ParsedSettings, routes: readonly ApiRoute[]): string[] {
  const problems: string[] = [];
  const bound = new Map<string, { prefix: string; dpop: boolean }>();
  for (const route of routes) {
    if (route.token === 'none') continue;
    const dpop = routeUsesDpop(v.dpop, route);
    if (route.dpop === false && v.dpop !== 'false') {
      problems.push(
        `API_ROUTES: ${route.prefix} sets "dpop": false, but OIDC_DPOP=${v.dpop} binds every token (a DPoP token is never sent as Bearer)`,
      );
    }
    const ownToken = route.audience.resource !== undefined || route.audience.scopes !== undefined;
    if (dpop && v.dpop === 'false' && (route.token === 'user' || route.token === 'optional') && !ownToken) {
      problems.push(
        `API_ROUTES: ${route.prefix} sets "dpop": true but uses the login token, which OIDC_DPOP=false leaves unbound: give it a resource or scopes, or set OIDC_DPOP`,
      );
    }
    if (route.token !== 'user' && route.token !== 'optional') continue;
    const key = `${route.audience.resource ?? ''} ${route.audience.scopes ?? ''}`;
    const other = bound.get(key);
    if (other && other.dpop !== dpop) {
      problems.push(
        `API_ROUTES: ${route.prefix} and ${other.prefix} need the same token, one DPoP-bound and one not: give them the same "dpop"`,
      );
    }
    bound.set(key, { prefix: route.prefix, dpop });
  }
  return problems;
}

const fapi2 = (v: ParsedSettings) => v.securityProfile === 'fapi2';
const PROFILE = 'SECURITY_PROFILE=fapi2';

/**
 * SECURITY_PROFILE=fapi2: each setting that contradicts the FAPI 2.0 Security Profile (final), one
 * line each, naming the setting and the clause (docs/FAPI2.md has the whole table).
 */
export const fapi2Rules: readonly Rule[] = [
  (v) =>
    fapi2(v) && v.usePar === false ? `OIDC_USE_PAR: must be true under ${PROFILE} (FAPI 2.0: pushed authorization requests)` : undefined,
  (v) =>
    fapi2(v) && v.clientAuthMethod !== undefined && v.clientAuthMethod !== 'private_key_jwt'
      ? `OIDC_CLIENT_AUTH_METHOD: must be private_key_jwt under ${PROFILE} (FAPI 2.0: no client secrets; ${v.clientAuthMethod} is one)`
      : undefined,
  (v) =>
    fapi2(v) && v.clientSecret !== undefined
      ? `${settings.clientSecret.env}: must not be set under ${PROFILE} (FAPI 2.0: private_key_jwt, no client_secret_*)`
      : undefined,
  (v) => {
    if (!fapi2(v) || v.clientPrivateKey === undefined) return undefined;
    const alg = (v.clientPrivateKey as { alg?: unknown }).alg;
    return typeof alg === 'string' && FAPI2_ALGORITHMS.includes(alg)
      ? undefined
      : `OIDC_CLIENT_PRIVATE_KEY: its "alg" must be one of ${FAPI2_ALGORITHMS.join(', ')} under ${PROFILE} (FAPI 2.0), not ${typeof alg === 'string' ? alg : 'unset (RS256)'}`;
  },
  (v) =>
    fapi2(v) && v.idTokenSigningAlg !== undefined && !FAPI2_ALGORITHMS.includes(v.idTokenSigningAlg)
      ? `OIDC_ID_TOKEN_ALG: must be one of ${FAPI2_ALGORITHMS.join(', ')} under ${PROFILE} (FAPI 2.0), not ${v.idTokenSigningAlg}`
      : undefined,
  (v) =>
    fapi2(v) && v.dpop !== undefined && v.dpop !== 'true'
      ? `OIDC_DPOP: must be true under ${PROFILE} (FAPI 2.0: sender-constrained access tokens; ${v.dpop} allows Bearer)`
      : undefined,
  (v) =>
    fapi2(v) && v.allowInsecureHttp === true
      ? `OIDC_ALLOW_INSECURE_HTTP: must not be true under ${PROFILE} (FAPI 2.0: TLS to the provider)`
      : undefined,
];
