import { randomBytes } from 'node:crypto';
import { ConfigError } from './config.error.js';
import { loadConfig } from './load-config.js';

const secret = 'connection-secret-that-must-not-leak';
const base = {
  PUBLIC_URL: 'https://app.example.com',
  OIDC_ISSUER: 'https://idp.example.com',
  OIDC_CLIENT_ID: 'gateway',
  OIDC_CLIENT_SECRET: 'gateway-secret',
  SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  REDIS_URL: 'redis://127.0.0.1:6379',
};
const calendar = { name: 'calendar', issuer: 'https://calendar.example', clientId: 'gw', clientSecret: secret, scopes: 'calendar:read' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('CONNECTIONS', () => {
  it('reads a connection and derives its callback', () => {
    const config = loadConfig({
      ...base,
      CONNECTIONS: JSON.stringify([calendar, { ...calendar, name: 'kept', persist: 'user', clientAuthMethod: 'client_secret_post' }]),
      API_ROUTES: JSON.stringify([{ prefix: '/api/calendar', target: 'http://127.0.0.1:5000', token: 'connected:calendar' }]),
    });
    expect(
      config.connections.map(({ name, persist, credentials, redirectUri }) => [name, persist, credentials.method, redirectUri.href]),
    ).toEqual([
      ['calendar', 'session', 'client_secret_basic', 'https://app.example.com/bff/connect/calendar/callback'],
      ['kept', 'user', 'client_secret_post', 'https://app.example.com/bff/connect/kept/callback'],
    ]);
    expect(config.routes[0]?.token).toBe('connected:calendar');
  });

  it.each([
    ['{', 'CONNECTIONS: must be a JSON array of connections'],
    [[{ ...calendar, name: 'Calendar' }], 'CONNECTIONS: connection 0: name must be lowercase letters, digits and -'],
    [[calendar, calendar], 'CONNECTIONS: connection 1: name calendar is listed twice'],
    [
      [{ name: 'c', clientId: 'gw', clientSecret: secret }],
      'CONNECTIONS: connection 0: give an issuer (to discover the endpoints) or both authorizationEndpoint and tokenEndpoint',
    ],
    [[{ ...calendar, issuer: undefined, tokenEndpoint: 'https://c/token' }], 'CONNECTIONS: connection 0: give an issuer'],
    [[{ ...calendar, clientSecret: undefined }], 'CONNECTIONS: connection 0: clientSecret is required with client_secret_basic'],
    [
      [{ ...calendar, clientAuthMethod: 'private_key_jwt', clientSecret: undefined }],
      'CONNECTIONS: connection 0: privateKey is required with private_key_jwt',
    ],
    [[{ ...calendar, scopes: 'openid calendar:read' }], 'CONNECTIONS: connection 0: scopes must not include openid'],
    [[{ ...calendar, persist: 'forever' }], 'CONNECTIONS: connection 0: persist must be session or user'],
    [[{ ...calendar, issuer: 'http://calendar.example' }], 'CONNECTIONS: connection calendar: http:// is only accepted on a loopback host'],
    [[{ ...calendar, extra: 1 }], 'CONNECTIONS: connection 0 has unknown field(s): extra'],
  ])('refuses case %# at start-up, naming the setting', (value, message) => {
    const problems = problemsOf({ CONNECTIONS: typeof value === 'string' ? value : JSON.stringify(value) });
    expect(problems.some((problem) => problem.startsWith(message))).toBe(true);
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('refuses a connected:<name> route naming no connection', () => {
    const problems = problemsOf({
      API_ROUTES: JSON.stringify([{ prefix: '/api/x', target: 'http://127.0.0.1:5000', token: 'connected:nope' }]),
    });
    expect(problems).toContain('API_ROUTES: route /api/x: token connected:nope names no connection of CONNECTIONS');
  });

  it('refuses bearer callers on a connected route', () => {
    const problems = problemsOf({
      CONNECTIONS: JSON.stringify([calendar]),
      API_ROUTES: JSON.stringify([
        { prefix: '/api/x', target: 'http://127.0.0.1:5000', token: 'connected:calendar', bearer: { audience: 'https://x.example' } },
      ]),
    });
    expect(problems).toContain('API_ROUTES: route /api/x: a connected:calendar route takes no bearer callers');
  });

  it('refuses resource or scopes on a connected route', () => {
    const problems = problemsOf({
      CONNECTIONS: JSON.stringify([calendar]),
      API_ROUTES: JSON.stringify([{ prefix: '/api/x', target: 'http://127.0.0.1:5000', token: 'connected:calendar', scopes: 'a' }]),
    });
    expect(problems.join('\n')).toContain('a "connected:<name>" route takes no resource or scopes');
  });
});
