import { ForwardAuthErrorCode } from './forward-auth.errors.js';
import { originalRequest } from './original-request.policy.js';

const HANDSHAKE = { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };

function refusalOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('not refused');
}

describe('originalRequest', () => {
  it.each([
    ['nginx', { 'x-original-method': 'POST', 'x-original-uri': '/api/todos/7?x=%2F' }],
    ['Caddy and Traefik', { 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/api/todos/7?x=%2F' }],
  ])('reads the %s headers', (_ingress, headers) => {
    expect(originalRequest('GET', '', headers)).toEqual({ method: 'POST', target: '/api/todos/7?x=%2F', websocket: false });
  });

  it("reads Envoy's form: the check's own method, and its path after the endpoint's", () => {
    expect(originalRequest('DELETE', '/api/todos/7?x=1', {})).toEqual({ method: 'DELETE', target: '/api/todos/7?x=1', websocket: false });
  });

  it('recognises a WebSocket handshake by its Sec-WebSocket-Key and version 13, on GET only', () => {
    expect(originalRequest('GET', '/api/ws', HANDSHAKE).websocket).toBe(true);
    expect(originalRequest('GET', '', { ...HANDSHAKE, 'x-original-method': 'GET', 'x-original-uri': '/api/ws' }).websocket).toBe(true);
    expect(originalRequest('POST', '/api/ws', HANDSHAKE).websocket).toBe(false);
    expect(originalRequest('GET', '/api/ws', { ...HANDSHAKE, 'sec-websocket-version': '8' }).websocket).toBe(false);
    expect(originalRequest('GET', '/api/ws', { 'sec-websocket-version': '13' }).websocket).toBe(false);
  });

  it.each([
    ['no form at all', 'GET', '', {}],
    ['a method without a URI', 'GET', '', { 'x-original-method': 'GET' }],
    ['a URI without a method', 'GET', '', { 'x-forwarded-uri': '/api/todos' }],
    [
      'two forms (a browser’s X-Original-URI through Caddy)',
      'GET',
      '',
      { 'x-original-uri': '/api/a', 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/api/b' },
    ],
    [
      'two forms (a browser’s X-Forwarded-Uri through nginx)',
      'GET',
      '',
      { 'x-original-method': 'GET', 'x-original-uri': '/api/a', 'x-forwarded-uri': '/api/b' },
    ],
    ['headers beside Envoy’s form', 'GET', '/api/a', { 'x-original-uri': '/api/b', 'x-original-method': 'GET' }],
    ['TRACE', 'GET', '', { 'x-original-method': 'TRACE', 'x-original-uri': '/api/a' }],
    ['a lower-case method', 'GET', '', { 'x-original-method': 'get', 'x-original-uri': '/api/a' }],
    ['an absolute URL', 'GET', '', { 'x-original-method': 'GET', 'x-original-uri': 'http://evil.example/api/a' }],
    ['an asterisk', 'GET', '', { 'x-forwarded-method': 'OPTIONS', 'x-forwarded-uri': '*' }],
  ])('refuses %s with 400 bad_original_request', (_case, method, suffix, headers) => {
    expect(refusalOf(() => originalRequest(method, suffix, headers))).toMatchObject({
      code: ForwardAuthErrorCode.BadOriginalRequest,
      status: 400,
    });
  });
});
