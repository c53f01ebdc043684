export interface RedirectHop {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly location: string;
}

export interface BrowserResponse {
  /** The URL that produced this response (after the redirects that were followed). */
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The redirects followed to get here, in order. */
  readonly redirects: readonly RedirectHop[];
  json<T = unknown>(): T;
}

export interface BrowserRequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; an object is sent as an urlencoded form, as a browser submits one. */
  readonly body?: string | Readonly<Record<string, string>>;
  /** Sent as JSON with `content-type: application/json`. */
  readonly json?: unknown;
  /** Default true. When false the redirect response itself is returned. */
  readonly followRedirects?: boolean;
  /**
   * The page the request comes from, deciding SameSite and `Origin`. Default: the current page (the
   * last response's URL); `null` is a URL typed into the address bar.
   */
  readonly from?: string | null;
}

export interface LoginOptions {
  readonly username: string;
  readonly password: string;
  /** Default `/`. */
  readonly returnTo?: string;
}

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  /** Epoch ms; undefined for a session cookie. */
  readonly expires: number | undefined;
  readonly secure: boolean;
  readonly sameSite: 'strict' | 'lax' | 'none';
}

const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const TRUSTWORTHY_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An HTTP client that behaves like a browser with JavaScript off: it keeps cookies (per host, ignoring
 * the port, honouring Path, Max-Age/Expires, Secure and SameSite), follows redirects one hop at a time
 * so that every hop's cookies are stored, sends `Origin` on unsafe requests and submits HTML forms.
 */
export class BrowserClient {
  private readonly jar = new Map<string, StoredCookie[]>();
  private lastResponse: BrowserResponse | undefined;

  /** The last response; throws before the first request. */
  get last(): BrowserResponse {
    if (!this.lastResponse) throw new Error('BrowserClient: no request made yet');
    return this.lastResponse;
  }

  get(url: string | URL, options: BrowserRequestOptions = {}): Promise<BrowserResponse> {
    return this.request('GET', url, options);
  }

  post(url: string | URL, options: BrowserRequestOptions = {}): Promise<BrowserResponse> {
    return this.request('POST', url, options);
  }

  async request(method: string, url: string | URL, options: BrowserRequestOptions = {}): Promise<BrowserResponse> {
    const initiator = options.from === undefined ? this.lastResponse?.url : (options.from ?? undefined);
    const chain = initiator === undefined ? [] : [new URL(initiator)];
    const redirects: RedirectHop[] = [];
    let target = new URL(url);
    let body = encodeBody(options);
    let headers = { ...body.headers, ...options.headers };
    for (;;) {
      // A request is cross-site when its initiator or any earlier hop is on another site (as browsers treat redirect chains).
      const crossSite = chain.some((hop) => site(hop) !== site(target));
      const outgoing = new Headers({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...headers });
      const cookie = this.cookieHeader(target, method, crossSite);
      if (cookie) outgoing.set('cookie', cookie);
      if (method !== 'GET' && method !== 'HEAD' && !outgoing.has('origin')) {
        outgoing.set('origin', initiator === undefined ? target.origin : new URL(initiator).origin);
      }
      const response = await fetch(target, { method, headers: outgoing, body: body.content, redirect: 'manual' });
      for (const setCookie of response.headers.getSetCookie()) this.store(target, setCookie);
      const location = response.headers.get('location');
      if (options.followRedirects === false || !REDIRECT_STATUSES.has(response.status) || location === null) {
        const text = await response.text();
        this.lastResponse = {
          url: target.href,
          status: response.status,
          headers: response.headers,
          body: text,
          redirects,
          json: <T>() => JSON.parse(text) as T,
        };
        return this.lastResponse;
      }
      await response.body?.cancel();
      if (redirects.length === MAX_REDIRECTS) throw new Error(`BrowserClient: more than ${MAX_REDIRECTS} redirects from ${url}`);
      redirects.push({ method, url: target.href, status: response.status, location });
      chain.push(target);
      target = new URL(location, target);
      if (response.status !== 307 && response.status !== 308 && method !== 'HEAD') {
        method = 'GET';
        body = { headers: {} };
        headers = { ...options.headers };
      }
    }
  }

  /**
   * Submits a form of `html` (by default the first; `formSelector` is `#<id>`) as the current page
   * would: its inputs, `fields` on top, and the first named submit button, to its action resolved
   * against the current page.
   */
  submitForm(html: string, formSelector?: string, fields: Readonly<Record<string, string>> = {}): Promise<BrowserResponse> {
    if (formSelector !== undefined && !formSelector.startsWith('#')) throw new Error('BrowserClient: formSelector must be #<id>');
    const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, attributes, content]) => ({
      attributes: parseAttributes(attributes!),
      content: content!,
    }));
    const form = formSelector === undefined ? forms[0] : forms.find(({ attributes }) => attributes.id === formSelector.slice(1));
    if (!form) throw new Error(`BrowserClient: no form ${formSelector ?? ''} in the page`);
    const values = new URLSearchParams();
    for (const [, attributes] of form.content.matchAll(/<input\b([^>]*)>/gi)) {
      const input = parseAttributes(attributes!);
      const type = (input.type ?? 'text').toLowerCase();
      if (!input.name || ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
      if ((type === 'checkbox' || type === 'radio') && input.checked === undefined) continue;
      values.set(input.name, input.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : ''));
    }
    for (const [name, value] of Object.entries(fields)) values.set(name, value);
    const submitter = [...form.content.matchAll(/<(button|input)\b([^>]*)>/gi)]
      .map(([, element, attributes]) => ({ element: element!.toLowerCase(), attributes: parseAttributes(attributes!) }))
      .find(({ element, attributes }) => (attributes.type ?? (element === 'button' ? 'submit' : 'text')).toLowerCase() === 'submit');
    if (submitter?.attributes.name) values.set(submitter.attributes.name, submitter.attributes.value ?? '');

    const page = this.lastResponse?.url;
    if (page === undefined) throw new Error('BrowserClient: submitForm needs a current page to resolve the action');
    const action = new URL(form.attributes.action || page, page);
    if ((form.attributes.method ?? 'get').toLowerCase() === 'post') {
      return this.post(action, { body: Object.fromEntries(values) });
    }
    action.search = values.toString();
    return this.get(action);
  }

  /**
   * Logs in through the gateway: `GET /bff/login`, the provider's login form, and back to the
   * gateway. Returns the final landing; throws if the journey does not end at the gateway (e.g. a
   * wrong password leaves the browser on the provider's form).
   */
  async login(gatewayUrl: string | URL, { username, password, returnTo = '/' }: LoginOptions): Promise<BrowserResponse> {
    const gateway = new URL(gatewayUrl);
    // As if the SPA's "Log in" button on the gateway's page were clicked.
    let page = await this.get(new URL(`/bff/login?returnTo=${encodeURIComponent(returnTo)}`, gateway), { from: gateway.href });
    // With a live provider session there is no form: the provider sends the browser straight back.
    if (new URL(page.url).origin !== gateway.origin) {
      page = await this.submitForm(page.body, '#login-form', { username, password });
    }
    if (new URL(page.url).origin !== gateway.origin) {
      throw new Error(`BrowserClient: login as ${username} ended at ${page.url} with status ${page.status}`);
    }
    return page;
  }

  /** The cookies this browser would send to `url` on a same-site request, by name. */
  cookies(url: string | URL): Record<string, string> {
    return Object.fromEntries(this.matching(new URL(url)).map((cookie) => [cookie.name, cookie.value]));
  }

  /** Stores a `Set-Cookie` header value as if `url` had sent it (e.g. to plant a forged cookie). */
  setCookie(url: string | URL, setCookie: string): void {
    this.store(new URL(url), setCookie);
  }

  private cookieHeader(url: URL, method: string, crossSite: boolean): string {
    return this.matching(url)
      .filter((cookie) => !crossSite || cookie.sameSite === 'none' || (cookie.sameSite === 'lax' && method === 'GET'))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
  }

  private matching(url: URL): StoredCookie[] {
    const now = Date.now();
    const live = (this.jar.get(url.hostname) ?? []).filter((cookie) => cookie.expires === undefined || cookie.expires > now);
    this.jar.set(url.hostname, live);
    return live
      .filter((cookie) => pathMatches(url.pathname, cookie.path) && (!cookie.secure || trustworthy(url)))
      .sort((a, b) => b.path.length - a.path.length);
  }

  private store(url: URL, header: string): void {
    const [pair = '', ...attributeParts] = header.split(';');
    const separator = pair.indexOf('=');
    if (separator < 1) return;
    const name = pair.slice(0, separator).trim();
    const attributes = new Map(
      attributeParts.map((part) => {
        const [key = '', ...value] = part.split('=');
        return [key.trim().toLowerCase(), value.join('=').trim()] as const;
      }),
    );
    const secure = attributes.has('secure');
    if (secure && !trustworthy(url)) return;
    const maxAge = attributes.get('max-age');
    const expiresAt = attributes.get('expires');
    let expires: number | undefined;
    if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) expires = Date.now() + Number(maxAge) * 1000;
    else if (expiresAt !== undefined && !Number.isNaN(Date.parse(expiresAt))) expires = Date.parse(expiresAt);
    const path = attributes.get('path')?.startsWith('/') ? attributes.get('path')! : defaultPath(url);
    const sameSite = attributes.get('samesite')?.toLowerCase();
    const cookie: StoredCookie = {
      name,
      value: pair.slice(separator + 1).trim(),
      path,
      expires,
      secure,
      // Like Chromium: a cookie without SameSite is treated as Lax.
      sameSite: sameSite === 'strict' || sameSite === 'none' ? sameSite : 'lax',
    };
    const others = (this.jar.get(url.hostname) ?? []).filter((stored) => stored.name !== name || stored.path !== path);
    this.jar.set(url.hostname, expires !== undefined && expires <= Date.now() ? others : [...others, cookie]);
  }
}

function encodeBody(options: BrowserRequestOptions): { content?: string; headers: Record<string, string> } {
  if (options.json !== undefined) return { content: JSON.stringify(options.json), headers: { 'content-type': 'application/json' } };
  if (typeof options.body === 'string') return { content: options.body, headers: {} };
  if (options.body) {
    return { content: new URLSearchParams(options.body).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  return { headers: {} };
}

/** Scheme and host: loopback names have no registrable domain, so the host stands for the site. */
function site(url: URL): string {
  return `${url.protocol}//${url.hostname}`;
}

function trustworthy(url: URL): boolean {
  return url.protocol === 'https:' || TRUSTWORTHY_HOSTS.has(url.hostname);
}

/** RFC 6265 §5.1.4. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  return (
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))
  );
}

/** RFC 6265 §5.1.4: the request path up to its last `/`. */
function defaultPath(url: URL): string {
  const lastSlash = url.pathname.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : url.pathname.slice(0, lastSlash);
}

function parseAttributes(source: string): Record<string, string | undefined> {
  const attributes: Record<string, string | undefined> = {};
  for (const [, name, doubleQuoted, singleQuoted, bare] of source.matchAll(/([^\s=/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    attributes[name!.toLowerCase()] = decodeEntities(doubleQuoted ?? singleQuoted ?? bare ?? '');
  }
  return attributes;
}

function decodeEntities(value: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return value.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, code: string) => {
    if (code.startsWith('#x') || code.startsWith('#X')) return String.fromCodePoint(parseInt(code.slice(2), 16));
    if (code.startsWith('#')) return String.fromCodePoint(Number(code.slice(1)));
    return named[code.toLowerCase()] ?? entity;
  });
}
