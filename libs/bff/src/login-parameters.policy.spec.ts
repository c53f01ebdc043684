import { authorizationParameters, isSilentLoginRefusal, loginParameters, returnToWithError } from './login-parameters.policy.js';

const parse = (query: string) => loginParameters(new URLSearchParams(query));

describe('loginParameters', () => {
  it('reads the allowlist and ignores everything else', () => {
    const parameters = parse(
      'prompt=none&acr_values=a+b&max_age=0&login_hint=alice&ui_locales=fr-CA+en&scope=admin&redirect_uri=x&returnTo=/',
    );
    expect(parameters).toEqual({ prompt: 'none', acrValues: ['a', 'b'], maxAgeSeconds: 0, loginHint: 'alice', uiLocales: 'fr-CA en' });
    expect(authorizationParameters(parameters)).toEqual({
      prompt: 'none',
      acr_values: 'a b',
      max_age: '0',
      login_hint: 'alice',
      ui_locales: 'fr-CA en',
    });
    expect(parse('returnTo=/')).toEqual({});
  });

  it.each([
    'prompt=create',
    'prompt=none+login',
    'prompt=login&prompt=none',
    'max_age=-1',
    'max_age=1e3',
    'max_age=99999999999',
    'acr_values=',
    'acr_values=a++b',
    'acr_values=%22quoted%22',
    'login_hint=',
    'login_hint=a%0Ab',
    `login_hint=${'a'.repeat(257)}`,
    'ui_locales=en_US',
  ])('refuses %s with invalid_request', (query) => {
    expect(() => parse(query)).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400 }));
  });
});

describe('silent login refusals', () => {
  it('knows the prompt=none answers of OIDC Core §3.1.2.6', () => {
    for (const code of ['login_required', 'interaction_required', 'consent_required', 'account_selection_required'])
      expect(isSilentLoginRefusal(code)).toBe(true);
    expect(isSilentLoginRefusal('access_denied')).toBe(false);
    expect(isSilentLoginRefusal(null)).toBe(false);
  });

  it('adds error= to returnTo, keeping its query and fragment', () => {
    expect(returnToWithError('/', 'login_required')).toBe('/?error=login_required');
    expect(returnToWithError('/app?tab=2#top', 'consent_required')).toBe('/app?tab=2&error=consent_required#top');
    expect(returnToWithError('/app?error=old', 'login_required')).toBe('/app?error=login_required');
  });
});
