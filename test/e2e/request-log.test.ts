import { type GatewayStack, startGatewayStack } from '#sessiongate/testing';

// The one log line per request: what it says (route, status, latency, session public id, error
// code) and what it never says (the cookie value, a token, the query string).

const CSRF = { 'x-csrf': '1' } as const;

interface RequestLine {
  readonly msg: string;
  readonly reqId: string;
  readonly method: string;
  readonly path: string;
  readonly route: string;
  readonly status: number;
  readonly ms: number;
  readonly session?: string;
  readonly error?: string;
}

let stack: GatewayStack;

beforeAll(async () => {
  stack = await startGatewayStack();
});
afterAll(async () => {
  await stack.stop();
});

function requestLine(requestId: string | null): { line: RequestLine; raw: string } {
  const raw = stack.logs.filter(
    (entry) => (JSON.parse(entry) as RequestLine).msg === 'request completed' && (JSON.parse(entry) as RequestLine).reqId === requestId,
  );
  expect(raw).toHaveLength(1);
  return { line: JSON.parse(raw[0]!) as RequestLine, raw: raw[0]! };
}

it('logs a proxied call with its route prefix, status, latency and the session public id, never the cookie or token', async () => {
  const browser = await stack.loginAs('alice');
  const user = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).json<{ logoutUrl: string }>();
  const publicId = new URL(user.logoutUrl, stack.url).searchParams.get('sid')!;
  const response = await browser.get(`${stack.url}/api/echo/items/42?filter=open`, { headers: CSRF });
  expect(response.status).toBe(200);

  const { line, raw } = requestLine(response.headers.get('x-request-id'));
  expect(line).toMatchObject({ method: 'GET', path: '/api/echo/items/42', route: '/api/echo', status: 200, session: publicId });
  expect(typeof line.ms).toBe('number');
  expect(line.error).toBeUndefined();
  const cookie = browser.cookies(stack.url)[stack.config.session.cookieName]!;
  const bearer = (stack.echo.requests.at(-1)!.headers.authorization as string).slice('Bearer '.length);
  for (const secret of [cookie, bearer, 'filter=open']) expect(raw).not.toContain(secret);
});

it('logs a refused call with its error code, the declared route of a /bff endpoint, and no session', async () => {
  const response = await fetch(`${stack.url}/bff/sessions/some-id`, { method: 'DELETE', headers: CSRF });
  expect(response.status).toBe(401);
  const { line } = requestLine(response.headers.get('x-request-id'));
  expect(line).toMatchObject({ path: '/bff/sessions/some-id', route: '/bff/sessions/:id', status: 401, error: 'unauthenticated' });
  expect(line.session).toBeUndefined();
});
