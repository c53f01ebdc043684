import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium, freePort, type GatewayStack, leakedSecrets, startGatewayStack } from '#sessiongate/testing';

// The screenshots in docs/images are taken again only when asked (UPDATE_SCREENSHOTS=1): a test run leaves the tree as it was.
const IMAGES = process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/images/', import.meta.url)) : undefined;
const CSRF = { 'x-csrf': '1' };
const REQUIRE = JSON.stringify({ groups: { containsAnyOf: ['admins'] } });
const JWT = /eyJ[\w-]+\.[\w-]+\./;
const ALICE = 'u-1001';
const CAROL = 'u-1003';

let stack: GatewayStack;
let second: string;
let browser: Browser;

const LAPTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0 Safari/537.36';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';

/** A Chromium profile (its own cookies) logged in to the gateway as `username`, as a device with this user agent. */
async function userBrowser(username: string, userAgent: string): Promise<BrowserContext> {
  const context = await browser.newContext({ userAgent });
  const page = await context.newPage();
  await page.goto(`${stack.url}/bff/login`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(username);
  await page.locator('#sign-in').click();
  await page.waitForURL(`${stack.url}/`);
  await page.close();
  return context;
}

/** The public id of a browser's session: the `sid` of its logoutUrl. */
async function publicIdOf(context: BrowserContext): Promise<string> {
  const user = await context.request.get(`${stack.url}/bff/user`, { headers: CSRF });
  return new URL(((await user.json()) as { logoutUrl: string }).logoutUrl, stack.url).searchParams.get('sid')!;
}

/** The browser's next /api call, on the instance at `base` (cookies go by host, not port: the same session). */
async function apiStatus(context: BrowserContext, base: string): Promise<number> {
  return (await context.request.get(`${base}/api/echo/whoami`, { headers: CSRF })).status();
}

/** The cookies the browser would send to the console (Path=/admin: not those of `/`). */
function consoleCookies(context: BrowserContext) {
  return context.cookies(`${stack.url}/admin/console`);
}

/** A fresh Chromium profile, signed in to the console at the provider as `username` (password = username). */
async function consoleLogin(username: string): Promise<{ context: BrowserContext; page: Page; status: number | undefined }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 720 } });
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(`${stack.url}/admin/console`);
  await page.locator('#login').click();
  await page.waitForURL(`${stack.idp.issuer}/**`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(username);
  const callback = page.waitForResponse((response) => response.url().startsWith(`${stack.url}/admin/console/callback`));
  await page.locator('#sign-in').click();
  const status = (await callback).status();
  return { context, page, status };
}

beforeAll(async () => {
  stack = await startGatewayStack({ env: { ADMIN_CONSOLE_REQUIRE: REQUIRE } });
  // A second instance on the same Redis: a revocation through the console must reach it at once.
  second = await stack.startInstance();
  browser = await launchChromium();
  if (IMAGES) mkdirSync(IMAGES, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the admin console', () => {
  let operator: { context: BrowserContext; page: Page };
  let laptop: BrowserContext;
  let phone: BrowserContext;

  beforeAll(async () => {
    laptop = await userBrowser('alice', LAPTOP);
    phone = await userBrowser('alice', PHONE);
    const login = await consoleLogin('carol');
    expect(login.status).toBe(302);
    operator = login;
    await operator.page.waitForURL(`${stack.url}/admin/console`);
    await expect(operator.page.locator('#operator-name').textContent()).resolves.toBe('Carol Clark');
  });

  afterAll(async () => {
    await Promise.all([operator?.context.close(), laptop?.close(), phone?.close()]);
  });

  it('keeps its own cookie: HttpOnly, SameSite=Strict, Path=/admin, another name than the session cookie', async () => {
    const cookies = await consoleCookies(operator.context);
    expect(cookies.map((cookie) => cookie.name)).toEqual(['sessiongate-admin']);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
    // And the user's own session cookie is no console session.
    expect((await laptop.request.get(`${stack.url}/admin/console/api/me`, { headers: CSRF })).status()).toBe(401);
  });

  it("finds alice's two sessions, revokes one, and the other instance refuses it at once", async () => {
    const { page } = operator;
    const [laptopId, phoneId] = [await publicIdOf(laptop), await publicIdOf(phone)];
    expect([await apiStatus(laptop, second), await apiStatus(phone, second)]).toEqual([200, 200]);

    await page.locator('#search-sub').fill(ALICE);
    await page.locator('#session-search button[type=submit]').click();
    const rows = page.locator('#sessions tbody tr[data-session-id]');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    expect((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-session-id')))).sort()).toEqual(
      [laptopId, phoneId].sort(),
    );
    if (IMAGES) await page.screenshot({ path: `${IMAGES}admin-console-sessions.png`, fullPage: true });

    await page.locator(`#sessions tr[data-session-id="${laptopId}"] button`, { hasText: 'Details' }).click();
    await page.locator('#session-detail').waitFor();
    const detail = await page.locator('#detail-fields').textContent();
    expect(detail).toContain(ALICE);
    expect(detail).toContain(LAPTOP);
    expect(detail).toContain('/api/echo');

    await page.locator(`#sessions tr[data-session-id="${laptopId}"] button.revoke`).click();
    await page.locator('#message', { hasText: 'revoked' }).waitFor();
    await page.locator(`#sessions tr[data-session-id="${laptopId}"]`).waitFor({ state: 'detached' });
    await page.locator(`#sessions tr[data-session-id="${phoneId}"]`).waitFor();
    expect(await rows.count()).toBe(1);

    expect(await apiStatus(laptop, second)).toBe(401);
    expect(await apiStatus(phone, second)).toBe(200);
  });

  it("shows the revocation in the audit view, by the operator's identity, filtered by event and user", async () => {
    const { page } = operator;
    await page.locator('.tab', { hasText: 'Audit trail' }).click();
    await page.locator('#audit-action').selectOption('revoke_session');
    await page.locator('#audit-user').fill(ALICE);
    await page.locator('#audit-search button[type=submit]').click();
    const row = page.locator('#audit tbody tr', { hasText: 'revoke_session' });
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    await expect(row.textContent()).resolves.toContain(`admin:${CAROL}`);
    if (IMAGES) await page.screenshot({ path: `${IMAGES}admin-console-audit.png`, fullPage: true });

    // Filters that exclude it: another user, a time range before it.
    await page.locator('#audit-user').fill('u-1002');
    await page.locator('#audit-search button[type=submit]').click();
    await page.locator('#audit tbody tr', { hasText: 'No events match.' }).waitFor();
    await page.locator('#audit-user').fill('');
    await page.locator('#audit-to').fill('2020-01-01T00:00');
    await page.locator('#audit-search button[type=submit]').click();
    await page.locator('#audit tbody tr', { hasText: 'No events match.' }).waitFor();
  });

  it('revokes every session of a user', async () => {
    const { page } = operator;
    await page.locator('.tab', { hasText: 'Sessions' }).click();
    await page.locator('#search-sub').fill(ALICE);
    await page.locator('#session-search button[type=submit]').click();
    await page.locator('#sessions tbody tr[data-session-id]').first().waitFor();
    await page.locator('#revoke-user').click();
    await page.locator('#message', { hasText: '1 session(s)' }).waitFor();
    expect(await apiStatus(phone, second)).toBe(401);
  });

  it('holds no token in its HTML, JS-visible state or storage, and logs none', async () => {
    const { page } = operator;
    const state = await page.evaluate<string>(
      'document.documentElement.outerHTML + document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)',
    );
    expect(state).not.toMatch(JWT);
    expect(await page.evaluate<string>('document.cookie')).toBe('');
    const cookie = (await consoleCookies(operator.context))[0]!.value;
    expect(leakedSecrets(stack.logs, [cookie])).toEqual([]);
  });

  it('refuses a call without X-CSRF, from another origin, or cross-site, with 403 csrf', async () => {
    const { page } = operator;
    const noHeader = await page.evaluate(async () => {
      const response = await fetch('/admin/console/api/sessions');
      return { status: response.status, body: await response.json() };
    });
    expect(noHeader).toEqual({ status: 403, body: expect.objectContaining({ error: 'csrf' }) });
    const cookie = `sessiongate-admin=${(await consoleCookies(operator.context))[0]!.value}`;
    const hostile: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of hostile) {
      const response = await fetch(`${stack.url}/admin/console/api/users/${CAROL}/sessions`, {
        method: 'DELETE',
        headers: { ...CSRF, cookie, ...headers },
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toBe('csrf');
    }
    const ok = await fetch(`${stack.url}/admin/console/api/me`, { headers: { ...CSRF, cookie, origin: stack.url } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual(expect.objectContaining({ sub: CAROL, name: 'Carol Clark' }));
  });

  it('answers bad input with typed JSON errors', async () => {
    const cookie = `sessiongate-admin=${(await consoleCookies(operator.context))[0]!.value}`;
    const get = async (path: string) => {
      const response = await fetch(`${stack.url}/admin/console/api${path}`, { headers: { ...CSRF, cookie } });
      return { status: response.status, error: ((await response.json()) as { error: string }).error };
    };
    expect(await get('/audit?from=yesterday')).toEqual({ status: 400, error: 'invalid_request' });
    expect(await get('/audit?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z')).toEqual({ status: 400, error: 'invalid_request' });
    expect(await get('/audit?action=DROP%20TABLE')).toEqual({ status: 400, error: 'invalid_request' });
    expect(await get('/audit?cursor=nope')).toEqual({ status: 400, error: 'invalid_cursor' });
    expect(await get('/audit?limit=0')).toEqual({ status: 400, error: 'invalid_request' });
    expect(await get('/sessions?sub=a&sub=b')).toEqual({ status: 400, error: 'invalid_request' });
    expect(await get('/sessions/not-a-session')).toEqual({ status: 404, error: 'session_not_found' });
    const anonymous = await fetch(`${stack.url}/admin/console/api/me`, { headers: CSRF });
    expect([anonymous.status, ((await anonymous.json()) as { error: string }).error]).toEqual([401, 'unauthenticated']);
  });

  it('finds sessions by provider session (sid)', async () => {
    const bob = await userBrowser('bob', LAPTOP);
    const admin = await stack.adminToken();
    const listed = await fetch(`${stack.url}/admin/sessions?sub=u-1002`, { headers: { authorization: `Bearer ${admin}` } });
    const [session] = ((await listed.json()) as { sessions: { id: string; idpSessionId: string }[] }).sessions;
    const cookie = `sessiongate-admin=${(await consoleCookies(operator.context))[0]!.value}`;
    const bySid = await fetch(`${stack.url}/admin/console/api/sessions?sid=${encodeURIComponent(session!.idpSessionId)}`, {
      headers: { ...CSRF, cookie },
    });
    expect(((await bySid.json()) as { sessions: { id: string }[] }).sessions.map((found) => found.id)).toEqual([session!.id]);
    // The bearer API takes the same filter.
    const apiBySid = await fetch(`${stack.url}/admin/sessions?sid=${encodeURIComponent(session!.idpSessionId)}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(((await apiBySid.json()) as { sessions: { id: string }[] }).sessions.map((found) => found.id)).toEqual([session!.id]);
    expect(await apiStatus(bob, stack.url)).toBe(200);
    await bob.close();
  });

  it('signs the operator out of the console only', async () => {
    const { page } = operator;
    await page.locator('#logout').click();
    await page.locator('#login').waitFor();
    expect(await consoleCookies(operator.context)).toEqual([]);
  });

  it('holds no API credential: its cookie value, sent as the session cookie, calls no /api route', async () => {
    const again = await consoleLogin('carol');
    const [cookie] = await consoleCookies(again.context);
    const asSession = await fetch(`${stack.url}/api/echo/x`, { headers: { ...CSRF, cookie: `sessiongate=${cookie!.value}` } });
    expect(asSession.status).toBe(401);
    await again.context.close();
  });
});

describe('a user who is not an administrator', () => {
  it('is refused at the callback with 403 not_admin, and gets no console session', async () => {
    const { context, page, status } = await consoleLogin('alice');
    expect(status).toBe(403);
    await expect(page.locator('body').textContent()).resolves.toContain('not_admin');
    expect((await consoleCookies(context)).filter((cookie) => cookie.name === 'sessiongate-admin')).toEqual([]);
    await page.goto(`${stack.url}/admin/console`);
    await page.locator('#login').waitFor();
    await context.close();
  });
});

describe('on ADMIN_PORT', () => {
  it('is served on the admin listener only, with its redirect URI there, and its login rate-limited', async () => {
    const adminPort = await freePort();
    const consoleUrl = `http://localhost:${adminPort}`;
    const separate = await startGatewayStack({
      env: { ADMIN_PORT: String(adminPort), ADMIN_CONSOLE_REQUIRE: REQUIRE, ADMIN_CONSOLE_URL: consoleUrl, RATE_LIMIT_LOGIN: '2' },
      client: { redirect_uris: [`${consoleUrl}/admin/console/callback`] },
    });
    try {
      expect((await fetch(`${separate.url}/admin/console`)).status).toBe(404);
      const page = await fetch(`${separate.gateway.adminUrl}/admin/console`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const login = await fetch(`${separate.gateway.adminUrl}/admin/console/login`, { redirect: 'manual' });
      // Pushed (PAR) with the admin listener's redirect URI, the only one registered here: the provider took it.
      expect([login.status, login.status === 302 ? '' : await login.text()]).toEqual([302, '']);
      expect(login.headers.get('location')).toMatch(new RegExp(`^${separate.idp.issuer}/`));
      // RATE_LIMIT_LOGIN, counted for the console apart from /bff/login: the third login from this address.
      expect((await fetch(`${separate.gateway.adminUrl}/admin/console/login`, { redirect: 'manual' })).status).toBe(302);
      const limited = await fetch(`${separate.gateway.adminUrl}/admin/console/login`, { redirect: 'manual' });
      expect([limited.status, ((await limited.json()) as { error: string }).error]).toEqual([429, 'rate_limited']);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await separate.stop();
    }
  });
});
