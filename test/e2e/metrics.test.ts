import { randomBytes } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { type BrowserClient, freePort, GATEWAY_CLIENT_ID, type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// The Prometheus metrics through the real gateway: a scripted run of logins, API calls with forced
// refreshes, a logout, admin revocations and back-channel logouts, then one scrape whose counters
// must have moved by exactly what was done, with no path, id or user in any label.

const CSRF = { 'x-csrf': '1' } as const;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format, as a scraper reads it (comments skipped). */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name!, value!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The one sample with `name` and (at least) these labels; 0 when there is none. */
function value(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

describe.each([
  ['on the main port without ADMIN_PORT', false],
  ['on the admin port with ADMIN_PORT', true],
])('metrics %s', (_title, separateAdminPort) => {
  let stack: GatewayStack;
  let metricsUrl: string;

  const publicIdOf = async (browser: BrowserClient) => {
    const user = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{
      logoutUrl: string;
      claims: { sid: string };
    }>();
    return { publicId: new URL(user.logoutUrl, stack.url).searchParams.get('sid')!, logoutUrl: user.logoutUrl, sid: user.claims.sid };
  };

  beforeAll(async () => {
    // A skew longer than the tokens live: every API call refreshes, so refreshes can be counted.
    const env: Record<string, string> = { TOKEN_REFRESH_SKEW: '86400' };
    if (separateAdminPort) env.ADMIN_PORT = String(await freePort());
    stack = await startGatewayStack({ env });
    metricsUrl = `${separateAdminPort ? stack.gateway.adminUrl : stack.url}/metrics`;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('counts what was done, with bounded labels', async () => {
    const adminToken = await stack.adminToken();
    const admin = (method: string, path: string) =>
      fetch(`${stack.gateway.adminUrl}${path}`, { method, headers: { authorization: `Bearer ${adminToken}` } });

    // Logins: three that succeed, one whose pending login is unknown.
    const alice = await stack.loginAs('alice');
    const bob = await stack.loginAs('bob');
    const aliceAgain = await stack.loginAs('alice');
    expect((await fetch(`${stack.url}/bff/callback?code=x&state=y`)).status).toBe(400);

    // API calls: two that refresh, one without a session, one to no route.
    for (const path of ['/api/echo/items/17', '/api/echo/items/18'])
      expect((await alice.get(`${stack.url}${path}`, { headers: CSRF })).status).toBe(200);
    expect((await fetch(`${stack.url}/api/echo/items/19`, { headers: CSRF })).status).toBe(401);
    expect((await fetch(`${stack.url}/api/nowhere/1`, { headers: CSRF })).status).toBe(404);

    // Logout of the first session; admin revocation of bob's, and of an unknown one.
    const first = await publicIdOf(alice);
    expect((await alice.get(`${stack.url}${first.logoutUrl}`)).status).toBeLessThan(400);
    const bobs = await publicIdOf(bob);
    expect((await admin('DELETE', `/admin/sessions/${bobs.publicId}`)).status).toBe(200);
    expect((await admin('DELETE', '/admin/sessions/unknown-session-id')).status).toBe(404);

    // Back-channel logout of the second session of alice, and a forged logout token.
    const second = await publicIdOf(aliceAgain);
    const key = await importJWK(stack.idp.signingKey, 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const logoutToken = await new SignJWT({
      iss: stack.idp.issuer,
      aud: GATEWAY_CLIENT_ID,
      iat: now,
      exp: now + 120,
      jti: randomBytes(16).toString('hex'),
      events: { [EVENT]: {} },
      sid: second.sid,
    })
      .setProtectedHeader({ alg: 'RS256', kid: stack.idp.signingKey.kid, typ: 'logout+jwt' })
      .sign(key);
    const backchannel = (token: string) =>
      fetch(`${stack.url}/bff/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });
    expect((await backchannel(logoutToken)).status).toBe(200);
    expect((await backchannel('not-a-token')).status).toBe(400);

    const survivor = await stack.loginAs('bob');
    const survivorId = (await publicIdOf(survivor)).publicId;

    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parse(await response.text());

    expect(value(samples, 'sessiongate_logins_total', { outcome: 'ok' })).toBe(4);
    expect(value(samples, 'sessiongate_logins_total', { outcome: 'login_expired' })).toBe(1);
    expect(value(samples, 'sessiongate_token_request_duration_seconds_count', { grant: 'refresh_token', outcome: 'ok' })).toBe(2);
    expect(value(samples, 'sessiongate_refresh_lock_wait_seconds_count', { outcome: 'ok' })).toBe(2);
    expect(value(samples, 'sessiongate_upstream_response_seconds_count', { route: '/api/echo' })).toBe(2);
    expect(value(samples, 'sessiongate_http_request_duration_seconds_count', { route: '/api/echo', status_class: '2xx' })).toBe(2);
    expect(value(samples, 'sessiongate_http_request_duration_seconds_count', { route: '/api/echo', status_class: '4xx' })).toBe(1);
    expect(value(samples, 'sessiongate_http_request_duration_seconds_count', { route: '/api/*', status_class: '4xx' })).toBe(1);
    expect(
      value(samples, 'sessiongate_http_request_duration_seconds_bucket', { route: '/api/echo', status_class: '2xx', le: '+Inf' }),
    ).toBe(2);
    expect(value(samples, 'sessiongate_http_request_duration_seconds_sum', { route: '/api/echo', status_class: '2xx' })).toBeGreaterThan(0);
    expect(value(samples, 'sessiongate_http_errors_total', { code: 'unauthenticated' })).toBe(1);
    expect(value(samples, 'sessiongate_http_errors_total', { code: 'no_route' })).toBe(1);
    expect(value(samples, 'sessiongate_logouts_total', { outcome: 'ok' })).toBe(1);
    expect(value(samples, 'sessiongate_admin_revocations_total', { scope: 'session', outcome: 'ok' })).toBe(1);
    expect(value(samples, 'sessiongate_admin_revocations_total', { scope: 'session', outcome: 'session_not_found' })).toBe(1);
    expect(value(samples, 'sessiongate_backchannel_logouts_total', { outcome: 'ok' })).toBe(1);
    expect(value(samples, 'sessiongate_backchannel_logouts_total', { outcome: 'invalid_logout_token' })).toBe(1);
    expect(value(samples, 'sessiongate_active_sessions', { store: 'redis' })).toBe(1);
    expect(value(samples, 'sessiongate_session_store_errors_total', { store: 'redis' })).toBe(0);

    // Bounded labels: routes are configured prefixes or declared routes, never a path, id or user.
    const prefixes = stack.config.routes.map((route) => route.prefix);
    const forbidden = [
      first.publicId,
      bobs.publicId,
      second.publicId,
      survivorId,
      first.sid,
      second.sid,
      'u-1001',
      'u-1002',
      'unknown-session-id',
      'items',
      'nowhere',
    ];
    for (const sample of samples) {
      for (const label of Object.values(sample.labels)) for (const fragment of forbidden) expect(label).not.toContain(fragment);
      const route = sample.labels.route;
      if (route !== undefined) expect(prefixes.includes(route) || /^(\/[a-z-]+|\/:[a-z]+|\/\*)+$|^unmatched$/.test(route)).toBe(true);
    }
  });

  it(`is served ${separateAdminPort ? 'on the admin port only' : 'on the main port'}`, async () => {
    expect((await fetch(`${stack.url}/metrics`)).status).toBe(separateAdminPort ? 404 : 200);
  });
});

describe('metrics turned off', () => {
  it('serves no /metrics with METRICS_ENABLED=false', async () => {
    const stack = await startGatewayStack({ env: { METRICS_ENABLED: 'false' } });
    try {
      expect((await fetch(`${stack.url}/metrics`)).status).toBe(404);
    } finally {
      await stack.stop();
    }
  });
});

describe('metrics while Redis is down', () => {
  it('counts the store errors and the 503s, and gives no session count rather than a wrong one', async () => {
    const stack = await startGatewayStack();
    try {
      const alice = await stack.loginAs('alice');
      await stack.redis.kill();
      expect((await alice.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).status).toBe(503);
      const response = await fetch(`${stack.url}/metrics`);
      expect(response.status).toBe(200);
      const samples = parse(await response.text());
      expect(value(samples, 'sessiongate_http_errors_total', { code: 'session_store_unavailable' })).toBe(1);
      expect(value(samples, 'sessiongate_session_store_errors_total', { store: 'redis' })).toBeGreaterThanOrEqual(1);
      expect(samples.filter((sample) => sample.name === 'sessiongate_active_sessions')).toEqual([]);
      await stack.redis.restart();
    } finally {
      await stack.stop();
    }
  });
});
