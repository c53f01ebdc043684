const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  .checkbox { font-weight: normal; }
  .checkbox input { width: auto; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; font-size: 1rem; }
  button { margin-top: 1.5rem; width: 100%; padding: .6rem; font-size: 1rem; background: #2f6fde; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  .error { color: #b00020; }
  .hint { color: #666; font-size: .9rem; }`;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function page(title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${content}</main></body>
</html>`;
}

export interface LoginPageOptions {
  readonly uid: string;
  readonly clientId: string;
  readonly username?: string;
  readonly error?: string;
  /** The client's `acr_values`, shown so that the user knows a second factor is asked for. */
  readonly acrValues?: string;
}

export function loginPage({ uid, clientId, username = '', error, acrValues }: LoginPageOptions): string {
  const asked = acrValues?.split(' ').includes('urn:sessiongate:loa:2')
    ? '<p id="second-factor-asked" class="hint">This application asks for your second factor.</p>'
    : '';
  return page(
    'Sign in',
    `<h1>Sign in to the demo identity provider</h1>
<p class="hint">to continue to <strong>${escapeHtml(clientId)}</strong> (try alice/alice or bob/bob)</p>
${error ? `<p id="login-error" class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <label for="username">Username</label>
  <input id="username" name="username" value="${escapeHtml(username)}" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  ${asked}
  <label class="checkbox"><input id="second-factor" name="second_factor" type="checkbox" value="yes"> Use my second factor</label>
  <button id="sign-in" type="submit">Sign in</button>
</form>`,
  );
}

export interface ConsentPageOptions {
  readonly uid: string;
  readonly clientId: string;
  readonly scopes: string;
}

/** A third-party provider's consent screen: the client and what it asks for, allowed or denied. */
export function consentPage({ uid, clientId, scopes }: ConsentPageOptions): string {
  const items = scopes
    .split(' ')
    .filter((scope) => scope && scope !== 'offline_access')
    .map((scope) => `<li>${escapeHtml(scope)}</li>`)
    .join('');
  return page(
    'Allow access',
    `<h1>Allow <strong>${escapeHtml(clientId)}</strong> to access your account?</h1>
<p class="hint">It asks for:</p><ul id="consent-scopes">${items || '<li>basic access</li>'}</ul>
<form id="consent-form" method="post" action="/interaction/${escapeHtml(uid)}/consent">
  <button id="allow" type="submit" name="decision" value="allow">Allow</button>
  <button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

/**
 * RP-initiated logout asks the user to confirm (the OP must not log out on a bare GET that any site
 * could trigger). `form` is oidc-provider's form with its xsrf field; the button goes inside it so
 * that a plain form submission carries `logout=yes`, which ends the whole provider session.
 */
export function logoutPage(form: string): string {
  const button = '<button id="logout-confirm" type="submit" name="logout" value="yes">Yes, sign me out</button>';
  return page('Sign out', `<h1>Sign out of the demo identity provider?</h1>\n${form.replace('</form>', `${button}</form>`)}`);
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
