/**
 * One condition of ADMIN_CONSOLE_REQUIRE: an array claim (dotted for a nested one) holding one of
 * `values`, compared exactly after NFC normalisation. The shape of the route policies' claim
 * conditions (`containsAnyOf`), so that their evaluator can take over the whole syntax.
 */
export interface ConsoleClaimCondition {
  /** As configured (`realm_access.roles`), for the log. */
  readonly claim: string;
  /** The name split on dots, read when no top-level claim has the whole name. */
  readonly path: readonly string[];
  readonly kind: 'containsAnyOf';
  readonly values: readonly string[];
}

/** ADMIN_CONSOLE_REQUIRE: every condition must hold on the operator's ID-token claims. */
export interface ConsoleRequirement {
  readonly claims: readonly ConsoleClaimCondition[];
}

const SUBSET = 'must be { "containsAnyOf": ["value", ...] } (the other forms of a route\'s require are not taken here yet)';

/**
 * Parses ADMIN_CONSOLE_REQUIRE, a JSON object in the syntax of a route's `require`, of which it takes
 * the `containsAnyOf` conditions on claims: `{ "groups": { "containsAnyOf": ["admins"] } }`. At least
 * one condition: an empty requirement would let every user of the provider in.
 */
export function consoleRequirement(raw: string): ConsoleRequirement {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error('must be a JSON object of claim conditions, e.g. {"groups":{"containsAnyOf":["admins"]}}');
  }
  if (!isPlainObject(value) || Object.keys(value).length === 0)
    throw new Error('must be a JSON object of at least one claim condition, e.g. {"groups":{"containsAnyOf":["admins"]}}');
  const claims = Object.entries(value).map(([claim, given]): ConsoleClaimCondition => {
    const path = claim.split('.');
    if (path.some((segment) => segment === '')) throw new Error(`${claim}: is not a claim name (empty segment between dots)`);
    if (!isPlainObject(given) || Object.keys(given).length !== 1 || !Array.isArray(given.containsAnyOf))
      throw new Error(`${claim}: ${SUBSET}`);
    const values = given.containsAnyOf;
    if (values.length === 0 || values.some((item) => typeof item !== 'string' || item === ''))
      throw new Error(`${claim}.containsAnyOf: must be a non-empty array of non-empty strings`);
    return { claim, path, kind: 'containsAnyOf', values: (values as string[]).map((item) => item.normalize('NFC')) };
  });
  return { claims };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
