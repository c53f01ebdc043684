import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BrowserClient,
  type EchoApi,
  freePort,
  type IdentityProvider,
  type RedisFixture,
  startEchoApi,
  startIdentityProvider,
  startRedis,
} from '#sessiongate/testing';

// GATEWAY_WORKERS=2 through the production entry point (`node dist/apps/gateway/src/main.js`: build
// first): two worker processes on one port, sharing only Redis. Which worker answered a request is read
// from its request log line (every line of a worker carries its pid), found by the request's id. Each
// request below opens a connection of its own, which the primary hands to the workers in turn.

const MAIN = join(process.cwd(), 'dist/apps/gateway/src/main.js');
const CLIENT_ID = 'sessiongate-workers';
const CLIENT_SECRET = `client-secret-${randomBytes(12).toString('hex')}`;
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const START_TIMEOUT_MS = 20_000;
const CSRF = { 'x-csrf': '1' };

interface LogLine {
  readonly msg: string;
  readonly pid?: number;
  readonly worker?: number;
  readonly reqId?: string;
  readonly status?: number;
}

interface Gateway {
  readonly url: string;
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
let idp: IdentityProvider;
let redis: RedisFixture;
let echo: EchoApi;
let port: number;

function launch(env: Record<string, string>): Gateway {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { url: `http://127.0.0.1:${env.PORT}`, child, stdout: () => stdout, stderr: () => stderr, exited };
}

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HOST: '127.0.0.1',
    PORT: String(port),
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    SESSION_ENCRYPTION_KEY: ENCRYPTION_KEY,
    REDIS_URL: redis.url,
    GATEWAY_WORKERS: '2',
    LOG_LEVEL: 'info',
    API_ROUTES: JSON.stringify([{ prefix: '/api/echo', target: echo.url }]),
    ...overrides,
  };
}

function logLines(gateway: Gateway): LogLine[] {
  return gateway
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

async function waitFor<T>(what: string, find: () => T | undefined, timeoutMs = START_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The pids of the workers that announced they serve, in order. */
function servingWorkers(gateway: Gateway): number[] {
  return logLines(gateway)
    .filter((line) => line.msg === 'worker serving')
    .map((line) => line.worker!);
}

async function started(gateway: Gateway, workers = 2): Promise<number[]> {
  return waitFor(`${workers} workers serving: ${gateway.stderr()}`, () => {
    const serving = servingWorkers(gateway);
    return serving.length >= workers ? serving : undefined;
  });
}

/** One request on a connection of its own; resolves with its status and the pid of the worker that answered it. */
async function call(gateway: Gateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; pid: number }> {
  const id = randomUUID();
  const status = await new Promise<number>((resolve, reject) => {
    const outgoing = request(`${gateway.url}${path}`, { agent: false, headers: { ...headers, 'x-request-id': id } }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode!));
    });
    outgoing.once('error', reject);
    outgoing.end();
  });
  const line = await waitFor(`the log line of ${id}`, () =>
    logLines(gateway).find((entry) => entry.reqId === id && entry.msg === 'request completed'),
  );
  return { status, pid: line.pid! };
}

/** Opens a streamed response on a connection of its own: resolves once its first bytes arrived, with the promise of the whole body. */
async function openStream(gateway: Gateway, path: string, headers: Record<string, string>): Promise<Promise<string>> {
  return new Promise((resolveOpen, reject) => {
    const outgoing = request(`${gateway.url}${path}`, { agent: false, headers }, (response) => {
      let body = '';
      const whole = new Promise<string>((resolveBody, rejectBody) => {
        response.on('end', () => resolveBody(body));
        response.once('error', rejectBody);
      });
      response.once('data', () => resolveOpen(whole));
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
    });
    outgoing.once('error', reject);
    outgoing.end();
  });
}

/** Requests until both workers have answered; returns every status seen. */
async function fromBothWorkers(gateway: Gateway, path: string, headers: Record<string, string> = {}): Promise<number[]> {
  const pids = new Set<number>();
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 40 && pids.size < 2; attempt++) {
    const { status, pid } = await call(gateway, path, headers);
    statuses.push(status);
    pids.add(pid);
  }
  expect(pids.size).toBe(2);
  return statuses;
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  port = await freePort();
  [idp, redis, echo] = await Promise.all([
    startIdentityProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`http://127.0.0.1:${port}/bff/callback`],
          post_logout_redirect_uris: [`http://127.0.0.1:${port}/`],
        },
      ],
    }),
    startRedis(),
    startEchoApi(),
  ]);
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
});

afterAll(async () => {
  await Promise.all([idp?.stop(), redis?.stop(), echo?.stop()]);
});

describe('GATEWAY_WORKERS=2 on one port', () => {
  test('a session ended through one worker is refused by both at once; /metrics counts both workers; a crashed worker is replaced', async () => {
    const gateway = launch(env());
    const [first, second] = await started(gateway);
    expect(first).not.toBe(second);
    expect([first, second]).not.toContain(gateway.child.pid);

    const browser = new BrowserClient();
    await browser.login(gateway.url, { username: 'alice', password: 'alice' });
    const cookie = Object.entries(browser.cookies(gateway.url))
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    // Both workers have the session in memory now.
    const before = await fromBothWorkers(gateway, '/api/echo/items', { ...CSRF, cookie });
    expect(new Set(before)).toEqual(new Set([200]));

    // Whichever worker is scraped reports the requests both answered.
    const scrapes = await Promise.all([call(gateway, '/metrics'), call(gateway, '/metrics')]);
    expect(scrapes.map(({ status }) => status)).toEqual([200, 200]);
    for (let scrape = 0; scrape < 2; scrape++) {
      const text = await (await fetch(`${gateway.url}/metrics`, { headers: { connection: 'close' } })).text();
      const count = /^sessiongate_http_request_duration_seconds_count\{route="\/api\/echo",status_class="2xx"\} (\d+)$/m.exec(text);
      expect(Number(count?.[1])).toBe(before.length);
      expect(text).toMatch(/^sessiongate_active_sessions\{store="redis"\} 1$/m);
    }

    const user = (await browser.get(`${gateway.url}/bff/user`, { headers: CSRF, from: gateway.url })).json<{ logoutUrl: string }>();
    const sid = new URL(user.logoutUrl, gateway.url).searchParams.get('sid')!;
    expect((await browser.get(`${gateway.url}/bff/logout?sid=${sid}`, { from: gateway.url })).status).toBe(200);
    const after = await fromBothWorkers(gateway, '/api/echo/items', { ...CSRF, cookie });
    expect(new Set(after)).toEqual(new Set([401]));

    process.kill(first!, 'SIGKILL');
    const [replacement] = await waitFor('a replacement worker', () => {
      const serving = servingWorkers(gateway).slice(2);
      return serving.length > 0 ? serving : undefined;
    });
    expect([first, second]).not.toContain(replacement);
    expect(logLines(gateway).find((line) => line.msg === 'worker exited; restarting it')).toMatchObject({ worker: first });
    await fromBothWorkers(gateway, '/healthz');

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  }, 60_000);

  test('SIGTERM: every worker lets its in-flight stream finish, then all exit and the primary exits 0', async () => {
    const gateway = launch(env({ API_ROUTES: JSON.stringify([{ prefix: '/api/events', target: echo.url, token: 'none' }]) }));
    const workers = await started(gateway);
    // Several streams, each on a connection of its own, so that both workers have some open.
    const ids: string[] = Array.from({ length: 4 }, () => randomUUID());
    const streams = await Promise.all(
      ids.map((id) => openStream(gateway, '/api/events/stream?chunks=6&ms=150', { ...CSRF, 'x-request-id': id })),
    );
    gateway.child.kill('SIGTERM');
    for (const body of await Promise.all(streams)) expect(body.match(/^data: /gm)).toHaveLength(6);
    expect(await gateway.exited).toBe(0);
    const answeredBy = new Set(
      logLines(gateway)
        .filter((line) => ids.includes(line.reqId!) && line.msg === 'request completed')
        .map((line) => line.pid),
    );
    expect(answeredBy.size).toBe(2);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});

describe('GATEWAY_WORKERS refusals', () => {
  test('more than one worker without Redis is a start-up error naming GATEWAY_WORKERS', async () => {
    const { REDIS_URL: _, ...withoutRedis } = env();
    const gateway = launch(withoutRedis);
    expect(await gateway.exited).toBe(1);
    expect(
      gateway
        .stderr()
        .split('\n')
        .filter((line) => line.trimStart().startsWith('GATEWAY_WORKERS:')),
    ).toHaveLength(1);
  });

  test.each(['0', 'many', '-2'])('GATEWAY_WORKERS=%s is named as malformed', async (value) => {
    const gateway = launch(env({ GATEWAY_WORKERS: value }));
    expect(await gateway.exited).toBe(1);
    expect(gateway.stderr()).toMatch(/^\s*GATEWAY_WORKERS: must be a positive whole number or auto$/m);
  });

  test('workers that keep failing at start (a provider naming another issuer) stop the gateway with exit 1', async () => {
    const gateway = launch(env({ OIDC_ISSUER: `http://localhost:${new URL(idp.issuer).port}` }));
    expect(await gateway.exited).toBe(1);
    expect(gateway.stderr()).toMatch(/^OIDC_ISSUER: .*issuer does not match/m);
    expect(logLines(gateway).some((line) => line.msg === 'workers keep exiting before they serve; stopping')).toBe(true);
  }, 60_000);
});
