import type { ConsoleClaimCondition, ConsoleRequirement } from '#sessiongate/config';

type Claims = Readonly<Record<string, unknown>>;

function isPlainObject(value: unknown): value is Claims {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A top-level claim of exactly the condition's name (`https://example.com/groups`), else the dotted
 * path through nested objects (`realm_access.roles`); own properties only, so that `__proto__` or
 * `constructor` never reach Object.prototype. The lookup route policies make.
 */
function claimOf(claims: Claims, condition: ConsoleClaimCondition): unknown {
  if (Object.hasOwn(claims, condition.claim)) return claims[condition.claim];
  if (condition.path.length === 1) return undefined;
  let value: unknown = claims;
  for (const segment of condition.path) {
    if (!isPlainObject(value) || !Object.hasOwn(value, segment)) return undefined;
    value = value[segment];
  }
  return value;
}

/**
 * The first condition of ADMIN_CONSOLE_REQUIRE that the claims fail, as a line for the log
 * (`require.groups: the claim holds none of the listed values`), or undefined when all hold. Exact
 * comparison after NFC normalisation; a claim of the wrong shape (a string where an array is
 * expected) fails. Claim values are never put in the line.
 */
export function consoleRequireFailure(requirement: ConsoleRequirement, claims: Claims): string | undefined {
  for (const condition of requirement.claims) {
    const value = claimOf(claims, condition);
    if (value === undefined) return `require.${condition.claim}: the claim is missing`;
    if (!Array.isArray(value)) return `require.${condition.claim}: the claim is not an array`;
    const holds = value.some((item) => typeof item === 'string' && condition.values.includes(item.normalize('NFC')));
    if (!holds) return `require.${condition.claim}: the claim holds none of the listed values`;
  }
  return undefined;
}
