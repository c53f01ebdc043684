import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { type RunningDemo, startDemo } from '#sessiongate/demo';
import { launchChromium, CALENDAR_USERS, freePort, type RedisFixture, startRedis } from '#sessiongate/testing';

const SPA_DIR = fileURLToPath(new URL('../../apps/demo/public', import.meta.url));

/** The demo SPA in headless Chromium: log in, connect the calendar at the third party, load its events, disconnect. */
describe('connecting an account in a browser', () => {
  let redis: RedisFixture;
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    redis = await startRedis();
    demo = await startDemo({ PORT: String(await freePort()), REDIS_URL: redis.url, SPA_DIR }, { logger: pino({ level: 'silent' }) });
    browser = await launchChromium();
    page = await browser.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    await redis?.stop();
  });

  it('connects the calendar through its own login and consent, loads events, and never holds its tokens', async () => {
    await page.goto(demo.url);
    await page.locator('#login').click();
    await page.waitForURL(`${demo.identityProviderUrl}/**`);
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice');
    await page.locator('#sign-in').click();
    await page.waitForURL(`${demo.url}/`);
    await page.locator('#connect-calendar').waitFor();

    // The third party: another site, its own users (alice's calendar password is not her login's) and a consent screen.
    await page.locator('#connect-calendar').click();
    await page.waitForURL(`${demo.calendarProviderUrl}/**`);
    const calendarUser = CALENDAR_USERS[0]!;
    await page.locator('#username').fill(calendarUser.username);
    await page.locator('#password').fill(calendarUser.password);
    await page.locator('#sign-in').click();
    await page.locator('#consent-scopes').waitFor();
    await expect(page.locator('#consent-scopes').textContent()).resolves.toContain('calendar:read');
    await page.locator('#allow').click();

    // Back on the SPA (SameSite=Strict session cookie: the SPA's own calls carry it).
    await page.waitForURL(`${demo.url}/`);
    await page.locator('#load-events').waitFor();
    await expect(page.locator('#calendar-status').textContent()).resolves.toContain('calendar:read');
    await page.locator('#load-events').click();
    await page.locator('#events li').first().waitFor();
    await expect(page.locator('#events li').first().textContent()).resolves.toContain(calendarUser.sub);

    const cookies = await page.context().cookies([demo.url, demo.calendarProviderUrl]);
    expect(cookies.find((cookie) => cookie.name === 'sessiongate-connect')).toBeUndefined();
    const pageState = await page.evaluate<string>(
      'document.cookie + document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)',
    );
    // The calendar's tokens are opaque: nothing token-like (long random runs) is on the page or in its storage.
    expect(pageState).not.toMatch(/[A-Za-z0-9_-]{40,}/);

    await page.locator('#disconnect-calendar').click();
    await page.locator('#connect-calendar').waitFor();
    await page.locator('#events li').first().waitFor({ state: 'detached' });
  });
});
