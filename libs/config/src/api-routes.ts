import type { ApiRoute, RouteTokenMode } from './config.types.js';
import { type JsonEntry, type JsonKeys, jsonArray } from './json-array.js';
import { bearerCallers, httpMethods, routePolicy } from './route-policy.options.js';
import type { RoutePolicy } from './route-policy.types.js';
import { httpUrl, oneOf } from './setting-parsers.js';

const tokenMode = oneOf<RouteTokenMode>('user', 'optional', 'client', 'exchange', 'none');
export const SCOPE_LIST = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;
/** A connection's name (CONNECTIONS): it appears in URLs (`/bff/connect/<name>`) and in `connected:<name>`. */
export const CONNECTION_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CONNECTED_PREFIX = 'connected:';
/** An `acr` value: a URI or registered name, as it travels space-separated in `acr_values` (no space, quote or backslash). */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

function acrList(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((acr) => typeof acr !== 'string' || !ACR_VALUE.test(acr)))
    throw new Error('must be a non-empty array of acr values (no spaces or quotes)');
  return Object.freeze([...value] as string[]);
}

/** `user`, `optional`, `client`, `none`, or `connected:<name>` (a third-party connection's token, see CONNECTIONS). */
function routeTokenMode(value: unknown): RouteTokenMode {
  if (typeof value === 'string' && value.startsWith(CONNECTED_PREFIX)) {
    if (!CONNECTION_NAME.test(value.slice(CONNECTED_PREFIX.length))) throw new Error('connected:<name> needs a connection name');
    return value as RouteTokenMode;
  }
  try {
    return tokenMode(typeof value === 'string' ? value : '');
  } catch {
    throw new Error('must be user, optional, client, exchange, none or connected:<name>');
  }
}

/** The connection a `connected:<name>` route relays the token of, or undefined for the other modes. */
export function connectionOf(mode: RouteTokenMode): string | undefined {
  return mode.startsWith(CONNECTED_PREFIX) ? mode.slice(CONNECTED_PREFIX.length) : undefined;
}

export function wholeNumber(least: number): (value: unknown) => number {
  return (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least)
      throw new Error(`must be a whole number, ${least} or more`);
    return value;
  };
}

function flag(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new Error('must be true or false');
  return value;
}

function absoluteUri(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isAbsoluteUri(value)) throw new Error('must be an absolute URI');
  return value;
}

function isAbsoluteUri(value: string): boolean {
  try {
    const url = new URL(value);
    return url.hash === '' && !value.includes('#');
  } catch {
    return false;
  }
}

/** The keys of an API_ROUTES entry, read in this order; the limits default to the global settings (see apiRoutes). */
const routeKeys = {
  /** Path prefix under which the SPA calls this API, e.g. `/api/todos`. */
  prefix: {
    unique: true,
    names: true,
    parse: (value: unknown): string => {
      if (typeof value !== 'string' || !/^\/api(\/[A-Za-z0-9._~-]+)+$/.test(value) || /\/\.{1,2}(\/|$)/.test(value))
        throw new Error('must look like /api/<name> (no trailing slash)');
      return value;
    },
  },
  /** Upstream base URL; the remainder of the request path is appended to its path. */
  target: {
    parse: (value: unknown): URL => {
      if (typeof value !== 'string') throw new Error('must be a URL string');
      return httpUrl(value);
    },
  },
  token: { default: 'user', parse: routeTokenMode },
  /** The API a token is for (RFC 8707 resource; `audience`, Auth0's name for it, is read the same). */
  resource: { alias: 'audience', parse: absoluteUri },
  scopes: {
    parse: (value: unknown): string | undefined => {
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || !SCOPE_LIST.test(value)) throw new Error('must be space-separated scope tokens');
      return value;
    },
    check: (route) => {
      // RFC 8693 §2.1: the exchanged token is for a target; without one it would be the login token again.
      if (route.token === 'exchange' && route.resource === undefined) return 'an "exchange" route needs a resource (or audience)';
      if (route.resource === undefined && route.scopes === undefined) return undefined;
      if (route.token === 'none') return 'a "none" route takes no resource or scopes';
      // The provider's own scopes are the connection's (CONNECTIONS), asked for once when the user connects.
      return connectionOf(route.token as RouteTokenMode) !== undefined
        ? 'a "connected:<name>" route takes no resource or scopes'
        : undefined;
    },
  },
  /** Largest request body accepted for this route (413 beyond it). */
  maxBodyBytes: { parse: wholeNumber(0) },
  /** Milliseconds the upstream may take to send its response headers (504 beyond it). */
  timeoutMs: { parse: wholeNumber(1) },
  /** Milliseconds of silence allowed inside a response body (0: none, for long-lived streams). */
  idleTimeoutMs: { parse: wholeNumber(0) },
  /** Whether the upstream's Set-Cookie reaches the browser (off: the gateway owns the browser's cookies). */
  allowSetCookie: { default: false, parse: flag },
  /** Whether browsers may open WebSockets here (an Origin check replaces X-CSRF on the handshake). */
  websocket: { default: false, parse: flag },
  /** The HTTP methods callers may use (405 method_not_allowed, with Allow, for the others); unset: all. */
  methods: {
    parse: httpMethods,
    check: (route) =>
      route.websocket === true && Array.isArray(route.methods) && !route.methods.includes('GET')
        ? 'methods must include GET on a websocket route (a handshake is a GET)'
        : undefined,
  },
  /** Conditions on the caller's claims and the token's scope (403 forbidden); unset: ROUTES_DEFAULT_REQUIRE, if any. */
  require: {
    parse: (value: unknown): RoutePolicy | undefined => (value === undefined ? undefined : routePolicy(value)),
    check: (route) => noneRouteScope(route.token, route.require as RoutePolicy | undefined, 'require.scope'),
  },
  /** Lets callers without a session present a JWT access token for this audience instead. */
  bearer: { parse: bearerCallers },
  /** Whether this route's token is DPoP-bound (RFC 9449) whatever OIDC_DPOP says; unset: as OIDC_DPOP says. */
  dpop: {
    parse: (value: unknown): boolean | undefined => (value === undefined ? undefined : flag(value)),
    check: (route) => (route.dpop !== undefined && route.token === 'none' ? 'a "none" route takes no dpop' : undefined),
  },
  /** Step-up (RFC 9470): the session's ID token `acr` must be one of these, or 401 step_up_required (docs/STEP-UP.md). */
  acr: { parse: acrList },
  /** Step-up (RFC 9470): at most this many seconds since the session's `auth_time`, or 401 step_up_required. */
  maxAge: {
    parse: (value: unknown): number | undefined => (value === undefined ? undefined : wholeNumber(0)(value)),
    check: (route) =>
      route.token !== 'user' && (route.acr !== undefined || route.maxAge !== undefined)
        ? 'acr and maxAge need a "user" route (a step-up is asked of a session)'
        : undefined,
  },
} satisfies JsonKeys;

/** A `none` route sends no token, so no scope of one can be checked: refused rather than never met. */
function noneRouteScope(token: unknown, policy: RoutePolicy | undefined, key: string): string | undefined {
  return token === 'none' && policy !== undefined && policy.scope.length > 0
    ? `${key}: a "none" route has no access token whose scope could be checked`
    : undefined;
}

/** An API_ROUTES entry as read, before its token needs are grouped into `audience`. */
export type RouteEntry = JsonEntry<typeof routeKeys>;

/** The limits a route takes from the global settings unless it sets its own. */
export type RouteDefaults = Pick<RouteEntry, 'maxBodyBytes' | 'timeoutMs' | 'idleTimeoutMs'>;

const routeEntries = jsonArray('route', routeKeys);

/**
 * Parses API_ROUTES, throwing at the first problem (`route 2 (/api/todos): target must be ...`). A route
 * without its own `require` takes `defaultRequire` (ROUTES_DEFAULT_REQUIRE).
 */
export function apiRoutes(raw: string, defaults: RouteDefaults, defaultRequire?: RoutePolicy): ApiRoute[] {
  return routeEntries(raw, defaults).map(({ resource, scopes, require, ...route }, index) => {
    const problem = require === undefined ? noneRouteScope(route.token, defaultRequire, 'ROUTES_DEFAULT_REQUIRE scope') : undefined;
    if (problem !== undefined) throw new Error(`route ${index} (${route.prefix}): ${problem}; give this route its own require`);
    return { ...route, require: require ?? defaultRequire, audience: { resource, scopes } };
  });
}
