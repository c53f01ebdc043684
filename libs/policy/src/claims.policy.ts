import type { ClaimCondition, ClaimValue, RoutePolicy } from '#sessiongate/config';

/** A set of claims: a verified ID token's, userinfo's, or a bearer JWT's payload. */
export type Claims = Readonly<Record<string, unknown>>;

function isPlainObject(value: unknown): value is Claims {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The claim a condition names: a top-level claim of exactly that name (`https://example.com/roles`), else
 * the dotted path through nested objects (`realm_access.roles`). Own properties only, so that
 * `constructor` or `__proto__` never reach Object.prototype.
 */
function claimOf(claims: Claims, condition: ClaimCondition): unknown {
  if (Object.hasOwn(claims, condition.claim)) return claims[condition.claim];
  if (condition.path.length === 1) return undefined;
  let value: unknown = claims;
  for (const segment of condition.path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, segment)) return undefined;
    value = value[segment];
  }
  return value;
}

/** A single value as conditions hold them: strings NFC-normalised; anything else (arrays, objects, null) is no value. */
function single(value: unknown): ClaimValue | undefined {
  if (typeof value === 'string') return value.normalize('NFC');
  return typeof value === 'boolean' || typeof value === 'number' ? value : undefined;
}

/** Why `condition` fails on `value`, or undefined when it holds. Exact comparison: no patterns, no substrings, no case folding. */
function conditionFailure(condition: ClaimCondition, value: unknown): string | undefined {
  if (value === undefined) return 'the claim is missing';
  if (condition.kind === 'equals') {
    const given = single(value);
    if (given === undefined) return 'the claim is not a single string, number or boolean';
    return condition.values.includes(given) ? undefined : 'the claim is none of the listed values';
  }
  if (!Array.isArray(value)) return 'the claim is not an array';
  return value.some((item) => {
    const given = single(item);
    return given !== undefined && condition.values.includes(given);
  })
    ? undefined
    : 'the claim holds none of the listed values';
}

/**
 * The first claim condition of `policy` that does not hold, as a line for the log (`require.groups: the
 * claim holds none of the listed values`), or undefined when all hold. A claim is looked up in each of
 * `sources` in turn (the ID token, then userinfo), and the first that has it decides. Claim values are
 * never put in the line: they may be personal data.
 */
export function claimsFailure(policy: RoutePolicy | undefined, sources: readonly Claims[]): string | undefined {
  for (const condition of policy?.claims ?? []) {
    const holder = sources.find((claims) => claimOf(claims, condition) !== undefined);
    const failure = conditionFailure(condition, holder && claimOf(holder, condition));
    if (failure !== undefined) return `require.${condition.claim}: ${failure}`;
  }
  return undefined;
}

/** The scopes of `policy` not in `granted`, as a line for the log, or undefined when every one was granted. */
export function scopeFailure(policy: RoutePolicy | undefined, granted: ReadonlySet<string>): string | undefined {
  const missing = (policy?.scope ?? []).filter((scope) => !granted.has(scope));
  return missing.length === 0 ? undefined : `require.scope: the token was not granted ${missing.join(' ')}`;
}

/** A policy that needs a caller: one with any condition. */
export function hasConditions(policy: RoutePolicy | undefined): boolean {
  return policy !== undefined && (policy.claims.length > 0 || policy.scope.length > 0);
}

/** Scope tokens of a space-separated `scope` (RFC 6749 §3.3) or an array (`scp`); anything else holds none. */
export function scopeWords(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((item): item is string => typeof item === 'string');
  return [];
}
