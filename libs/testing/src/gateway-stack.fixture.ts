import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { type GatewayConfig, loadConfig } from '#sessiongate/config';
import { type DemoApi, type DemoClient, type IdentityProvider, type IdentityProviderOptions, startDemoApi, startIdentityProvider } from '#sessiongate/demo';
import { type RunningGateway, startGateway } from '#sessiongate/gateway';
import { BrowserClient } from './browser-client.js';
import { type EchoApi, startEchoApi } from './echo-api.fixture.js';
import { freePort } from './free-port.js';
import { type RedisFixture, startRedis } from './redis.fixture.js';

export const GATEWAY_CLIENT_ID = 'sessiongate';
export const GATEWAY_CLIENT_SECRET = 'gateway-secret-:&+%-not-for-production';
/** The demo API's resource indicator: its access tokens carry this `aud`. */
export const TODOS_RESOURCE = 'http://todos.api.test';

export interface GatewayStackOptions {
  /** Extra or overriding gateway settings (environment variable names). */
  readonly env?: Readonly<Record<string, string>>;
  readonly idp?: Partial<Omit<IdentityProviderOptions, 'clients'>>;
  /** Overrides of the gateway's client registration at the provider (e.g. its authentication method). */
  readonly client?: Partial<DemoClient>;
  /** An already running Redis to share (several gateway instances); default: a private one. */
  readonly redis?: RedisFixture;
  /**
   * More demo APIs (passport-jwt, each checking its own `aud` and scope), by name; reachable as
   * `stack.demoApis[name]`. Their audiences must be among the provider's `resources` (see `idp`).
   */
  readonly demoApis?: Readonly<Record<string, { readonly audience: string; readonly requiredScope: string }>>;
  /**
   * More API_ROUTES entries, given where the stack's APIs listen. One whose prefix is a default
   * route's replaces that route; the others are added. (`env.API_ROUTES` still overrides everything.)
   */
  readonly routes?: (targets: GatewayStackTargets) => readonly GatewayStackRoute[];
}

/** Where the stack's downstream APIs listen, for `GatewayStackOptions.routes`. */
export interface GatewayStackTargets {
  readonly todosApi: string;
  readonly echo: string;
  readonly demoApis: Readonly<Record<string, string>>;
}

/** An API_ROUTES entry, as the gateway reads it from JSON. */
export interface GatewayStackRoute {
  readonly prefix: string;
  readonly target: string;
  readonly token?: 'user' | 'optional' | 'client' | 'none';
  readonly resource?: string;
  readonly audience?: string;
  readonly scopes?: string;
}

export interface GatewayStack {
  readonly url: string;
  readonly config: GatewayConfig;
  readonly gateway: RunningGateway;
  readonly redis: RedisFixture;
  readonly idp: IdentityProvider;
  readonly todosApi: DemoApi;
  /** The demo APIs of `options.demoApis`, by name (empty without). */
  readonly demoApis: Readonly<Record<string, DemoApi>>;
  readonly echo: EchoApi;
  /** Every line the gateway logged (JSON), for assertions on what is never logged. */
  readonly logs: string[];
  /** A fresh browser (its own cookie jar). */
  browser(): BrowserClient;
  /** Starts one more gateway instance on the same Redis, provider and settings; returns its URL. */
  startInstance(): Promise<string>;
  /** A browser logged in as `username` (password = username, as for the demo users). */
  loginAs(username: string): Promise<BrowserClient>;
  stop(): Promise<void>;
}

/**
 * The real gateway, wired to a real Redis, a real oidc-provider, the demo API (checks access tokens)
 * and an echo API (records what it receives). Routes: `/api/todos` → demo API (user token),
 * `/api/echo` → echo API under `/v1` (user token), `/api/public` → echo API (no token), plus (or
 * replaced by) `options.routes`.
 */
export async function startGatewayStack(options: GatewayStackOptions = {}): Promise<GatewayStack> {
  const redis = options.redis ?? (await startRedis());
  const port = await freePort();
  const publicUrl = `http://localhost:${port}`;
  const idp = await startIdentityProvider({
    resources: { [TODOS_RESOURCE]: { scope: 'todos:read todos:write' } },
    ...options.idp,
    clients: [
      {
        client_id: GATEWAY_CLIENT_ID,
        client_secret: GATEWAY_CLIENT_SECRET,
        redirect_uris: [`${publicUrl}/bff/callback`],
        post_logout_redirect_uris: [`${publicUrl}/`],
        ...options.client,
      },
    ],
  });
  const todosApi = await startDemoApi({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: TODOS_RESOURCE, requiredScope: 'todos:read' });
  const demoApis: Record<string, DemoApi> = {};
  for (const [name, api] of Object.entries(options.demoApis ?? {})) {
    demoApis[name] = await startDemoApi({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: api.audience, requiredScope: api.requiredScope });
  }
  const echo = await startEchoApi();
  const defaultRoutes: GatewayStackRoute[] = [
    { prefix: '/api/todos', target: todosApi.url, token: 'user' },
    { prefix: '/api/echo', target: `${echo.url}/v1`, token: 'user' },
    { prefix: '/api/public', target: echo.url, token: 'none' },
  ];
  const extraRoutes = options.routes?.({
    todosApi: todosApi.url,
    echo: echo.url,
    demoApis: Object.fromEntries(Object.entries(demoApis).map(([name, api]) => [name, api.url])),
  }) ?? [];
  const routes = [
    ...defaultRoutes.map((route) => extraRoutes.find((extra) => extra.prefix === route.prefix) ?? route),
    ...extraRoutes.filter((extra) => !defaultRoutes.some((route) => route.prefix === extra.prefix)),
  ];
  const env = {
    PUBLIC_URL: publicUrl,
    HOST: 'localhost',
    PORT: String(port),
    LOG_LEVEL: 'debug',
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: GATEWAY_CLIENT_ID,
    OIDC_CLIENT_SECRET: GATEWAY_CLIENT_SECRET,
    OIDC_SCOPES: 'openid profile email offline_access todos:read todos:write',
    REDIS_URL: redis.url,
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_ROUTES: JSON.stringify(routes),
    ...options.env,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const gateway = await startGateway(config, { logger });
  const instances: RunningGateway[] = [];
  const browser = () => new BrowserClient();
  return {
    url: publicUrl,
    config,
    gateway,
    redis,
    idp,
    todosApi,
    demoApis,
    echo,
    logs,
    browser,
    async startInstance() {
      const instance = await startGateway(loadConfig({ ...env, PORT: String(await freePort()) }), { logger });
      instances.push(instance);
      return instance.url;
    },
    async loginAs(username) {
      const client = browser();
      const landing = await client.login(publicUrl, { username, password: username });
      if (landing.status !== 200 && landing.status !== 404) throw new Error(`login as ${username} ended with ${landing.status}`);
      return client;
    },
    async stop() {
      await Promise.all([gateway, ...instances].map((instance) => instance.close()));
      await Promise.all([todosApi.stop(), ...Object.values(demoApis).map((api) => api.stop()), echo.stop(), idp.stop()]);
      if (!options.redis) await redis.stop();
    },
  };
}
