import fc from 'fast-check';
import type { ApiRoute } from '#sessiongate/config';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';
import { resolveUpstream } from './upstream-path.js';

const limits = {
  audience: { resource: undefined, scopes: undefined },
  maxBodyBytes: 1024,
  timeoutMs: 1000,
  idleTimeoutMs: 0,
  allowSetCookie: false,
  websocket: false,
  methods: undefined,
  require: undefined,
  bearer: undefined,
  acr: undefined,
  maxAge: undefined,
};
const todos: ApiRoute = { prefix: '/api/todos', target: new URL('http://127.0.0.1:4000/v1'), token: 'user', ...limits };
const archive: ApiRoute = { prefix: '/api/todos/archive', target: new URL('http://127.0.0.1:4001'), token: 'user', ...limits };
const files: ApiRoute = { prefix: '/api/files', target: new URL('http://files.internal/store/'), token: 'none', ...limits };
const routes = [todos, archive, files];

function refusal(url: string): ProxyErrorCode | undefined {
  try {
    resolveUpstream(routes, url);
    return undefined;
  } catch (error) {
    if (!(error instanceof ProxyError)) throw error;
    return error.proxyCode;
  }
}

describe('resolveUpstream', () => {
  it.each([
    ['/api/todos/7?x=1', todos, '/v1/7?x=1'],
    ['/api/todos', todos, '/v1'],
    ['/api/todos/', todos, '/v1/'],
    ['/api/todos?x=1', todos, '/v1?x=1'],
    ['/api/todos/a/b/c', todos, '/v1/a/b/c'],
    ['/api/files', files, '/store/'],
    ['/api/files/a.txt', files, '/store/a.txt'],
    ['/api/todos/archive', archive, '/'],
    ['/api/todos/archive/3', archive, '/3'],
    ['/api/todos/archived', todos, '/v1/archived'],
    ['/api/todos/a%20b/%C3%A9/100%25', todos, '/v1/a%20b/%C3%A9/100%25'],
    ['/api/todos/...', todos, '/v1/...'],
    ['/api/todos/a..b/.hidden', todos, '/v1/a..b/.hidden'],
    ['/api/todos/a?next=/../admin&q=%2e%2e%2f#x', todos, '/v1/a?next=/../admin&q=%2e%2e%2f#x'],
    // Encoded three times: decoded twice it is still "%2e%2e", so it is forwarded as received.
    ['/api/todos/%25252e%25252e/x', todos, '/v1/%25252e%25252e/x'],
  ])('maps %s', (url, route, path) => {
    expect(resolveUpstream(routes, url)).toEqual({ route, path });
  });

  it.each([
    '/api',
    '/api/',
    '/api/todosX',
    '/api/todos.json',
    '/api/other/1',
    '/API/todos/1',
    '/apitodos',
    '/',
    'http://evil.example/api/todos/1',
    '*',
  ])('finds no route for %s', (url) => {
    expect(refusal(url)).toBe(ProxyErrorCode.NoRoute);
  });

  it.each([
    '/api/todos/..',
    '/api/todos/../admin',
    '/api/todos/a/../../admin',
    '/api/todos/a/../b',
    '/api/todos/./x',
    '/api/todos/.',
    '/api/todos/%2e%2e/admin',
    '/api/todos/%2E%2E/admin',
    '/api/todos/.%2e/admin',
    '/api/todos/%2e./admin',
    '/api/todos/%2e/admin',
    '/api/todos/..%2fadmin',
    '/api/todos/..%2Fadmin',
    '/api/todos/a%2fb',
    '/api/todos/%2f%2fevil.example',
    '/api/todos/%252e%252e/admin',
    '/api/todos/%252E%252E/admin',
    '/api/todos/%2e%252e/admin',
    '/api/todos/..%252fadmin',
    '/api/todos/..\\admin',
    '/api/todos/a\\b',
    '/api/todos/..%5cadmin',
    '/api/todos/..%5Cadmin',
    '/api/todos/..%255cadmin',
    '/api/todos/..;/admin',
    '/api/todos/..;jsessionid=x/admin',
    '/api/todos/.;/admin',
    '/api/todos/%2e%2e;/admin',
    '/api/todos//admin',
    '/api/todos//evil.example/x',
    '/api/todos/a//b',
    '/api/todos/a%00b',
    '/api/todos/a%2500b',
    '/api/todos/a%0d%0aX-Injected:%201',
    '/api/todos/a%7f',
    '/api/todos/a\x01b',
    '/api/todos/a b',
    '/api/todos/a#b',
    '/api/todos/%zz',
    '/api/todos/100%',
    '/api/todos/%2',
    '/api/todos/archive/../../admin',
    '/api/files/%2e%2e',
  ])('refuses %j', (url) => {
    expect(refusal(url)).toBe(ProxyErrorCode.BadPath);
  });

  it('refuses with a 400 bad_path error', () => {
    expect(() => resolveUpstream(routes, '/api/todos/../x')).toThrow(expect.objectContaining({ code: 'bad_path', status: 400 }));
  });

  describe('properties', () => {
    // Segments built mostly from dots, separators and their encodings, so that traversal attempts are frequent.
    const piece = fc.constantFrom(
      '.',
      '..',
      '%2e',
      '%2E',
      '%252e',
      '%25252e',
      '/',
      '%2f',
      '%2F',
      '%252f',
      '\\',
      '%5c',
      '%255c',
      ';',
      '%3b',
      '%00',
      '%0a',
      '%25',
      '%',
      'a',
      '~',
      '?',
      '#',
      ' ',
      'é',
    );
    const segment = fc.oneof(
      fc.array(piece, { maxLength: 4 }).map((pieces) => pieces.join('')),
      fc.string({ maxLength: 3 }),
    );
    const rest = fc.oneof(
      fc.array(segment, { maxLength: 6 }).map((segments) => segments.map((text) => `/${text}`).join('')),
      fc.string({ unit: 'binary-ascii', maxLength: 20 }),
    );

    it('never maps a path outside the base path, however an upstream decodes and normalises it', () => {
      fc.assert(
        fc.property(rest, (suffix) => {
          const code = refusal(`/api/todos${suffix}`);
          if (code !== undefined) return;
          const { path } = resolveUpstream(routes, `/api/todos${suffix}`);
          const pathOnly = path.split('?', 1)[0]!;
          for (const seen of readings(pathOnly)) expect(isUnder(seen, '/v1')).toBe(true);
          const resolved = new URL(path, 'http://127.0.0.1:4000');
          expect(resolved.host).toBe('127.0.0.1:4000');
          expect(isUnder(resolved.pathname, '/v1')).toBe(true);
        }),
        { numRuns: 5000 },
      );
    });

    it('forwards safe paths and any query unchanged', () => {
      const segment = fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,8}$/);
      const query = fc.string({ unit: 'binary-ascii', maxLength: 20 }).map((text) => text.replace(/[\x00-\x20\x7f]/g, ''));
      fc.assert(
        fc.property(fc.array(segment, { maxLength: 6 }), query, (segments, search) => {
          const suffix = segments.map((name) => `/${name}`).join('');
          const url = `/api/todos${suffix}?${search}`;
          expect(resolveUpstream(routes, url)).toEqual({ route: todos, path: `/v1${suffix}?${search}` });
        }),
      );
    });
  });
});

/** How lenient upstreams may read a path: raw or decoded up to twice, "\" as "/", ";params" dropped, dots resolved. */
function readings(path: string): string[] {
  const once = unescape(path);
  return [path, once, unescape(once)].map((text) => normalise(text.replaceAll('\\', '/')));
}

function normalise(path: string): string {
  const out: string[] = [];
  for (const segment of path
    .split('/')
    .slice(1)
    .map((part) => part.split(';', 1)[0])) {
    if (segment === '..') out.pop();
    else if (segment !== '.') out.push(segment!);
  }
  return `/${out.join('/')}`;
}

function isUnder(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}/`);
}
