import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from './config.error.js';
import { loadConfig, loadStoreConfig } from './load-config.js';

const secret = 'client-secret-that-must-not-leak';
const key = randomBytes(32).toString('base64');
const valid = {
  PUBLIC_URL: 'https://app.example.com',
  OIDC_ISSUER: 'https://idp.example.com/realms/demo',
  OIDC_CLIENT_ID: 'gateway',
  OIDC_CLIENT_SECRET: secret,
  SESSION_ENCRYPTION_KEY: key,
  REDIS_URL: 'redis://127.0.0.1:6379',
  API_ROUTES: JSON.stringify([{ prefix: '/api/todos', target: 'http://127.0.0.1:4000/v1', token: 'user' }]),
};

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads a complete environment with defaults', () => {
    const config = loadConfig(valid);
    expect(config.port).toBe(3000);
    expect(config.oidc.scopes).toBe('openid profile email offline_access');
    expect(config.oidc.redirectUri.href).toBe('https://app.example.com/bff/callback');
    expect(config.session.cookieName).toBe('__Host-sessiongate');
    expect(config.session.secureCookies).toBe(true);
    expect(config.session.sameSite).toBe('strict');
    expect(config.routes).toEqual([
      {
        prefix: '/api/todos',
        target: new URL('http://127.0.0.1:4000/v1'),
        token: 'user',
        audience: { resource: undefined, scopes: undefined },
        maxBodyBytes: 10485760,
        timeoutMs: 30000,
        idleTimeoutMs: 300000,
        allowSetCookie: false,
        websocket: false,
      },
    ]);
    expect(config.proxy.websocketSessionCheckMs).toBe(5000);
    expect(config.tokens).toEqual({
      exchangeSubjectTokenType: 'access_token',
      refreshSkewSeconds: 30,
      resourceParameter: 'resource',
      refreshLockLeaseMs: 5000,
      refreshWaitMs: 10000,
    });
    expect(Object.isFrozen(config.session)).toBe(true);
  });

  it('reports every missing required setting at once, by name', () => {
    const problems = problemsOf({});
    for (const name of ['PUBLIC_URL', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'SESSION_ENCRYPTION_KEY']) {
      expect(problems.some((line) => line.startsWith(`${name}: is required`))).toBe(true);
    }
  });

  it.each([
    ['PUBLIC_URL', 'not a url', 'PUBLIC_URL: must be an absolute URL'],
    ['PUBLIC_URL', 'https://app.example.com/app', 'PUBLIC_URL: must be an origin'],
    ['PORT', '70000', 'PORT: must be a TCP port'],
    ['SESSION_ENCRYPTION_KEY', 'c2hvcnQ=', 'SESSION_ENCRYPTION_KEY: key 1 must decode to 32 bytes'],
    ['SESSION_ENCRYPTION_KEY', 'not base64!', 'SESSION_ENCRYPTION_KEY: key 1 must be base64'],
    ['SESSION_ENCRYPTION_KEY', `k2:${key},k1:c2hvcnQ=`, 'SESSION_ENCRYPTION_KEY: key 2 must decode to 32 bytes'],
    ['SESSION_ENCRYPTION_KEY', `k2:${key},`, 'SESSION_ENCRYPTION_KEY: key 2 must be base64'],
    ['SESSION_ENCRYPTION_KEY', `k.2:${key}`, 'SESSION_ENCRYPTION_KEY: key 1 must be base64'],
    ['SESSION_INDEX_KEY', 'c2hvcnQ=', 'SESSION_INDEX_KEY: must decode to 32 bytes'],
    ['SESSION_IDLE_TIMEOUT', '-5', 'SESSION_IDLE_TIMEOUT: must be a positive whole number'],
    ['OIDC_SCOPES', 'profile email', 'OIDC_SCOPES: must include openid'],
    ['OIDC_ID_TOKEN_ALG', 'HS256', 'OIDC_ID_TOKEN_ALG: must be one of'],
    ['OIDC_ID_TOKEN_ALG', 'none', 'OIDC_ID_TOKEN_ALG: must be one of'],
    ['REDIS_URL', 'http://redis', 'REDIS_URL: must be a redis:// or rediss:// URL'],
    ['API_ROUTES', '{', 'API_ROUTES: must be a JSON array'],
    ['API_ROUTES', '[{"prefix":"/todos","target":"http://a"}]', 'API_ROUTES: route 0: prefix must look like /api/<name>'],
    ['API_ROUTES', '[{"prefix":"/api/..","target":"http://a"}]', 'API_ROUTES: route 0: prefix must look like /api/<name>'],
    ['API_ROUTES', '[{"prefix":"/api/a","target":"ftp://a"}]', 'API_ROUTES: route 0 (/api/a): target must be an http(s) URL'],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","token":"id"}]',
      'API_ROUTES: route 0 (/api/a): token must be user, optional, client, exchange, none or connected:<name>',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","resource":"todos"}]',
      'API_ROUTES: route 0 (/api/a): resource must be an absolute URI',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","resource":"https://x#y"}]',
      'API_ROUTES: route 0 (/api/a): resource must be an absolute URI',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","resource":"https://x","audience":"https://y"}]',
      'API_ROUTES: route 0 (/api/a): give resource or audience, not both',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","scopes":"a  b"}]',
      'API_ROUTES: route 0 (/api/a): scopes must be space-separated scope tokens',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","token":"none","scopes":"a"}]',
      'API_ROUTES: route 0 (/api/a): a "none" route takes no resource or scopes',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","maxBodyBytes":-1}]',
      'API_ROUTES: route 0 (/api/a): maxBodyBytes must be a whole number, 0 or more',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","timeoutMs":0}]',
      'API_ROUTES: route 0 (/api/a): timeoutMs must be a whole number, 1 or more',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","allowSetCookie":"yes"}]',
      'API_ROUTES: route 0 (/api/a): allowSetCookie must be true or false',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","websocket":1}]',
      'API_ROUTES: route 0 (/api/a): websocket must be true or false',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","methods":["get"]}]',
      'API_ROUTES: route 0 (/api/a): methods must be a non-empty array of GET',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a","websocket":true,"methods":["POST"]}]',
      'API_ROUTES: route 0 (/api/a): methods must include GET on a websocket route',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a"},{"prefix":"/api/ops","target":"http://a","require":{"groups":["ops"]}}]',
      'API_ROUTES: route 1 (/api/ops): require.groups must be a string, a number, true or false, { "anyOf": [...] } or { "containsAnyOf": [...] }',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/ops","target":"http://a","require":{"realm_access.roles":{"containsAnyOf":[]}}}]',
      'API_ROUTES: route 0 (/api/ops): require.realm_access.roles.containsAnyOf must be a non-empty array',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/ops","target":"http://a","require":{"scope":[1]}}]',
      'API_ROUTES: route 0 (/api/ops): require.scope must be scope tokens',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/ops","target":"http://a","token":"none","require":{"scope":"a"}}]',
      'API_ROUTES: route 0 (/api/ops): require.scope: a "none" route has no access token whose scope could be checked',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/ops","target":"http://a","bearer":{"audience":"x","algorithms":["HS256"]}}]',
      'API_ROUTES: route 0 (/api/ops): bearer.algorithms must be a non-empty array of RS256',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/ops","target":"http://a","bearer":{"scopes":["a"]}}]',
      'API_ROUTES: route 0 (/api/ops): bearer.audience must be a non-empty string',
    ],
    [
      'API_ROUTES',
      '[{"prefix":"/api/ops","target":"http://a","bearer":{"audience":"gateway"}}]',
      'API_ROUTES: route 0 (/api/ops): bearer.audience must not be OIDC_CLIENT_ID',
    ],
    ['ROUTES_DEFAULT_REQUIRE', '{"groups":{"oneOf":["ops"]}}', 'ROUTES_DEFAULT_REQUIRE: groups must be a string'],
    ['ROUTES_DEFAULT_REQUIRE', '[]', 'ROUTES_DEFAULT_REQUIRE: must be an object of claim conditions'],
    ['ROUTES_DEFAULT_REQUIRE', '{', 'ROUTES_DEFAULT_REQUIRE: must be a JSON object'],
    ['WEBSOCKET_SESSION_CHECK_MS', '0', 'WEBSOCKET_SESSION_CHECK_MS: must be a positive whole number'],
    ['TOKEN_RESOURCE_PARAMETER', 'aud', 'TOKEN_RESOURCE_PARAMETER: must be resource or audience'],
    ['METRICS_ENABLED', 'yes', 'METRICS_ENABLED: must be true or false'],
    [
      'API_ROUTES',
      '[{"prefix":"/api/a","target":"http://a"},{"prefix":"/api/a","target":"http://b"}]',
      'API_ROUTES: route 1 (/api/a): prefix /api/a is listed twice',
    ],
    ['SESSION_COOKIE_SAMESITE', 'none', 'SESSION_COOKIE_SAMESITE: must be lax or strict'],
    ['TRUST_PROXY', '10.0.0.1,proxy.local', 'TRUST_PROXY: proxy.local is not an IP address, a CIDR range, or one of loopback'],
    ['TRUST_PROXY', '10.0.0.0/33', 'TRUST_PROXY: 10.0.0.0/33 is not an IP address'],
    ['TRUST_PROXY', '10.0.0.0/8/1', 'TRUST_PROXY: 10.0.0.0/8/1 is not an IP address'],
    ['RATE_LIMIT_LOGIN', '-1', 'RATE_LIMIT_LOGIN: must be a whole number, 0 or more'],
    ['RATE_LIMIT_CALLBACK', 'many', 'RATE_LIMIT_CALLBACK: must be a whole number, 0 or more'],
    ['RATE_LIMIT_WINDOW', '0', 'RATE_LIMIT_WINDOW: must be a positive whole number'],
  ])('names %s when it is %j', (name, value, expected) => {
    const problems = problemsOf({ ...valid, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it('gives routes without a require of their own ROUTES_DEFAULT_REQUIRE, and refuses one that a "none" route cannot meet', () => {
    const routes = JSON.stringify([
      { prefix: '/api/a', target: 'http://a' },
      { prefix: '/api/b', target: 'http://b', require: {} },
      { prefix: '/api/c', target: 'http://c', token: 'none', methods: ['GET'] },
    ]);
    const config = loadConfig({ ...valid, API_ROUTES: routes, ROUTES_DEFAULT_REQUIRE: '{"groups":{"containsAnyOf":["ops"]}}' });
    expect(config.routes.map((route) => route.require?.claims.map((claim) => claim.claim))).toEqual([['groups'], [], ['groups']]);
    expect(config.routes[2]?.methods).toEqual(['GET']);
    expect(loadConfig({ ...valid, API_ROUTES: routes }).routes.map((route) => route.require)).toEqual([
      undefined,
      { claims: [], scope: [] },
      undefined,
    ]);
    expect(problemsOf({ ...valid, API_ROUTES: routes, ROUTES_DEFAULT_REQUIRE: '{"scope":"a"}' })).toEqual([
      'API_ROUTES: route 2 (/api/c): ROUTES_DEFAULT_REQUIRE scope: a "none" route has no access token whose scope could be checked; give this route its own require',
    ]);
  });

  it('reads per-route token needs, with audience as another spelling of resource', () => {
    const routes = JSON.stringify([
      { prefix: '/api/a', target: 'http://a', token: 'optional', resource: 'https://a.example', scopes: 'a:read a:write' },
      { prefix: '/api/b', target: 'http://b', token: 'client', audience: 'urn:b' },
    ]);
    expect(loadConfig({ ...valid, API_ROUTES: routes }).routes.map((route) => [route.token, route.audience])).toEqual([
      ['optional', { resource: 'https://a.example', scopes: 'a:read a:write' }],
      ['client', { resource: 'urn:b', scopes: undefined }],
    ]);
  });

  it('gives routes the global limits unless they set their own', () => {
    const env = { ...valid, UPSTREAM_TIMEOUT_MS: '5000', PROXY_MAX_BODY_BYTES: '100' };
    const routes = JSON.stringify([
      { prefix: '/api/a', target: 'http://a' },
      { prefix: '/api/b', target: 'http://b', timeoutMs: 60000, maxBodyBytes: 0, idleTimeoutMs: 0 },
    ]);
    expect(
      loadConfig({ ...env, API_ROUTES: routes }).routes.map(({ timeoutMs, maxBodyBytes, idleTimeoutMs }) => [
        timeoutMs,
        maxBodyBytes,
        idleTimeoutMs,
      ]),
    ).toEqual([
      [5000, 100, 300000],
      [60000, 0, 0],
    ]);
  });

  it('accepts an http issuer only on loopback unless explicitly allowed', () => {
    expect(loadConfig({ ...valid, OIDC_ISSUER: 'http://127.0.0.1:4001' }).oidc.allowInsecureHttp).toBe(true);
    expect(loadConfig({ ...valid, OIDC_ISSUER: 'http://localhost:4001' }).oidc.allowInsecureHttp).toBe(true);
    expect(loadConfig({ ...valid, OIDC_ISSUER: 'http://[::1]:4001' }).oidc.allowInsecureHttp).toBe(true);
    expect(problemsOf({ ...valid, OIDC_ISSUER: 'http://idp.example.com' })[0]).toMatch(
      /^OIDC_ISSUER: http:\/\/ is only accepted on a loopback host/,
    );
    expect(loadConfig({ ...valid, OIDC_ISSUER: 'http://idp.example.com', OIDC_ALLOW_INSECURE_HTTP: 'true' }).oidc.allowInsecureHttp).toBe(
      true,
    );
  });

  it('refuses development fallbacks in production', () => {
    const problems = problemsOf({ ...valid, NODE_ENV: 'production', REDIS_URL: undefined, OIDC_ALLOW_INSECURE_HTTP: 'true' });
    expect(problems).toEqual([
      'OIDC_ALLOW_INSECURE_HTTP: must not be true when NODE_ENV=production',
      'REDIS_URL: is required when NODE_ENV=production, or REDIS_SENTINELS or REDIS_CLUSTER_NODES (the in-process store is for development only)',
    ]);
  });

  it('uses a plain cookie name on http and refuses __Host- there', () => {
    expect(loadConfig({ ...valid, PUBLIC_URL: 'http://localhost:3000' }).session.cookieName).toBe('sessiongate');
    expect(problemsOf({ ...valid, PUBLIC_URL: 'http://localhost:3000', SESSION_COOKIE_NAME: '__Host-x' })).toEqual([
      'SESSION_COOKIE_NAME: a __Host- cookie needs an https:// PUBLIC_URL',
    ]);
  });

  it.each([
    ['__Host-Http-sg', '__Host-'],
    ['__Http-sg', '__Http-'],
    ['__Secure-sg', '__Secure-'],
  ])('accepts the %s cookie name on https only', (name, prefix) => {
    expect(loadConfig({ ...valid, SESSION_COOKIE_NAME: name }).session).toMatchObject({
      cookieName: name,
      loginCookieName: `${name}-login`,
      secureCookies: true,
    });
    expect(problemsOf({ ...valid, PUBLIC_URL: 'http://localhost:3000', SESSION_COOKIE_NAME: name })).toEqual([
      `SESSION_COOKIE_NAME: a ${prefix} cookie needs an https:// PUBLIC_URL`,
    ]);
  });

  it('trusts no proxy and limits login and callback to 30 a minute per client by default', () => {
    const config = loadConfig(valid);
    expect(config.trustProxy).toEqual([]);
    expect(config.rateLimit).toEqual({ login: 30, callback: 30, windowMs: 60_000 });
    expect(loadConfig({ ...valid, TRUST_PROXY: ' 10.0.0.0/8, ::1 ,loopback,fd00::/8' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
      'loopback',
      'fd00::/8',
    ]);
  });

  describe('encryption key rotation', () => {
    const newer = randomBytes(32).toString('base64');

    it('reads one bare key as before: its id is its fingerprint, and it keys the indexes', () => {
      const { encryptionKeys, indexKey } = loadConfig(valid).session;
      expect(encryptionKeys).toEqual([{ id: expect.stringMatching(/^[A-Za-z0-9_-]{8}$/), key: Buffer.from(key, 'base64') }]);
      expect(indexKey.equals(Buffer.from(key, 'base64'))).toBe(true);
    });

    it('reads several keys, newest first, named or not, with the index key given apart', () => {
      const { encryptionKeys, indexKey } = loadConfig({
        ...valid,
        SESSION_ENCRYPTION_KEY: ` k2:${newer} , ${key}`,
        SESSION_INDEX_KEY: key,
      }).session;
      expect(encryptionKeys.map(({ id }) => id)).toEqual(['k2', loadConfig(valid).session.encryptionKeys[0].id]);
      expect(encryptionKeys.map(({ key: bytes }) => bytes.toString('base64'))).toEqual([newer, key]);
      expect(indexKey.equals(Buffer.from(key, 'base64'))).toBe(true);
      // Dropping the old key keeps the index key it named.
      expect(
        loadConfig({ ...valid, SESSION_ENCRYPTION_KEY: `k2:${newer}`, SESSION_INDEX_KEY: key }).session.indexKey.equals(
          Buffer.from(key, 'base64'),
        ),
      ).toBe(true);
    });

    it.each([
      [
        { SESSION_ENCRYPTION_KEY: `k2:${newer},k1:${key}` },
        'SESSION_INDEX_KEY: is required when SESSION_ENCRYPTION_KEY lists several keys',
      ],
      [{ SESSION_ENCRYPTION_KEY: `k1:${newer},k1:${key}`, SESSION_INDEX_KEY: key }, 'SESSION_ENCRYPTION_KEY: key id k1 is listed twice'],
      [{ SESSION_ENCRYPTION_KEY: `k2:${key},k1:${key}`, SESSION_INDEX_KEY: key }, 'SESSION_ENCRYPTION_KEY: key 2 repeats an earlier key'],
    ])('refuses %j', (env, expected) => {
      expect(problemsOf({ ...valid, ...env })).toEqual([expect.stringContaining(expected)]);
    });

    it('never prints a key of a bad list', () => {
      expect(problemsOf({ ...valid, SESSION_ENCRYPTION_KEY: `k2:${newer},k1:${newer.slice(0, 20)}` }).join('\n')).not.toContain(
        newer.slice(0, 20),
      );
    });
  });

  it('never prints a secret, even a malformed one', () => {
    const problems = problemsOf({ ...valid, SESSION_ENCRYPTION_KEY: `${secret}!`, OIDC_CLIENT_SECRET: ' ' });
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('slides the idle expiry with a write at most every 1% of the idle timeout (at most 60 s), or SESSION_TOUCH_INTERVAL', () => {
    expect(loadConfig(valid).session.touchIntervalMs).toBe(18_000);
    expect(loadConfig({ ...valid, SESSION_IDLE_TIMEOUT: '60' }).session.touchIntervalMs).toBe(600);
    expect(loadConfig({ ...valid, SESSION_IDLE_TIMEOUT: '86400' }).session.touchIntervalMs).toBe(60_000);
    expect(loadConfig({ ...valid, SESSION_TOUCH_INTERVAL: '0' }).session.touchIntervalMs).toBe(0);
    expect(loadConfig({ ...valid, SESSION_TOUCH_INTERVAL: '5' }).session.touchIntervalMs).toBe(5000);
    expect(problemsOf({ ...valid, SESSION_TOUCH_INTERVAL: '-1' })).toEqual(['SESSION_TOUCH_INTERVAL: must be a whole number, 0 or more']);
  });

  it('turns the admin API on with ADMIN_JWT_AUDIENCE, with RS256 and sessions:admin by default', () => {
    expect(loadConfig(valid).admin).toBeUndefined();
    expect(loadConfig({ ...valid, ADMIN_JWT_AUDIENCE: 'https://admin.example.com' }).admin).toEqual({
      audience: 'https://admin.example.com',
      algorithms: ['RS256'],
      requiredScope: 'sessions:admin',
      port: undefined,
      consoleRequire: undefined,
      consoleUrl: undefined,
      consoleSessionTimeoutSeconds: 3600,
    });
    const custom = loadConfig({
      ...valid,
      ADMIN_JWT_AUDIENCE: 'ops',
      ADMIN_JWT_ALGS: 'ES256, PS256',
      ADMIN_REQUIRED_SCOPE: 'gateway-admin',
      ADMIN_PORT: '9100',
    });
    expect(custom.admin).toMatchObject({ audience: 'ops', algorithms: ['ES256', 'PS256'], requiredScope: 'gateway-admin', port: 9100 });
  });

  it.each([
    [{ ADMIN_JWT_ALGS: 'HS256' }, 'ADMIN_JWT_ALGS: must be a comma-separated list of'],
    [{ ADMIN_JWT_ALGS: 'RS256,none' }, 'ADMIN_JWT_ALGS: must be a comma-separated list of'],
    [{ ADMIN_JWT_ALGS: ',' }, 'ADMIN_JWT_ALGS: must be a comma-separated list of'],
    [{ ADMIN_REQUIRED_SCOPE: 'a b' }, 'ADMIN_REQUIRED_SCOPE: must be one scope token'],
    [{ ADMIN_PORT: '9100' }, 'ADMIN_PORT: needs ADMIN_JWT_AUDIENCE'],
    [{ ADMIN_PORT: '3000', ADMIN_JWT_AUDIENCE: 'ops' }, 'ADMIN_PORT: must differ from PORT'],
  ])('refuses admin settings %j', (env, expected) => {
    const problems = problemsOf({ ...valid, ...env });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it('serves forward-auth only where FORWARD_AUTH_PATH names a /bff/ path, and only behind TRUST_PROXY', () => {
    expect(loadConfig(valid).forwardAuthPath).toBeUndefined();
    expect(loadConfig({ ...valid, FORWARD_AUTH_PATH: '/bff/forward-auth', TRUST_PROXY: 'loopback' }).forwardAuthPath).toBe(
      '/bff/forward-auth',
    );
    expect(problemsOf({ ...valid, FORWARD_AUTH_PATH: '/bff/forward-auth' })).toEqual([
      expect.stringContaining('FORWARD_AUTH_PATH: needs TRUST_PROXY'),
    ]);
    for (const path of ['/api/auth', '/bff', '/bff/', '/bff//x', '/bff/../admin', '/bff/a?b', 'bff/x']) {
      expect(problemsOf({ ...valid, FORWARD_AUTH_PATH: path, TRUST_PROXY: 'loopback' })).toEqual([
        expect.stringContaining('FORWARD_AUTH_PATH: must be a path under /bff/'),
      ]);
    }
  });

  it('reads only the Redis settings, SESSION_ENCRYPTION_KEY and SESSION_INDEX_KEY for the CLI, a topology and the key required, never printing the key', () => {
    expect(loadStoreConfig({ REDIS_URL: 'redis://127.0.0.1:6379', SESSION_ENCRYPTION_KEY: key })).toEqual({
      redis: { topology: { kind: 'standalone', url: 'redis://127.0.0.1:6379' }, username: undefined, password: undefined, tls: undefined },
      encryptionKeys: loadConfig(valid).session.encryptionKeys,
      indexKey: Buffer.from(key, 'base64'),
    });
    expect(loadStoreConfig({ REDIS_CLUSTER_NODES: 'a:7000', SESSION_ENCRYPTION_KEY: key }).redis.topology).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'a', port: 7000 }],
    });
    const other = randomBytes(32).toString('base64');
    expect(
      loadStoreConfig({ REDIS_URL: 'redis://127.0.0.1:6379', SESSION_ENCRYPTION_KEY: `k2:${other}`, SESSION_INDEX_KEY: key }).indexKey,
    ).toEqual(Buffer.from(key, 'base64'));
    let error: unknown;
    try {
      loadStoreConfig({ SESSION_ENCRYPTION_KEY: `${secret}!` });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.split(':')[0])).toEqual(['REDIS_URL', 'SESSION_ENCRYPTION_KEY']);
    expect((error as ConfigError).message).not.toContain(secret);
  });

  describe('Redis topologies', () => {
    const base = { ...valid, REDIS_URL: undefined };
    const caFile = join(mkdtempSync(join(tmpdir(), 'sg-ca-')), 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const notPem = join(dirname(caFile), 'key.txt');
    writeFileSync(notPem, 'not a certificate');

    it('reads a standalone URL, TLS from rediss:// with a CA file', () => {
      expect(loadConfig({ ...base, REDIS_URL: 'rediss://gateway:pw@redis.example.com:6380', REDIS_TLS_CA_FILE: caFile }).redis).toEqual({
        topology: { kind: 'standalone', url: 'rediss://gateway:pw@redis.example.com:6380' },
        username: undefined,
        password: undefined,
        tls: { ca: expect.stringContaining('BEGIN CERTIFICATE') },
      });
    });

    it("reads sentinels with their master name and password, and the data nodes' ACL user over TLS", () => {
      const config = loadConfig({
        ...base,
        REDIS_SENTINELS: 's1:26379, s2:26380,[::1]:26381',
        REDIS_SENTINEL_NAME: 'sessions',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
        REDIS_USERNAME: 'gateway',
        REDIS_PASSWORD: 'data-secret',
        REDIS_TLS: 'true',
      });
      expect(config.redis).toEqual({
        topology: {
          kind: 'sentinel',
          sentinels: [
            { host: 's1', port: 26379 },
            { host: 's2', port: 26380 },
            { host: '::1', port: 26381 },
          ],
          name: 'sessions',
          sentinelPassword: 'sentinel-secret',
        },
        username: 'gateway',
        password: 'data-secret',
        tls: { ca: undefined },
      });
    });

    it('reads cluster nodes', () => {
      expect(loadConfig({ ...base, REDIS_CLUSTER_NODES: 'redis-0:6379,redis-1:6379' }).redis?.topology).toEqual({
        kind: 'cluster',
        nodes: [
          { host: 'redis-0', port: 6379 },
          { host: 'redis-1', port: 6379 },
        ],
      });
    });

    it.each([
      [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, 'REDIS_CLUSTER_NODES: cannot be combined with REDIS_URL'],
      [
        { REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'b:7000' },
        'REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS',
      ],
      [{ REDIS_SENTINELS: 'a:26379' }, 'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS'],
      [{ REDIS_SENTINELS: 'a:26379,b', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: "b" is not host:port'],
      [{ REDIS_SENTINELS: ' , ', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: must be a comma-separated list of host:port'],
      [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'REDIS_CLUSTER_NODES: "a:70000": port must be a TCP port'],
      [{ REDIS_CLUSTER_NODES: 'http://a:7000' }, 'REDIS_CLUSTER_NODES: "http://a:7000" is not host:port'],
      [{ REDIS_URL: 'redis://a:6379', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINEL_NAME: only applies with REDIS_SENTINELS'],
      [{ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'pw' }, 'REDIS_PASSWORD: with REDIS_URL, give it in the URL'],
      [{ REDIS_URL: 'redis://a:6379', REDIS_TLS: 'true' }, 'REDIS_TLS: with REDIS_URL, give it in the URL'],
      [{ REDIS_PASSWORD: 'pw' }, 'REDIS_PASSWORD: only applies with REDIS_SENTINELS or REDIS_CLUSTER_NODES'],
      [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_USERNAME: 'gateway' }, 'REDIS_USERNAME: needs REDIS_PASSWORD'],
      [{ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'yes' }, 'REDIS_TLS: must be true or false'],
      [{ REDIS_URL: 'redis://a:6379', REDIS_TLS_CA_FILE: caFile }, 'REDIS_TLS_CA_FILE: needs TLS'],
      [
        { REDIS_URL: 'rediss://a:6379', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' },
        'REDIS_TLS_CA_FILE: file /nonexistent/ca.pem cannot be read',
      ],
      [{ REDIS_URL: 'rediss://a:6379', REDIS_TLS_CA_FILE: notPem }, 'REDIS_TLS_CA_FILE: file'],
    ])('refuses %j, naming the setting', (env, expected) => {
      const problems = problemsOf({ ...base, ...env });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(expected);
    });

    it('never prints a Redis password, whatever else is wrong', () => {
      const problems = problemsOf({
        ...base,
        REDIS_URL: 'redis://:url-secret@a:6379',
        REDIS_PASSWORD: 'env-secret',
        REDIS_CLUSTER_NODES: 'x',
      });
      expect(problems.join('\n')).not.toMatch(/url-secret|env-secret/);
    });

    it('in production, accepts Sentinel or Cluster in place of REDIS_URL', () => {
      expect(loadConfig({ ...base, NODE_ENV: 'production', REDIS_CLUSTER_NODES: 'a:7000' }).redis?.topology.kind).toBe('cluster');
    });
  });

  describe('tracing (OTEL_*)', () => {
    it('is off without an endpoint, whatever else is set', () => {
      expect(loadConfig({ ...valid, OTEL_TRACES_SAMPLER: 'always_on', OTEL_SERVICE_NAME: 'x' }).tracing).toBeUndefined();
    });

    it('appends v1/traces to the base endpoint, and uses the traces endpoint as it is', () => {
      expect(loadConfig({ ...valid, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toEqual({
        tracesUrl: new URL('http://collector:4318/v1/traces'),
        serviceName: 'sessiongate',
        sampler: 'parentbased_always_on',
        ratio: 1,
        exportDelayMs: 5000,
        trustIncoming: false,
      });
      expect(loadConfig({ ...valid, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/otlp/' }).tracing?.tracesUrl.href).toBe(
        'http://c:4318/otlp/v1/traces',
      );
      const both = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9/spans' };
      expect(loadConfig({ ...valid, ...both }).tracing?.tracesUrl.href).toBe('http://t:9/spans');
    });

    it('reads the sampler, its ratio and the trust in incoming traces', () => {
      const tracing = loadConfig({
        ...valid,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/v1/traces',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.01',
        OTEL_TRUST_INCOMING_TRACE: 'true',
      }).tracing;
      expect(tracing).toMatchObject({ sampler: 'parentbased_traceidratio', ratio: 0.01, trustIncoming: true });
    });

    it.each([
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL'],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c/v1/traces' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an http(s) URL'],
      [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER: must be one of always_on'],
      [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1'],
      [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '-0' }, 'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1'],
      [{ OTEL_TRACES_SAMPLER_ARG: '0.5' }, 'OTEL_TRACES_SAMPLER_ARG: only applies with OTEL_TRACES_SAMPLER=traceidratio'],
      [{ OTEL_TRUST_INCOMING_TRACE: 'yes' }, 'OTEL_TRUST_INCOMING_TRACE: must be true or false'],
      [{ OTEL_SERVICE_NAME: ' ' }, 'OTEL_SERVICE_NAME: must not be empty'],
    ])('refuses %j, naming the setting', (env, expected) => {
      const problems = problemsOf({ ...valid, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...env });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(expected);
    });
  });
});

describe('provider options (docs/INTEROP.md)', () => {
  it('is off by default: no userinfo, no resource at authorization', () => {
    const { oidc } = loadConfig(valid);
    expect(oidc.fetchUserinfo).toBe(false);
    expect(oidc.authorizationResources).toEqual([]);
  });

  it('reads OIDC_FETCH_USERINFO and the space-separated OIDC_AUTHORIZATION_RESOURCES', () => {
    const { oidc } = loadConfig({
      ...valid,
      OIDC_FETCH_USERINFO: 'true',
      OIDC_AUTHORIZATION_RESOURCES: ' https://todos.example.com  urn:example:reports ',
    });
    expect(oidc.fetchUserinfo).toBe(true);
    expect(oidc.authorizationResources).toEqual(['https://todos.example.com', 'urn:example:reports']);
  });

  it.each([
    ['todos', 'OIDC_AUTHORIZATION_RESOURCES: todos is not an absolute URI (RFC 8707 §2)'],
    ['https://todos.example.com/#x', 'OIDC_AUTHORIZATION_RESOURCES: https://todos.example.com/#x must not have a fragment (RFC 8707 §2)'],
    ['https://a.example.com https://a.example.com', 'OIDC_AUTHORIZATION_RESOURCES: lists a resource twice'],
  ])('refuses OIDC_AUTHORIZATION_RESOURCES=%s, naming the setting', (raw, problem) => {
    expect(problemsOf({ ...valid, OIDC_AUTHORIZATION_RESOURCES: raw })).toEqual([problem]);
  });

  it('refuses an OIDC_FETCH_USERINFO that is not true or false', () => {
    expect(problemsOf({ ...valid, OIDC_FETCH_USERINFO: 'yes' })).toEqual(['OIDC_FETCH_USERINFO: must be true or false']);
  });
});

describe('the admin console settings', () => {
  const admin = { ...valid, ADMIN_JWT_AUDIENCE: 'https://admin.example.com' };
  const ADMINS = '{"groups":{"containsAnyOf":["admins"]}}';

  it("reads ADMIN_CONSOLE_REQUIRE in the syntax of a route's require", () => {
    expect(
      loadConfig({ ...admin, ADMIN_CONSOLE_REQUIRE: '{"groups":{"containsAnyOf":["admins"]},"email_verified":true}' }).admin,
    ).toMatchObject({
      consoleRequire: {
        claims: [
          { claim: 'groups', path: ['groups'], kind: 'containsAnyOf', values: ['admins'] },
          { claim: 'email_verified', kind: 'equals', values: [true] },
        ],
        scope: [],
      },
      consoleUrl: undefined,
      consoleSessionTimeoutSeconds: 3600,
    });
  });

  it.each([
    ['not json', 'ADMIN_CONSOLE_REQUIRE: must be a JSON object of claim conditions'],
    ['{}', 'ADMIN_CONSOLE_REQUIRE: must hold at least one claim condition'],
    ['{"groups":{"contains":["a"]}}', 'ADMIN_CONSOLE_REQUIRE: groups must be a string'],
    ['{"groups":{"containsAnyOf":["a"]},"scope":"sessions:admin"}', 'ADMIN_CONSOLE_REQUIRE: scope: the console holds no access token'],
  ])('refuses ADMIN_CONSOLE_REQUIRE=%s at start-up, naming it', (raw, message) => {
    expect(problemsOf({ ...admin, ADMIN_CONSOLE_REQUIRE: raw })[0]).toContain(message);
  });

  it('needs the admin API, and ADMIN_CONSOLE_URL on ADMIN_PORT', () => {
    expect(problemsOf({ ...valid, ADMIN_CONSOLE_REQUIRE: ADMINS })).toEqual([
      'ADMIN_CONSOLE_REQUIRE: needs ADMIN_JWT_AUDIENCE (the console is part of the admin API, off without it)',
    ]);
    expect(problemsOf({ ...admin, ADMIN_PORT: '9000', ADMIN_CONSOLE_REQUIRE: ADMINS })[0]).toMatch(
      /^ADMIN_CONSOLE_URL: is required with ADMIN_PORT/,
    );
    expect(problemsOf({ ...admin, ADMIN_CONSOLE_URL: 'https://admin.example.com' })[0]).toMatch(/^ADMIN_CONSOLE_URL: means nothing/);
    expect(problemsOf({ ...admin, ADMIN_CONSOLE_REQUIRE: ADMINS, ADMIN_CONSOLE_URL: 'https://admin.example.com/x' })[0]).toMatch(
      /^ADMIN_CONSOLE_URL: must be an origin/,
    );
    expect(problemsOf({ ...admin, ADMIN_CONSOLE_REQUIRE: ADMINS, ADMIN_CONSOLE_SESSION_TIMEOUT: '0' })[0]).toMatch(
      /^ADMIN_CONSOLE_SESSION_TIMEOUT: /,
    );
    const onPort = { ...admin, ADMIN_PORT: '9000', ADMIN_CONSOLE_REQUIRE: ADMINS, ADMIN_CONSOLE_URL: 'https://admin.example.com:9000' };
    expect(loadConfig(onPort).admin?.consoleUrl?.origin).toBe('https://admin.example.com:9000');
  });
});

function profileKey(alg: string | undefined): string {
  const { privateKey } =
    alg === 'PS256' || alg === undefined
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'k1', ...(alg ? { alg } : {}) });
}

const profile = {
  PUBLIC_URL: 'https://app.example.com',
  OIDC_ISSUER: 'https://idp.example.com',
  OIDC_CLIENT_ID: 'gateway',
  SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  REDIS_URL: 'redis://127.0.0.1:6379',
  SECURITY_PROFILE: 'fapi2',
  OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
  OIDC_CLIENT_PRIVATE_KEY: profileKey('ES256'),
  OIDC_DPOP: 'true',
  OIDC_ID_TOKEN_ALG: 'PS256',
};

describe('SECURITY_PROFILE=fapi2', () => {
  it('accepts a configuration that meets the profile', () => {
    const config = loadConfig(profile);
    expect(config.oidc).toMatchObject({ securityProfile: 'fapi2', dpop: 'true', usePar: true, idTokenSigningAlg: 'PS256' });
    expect(
      loadConfig({ ...profile, OIDC_CLIENT_PRIVATE_KEY: profileKey('PS256'), OIDC_ID_TOKEN_ALG: 'EdDSA' }).oidc.idTokenSigningAlg,
    ).toBe('EdDSA');
  });

  it.each([
    ['OIDC_USE_PAR', { OIDC_USE_PAR: 'false' }, 'OIDC_USE_PAR: must be true under SECURITY_PROFILE=fapi2'],
    [
      'OIDC_CLIENT_AUTH_METHOD',
      { OIDC_CLIENT_AUTH_METHOD: 'client_secret_basic', OIDC_CLIENT_SECRET: 's3cret-value', OIDC_CLIENT_PRIVATE_KEY: undefined },
      'OIDC_CLIENT_AUTH_METHOD: must be private_key_jwt',
    ],
    ['OIDC_CLIENT_SECRET', { OIDC_CLIENT_SECRET: 's3cret-value' }, 'OIDC_CLIENT_SECRET: must not be set under SECURITY_PROFILE=fapi2'],
    [
      'OIDC_CLIENT_PRIVATE_KEY (RS256)',
      { OIDC_CLIENT_PRIVATE_KEY: profileKey('RS256') },
      'OIDC_CLIENT_PRIVATE_KEY: its "alg" must be one of',
    ],
    ['OIDC_CLIENT_PRIVATE_KEY (no alg)', { OIDC_CLIENT_PRIVATE_KEY: profileKey(undefined) }, 'not unset (RS256)'],
    ['OIDC_ID_TOKEN_ALG', { OIDC_ID_TOKEN_ALG: 'RS256' }, 'OIDC_ID_TOKEN_ALG: must be one of PS256, ES256, EdDSA'],
    ['OIDC_DPOP=optional', { OIDC_DPOP: 'optional' }, 'OIDC_DPOP: must be true under SECURITY_PROFILE=fapi2'],
    ['OIDC_DPOP=false', { OIDC_DPOP: 'false' }, 'OIDC_DPOP: must be true'],
    [
      'OIDC_ALLOW_INSECURE_HTTP',
      { OIDC_ALLOW_INSECURE_HTTP: 'true' },
      'OIDC_ALLOW_INSECURE_HTTP: must not be true under SECURITY_PROFILE=fapi2',
    ],
  ])('refuses %s at start-up, naming it', (_name, overrides, expected) => {
    const problems = problemsOf({ ...profile, ...overrides });
    expect(problems.some((problem) => problem.includes(expected))).toBe(true);
  });

  it('reports every contradicting setting at once, with the other problems', () => {
    const problems = problemsOf({
      ...profile,
      OIDC_USE_PAR: 'false',
      OIDC_DPOP: 'false',
      OIDC_ID_TOKEN_ALG: 'RS256',
      OIDC_CLIENT_SECRET: 'x',
      PORT: 'not-a-port',
    });
    expect(problems.map((problem) => problem.split(':', 1)[0])).toEqual(
      expect.arrayContaining(['PORT', 'OIDC_USE_PAR', 'OIDC_CLIENT_SECRET', 'OIDC_ID_TOKEN_ALG', 'OIDC_DPOP']),
    );
    expect(problems.join('\n')).not.toContain('x\n');
  });

  it('does nothing without the profile', () => {
    expect(() => loadConfig({ ...profile, SECURITY_PROFILE: 'none', OIDC_DPOP: 'false', OIDC_ID_TOKEN_ALG: 'RS256' })).not.toThrow();
  });
});

describe('route dpop', () => {
  const routes = (entries: object[]) => ({ ...profile, SECURITY_PROFILE: 'none', API_ROUTES: JSON.stringify(entries) });

  it('refuses opting a route out while OIDC_DPOP binds every token', () => {
    expect(problemsOf(routes([{ prefix: '/api/a', target: 'http://a.test', dpop: false }]))).toEqual([
      expect.stringContaining('API_ROUTES: /api/a sets "dpop": false, but OIDC_DPOP=true binds every token'),
    ]);
  });

  it('refuses "dpop": true on the unbound login token, and two routes disagreeing on one token', () => {
    const problems = problemsOf({
      ...routes([
        { prefix: '/api/a', target: 'http://a.test', dpop: true },
        { prefix: '/api/b', target: 'http://b.test', resource: 'http://b.test', dpop: true },
        { prefix: '/api/c', target: 'http://c.test', resource: 'http://b.test' },
      ]),
      OIDC_DPOP: 'false',
    });
    expect(problems).toEqual([
      expect.stringContaining('/api/a sets "dpop": true but uses the login token'),
      expect.stringContaining('/api/c and /api/b need the same token, one DPoP-bound and one not'),
    ]);
  });
});
