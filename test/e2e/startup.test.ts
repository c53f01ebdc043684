import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BrowserClient,
  DEMO_USERS,
  freePort,
  type IdentityProvider,
  type RedisFixture,
  startEchoApi,
  startIdentityProvider,
  startRedis,
} from '#sessiongate/testing';

// Drives the production entry point as an operator would: `node dist/apps/gateway/src/main.js` with
// nothing in its environment but what the test passes (and PATH). Needs `npm run build` first.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(root, 'dist/apps/gateway/src/main.js');
const REQUIRED = ['PUBLIC_URL', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'SESSION_ENCRYPTION_KEY'];
const CLIENT_ID = 'sessiongate-startup';
/** Distinctive per run, so finding it in the output cannot be a coincidence. */
const CLIENT_SECRET = `client-secret-${randomBytes(12).toString('hex')}`;
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const EXIT_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 15_000;

type Env = Record<string, string>;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Running {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  readonly exited: Promise<Exit>;
}

const children = new Set<ChildProcess>();

function launch(env: Env): Running {
  const child = spawn(process.execPath, [MAIN], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolveExit) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolveExit({ code, signal, stdout, stderr });
    }),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Runs the gateway with `env` and waits for it to stop by itself (it must, within EXIT_TIMEOUT_MS). */
async function runToExit(env: Env): Promise<Exit> {
  const running = launch(env);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      running.child.kill('SIGKILL');
      reject(new Error(`gateway did not exit within ${EXIT_TIMEOUT_MS} ms: ${JSON.stringify(running.output())}`));
    }, EXIT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([running.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the gateway and waits until it answers HTTP on `url`; fails with its output if it exits first. */
async function startAndWait(env: Env, url: string): Promise<Running> {
  const running = launch(env);
  let exit: Exit | undefined;
  void running.exited.then((result) => (exit = result));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exit) throw new Error(`gateway exited with ${exit.code} before answering: ${exit.stderr}\n${exit.stdout}`);
    try {
      await fetch(`${url}/bff/user`);
      return running;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`gateway did not answer within ${START_TIMEOUT_MS} ms: ${JSON.stringify(running.output())}`);
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 50));
    }
  }
}

/** Discovery is retried at most RETRY_MAX_MS apart (30 s), plus one attempt's own time. */
const READY_TIMEOUT_MS = 40_000;

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while ((await fetch(`${url}/readyz`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
  }
}

async function stop(running: Running): Promise<Exit> {
  running.child.kill('SIGTERM');
  return running.exited;
}

/** The stderr lines that start with `NAME:` (ConfigError indents them; discovery failures do not). */
function linesNaming(stderr: string, name: string): string[] {
  return stderr.split('\n').filter((line) => line.trimStart().startsWith(`${name}:`));
}

function expectRefused(exit: Exit, ...names: string[]): void {
  expect(exit.code).toBe(1);
  for (const name of names) expect(linesNaming(exit.stderr, name)).toHaveLength(1);
  expect(exit.stderr).not.toMatch(/^ {4}at /m);
  expect(exit.stdout).not.toMatch(/^ {4}at /m);
}

function expectNoSecretIn(exit: Pick<Exit, 'stdout' | 'stderr'>, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(exit.stdout).not.toContain(secret);
    expect(exit.stderr).not.toContain(secret);
  }
}

/** The pino JSON lines of stdout. */
function logLines(stdout: string): { level: number; msg: string }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string });
}

let idp: IdentityProvider;
let redis: RedisFixture;

/** A complete, valid environment for a gateway on `port`, against the shared provider (without REDIS_URL). */
function validEnv(port: number, overrides: Env = {}): Env {
  return {
    PUBLIC_URL: `http://localhost:${port}`,
    HOST: '127.0.0.1',
    PORT: String(port),
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    SESSION_ENCRYPTION_KEY: ENCRYPTION_KEY,
    ...overrides,
  };
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  [idp, redis] = await Promise.all([
    startIdentityProvider({
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: ['http://localhost/bff/callback'] }],
    }),
    startRedis(),
  ]);
});

afterEach(() => {
  // A test that failed half-way must not leave its gateway running.
  for (const child of children) child.kill('SIGKILL');
});

afterAll(async () => {
  await Promise.all([idp?.stop(), redis?.stop()]);
});

describe('configuration problems stop the process with one line per variable', () => {
  test('an empty environment names every required variable, each on its own line, without a stack trace', async () => {
    const exit = await runToExit({});
    expectRefused(exit, ...REQUIRED);
  });

  test.each([
    ['SESSION_ENCRYPTION_KEY', 'not base64', { SESSION_ENCRYPTION_KEY: 'not base64!' }],
    ['SESSION_ENCRYPTION_KEY', 'too short', { SESSION_ENCRYPTION_KEY: randomBytes(16).toString('base64') }],
    [
      'SESSION_ENCRYPTION_KEY',
      'a key list with a short key',
      {
        SESSION_ENCRYPTION_KEY: `k2:${randomBytes(32).toString('base64')},k1:${randomBytes(16).toString('base64')}`,
        SESSION_INDEX_KEY: ENCRYPTION_KEY,
      },
    ],
    [
      'SESSION_ENCRYPTION_KEY',
      'a key list naming one id twice',
      { SESSION_ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')},k1:${ENCRYPTION_KEY}`, SESSION_INDEX_KEY: ENCRYPTION_KEY },
    ],
    [
      'SESSION_INDEX_KEY',
      'missing while several keys are listed',
      { SESSION_ENCRYPTION_KEY: `k2:${randomBytes(32).toString('base64')},${ENCRYPTION_KEY}` },
    ],
    ['TRUST_PROXY', 'a host name', { TRUST_PROXY: 'proxy.internal' }],
    ['API_ROUTES', 'not JSON', { API_ROUTES: '[{"prefix": "/api/todos"' }],
    ['API_ROUTES', 'a route with a non-http target', { API_ROUTES: '[{"prefix": "/api/todos", "target": "file:///etc/passwd"}]' }],
    ['API_ROUTES', 'a route without /api prefix', { API_ROUTES: '[{"prefix": "/todos", "target": "http://127.0.0.1:4000"}]' }],
    ['PORT', 'not a number', { PORT: 'eighty' }],
    ['PORT', 'out of range', { PORT: '70000' }],
  ])('a malformed %s (%s) is named', async (name, _what, overrides) => {
    const exit = await runToExit(validEnv(await freePort(), overrides));
    expectRefused(exit, name);
    // Only the bad variable: the others in this environment are valid.
    expect(exit.stderr.split('\n').filter((line) => /^\s*[A-Z_]+: /.test(line))).toHaveLength(1);
  });

  test('a bad route policy stops the start, naming the route and the key', async () => {
    const routes = [
      { prefix: '/api/todos', target: 'http://127.0.0.1:4000' },
      { prefix: '/api/ops', target: 'http://127.0.0.1:4000', require: { 'realm_access.roles': ['ops'] } },
    ];
    const exit = await runToExit(
      validEnv(await freePort(), { API_ROUTES: JSON.stringify(routes), ROUTES_DEFAULT_REQUIRE: '{"groups":[1]}' }),
    );
    expectRefused(exit, 'API_ROUTES', 'ROUTES_DEFAULT_REQUIRE');
    expect(linesNaming(exit.stderr, 'API_ROUTES')[0]).toContain('API_ROUTES: route 1 (/api/ops): require.realm_access.roles must be');
    expect(linesNaming(exit.stderr, 'ROUTES_DEFAULT_REQUIRE')[0]).toContain('ROUTES_DEFAULT_REQUIRE: groups must be');
  });

  test('secret values never appear in the output, whether they are valid or malformed', async () => {
    const malformedKey = `passphrase-${randomBytes(8).toString('hex')}`;
    const shortKey = randomBytes(20).toString('base64');
    const withBadKey = await runToExit(validEnv(await freePort(), { SESSION_ENCRYPTION_KEY: malformedKey, PORT: 'x' }));
    expectRefused(withBadKey, 'SESSION_ENCRYPTION_KEY', 'PORT');
    expectNoSecretIn(withBadKey, CLIENT_SECRET, malformedKey);

    const withShortKey = await runToExit(validEnv(await freePort(), { SESSION_ENCRYPTION_KEY: shortKey }));
    expectRefused(withShortKey, 'SESSION_ENCRYPTION_KEY');
    expectNoSecretIn(withShortKey, CLIENT_SECRET, shortKey);

    // Valid secrets, but another problem: the configuration is reported without them.
    const withValidSecrets = await runToExit(validEnv(await freePort(), { PUBLIC_URL: 'localhost' }));
    expectRefused(withValidSecrets, 'PUBLIC_URL');
    expectNoSecretIn(withValidSecrets, CLIENT_SECRET, ENCRYPTION_KEY);
  });

  test('NODE_ENV=production without REDIS_URL is refused naming REDIS_URL', async () => {
    const exit = await runToExit(validEnv(await freePort(), { NODE_ENV: 'production' }));
    expectRefused(exit, 'REDIS_URL');
  });

  test('an http:// issuer on a non-loopback host is refused naming OIDC_ISSUER', async () => {
    const exit = await runToExit(validEnv(await freePort(), { OIDC_ISSUER: 'http://idp.example.com/realms/demo' }));
    expectRefused(exit, 'OIDC_ISSUER');
    // Refused by the configuration check, not by a failed discovery of that host.
    expect(linesNaming(exit.stderr, 'OIDC_ISSUER')[0]).toMatch(/https:\/\//);
    expect(exit.stderr).not.toMatch(/discovery/);
  });
});

describe('OpenID Provider discovery at start-up', () => {
  test('a discovery document naming another issuer than OIDC_ISSUER is refused', async () => {
    // The provider's issuer is http://127.0.0.1:<port>; the same server reached as localhost is not that issuer.
    const exit = await runToExit(validEnv(await freePort(), { OIDC_ISSUER: `http://localhost:${idp.port}` }));
    expectRefused(exit);
    const problem = exit.stderr.split('\n').find((line) => line.startsWith('OIDC_ISSUER:'));
    expect(problem).toBeDefined();
    expect(problem).toMatch(/issuer does not match/);
    expectNoSecretIn(exit, CLIENT_SECRET, ENCRYPTION_KEY);
  });

  test('an issuer URL the provider answers 404 to is refused naming OIDC_ISSUER, with the status', async () => {
    const exit = await runToExit(validEnv(await freePort(), { OIDC_ISSUER: `${idp.issuer}/realms/missing` }));
    expectRefused(exit, 'OIDC_ISSUER');
    expect(linesNaming(exit.stderr, 'OIDC_ISSUER')[0]).toMatch(/HTTP 404/);
    expectNoSecretIn(exit, CLIENT_SECRET, ENCRYPTION_KEY);
  });
});

describe('a provider that is down at start-up', () => {
  test('the gateway serves meanwhile (login 503, /readyz 503, token-less routes work), retries with backoff, and logs in once the provider is up', async () => {
    const echo = await startEchoApi();
    const [port, idpPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    let lateIdp: IdentityProvider | undefined;
    try {
      const routes = JSON.stringify([{ prefix: '/api/public', target: echo.url, token: 'none' }]);
      const env = validEnv(port, { PUBLIC_URL: url, OIDC_ISSUER: `http://127.0.0.1:${idpPort}`, REDIS_URL: redis.url, API_ROUTES: routes });
      const running = await startAndWait(env, url);

      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({
        status: 'error',
        error: { identityProvider: { status: 'down', message: expect.stringMatching(/retrying/), attempts: expect.any(Number) } },
        details: { sessionStore: { status: 'up' } },
      });
      for (const path of ['/bff/login?returnTo=/', '/bff/callback?code=x&state=y']) {
        const refused = await fetch(`${url}${path}`, { redirect: 'manual' });
        expect(refused.status).toBe(503);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(await refused.json()).toMatchObject({ error: 'idp_unavailable', requestId: expect.any(String) });
      }
      const user = await fetch(`${url}/bff/user`, { headers: { 'x-csrf': '1' } });
      expect(await user.json()).toMatchObject({ error: 'unauthenticated' });
      expect((await fetch(`${url}/api/public/ping`, { headers: { 'x-csrf': '1' } })).status).toBe(200);

      lateIdp = await startIdentityProvider({
        port: idpPort,
        clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${url}/bff/callback`] }],
      });
      await waitUntilReady(url);
      const browser = new BrowserClient();
      const landing = await browser.login(url, { username: 'alice', password: 'alice' });
      expect(new URL(landing.url).origin).toBe(url);
      const loggedIn = await browser.get(`${url}/bff/user`, { headers: { 'x-csrf': '1' }, from: url });
      expect(loggedIn.status).toBe(200);
      expect(loggedIn.json<{ claims: { sub: string } }>().claims.sub).toBe(DEMO_USERS[0]!.sub);

      const exit = await stop(running);
      expect(exit.code).toBe(0);
      const retries = logLines(exit.stdout).filter((line) => line.msg.startsWith('provider discovery failed')) as unknown as {
        level: number;
        attempt: number;
        retryInMs: number;
      }[];
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries.map((line) => line.attempt)).toEqual(retries.map((_line, index) => index + 1));
      for (const line of retries) expect(line).toMatchObject({ level: 40, retryInMs: expect.any(Number) });
      expect(logLines(exit.stdout).some((line) => line.msg.startsWith('provider discovered'))).toBe(true);
      expectNoSecretIn(exit, CLIENT_SECRET, ENCRYPTION_KEY);
    } finally {
      await Promise.all([echo.stop(), lateIdp?.stop()]);
    }
  }, 90_000);

  test('a server that comes up on the issuer address answering 404: retries stop, an ERROR line names OIDC_ISSUER, /readyz stays 503', async () => {
    const [port, idpPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const running = await startAndWait(validEnv(port, { PUBLIC_URL: url, OIDC_ISSUER: `http://127.0.0.1:${idpPort}` }), url);
    const wrongServer = createServer((_request, response) => response.writeHead(404).end('not here'));
    wrongServer.listen(idpPort, '127.0.0.1');
    await once(wrongServer, 'listening');
    try {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      let body: { error?: { identityProvider?: { message?: string } } } = {};
      while (!/refused/.test(body.error?.identityProvider?.message ?? '')) {
        if (Date.now() > deadline) throw new Error(`/readyz never reported the refusal: ${JSON.stringify(body)}`);
        await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
        body = (await (await fetch(`${url}/readyz`)).json()) as typeof body;
      }
      const login = await fetch(`${url}/bff/login`, { redirect: 'manual' });
      expect(login.status).toBe(503);
      expect(await login.json()).toMatchObject({ error: 'idp_unavailable' });

      const exit = await stop(running);
      const refusals = logLines(exit.stdout).filter((line) => line.msg.startsWith('the provider refused')) as unknown as {
        level: number;
        problem: string;
      }[];
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toMatchObject({ level: 50, problem: expect.stringMatching(/^OIDC_ISSUER: .*HTTP 404/) });
    } finally {
      wrongServer.close();
    }
  }, 90_000);
});

describe('a valid environment', () => {
  test('with Redis: starts, answers /bff/user with 401 JSON (403 without X-CSRF), and stops with exit 0 on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const running = await startAndWait(validEnv(port, { REDIS_URL: redis.url, LOG_LEVEL: 'trace' }), url);

    const withoutCsrf = await fetch(`${url}/bff/user`);
    expect(withoutCsrf.status).toBe(403);
    expect(await withoutCsrf.json()).toMatchObject({ error: 'csrf' });

    const response = await fetch(`${url}/bff/user`, { headers: { 'x-csrf': '1' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('location')).toBeNull();
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'unauthenticated', requestId: expect.any(String) });

    const exit = await stop(running);
    expect(exit).toMatchObject({ code: 0, signal: null });
    // With Redis there is no in-process store to warn about.
    expect(logLines(exit.stdout).filter((line) => line.level >= 40 && line.msg.includes('REDIS_URL'))).toEqual([]);
    // Not even at trace level.
    expectNoSecretIn(exit, CLIENT_SECRET, ENCRYPTION_KEY);
  });

  test('on SIGTERM: stops accepting, lets a stream that started before finish, then exits 0', async () => {
    const echo = await startEchoApi();
    try {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const routes = JSON.stringify([{ prefix: '/api/events', target: echo.url, token: 'none' }]);
      const running = await startAndWait(validEnv(port, { REDIS_URL: redis.url, API_ROUTES: routes }), url);

      const response = await fetch(`${url}/api/events/stream?chunks=8&ms=150`, { headers: { 'x-csrf': '1' } });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      const exited = stop(running);
      let body = Buffer.from(first.value!).toString();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) body += Buffer.from(chunk.value).toString();

      expect(body.match(/^data: /gm)).toHaveLength(8);
      await expect(fetch(`${url}/bff/user`, { headers: { 'x-csrf': '1' } })).rejects.toThrow();
      expect(await exited).toMatchObject({ code: 0, signal: null });
    } finally {
      await echo.stop();
    }
  });

  test('on SIGTERM with a request that never ends: exits anyway after SHUTDOWN_TIMEOUT_MS', async () => {
    const echo = await startEchoApi();
    try {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const routes = JSON.stringify([{ prefix: '/api/slow', target: echo.url, token: 'none' }]);
      const running = await startAndWait(validEnv(port, { REDIS_URL: redis.url, API_ROUTES: routes, SHUTDOWN_TIMEOUT_MS: '500' }), url);
      const pending = fetch(`${url}/api/slow/slow?ms=10000`, { headers: { 'x-csrf': '1' } }).catch(() => undefined);
      await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
      const started = Date.now();
      const exit = await stop(running);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(exit.code).toBe(1);
      await pending;
    } finally {
      await echo.stop();
    }
  });

  test('without REDIS_URL (development): starts with the in-process store, announced by a WARN line naming REDIS_URL', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const running = await startAndWait(validEnv(port), url);

    const response = await fetch(`${url}/bff/user`, { headers: { 'x-csrf': '1' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'unauthenticated' });

    const exit = await stop(running);
    expect(exit.code).toBe(0);
    const warnings = logLines(exit.stdout).filter((line) => line.level === 40);
    expect(warnings.some((line) => line.msg.includes('REDIS_URL'))).toBe(true);
  });
});
