import { randomBytes } from 'node:crypto';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './chromium.fixture.js';
import { type EchoApi, startEchoApi } from './echo-api.fixture.js';
import { type GatewayProcess, startGatewayProcess } from './gateway-process.fixture.js';
import type { GatewayStackRoute } from './gateway-stack.fixture.js';
import { type RedisFixture, startRedis } from './redis.fixture.js';

export interface InteropStackOptions {
  /** The gateway's port, chosen before the provider starts (its redirect URIs name it). */
  readonly port: number;
  /** The provider's settings: OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and any other. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Routes: `/api/echo` → the echo API under `/v1` (user token); with `resource`, also
   * `/api/todos` → the echo API under `/todos` with a token for that resource (RFC 8707).
   */
  readonly resource?: string;
  /** More API_ROUTES entries, given the echo API's URL. */
  readonly routes?: (echoUrl: string) => readonly GatewayStackRoute[];
}

export interface PageResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface InteropStack {
  /** The gateway's PUBLIC_URL: http://localhost:<port>, another site than a provider on 127.0.0.1. */
  readonly url: string;
  readonly gateway: GatewayProcess;
  readonly redis: RedisFixture;
  readonly echo: EchoApi;
  /** A page in a fresh browser context (its own cookies), closed by `closePages()`. */
  newPage(): Promise<Page>;
  /** What the SPA would do from `page` (on the gateway's origin): a fetch with the session cookie and X-CSRF. */
  call(page: Page, path: string): Promise<PageResponse>;
  /** The bearer token the echo API received last on a path starting with `prefix`. */
  lastBearer(prefix: string): string;
  closePages(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What an interop suite runs around a provider it did not write: Redis, the echo API, the built
 * gateway (`dist`, in a process of its own) on `options.port`, and headless Chromium.
 */
export async function startInteropStack(options: InteropStackOptions): Promise<InteropStack> {
  const url = `http://localhost:${options.port}`;
  const started: { stop(): Promise<void> }[] = [];
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    for (const part of started.reverse()) await part.stop();
  };
  try {
    const redis = await startRedis();
    started.push(redis);
    const echo = await startEchoApi();
    started.push(echo);
    const gateway = await startGatewayProcess({
      PUBLIC_URL: url,
      HOST: 'localhost',
      PORT: String(options.port),
      LOG_LEVEL: 'info',
      OIDC_SCOPES: 'openid profile email offline_access',
      REDIS_URL: redis.url,
      SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      API_ROUTES: JSON.stringify([...routes(echo.url, options.resource), ...(options.routes?.(echo.url) ?? [])]),
      ...options.env,
    });
    started.push(gateway);
    browser = await launchChromium();
    const launched = browser;
    const contexts: BrowserContext[] = [];
    return {
      url,
      gateway,
      redis,
      echo,
      async newPage() {
        const context = await launched.newContext();
        // Fail at the step that hangs, well inside a test's own timeout.
        context.setDefaultTimeout(10_000);
        contexts.push(context);
        return context.newPage();
      },
      call: (page, path) =>
        page.evaluate(async (target) => {
          const response = await fetch(target, { headers: { 'x-csrf': '1' }, credentials: 'same-origin' });
          return { status: response.status, body: (await response.json()) as Record<string, unknown> };
        }, path),
      lastBearer(prefix) {
        const request = echo.requests.filter((recorded) => recorded.url.startsWith(prefix)).at(-1);
        const match = /^Bearer (.+)$/.exec(request?.headers.authorization ?? '');
        if (!match) throw new Error(`no bearer token reached ${prefix}`);
        return match[1]!;
      },
      async closePages() {
        await Promise.all(contexts.splice(0).map((context) => context.close()));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function routes(echoUrl: string, resource: string | undefined): GatewayStackRoute[] {
  return [
    { prefix: '/api/echo', target: `${echoUrl}/v1`, token: 'user' },
    ...(resource === undefined ? [] : [{ prefix: '/api/todos', target: `${echoUrl}/todos`, token: 'user' as const, resource }]),
  ];
}

/** A JWT's claims, unverified (what an API received, for assertions). */
export function jwtClaims<T = Record<string, unknown>>(jwt: string): T {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as T;
}

export async function sleepUntil(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
