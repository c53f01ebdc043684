import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import pino from 'pino';
import { type RunningDemo, startDemo } from '#sessiongate/demo';
import { launchChromium, freePort, type RedisFixture, startRedis } from '#sessiongate/testing';

const SPA_DIR = fileURLToPath(new URL('../../apps/demo/public', import.meta.url));
const LOA_2 = 'urn:sessiongate:loa:2';

interface Answer {
  readonly status: number;
  readonly body: { readonly error?: string; readonly loginUrl?: string };
}

/** Step-up (RFC 9470) in headless Chromium, on the demo: the SPA meets step_up_required, follows loginUrl, and the provider raises acr. */
describe('step-up in a browser', () => {
  let redis: RedisFixture;
  let demo: RunningDemo;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    redis = await startRedis();
    demo = await startDemo({ PORT: String(await freePort()), REDIS_URL: redis.url, SPA_DIR }, { logger: pino({ level: 'silent' }) });
    browser = await launchChromium();
  });

  beforeEach(async () => {
    // A context of its own per test: its own cookies at the gateway and at the provider.
    context = await browser.newContext();
    page = await context.newPage();
  });

  afterEach(async () => {
    await context?.close();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    await redis?.stop();
  });

  async function logInWithPassword(): Promise<void> {
    await page.goto(demo.url);
    await page.locator('#login').click();
    await page.waitForURL(`${demo.identityProviderUrl}/**`);
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice');
    await page.locator('#sign-in').click();
    await page.waitForURL(`${demo.url}/`);
    await page.locator('#user-name').waitFor();
  }

  /** At the provider's form, which says a second factor is asked for: signs in with it. */
  async function signInWithSecondFactor(): Promise<void> {
    await page.waitForURL(`${demo.identityProviderUrl}/**`);
    await page.locator('#second-factor-asked').waitFor();
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice');
    await page.locator('#second-factor').check();
    await page.locator('#sign-in').click();
  }

  async function sessionCookie(): Promise<string> {
    const [cookie] = (await context.cookies(demo.url)).filter((candidate) => candidate.name === 'sessiongate');
    return cookie!.value;
  }

  function callFromPage(url: string, method = 'GET'): Promise<Answer> {
    return page.evaluate(
      async ([target, verb]) => {
        const response = await fetch(target!, { method: verb, headers: { 'X-CSRF': '1' }, credentials: 'same-origin' });
        return { status: response.status, body: (await response.json()) as Answer['body'] };
      },
      [url, method],
    );
  }

  async function oldCookieRefused(cookie: string): Promise<void> {
    const response = await fetch(`${demo.url}/bff/user`, { headers: { 'x-csrf': '1', cookie: `sessiongate=${cookie}` } });
    expect(response.status).toBe(401);
  }

  it("steps up for a route's acr: step_up_required, the provider's second factor, then the call succeeds", async () => {
    await logInWithPassword();
    const before = await sessionCookie();
    const refused = await callFromPage('/api/vault');
    expect(refused).toMatchObject({ status: 401, body: { error: 'step_up_required' } });
    expect(refused.body.loginUrl).toBe(`/bff/login?acr_values=${encodeURIComponent(LOA_2)}&returnTo=%2F`);

    await page.goto(new URL(refused.body.loginUrl!, demo.url).href);
    await signInWithSecondFactor();
    await page.waitForURL(`${demo.url}/`);
    await page.locator('#user-name').waitFor();
    expect(await sessionCookie()).not.toBe(before);
    expect((await callFromPage('/api/vault')).status).toBe(200);
    await oldCookieRefused(before);
  });

  it('tries a silent login (prompt=none): back with error=login_required without a provider session, logged in with one', async () => {
    await page.goto(`${demo.url}/bff/login?prompt=none&returnTo=%2F`);
    await page.waitForURL(`${demo.url}/?error=login_required`);
    await page.locator('#login').waitFor();

    await logInWithPassword();
    const before = await sessionCookie();
    await page.goto(`${demo.url}/bff/login?prompt=none&returnTo=${encodeURIComponent('/?silent=1')}`);
    await page.waitForURL(`${demo.url}/?silent=1`);
    await page.locator('#user-name').waitFor();
    expect(await sessionCookie()).not.toBe(before);
  });

  it("steps up for the API's insufficient_user_authentication challenge from the demo's sensitive button", async () => {
    await logInWithPassword();
    const before = await sessionCookie();
    await page.locator('#sensitive').click();
    await signInWithSecondFactor();
    await page.waitForURL(`${demo.url}/?stepped-up=1`);
    await page.locator('#user-name').waitFor();
    expect(await sessionCookie()).not.toBe(before);

    await page.locator('#sensitive').click();
    await page.locator('#sensitive-result', { hasText: LOA_2 }).waitFor();
    await oldCookieRefused(before);
  });
});
