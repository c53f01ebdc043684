const FALLBACK = '/';
const MAX_LENGTH = 2048;
const PLACEHOLDER_ORIGIN = 'http://gateway.invalid';

/**
 * Where to send the browser after login: only a same-origin relative path, anything else falls
 * back to `/`. Browsers turn `\` into `/` and drop tabs and newlines, so `/\evil.example` or
 * `/\t/evil.example` would become `//evil.example`: any backslash or control character is refused.
 */
export function safeReturnTo(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_LENGTH) return FALLBACK;
  if (!raw.startsWith('/') || raw.startsWith('//')) return FALLBACK;
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(raw)) return FALLBACK;
  let url: URL;
  try {
    url = new URL(raw, PLACEHOLDER_ORIGIN);
  } catch {
    return FALLBACK;
  }
  if (url.origin !== PLACEHOLDER_ORIGIN) return FALLBACK;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith('//') ? FALLBACK : path;
}
