import type { ApiRoute, RouteTokenMode } from './config.types.js';
import { type JsonEntry, type JsonKeys, jsonArray } from './json-array.js';
import { httpUrl, oneOf } from './setting-parsers.js';

const tokenMode = oneOf<RouteTokenMode>('user', 'optional', 'client', 'none');
const SCOPE_LIST = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;
/** An `acr` value: a URI or registered name, as it travels space-separated in `acr_values` (no space, quote or backslash). */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

function acrList(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((acr) => typeof acr !== 'string' || !ACR_VALUE.test(acr)))
    throw new Error('must be a non-empty array of acr values (no spaces or quotes)');
  return Object.freeze([...value] as string[]);
}

function wholeNumber(least: number): (value: unknown) => number {
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
  token: { default: 'user', parse: (value: unknown): RouteTokenMode => tokenMode(typeof value === 'string' ? value : '') },
  /** The API a token is for (RFC 8707 resource; `audience`, Auth0's name for it, is read the same). */
  resource: { alias: 'audience', parse: absoluteUri },
  scopes: {
    parse: (value: unknown): string | undefined => {
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || !SCOPE_LIST.test(value)) throw new Error('must be space-separated scope tokens');
      return value;
    },
    check: (route) =>
      route.token === 'none' && (route.resource !== undefined || route.scopes !== undefined)
        ? 'a "none" route takes no resource or scopes'
        : undefined,
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

/** An API_ROUTES entry as read, before its token needs are grouped into `audience`. */
export type RouteEntry = JsonEntry<typeof routeKeys>;

/** The limits a route takes from the global settings unless it sets its own. */
export type RouteDefaults = Pick<RouteEntry, 'maxBodyBytes' | 'timeoutMs' | 'idleTimeoutMs'>;

const routeEntries = jsonArray('route', routeKeys);

/** Parses API_ROUTES, throwing at the first problem (`route 2: target must be ...`). */
export function apiRoutes(raw: string, defaults: RouteDefaults): ApiRoute[] {
  return routeEntries(raw, defaults).map(({ resource, scopes, ...route }) => ({ ...route, audience: { resource, scopes } }));
}
