import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { type RunningDemo, startDemo } from '#sessiongate/demo';
import { launchChromium, freePort, type RedisFixture, startRedis } from '#sessiongate/testing';

const SPA_DIR = fileURLToPath(new URL('../../apps/demo/public', import.meta.url));

/** The demo SPA in headless Chromium: log in at the provider, call the API through the gateway, log out. */
describe('demo SPA in a browser', () => {
  let redis: RedisFixture;
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    redis = await startRedis();
    // The default SameSite=Strict: this test proves the landing after the provider's cross-site
    // redirect, and the SPA's first API calls from it, work with it.
    const env = { PORT: String(await freePort()), REDIS_URL: redis.url, SPA_DIR };
    demo = await startDemo(env, { logger: pino({ level: 'silent' }) });
    browser = await launchChromium();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    await redis?.stop();
  });

  it('logs in, loads todos through the gateway and logs out, never seeing a token', async () => {
    await page.goto(demo.url);
    await page.locator('#login').click();

    // The provider (127.0.0.1) is another site than the gateway (localhost): a real cross-site round trip.
    await page.waitForURL(`${demo.identityProviderUrl}/**`);
    // Lax, or the provider's cross-site redirect back to the callback would arrive without it.
    const [loginCookie] = (await page.context().cookies(demo.url)).filter((cookie) => cookie.name === 'sessiongate-login');
    expect(loginCookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice');
    await page.locator('#sign-in').click();

    await page.waitForURL(`${demo.url}/`);
    await expect(page.locator('#user-name').textContent()).resolves.toBe('Alice Anderson');

    await page.locator('#load-todos').click();
    await page.locator('#todos li').first().waitFor();
    expect(await page.locator('#todos li').count()).toBeGreaterThan(0);

    await page.locator('#new-todo').fill('Written from the browser test');
    await page.locator('#add-todo').click();
    await page.locator('#todos li', { hasText: 'Written from the browser test' }).waitFor();

    // The demo's ops-only route: alice is not in bob's group.
    await page.locator('#call-ops').click();
    await page.locator('#ops-result', { hasText: 'Refused: 403 forbidden' }).waitFor();

    const [sessionCookie] = (await page.context().cookies(demo.url)).filter((cookie) => cookie.name === 'sessiongate');
    expect(sessionCookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('sessiongate=');
    const pageState = await page.evaluate<string>(
      'document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)',
    );
    expect(pageState).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);

    await page.locator('#logout').click();
    await page.waitForURL(`${demo.identityProviderUrl}/**`);
    await page.locator('#logout-confirm').click();
    await page.waitForURL(`${demo.url}/`);
    await page.locator('#login').waitFor();
    expect(await redis.client.keys('sg:{*}:s')).toEqual([]);
  });
});
