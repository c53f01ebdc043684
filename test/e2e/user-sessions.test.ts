import type { BrowserClient, GatewayStack } from '#sessiongate/testing';
import { startGatewayStack } from '#sessiongate/testing';

// "Where am I logged in": a user lists their own sessions and ends one, through the real gateway.

const CSRF = { 'x-csrf': '1' } as const;

interface UserSession {
  readonly id: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly userAgent?: string;
  readonly ip?: string;
  readonly current: boolean;
}

let stack: GatewayStack;

function sessionsOf(browser: BrowserClient): Promise<UserSession[]> {
  return browser.get(`${stack.url}/bff/sessions`, { headers: CSRF, from: stack.url }).then((page) => {
    expect(page.status).toBe(200);
    return page.json<{ sessions: UserSession[] }>().sessions;
  });
}

function end(browser: BrowserClient, id: string, headers: Record<string, string> = CSRF) {
  return browser.request('DELETE', `${stack.url}/bff/sessions/${encodeURIComponent(id)}`, { headers, from: stack.url });
}

async function status(browser: BrowserClient): Promise<number> {
  return (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).status;
}

beforeAll(async () => {
  stack = await startGatewayStack();
});
afterAll(async () => {
  await stack.stop();
});

test("lists the caller's own sessions, marking the current one, with nothing secret", async () => {
  const laptop = await stack.loginAs('alice');
  const phone = await stack.loginAs('alice');
  await stack.loginAs('bob');

  const listed = await sessionsOf(laptop);
  expect(listed).toHaveLength(2);
  expect(listed.filter((session) => session.current)).toHaveLength(1);
  expect(listed[0]).toEqual({
    id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    createdAt: expect.any(String),
    lastSeenAt: expect.any(String),
    expiresAt: expect.any(String),
    userAgent: expect.any(String),
    ip: expect.any(String),
    current: expect.any(Boolean),
  });
  const fromPhone = await sessionsOf(phone);
  expect(fromPhone.map((session) => session.id).sort()).toEqual(listed.map((session) => session.id).sort());
  expect(fromPhone.find((session) => session.current)!.id).not.toBe(listed.find((session) => session.current)!.id);
  const cookies = [laptop, phone].map((browser) => browser.cookies(stack.url)[stack.config.session.cookieName]!);
  for (const cookie of cookies) expect(JSON.stringify(listed)).not.toContain(cookie);
});

test('ends another of my sessions ("log out my phone"), which fails at once while this one goes on', async () => {
  const laptop = await stack.loginAs('alice');
  const phone = await stack.loginAs('alice');
  const phoneId = (await sessionsOf(phone)).find((session) => session.current)!.id;

  const ended = await end(laptop, phoneId);
  expect(ended.status).toBe(204);
  expect(ended.headers.get('set-cookie')).toBeNull();
  expect(await status(phone)).toBe(401);
  expect(await status(laptop)).toBe(200);
  expect((await sessionsOf(laptop)).map((session) => session.id)).not.toContain(phoneId);
  const audited = (await stack.redis.client.xrange('sg:audit', '-', '+')).map(([, fields]) => fields.join(' '));
  expect(audited.some((entry) => entry.includes('end_own_session') && entry.includes(phoneId))).toBe(true);
});

test("answers 404 for another user's session, exactly as for an unknown one, and leaves it alone", async () => {
  const alice = await stack.loginAs('alice');
  const bob = await stack.loginAs('bob');
  const aliceId = (await sessionsOf(alice)).find((session) => session.current)!.id;

  const foreign = await end(bob, aliceId);
  const unknown = await end(bob, 'AAAAAAAAAAAAAAAAAAAAAA');
  expect(foreign.status).toBe(404);
  expect(unknown.status).toBe(404);
  expect(foreign.json()).toMatchObject({ error: 'session_not_found', message: unknown.json<{ message: string }>().message });
  expect(await status(alice)).toBe(200);
  expect((await sessionsOf(bob)).map((session) => session.id)).not.toContain(aliceId);
});

test('ends the current session too, clearing its cookie', async () => {
  const alice = await stack.loginAs('alice');
  const id = (await sessionsOf(alice)).find((session) => session.current)!.id;
  const ended = await end(alice, id);
  expect(ended.status).toBe(204);
  expect(ended.headers.get('set-cookie')).toContain(`${stack.config.session.cookieName}=;`);
  expect(await status(alice)).toBe(401);
});

test('requires the CSRF header and a session', async () => {
  const alice = await stack.loginAs('alice');
  const id = (await sessionsOf(alice)).find((session) => session.current)!.id;
  expect((await alice.get(`${stack.url}/bff/sessions`, { from: stack.url })).status).toBe(403);
  expect((await end(alice, id, {})).status).toBe(403);
  expect(await status(alice)).toBe(200);
  const stranger = stack.browser();
  expect((await stranger.get(`${stack.url}/bff/sessions`, { headers: CSRF, from: stack.url })).json()).toMatchObject({
    error: 'unauthenticated',
  });
  expect((await end(stranger, id)).status).toBe(401);
  // A cross-site page cannot end sessions either (its Origin is refused; a browser would not even send the header).
  const crossSite = await alice.request('DELETE', `${stack.url}/bff/sessions/${id}`, { headers: CSRF, from: 'https://evil.example' });
  expect(crossSite.status).toBe(403);
  expect(await status(alice)).toBe(200);
});

test('pages through more sessions than one page holds, as the admin API does (limit, cursor, nextCursor)', async () => {
  await stack.redis.client.flushall();
  // One browser logging in again and again: its provider session skips the form, each login is a new gateway session.
  const browser = stack.browser();
  const total = 103;
  for (let login = 0; login < total; login++) await browser.login(stack.url, { username: 'alice', password: 'alice' });
  await stack.loginAs('bob');

  const page = async (query: string) => {
    const response = await browser.get(`${stack.url}/bff/sessions${query}`, { headers: CSRF, from: stack.url });
    return { status: response.status, body: response.json<{ sessions: UserSession[]; nextCursor: string | null; error?: string }>() };
  };
  const first = await page('');
  expect(first.status).toBe(200);
  expect(first.body.sessions).toHaveLength(100);
  expect(first.body.nextCursor).toEqual(expect.any(String));
  const second = await page(`?cursor=${encodeURIComponent(first.body.nextCursor!)}`);
  expect(second.body.sessions).toHaveLength(total - 100);
  expect(second.body.nextCursor).toBeNull();
  const ids = [...first.body.sessions, ...second.body.sessions].map((session) => session.id);
  expect(new Set(ids).size).toBe(total);
  expect([...first.body.sessions, ...second.body.sessions].filter((session) => session.current)).toHaveLength(1);

  const small: string[] = [];
  let cursor: string | null = null;
  do {
    const { body } = await page(`?limit=40${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    small.push(...body.sessions.map((session) => session.id));
    cursor = body.nextCursor;
  } while (cursor);
  expect(small).toEqual(ids);

  for (const query of ['?limit=0', '?limit=501', '?limit=ten', '?limit=1&limit=2', '?cursor=']) {
    expect(await page(query)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  }
  expect(await page('?cursor=not-a-cursor')).toMatchObject({ status: 400, body: { error: 'invalid_cursor' } });
});
