import { createPublicKey, type JsonWebKey, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import pino from 'pino';
import { type GatewayConfig, loadConfig, type RouteTokenMode } from '#sessiongate/config';
import {
  type DemoApi,
  type DemoClient,
  type IdentityProvider,
  type IdentityProviderOptions,
  startDemoApi,
  startIdentityProvider,
} from '#sessiongate/demo';
import { type RunningGateway, startGateway } from '#sessiongate/gateway';
import { BrowserClient } from './browser-client.js';
import { type EchoApi, startEchoApi } from './echo-api.fixture.js';
import { freePort } from './free-port.js';
import { type RedisFixture, startRedis } from './redis.fixture.js';

export const GATEWAY_CLIENT_ID = 'sessiongate';
export const GATEWAY_CLIENT_SECRET = 'gateway-secret-:&+%-not-for-production';
/** The Authorization header the gateway sends the provider (RFC 6749 §2.3.1: id and secret each form-urlencoded, then joined). */
export function gatewayClientBasicAuth(): string {
  const formEncode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
  return `Basic ${Buffer.from(`${formEncode(GATEWAY_CLIENT_ID)}:${formEncode(GATEWAY_CLIENT_SECRET)}`).toString('base64')}`;
}

/** The demo API's resource indicator: its access tokens carry this `aud`. */
export const TODOS_RESOURCE = 'http://todos.api.test';
/** The admin API's audience (ADMIN_JWT_AUDIENCE), a resource at the provider with the `sessions:admin` scope. */
export const ADMIN_AUDIENCE = 'http://admin.sessiongate.test';
/** A client of the provider allowed only client credentials: an operator's tool calling the admin API. */
export const ADMIN_CLIENT_ID = 'ops-console';
export const ADMIN_CLIENT_SECRET = 'ops-console-secret-not-for-production';

export interface GatewayStackOptions {
  /** Extra or overriding gateway settings (environment variable names). */
  readonly env?: Readonly<Record<string, string>>;
  readonly idp?: Partial<Omit<IdentityProviderOptions, 'clients'>>;
  /** The demo API's DPoP checks (a DPoP-bound token's proof is always checked): `requireNonce` demands its nonce. */
  readonly demoApi?: { readonly dpop?: { readonly requireNonce?: boolean } };
  /** Overrides of the gateway's client registration at the provider (e.g. its authentication method). */
  readonly client?: Partial<DemoClient>;
  /** The gateway's port (PUBLIC_URL is http://localhost:<port>), for a provider that must know its callbacks first; default: a free one. */
  readonly port?: number;
  /** An already running Redis to share (several gateway instances); default: a private one. */
  readonly redis?: RedisFixture;
  /**
   * More APIs that check access tokens as the demo API does (passport-jwt: RS256, the provider's
   * JWKS, `iss`, their own `aud`; 401, then 403 without `requiredScope`) and answer like its echo
   * path, by name: `stack.audienceApis[name]`. Their audiences must be among the provider's
   * `resources` (see `idp`). Not `startDemoApi`: its strategy registers in passport's process-wide
   * registry under one name, so a second demo API in the process replaces the first one's checks.
   */
  readonly audienceApis?: Readonly<Record<string, { readonly audience: string; readonly requiredScope: string }>>;
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
  readonly audienceApis: Readonly<Record<string, string>>;
}

/** An API_ROUTES entry, as the gateway reads it from JSON. */
export interface GatewayStackRoute {
  readonly prefix: string;
  readonly target: string;
  readonly token?: RouteTokenMode;
  readonly resource?: string;
  readonly audience?: string;
  readonly scopes?: string;
  readonly maxBodyBytes?: number;
  readonly timeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly websocket?: boolean;
  readonly methods?: readonly string[];
  /** A route policy, as docs/ROUTES.md describes it (JSON). */
  readonly require?: Readonly<Record<string, unknown>>;
  readonly bearer?: { readonly audience: string; readonly scopes?: readonly string[]; readonly algorithms?: readonly string[] };
  readonly acr?: readonly string[];
  readonly maxAge?: number;
  readonly dpop?: boolean;
}

export interface GatewayStack {
  readonly url: string;
  readonly config: GatewayConfig;
  /** The settings it runs with (environment variable names), for a CLI or a process of its own. */
  readonly env: Readonly<Record<string, string>>;
  readonly gateway: RunningGateway;
  readonly redis: RedisFixture;
  readonly idp: IdentityProvider;
  readonly todosApi: DemoApi;
  /** The APIs of `options.audienceApis`, by name (empty without). */
  readonly audienceApis: Readonly<Record<string, AudienceApi>>;
  readonly echo: EchoApi;
  /** Every line the gateway logged (JSON), for assertions on what is never logged. */
  readonly logs: string[];
  /** A fresh browser (its own cookie jar). */
  browser(): BrowserClient;
  /** Starts one more gateway instance on the same Redis, provider and settings (but `env`); returns its URL. */
  startInstance(env?: Readonly<Record<string, string>>): Promise<string>;
  /** A browser logged in as `username` (password = username, as for the demo users). */
  loginAs(username: string): Promise<BrowserClient>;
  /** An admin API bearer token from the provider (client credentials of ADMIN_CLIENT_ID), with `scope` (default `sessions:admin`). */
  adminToken(scope?: string): Promise<string>;
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
  const port = options.port ?? (await freePort());
  const publicUrl = `http://localhost:${port}`;
  // No redirect URIs and no response types: it can only use client credentials, and token exchange (to
  // show the provider refuses it another client's token).
  const adminClient = {
    client_id: ADMIN_CLIENT_ID,
    client_secret: ADMIN_CLIENT_SECRET,
    redirect_uris: [],
    response_types: [],
    grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
  };
  const idp = await startIdentityProvider({
    ...options.idp,
    // The admin API's audience is always there, whatever resources a test asks for (and never first: not the default).
    resources: {
      ...(options.idp?.resources ?? { [TODOS_RESOURCE]: { scope: 'todos:read todos:write' } }),
      [ADMIN_AUDIENCE]: { scope: 'sessions:admin sessions:read' },
    },
    clients: [
      {
        client_id: GATEWAY_CLIENT_ID,
        client_secret: GATEWAY_CLIENT_SECRET,
        // The admin console's too (on for suites that set ADMIN_CONSOLE_REQUIRE).
        redirect_uris: [`${publicUrl}/bff/callback`, `${publicUrl}/admin/console/callback`],
        post_logout_redirect_uris: [`${publicUrl}/`],
        backchannel_logout_uri: `${publicUrl}/bff/backchannel-logout`,
        ...options.client,
      },
      adminClient,
    ],
  });
  const todosApi = await startDemoApi({
    issuer: idp.issuer,
    jwksUri: idp.jwksUri,
    audience: TODOS_RESOURCE,
    requiredScope: 'todos:read',
    ...(options.demoApi?.dpop ? { dpop: options.demoApi.dpop } : {}),
  });
  const audienceApis: Record<string, AudienceApi> = {};
  for (const [name, api] of Object.entries(options.audienceApis ?? {})) {
    audienceApis[name] = await startAudienceApi(idp, api.audience, api.requiredScope);
  }
  const echo = await startEchoApi();
  const defaultRoutes: GatewayStackRoute[] = [
    { prefix: '/api/todos', target: todosApi.url, token: 'user' },
    { prefix: '/api/echo', target: `${echo.url}/v1`, token: 'user' },
    { prefix: '/api/public', target: echo.url, token: 'none' },
  ];
  const extraRoutes =
    options.routes?.({
      todosApi: todosApi.url,
      echo: echo.url,
      audienceApis: Object.fromEntries(Object.entries(audienceApis).map(([name, api]) => [name, api.url])),
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
    ADMIN_JWT_AUDIENCE: ADMIN_AUDIENCE,
    // Suites log in far more often than a person: the limiter runs, but only its own test meets the limit.
    RATE_LIMIT_LOGIN: '10000',
    RATE_LIMIT_CALLBACK: '10000',
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
    env,
    gateway,
    redis,
    idp,
    todosApi,
    audienceApis,
    echo,
    logs,
    browser,
    async startInstance(overrides = {}) {
      const instance = await startGateway(loadConfig({ ...env, ...overrides, PORT: String(await freePort()) }), { logger });
      instances.push(instance);
      return instance.url;
    },
    async loginAs(username) {
      const client = browser();
      const landing = await client.login(publicUrl, { username, password: username });
      if (landing.status !== 200 && landing.status !== 404) throw new Error(`login as ${username} ended with ${landing.status}`);
      return client;
    },
    async adminToken(scope = 'sessions:admin') {
      const response = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(ADMIN_CLIENT_ID)}:${encodeURIComponent(ADMIN_CLIENT_SECRET)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: ADMIN_AUDIENCE, scope }),
      });
      const body = (await response.json()) as { access_token?: string; error?: string };
      if (!body.access_token) throw new Error(`admin token: ${response.status} ${body.error ?? ''}`);
      return body.access_token;
    },
    async stop() {
      await Promise.all([gateway, ...instances].map((instance) => instance.close()));
      await Promise.all([todosApi.stop(), ...Object.values(audienceApis).map((api) => api.stop()), echo.stop(), idp.stop()]);
      if (!options.redis) await redis.stop();
    },
  };
}

/** An API started for `GatewayStackOptions.audienceApis`. */
export interface AudienceApi {
  readonly url: string;
  stop(): Promise<void>;
}

interface AccessTokenClaims {
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly scope?: string;
  readonly jti?: string;
}

/**
 * A plain HTTP API with its own passport-jwt strategy instance (never registered with passport), so
 * that each one checks its own audience. Every path answers like the demo API's echo path.
 */
async function startAudienceApi(idp: IdentityProvider, audience: string, requiredScope: string): Promise<AudienceApi> {
  const keys = new Map(
    idp.jwks.keys.map((jwk) => [
      jwk.kid,
      createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    ]),
  );
  const strategy = new JwtStrategy(
    {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_request: unknown, token: string, done: (error: unknown, key?: string) => void) => {
        const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: string };
        const key = header.kid === undefined ? undefined : keys.get(header.kid);
        if (key) done(null, key);
        else done(new Error('token signed with an unknown key'));
      },
      algorithms: ['RS256'],
      issuer: idp.issuer,
      audience,
    },
    (payload: AccessTokenClaims, done: (error: unknown, user?: AccessTokenClaims) => void) => done(null, payload),
  );
  // What passport.authenticate does: a per-request object on top of the strategy, with its outcomes.
  const verify = (request: IncomingMessage) =>
    new Promise<AccessTokenClaims | undefined>((resolve) => {
      const attempt = Object.assign(Object.create(strategy) as JwtStrategy, {
        success: (claims: AccessTokenClaims) => resolve(claims),
        fail: () => resolve(undefined),
        error: () => resolve(undefined),
      });
      attempt.authenticate(request as never, {});
    });
  const server = createServer(async (request, response) => {
    for await (const _chunk of request);
    const claims = await verify(request).catch(() => undefined);
    const answer = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (!claims) return answer(401, { error: 'invalid_token', message: 'A valid bearer access token is required.' });
    if (!(claims.scope ?? '').split(' ').includes(requiredScope)) {
      return answer(403, { error: 'insufficient_scope', message: `The access token lacks the ${requiredScope} scope.` });
    }
    const { sub, aud, scope, jti } = claims;
    answer(200, { method: request.method, path: request.url!.split('?', 1)[0], sub, aud, scope, jti });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
