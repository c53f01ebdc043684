import type { UpstreamCredential } from './upstream-credential.js';

/** Node's and undici's header objects alike: lower-case names. */
export type ReceivedHeaders = Readonly<Record<string, string | string[] | undefined>>;
export type ForwardedHeaders = Record<string, string | string[]>;

export interface Forwarding {
  readonly clientIp: string;
  /** The gateway's external origin, as the browser sees it. */
  readonly publicUrl: URL;
  readonly target: URL;
  readonly requestId: string;
  /** Sent as Authorization, with its per-attempt headers; none when undefined. */
  readonly credential: UpstreamCredential | undefined;
  /** This attempt's method and upstream path (query included), which a per-attempt header binds. */
  readonly method: string;
  readonly path: string;
}

// Connection-specific fields (RFC 9110 section 7.6.1) plus the legacy ones still seen: they describe one hop only.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
// The browser's credentials stay at the gateway; forwarding facts come only from the gateway, never
// from the client; `expect` is answered by Node already (and refused by undici).
const NOT_FORWARDED = new Set(['cookie', 'authorization', 'proxy-authorization', 'x-csrf', 'forwarded', 'x-real-ip', 'host', 'expect']);

/** The headers of the upstream request: the client's, cleaned, plus the gateway's forwarding facts and credentials. */
export function upstreamRequestHeaders(incoming: ReceivedHeaders, forwarding: Forwarding): ForwardedHeaders {
  const connectionNamed = namedIn(incoming.connection);
  const headers: ForwardedHeaders = {};
  // for...in rather than Object.entries: no array per header on the hot path (these are plain objects).
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_FORWARDED.has(name) || connectionNamed.has(name)) continue;
    if (name.startsWith('x-forwarded-')) continue;
    headers[name] = value;
  }
  headers.host = forwarding.target.host;
  headers['x-forwarded-for'] = forwarding.clientIp;
  headers['x-forwarded-proto'] = forwarding.publicUrl.protocol.slice(0, -1);
  headers['x-forwarded-host'] = forwarding.publicUrl.host;
  headers['x-request-id'] = forwarding.requestId;
  if (forwarding.credential !== undefined) setCredentialHeaders(headers, forwarding.credential, forwarding);
  return headers;
}

/**
 * Writes a credential into the headers of one attempt, after the client's: a per-attempt header replaces
 * any the client sent under its name. The exact URL is only built for a credential that binds it.
 */
export function setCredentialHeaders(
  headers: ForwardedHeaders,
  credential: UpstreamCredential,
  attempt: { readonly method: string; readonly target: URL; readonly path: string },
): void {
  headers.authorization = credential.authorization;
  if (credential.attemptHeaders === undefined) return;
  Object.assign(headers, credential.attemptHeaders({ method: attempt.method, url: `${attempt.target.origin}${attempt.path}` }));
}

/**
 * The headers passed back to the browser: the upstream's, without hop-by-hop ones, and without
 * cookies unless the route allows them (the gateway owns the browser's cookies).
 */
export function downstreamResponseHeaders(upstream: ReceivedHeaders, allowSetCookie = false): ForwardedHeaders {
  const connectionNamed = namedIn(upstream.connection);
  const headers: ForwardedHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || connectionNamed.has(name) || (name === 'set-cookie' && !allowSetCookie)) continue;
    // CORS is the gateway's to grant: an upstream's `Access-Control-Allow-Origin: *` must not reach the browser.
    if (name.startsWith('access-control-')) continue;
    headers[name] = value;
  }
  return headers;
}

const NONE: ReadonlySet<string> = new Set();

function namedIn(connection: string | string[] | undefined): ReadonlySet<string> {
  // What nearly every request and response says, and names no header that is not hop-by-hop already.
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return NONE;
  const values = Array.isArray(connection) ? connection : [connection ?? ''];
  return new Set(values.flatMap((value) => value.split(',')).map((name) => name.trim().toLowerCase()));
}
