import { JsonKeyError } from './json-array.js';
import type { BearerCallers, ClaimCondition, ClaimValue, RoutePolicy } from './route-policy.types.js';
import { ASYMMETRIC_JWS_ALGS } from './setting-parsers.js';

/** What the proxy forwards (no TRACE: an upstream echoing it would hand the browser the access token); a route's `methods` lists some of these. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** Keys of a claim condition object; a bare value means `equals` that one value. */
const OPERATORS = { anyOf: 'equals', containsAnyOf: 'containsAnyOf' } as const;
const SHAPES = 'must be a string, a number, true or false, { "anyOf": [...] } or { "containsAnyOf": [...] }';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function claimValue(value: unknown): ClaimValue | undefined {
  if (typeof value === 'string') return value.normalize('NFC');
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  return undefined;
}

function condition(claim: string, given: unknown): ClaimCondition {
  const path = claim.split('.');
  if (path.some((segment) => segment === '')) throw new JsonKeyError(claim, 'is not a claim name (empty segment between dots)');
  const single = claimValue(given);
  if (single !== undefined) return { claim, path, kind: 'equals', values: [single] };
  // A bare list would not say whether the claim holds one value or several: the rule must say which.
  if (!isPlainObject(given)) throw new JsonKeyError(claim, SHAPES);
  const operators = Object.keys(given);
  const operator = operators[0];
  if (operators.length !== 1 || (operator !== 'anyOf' && operator !== 'containsAnyOf')) throw new JsonKeyError(claim, SHAPES);
  const list = given[operator];
  const values = Array.isArray(list) ? list.map(claimValue) : [];
  if (values.length === 0 || values.some((value) => value === undefined))
    throw new JsonKeyError(`${claim}.${operator}`, 'must be a non-empty array of strings, numbers or true/false');
  return { claim, path, kind: OPERATORS[operator], values: values as ClaimValue[] };
}

function scopeList(value: unknown, key: string): readonly string[] {
  const list = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((scope) => typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)))
    throw new JsonKeyError(key, 'must be scope tokens: an array of them, or one space-separated string');
  return [...new Set(list as string[])];
}

/**
 * A `require` object: each key a claim (dotted for nested claims) and what it must be, except `scope`,
 * the scopes the route's token must have been granted. Throws JsonKeyError naming the key at fault.
 */
export function routePolicy(value: unknown): RoutePolicy {
  if (!isPlainObject(value)) throw new Error('must be an object of claim conditions');
  const claims: ClaimCondition[] = [];
  let scope: readonly string[] = [];
  for (const [name, given] of Object.entries(value)) {
    if (name === 'scope') scope = scopeList(given, 'scope');
    else claims.push(condition(name, given));
  }
  return { claims, scope };
}

/** A route's `methods`: some of HTTP_METHODS, upper-case, each once. */
export function httpMethods(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const known: readonly string[] = HTTP_METHODS;
  if (!Array.isArray(value) || value.length === 0 || value.some((method) => typeof method !== 'string' || !known.includes(method)))
    throw new Error(`must be a non-empty array of ${HTTP_METHODS.join(', ')} (upper-case)`);
  if (new Set(value).size !== value.length) throw new Error('lists a method twice');
  return value as string[];
}

/** A route's `bearer`: `{ "audience": "...", "scopes": [...], "algorithms": [...] }`, audience required. */
export function bearerCallers(value: unknown): BearerCallers | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw new Error('must be an object: { "audience": "...", "scopes": [...] }');
  const unknownKeys = Object.keys(value).filter((key) => !['audience', 'scopes', 'algorithms'].includes(key));
  if (unknownKeys.length > 0) throw new JsonKeyError(unknownKeys[0] ?? '', 'is not a key of bearer (audience, scopes, algorithms)');
  const { audience, scopes, algorithms = ['RS256'] } = value;
  if (typeof audience !== 'string' || audience === '') throw new JsonKeyError('audience', 'must be a non-empty string');
  // `none` and HS* would let anyone holding the provider's public key mint tokens.
  if (!Array.isArray(algorithms) || algorithms.length === 0 || algorithms.some((alg) => !ASYMMETRIC_JWS_ALGS.includes(alg)))
    throw new JsonKeyError('algorithms', `must be a non-empty array of ${ASYMMETRIC_JWS_ALGS.join(', ')}`);
  return { audience, scopes: scopes === undefined ? [] : scopeList(scopes, 'scopes'), algorithms: algorithms as string[] };
}
