import type { StepUpRequirement } from './step-up.policy.js';

/** The longest WWW-Authenticate value read; an API has no reason to send more, and parsing stays bounded. */
const MAX_CHALLENGE_LENGTH = 4096;
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;
const MAX_ACR_VALUES = 16;

/**
 * The step-up an upstream asks for in a 401 (RFC 9470 §3): a `Bearer` challenge with
 * `error="insufficient_user_authentication"`, and its `acr_values` and `max_age` parameters when given.
 * Undefined for any other answer, so a plain 401 stays a reason to refresh. Parameters it cannot read
 * (an acr value with spaces or quotes, a max_age that is not a whole number) are left out rather than
 * passed on to the login.
 */
export function stepUpChallenge(wwwAuthenticate: string | readonly string[] | undefined): StepUpRequirement | undefined {
  const values = typeof wwwAuthenticate === 'string' ? [wwwAuthenticate] : (wwwAuthenticate ?? []);
  for (const value of values) {
    if (value.length > MAX_CHALLENGE_LENGTH) continue;
    for (const parameters of bearerChallenges(value)) {
      if (parameters.get('error') !== 'insufficient_user_authentication') continue;
      const acrValues = (parameters.get('acr_values') ?? '')
        .split(' ')
        .filter((acr) => ACR_VALUE.test(acr))
        .slice(0, MAX_ACR_VALUES);
      const maxAge = parameters.get('max_age');
      const maxAgeSeconds = maxAge !== undefined && /^\d{1,9}$/.test(maxAge) ? Number(maxAge) : undefined;
      return { ...(acrValues.length > 0 ? { acrValues } : {}), ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}) };
    }
  }
  return undefined;
}

/**
 * The auth-params of each `Bearer` challenge in a WWW-Authenticate value (RFC 9110 §11.6.1): a scheme,
 * then `name=token` or `name="quoted string"` pairs separated by commas; another scheme starts a new challenge.
 */
function bearerChallenges(value: string): Map<string, string>[] {
  const challenges: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  const token = /\s*,?\s*([!#$%&'*+.^_`|~\w-]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~\w/-]+)))?/y;
  let match: RegExpExecArray | null;
  while ((match = token.exec(value)) !== null) {
    const [, name, quoted, bare] = match;
    if (quoted === undefined && bare === undefined) {
      // A scheme name (no `=`): a new challenge, ours only when it is Bearer (case-insensitive, RFC 9110 §11.1).
      current = name!.toLowerCase() === 'bearer' ? new Map() : undefined;
      if (current) challenges.push(current);
      continue;
    }
    const key = name!.toLowerCase();
    if (current && !current.has(key)) current.set(key, quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare!);
  }
  return challenges;
}

/**
 * The challenge a resource server sends when a token's authentication is too weak or too old (RFC 9470 §3).
 * The values are the route's own (configuration checked them: no quotes or backslashes).
 */
export function stepUpChallengeHeader(requirement: StepUpRequirement): string {
  const parameters = ['error="insufficient_user_authentication"'];
  if (requirement.acrValues && requirement.acrValues.length > 0) parameters.push(`acr_values="${requirement.acrValues.join(' ')}"`);
  if (requirement.maxAgeSeconds !== undefined) parameters.push(`max_age=${requirement.maxAgeSeconds}`);
  return `Bearer ${parameters.join(', ')}`;
}
