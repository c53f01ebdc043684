import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { type BrowserClient, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// Two gateway instances on one Redis, each answering proxied requests from memory when it can. A
// session ended through one instance (or the CLI, or the provider) must fail the very next request on
// the other. Before each revocation the test proves that the other instance would have answered
// that request from memory (it sent Redis no command at all), so a 401 after it is the invalidation's
// doing, not a read of Redis.

const CSRF = { 'x-csrf': '1' };
const run = promisify(execFile);

let stack: GatewayStack;
let second: string;
let monitor: Redis;
let seen: string[] = [];
let marker = 0;

beforeAll(async () => {
  stack = await startGatewayStack();
  second = await stack.startInstance();
  monitor = await stack.redis.client.monitor();
  // What clients sent: the commands a script runs inside Redis are listed too, with source `lua`.
  monitor.on('monitor', (_time: string, args: string[], source: string) => source !== 'lua' && seen.push(args.join(' ')));
});

afterAll(async () => {
  monitor.disconnect();
  await stack.stop();
});

/** The commands Redis received while `action` ran, apart from the invalidation feeds' heartbeats. */
async function commandsDuring<T>(action: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  seen = [];
  const result = await action();
  // MONITOR reports in the order Redis executes: once this marker shows, so have the action's commands.
  const mark = `marker-${marker++}`;
  await stack.redis.client.echo(mark);
  while (!seen.some((command) => command === `echo ${mark}`)) await sleep(5);
  const commands = seen.slice(0, seen.indexOf(`echo ${mark}`)).filter((command) => !/^(ping|subscribe)\b/i.test(command));
  return { result, commands };
}

async function api(base: string, cookie: string): Promise<number> {
  const response = await fetch(`${base}/api/echo/items`, { headers: { ...CSRF, cookie } });
  await response.arrayBuffer();
  return response.status;
}

/** Requests at `base` until one is answered from memory (the instance's feed connects in the background). */
async function answeredFromMemory(base: string, cookie: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { result, commands } = await commandsDuring(() => api(base, cookie));
    expect(result).toBe(200);
    if (commands.length === 0) return;
    await sleep(10);
  }
  throw new Error(`${base} never answered from memory`);
}

async function loggedIn(username = 'alice'): Promise<{ browser: BrowserClient; cookie: string; publicId: string }> {
  const browser = await stack.loginAs(username);
  const cookie = Object.entries(browser.cookies(stack.url))
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
  const user = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{ logoutUrl: string }>();
  const publicId = new URL(user.logoutUrl, stack.url).searchParams.get('sid')!;
  for (const base of [stack.url, second]) await answeredFromMemory(base, cookie);
  return { browser, cookie, publicId };
}

describe('Redis round trips per proxied request', () => {
  it('one command (the touch script) when the session is not in memory, none when it is', async () => {
    const { cookie } = await stack.loginAs('bob').then(async (browser) => ({
      cookie: Object.entries(browser.cookies(stack.url))
        .map(([name, value]) => `${name}=${value}`)
        .join('; '),
    }));
    // Settles the feed and whatever the login left: the next read from Redis is a plain one.
    await answeredFromMemory(second, cookie);
    await stack.redis.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const fromRedis = await commandsDuring(() => api(second, cookie));
    expect(fromRedis.result).toBe(200);
    expect(fromRedis.commands).toHaveLength(1);
    // The touch script (EVAL the first time on a connection, EVALSHA after).
    expect(fromRedis.commands[0]).toMatch(/^eval(sha)? .* 2 sg:\{[A-Za-z0-9_-]{43}\}:s sg:meta:/s);

    for (const base of [second, stack.url]) await answeredFromMemory(base, cookie);
    const again = await commandsDuring(() => Promise.all([api(second, cookie), api(second, cookie), api(stack.url, cookie)]));
    expect(again.result).toEqual([200, 200, 200]);
    expect(again.commands).toEqual([]);
  });
});

describe('ending a session on one instance fails the very next request on the other', () => {
  it('an admin revocation', async () => {
    const alice = await loggedIn();
    const token = await stack.adminToken();
    const revoked = await fetch(`${stack.gateway.adminUrl}/admin/sessions/${alice.publicId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(revoked.status).toBe(200);
    expect(await api(second, alice.cookie)).toBe(401);
    expect(await api(stack.url, alice.cookie)).toBe(401);
  });

  it('a logout (the cookie replayed afterwards, as a thief would)', async () => {
    const alice = await loggedIn();
    const logout = await alice.browser.get(`${stack.url}/bff/logout?sid=${alice.publicId}`, { from: stack.url });
    // Followed to the provider's end-session page.
    expect(logout.status).toBe(200);
    expect(await api(second, alice.cookie)).toBe(401);
    expect(await api(stack.url, alice.cookie)).toBe(401);
  });

  it('a back-channel logout from the provider', async () => {
    const alice = await loggedIn();
    const confirm = await alice.browser.get(`${stack.idp.issuer}/session/end`, { from: null });
    expect(confirm.status).toBe(200);
    expect((await alice.browser.submitForm(confirm.body)).status).toBe(200);
    expect(await api(second, alice.cookie)).toBe(401);
    expect(await api(stack.url, alice.cookie)).toBe(401);
  });

  it('the CLI, in a process of its own', async () => {
    const alice = await loggedIn();
    const env = { ...process.env, ...stack.env };
    await run(process.execPath, ['dist/apps/cli/src/main.js', 'sessions', 'revoke', alice.publicId], { env });
    expect(await api(second, alice.cookie)).toBe(401);
    expect(await api(stack.url, alice.cookie)).toBe(401);
  });

  it('a token refresh on one instance is what the other uses next', async () => {
    const bob = await loggedIn('bob');
    const before = stack.echo.requests.length;
    expect(await api(second, bob.cookie)).toBe(200);
    const oldToken = stack.echo.requests[before]!.headers.authorization;
    // The upstream refuses that token: the instance that got the 401 refreshes it and writes the session.
    const token = oldToken!.replace(/^Bearer /, '');
    const refused = await fetch(`${stack.url}/api/echo/reject-token?token=${encodeURIComponent(token)}`, {
      headers: { ...CSRF, cookie: bob.cookie },
    });
    expect(refused.status).toBe(200);
    const newToken = stack.echo.requests.at(-1)!.headers.authorization;
    expect(newToken).not.toBe(oldToken);
    expect(await api(second, bob.cookie)).toBe(200);
    expect(stack.echo.requests.at(-1)!.headers.authorization).toBe(newToken);
  });
});
