import { BffError, BffErrorCode } from './bff.errors.js';

/** `prompt` values a SPA may ask for (OIDC Core §3.1.2.1); `create` and others are not passed on. */
export type LoginPrompt = 'none' | 'login' | 'consent' | 'select_account';

/**
 * The authorization-request parameters /bff/login passes through to the provider. Every other query
 * parameter is ignored: the gateway alone sets scope, redirect_uri, state, nonce, PKCE and the rest.
 */
export interface LoginParameters {
  readonly prompt?: LoginPrompt;
  readonly acrValues?: readonly string[];
  readonly maxAgeSeconds?: number;
  readonly loginHint?: string;
  readonly uiLocales?: string;
}

const PROMPTS: ReadonlySet<string> = new Set<LoginPrompt>(['none', 'login', 'consent', 'select_account']);
const ACR_VALUES = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}( [\x21\x23-\x5b\x5d-\x7e]{1,255}){0,15}$/;
/** BCP 47 tags, space separated (OIDC Core §3.1.2.1 `ui_locales`). */
const UI_LOCALES = /^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*( [A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*){0,9}$/;
const MAX_LOGIN_HINT_LENGTH = 256;
const MAX_AGE_LIMIT = 10 ** 9;

/**
 * The allowlisted login parameters of a /bff/login query. One given twice, or with a value the
 * provider could not mean, is `400 invalid_request` naming it (never echoing the value).
 */
export function loginParameters(query: URLSearchParams): LoginParameters {
  const single = (name: string): string | undefined => {
    const values = query.getAll(name);
    if (values.length > 1) throw invalid(`${name} is given more than once.`);
    return values[0];
  };
  const prompt = single('prompt');
  const acrValues = single('acr_values');
  const maxAge = single('max_age');
  const loginHint = single('login_hint');
  const uiLocales = single('ui_locales');
  if (prompt !== undefined && !PROMPTS.has(prompt)) throw invalid('prompt must be none, login, consent or select_account.');
  if (acrValues !== undefined && !ACR_VALUES.test(acrValues)) throw invalid('acr_values must be space-separated acr values.');
  if (maxAge !== undefined && (!/^\d{1,10}$/.test(maxAge) || Number(maxAge) > MAX_AGE_LIMIT))
    throw invalid('max_age must be a whole number of seconds.');
  if (
    loginHint !== undefined &&
    (loginHint.length === 0 || loginHint.length > MAX_LOGIN_HINT_LENGTH || /[\u0000-\u001f\u007f]/.test(loginHint))
  )
    throw invalid(`login_hint must be 1 to ${MAX_LOGIN_HINT_LENGTH} printable characters.`);
  if (uiLocales !== undefined && !UI_LOCALES.test(uiLocales)) throw invalid('ui_locales must be space-separated language tags.');
  return {
    ...(prompt !== undefined ? { prompt: prompt as LoginPrompt } : {}),
    ...(acrValues !== undefined ? { acrValues: acrValues.split(' ') } : {}),
    ...(maxAge !== undefined ? { maxAgeSeconds: Number(maxAge) } : {}),
    ...(loginHint !== undefined ? { loginHint } : {}),
    ...(uiLocales !== undefined ? { uiLocales } : {}),
  };
}

/** The parameters as the authorization request names them. */
export function authorizationParameters(parameters: LoginParameters): Record<string, string> {
  return {
    ...(parameters.prompt !== undefined ? { prompt: parameters.prompt } : {}),
    ...(parameters.acrValues !== undefined ? { acr_values: parameters.acrValues.join(' ') } : {}),
    ...(parameters.maxAgeSeconds !== undefined ? { max_age: String(parameters.maxAgeSeconds) } : {}),
    ...(parameters.loginHint !== undefined ? { login_hint: parameters.loginHint } : {}),
    ...(parameters.uiLocales !== undefined ? { ui_locales: parameters.uiLocales } : {}),
  };
}

/** What a provider answers `prompt=none` with when it would have to show the user something (OIDC Core §3.1.2.6). */
const SILENT_LOGIN_ERRORS: ReadonlySet<string> = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

export function isSilentLoginRefusal(error: string | null): error is string {
  return error !== null && SILENT_LOGIN_ERRORS.has(error);
}

/** `returnTo` (a same-origin path already made safe) with `error=<code>` added to its query, its fragment kept. */
export function returnToWithError(returnTo: string, error: string): string {
  const url = new URL(returnTo, 'http://gateway.invalid');
  url.searchParams.set('error', error);
  return `${url.pathname}${url.search}${url.hash}`;
}

function invalid(message: string): BffError {
  return new BffError(BffErrorCode.InvalidRequest, { explanation: `Invalid login parameter: ${message}` });
}
