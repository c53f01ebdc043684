import { randomBytes } from 'node:crypto';
import { ConfigError } from './config.error.js';
import { consoleRequirement } from './console-require.options.js';
import { loadConfig } from './load-config.js';

const env = {
  PUBLIC_URL: 'https://app.example.com',
  OIDC_ISSUER: 'https://idp.example.com',
  OIDC_CLIENT_ID: 'gateway',
  OIDC_CLIENT_SECRET: 'secret',
  SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  REDIS_URL: 'redis://127.0.0.1:6379',
  ADMIN_JWT_AUDIENCE: 'https://admin.example.com',
};
const ADMINS = '{"groups":{"containsAnyOf":["admins"]}}';

function problemsOf(settings: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ...env, ...settings });
  } catch (error) {
    return (error as ConfigError).problems;
  }
  return [];
}

describe('ADMIN_CONSOLE_REQUIRE', () => {
  it('reads containsAnyOf conditions, nested claims, NFC', () => {
    expect(
      consoleRequirement('{"groups":{"containsAnyOf":["admins","Jose\u0301"]},"realm_access.roles":{"containsAnyOf":["ops"]}}'),
    ).toEqual({
      claims: [
        { claim: 'groups', path: ['groups'], kind: 'containsAnyOf', values: ['admins', 'Jos\u00e9'] },
        { claim: 'realm_access.roles', path: ['realm_access', 'roles'], kind: 'containsAnyOf', values: ['ops'] },
      ],
    });
    expect(loadConfig({ ...env, ADMIN_CONSOLE_REQUIRE: ADMINS }).admin).toMatchObject({
      consoleRequire: { claims: [{ claim: 'groups' }] },
      consoleUrl: undefined,
      consoleSessionTimeoutSeconds: 3600,
    });
  });

  it.each([
    ['not json', 'must be a JSON object'],
    ['{}', 'at least one claim condition'],
    ['[]', 'at least one claim condition'],
    ['{"groups":"admins"}', 'groups: must be { "containsAnyOf"'],
    ['{"groups":{"anyOf":["a"]}}', 'groups: must be { "containsAnyOf"'],
    ['{"groups":{"containsAnyOf":[]}}', 'groups.containsAnyOf: must be a non-empty array'],
    ['{"groups":{"containsAnyOf":[1]}}', 'groups.containsAnyOf: must be a non-empty array'],
    ['{"a..b":{"containsAnyOf":["x"]}}', 'a..b: is not a claim name'],
  ])('refuses %s at start-up, naming the setting', (raw, message) => {
    const [problem] = problemsOf({ ADMIN_CONSOLE_REQUIRE: raw });
    expect(problem).toMatch(/^ADMIN_CONSOLE_REQUIRE: /);
    expect(problem).toContain(message);
  });

  it('needs the admin API, and ADMIN_CONSOLE_URL on ADMIN_PORT', () => {
    expect(problemsOf({ ADMIN_JWT_AUDIENCE: '', ADMIN_CONSOLE_REQUIRE: ADMINS })).toEqual([
      'ADMIN_CONSOLE_REQUIRE: needs ADMIN_JWT_AUDIENCE (the console is part of the admin API, off without it)',
    ]);
    expect(problemsOf({ ADMIN_PORT: '9000', ADMIN_CONSOLE_REQUIRE: ADMINS })[0]).toMatch(/^ADMIN_CONSOLE_URL: is required with ADMIN_PORT/);
    expect(problemsOf({ ADMIN_CONSOLE_URL: 'https://admin.example.com' })[0]).toMatch(/^ADMIN_CONSOLE_URL: means nothing/);
    expect(problemsOf({ ADMIN_CONSOLE_REQUIRE: ADMINS, ADMIN_CONSOLE_URL: 'https://admin.example.com/path' })[0]).toMatch(
      /^ADMIN_CONSOLE_URL: must be an origin/,
    );
    expect(problemsOf({ ADMIN_CONSOLE_REQUIRE: ADMINS, ADMIN_CONSOLE_SESSION_TIMEOUT: '0' })[0]).toMatch(
      /^ADMIN_CONSOLE_SESSION_TIMEOUT: /,
    );
    expect(problemsOf({ ADMIN_PORT: '9000', ADMIN_CONSOLE_REQUIRE: ADMINS, ADMIN_CONSOLE_URL: 'https://admin.example.com:9000' })).toEqual(
      [],
    );
  });
});
