import { createHash, type JsonWebKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { HostPort, SessionKey } from './config.types.js';

// How one environment variable is read: each returns the value or throws an Error whose message says
// what is wrong ("must be ..."), and never echoes a value that may be a secret.

export const ASYMMETRIC_JWS_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function absoluteUrl(raw: string, refusal: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new Error(refusal);
  }
}

export function httpUrl(raw: string): URL {
  const url = absoluteUrl(raw, 'must be an absolute URL');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
  if (url.username || url.password) throw new Error('must not carry credentials');
  if (url.hash || url.search) throw new Error('must not have a query or fragment');
  return url;
}

export function origin(raw: string): URL {
  const url = httpUrl(raw);
  if (url.pathname !== '/') throw new Error('must be an origin without a path, e.g. https://app.example.com');
  return url;
}

/** Comma-separated origins, each as URL#origin spells it. */
export function origins(raw: string): readonly string[] {
  return commaList(raw).map((entry) => origin(entry).origin);
}

/** The entries of a comma-separated list, trimmed, empty ones dropped. */
function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

export function positiveInteger(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new Error('must be a positive whole number');
  return Number(raw);
}

/** GATEWAY_WORKERS: a count, or `auto` for as many as the process may use cores (cgroup limits included). */
export function workerCount(raw: string): number {
  if (raw === 'auto') return availableParallelism();
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new Error('must be a positive whole number or auto');
  return Number(raw);
}

export function nonNegativeInteger(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error('must be a whole number, 0 or more');
  return Number(raw);
}

/** A decimal number from 0 to 1. */
export function probability(raw: string): number {
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(raw)) throw new Error('must be a number from 0 to 1, e.g. 0.01');
  return Number(raw);
}

export function port(raw: string): number {
  const value = positiveInteger(raw);
  if (value > 65535) throw new Error('must be a TCP port (1-65535)');
  return value;
}

export function boolean(raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error('must be true or false');
}

export function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw;
}

export function encryptionKey(raw: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) throw new Error('must be base64');
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new Error(`must decode to 32 bytes (got ${key.length})`);
  return key;
}

/** The id a key without one gets: what single-key deployments have always written into their blobs. */
function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/**
 * `[<id>:]<base64>` entries, comma-separated, newest first. Ids name the key in each blob, so they
 * must be unique, and so must the keys (one key under two ids would make the id meaningless).
 */
export function encryptionKeys(raw: string): readonly SessionKey[] {
  const keys = raw.split(',').map((entry, index): SessionKey => {
    const where = `key ${index + 1}`;
    // Matches any entry (the id is optional), so only the key part can be wrong.
    const [, id, encoded = ''] = /^(?:([A-Za-z0-9_-]{1,32}):)?(.*)$/s.exec(entry.trim()) ?? [];
    let key: Buffer;
    try {
      key = encryptionKey(encoded);
    } catch (error) {
      throw new Error(`${where} ${(error as Error).message} (entries are [<id>:]<base64 of 32 bytes>, ids of letters, digits, - and _)`);
    }
    return { id: id ?? keyFingerprint(key), key };
  });
  keys.forEach(({ id, key }, index) => {
    if (keys.findIndex((other) => other.id === id) !== index) throw new Error(`key id ${id} is listed twice`);
    if (keys.findIndex((other) => other.key.equals(key)) !== index) throw new Error(`key ${index + 1} repeats an earlier key`);
  });
  return keys;
}

export function scopes(raw: string): string {
  const list = raw.split(' ').filter(Boolean);
  if (!list.includes('openid')) throw new Error('must include openid');
  return list.join(' ');
}

/** Space-separated RFC 8707 resource indicators: absolute URIs without a fragment (§2), each listed once. */
export function resourceIndicators(raw: string): readonly string[] {
  const list = raw.split(' ').filter(Boolean);
  for (const entry of list) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new Error(`${entry} is not an absolute URI (RFC 8707 §2)`);
    }
    if (url.hash || entry.includes('#')) throw new Error(`${entry} must not have a fragment (RFC 8707 §2)`);
  }
  if (new Set(list).size !== list.length) throw new Error('lists a resource twice');
  return list;
}

export function cookieName(raw: string): string {
  // RFC 6265 token characters only, so the name never needs quoting.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(raw)) throw new Error('must be a cookie name (letters, digits, -_.)');
  return raw;
}

/** A parser that accepts exactly `values`, and names them when it refuses anything else. */
export function oneOf<const T extends string>(...values: readonly T[]): (raw: string) => T {
  const expected = values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`must be ${expected}`);
    return raw as T;
  };
}

export function privateJwk(raw: string): JsonWebKey & { kid: string } {
  let jwk: unknown;
  try {
    jwk = JSON.parse(raw);
  } catch {
    throw new Error('must be a private JWK in JSON');
  }
  const key = jwk as Record<string, unknown>;
  if (typeof jwk !== 'object' || jwk === null || typeof key.kty !== 'string' || typeof key.d !== 'string')
    throw new Error('must be a private JWK in JSON');
  if (typeof key.kid !== 'string' || key.kid === '') throw new Error('must have a kid, so the provider can pick the public key');
  return jwk as JsonWebKey & { kid: string };
}

export function asymmetricAlgorithms(raw: string): readonly string[] {
  const list = commaList(raw);
  // `none` and HS* would let anyone holding the provider's public key mint tokens.
  const refused = list.filter((alg) => !ASYMMETRIC_JWS_ALGS.includes(alg));
  if (list.length === 0 || refused.length > 0) throw new Error(`must be a comma-separated list of ${ASYMMETRIC_JWS_ALGS.join(', ')}`);
  return list;
}

export function scopeToken(raw: string): string {
  if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(raw)) throw new Error('must be one scope token (no spaces or quotes)');
  return raw;
}

export function localPath(raw: string): string {
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) throw new Error('must be a path starting with a single /');
  return raw;
}

const BFF_PATH = /^\/bff(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)+$/;

/** A path of the gateway's own under /bff/, where the browser-session defences (cross-origin, no-store) apply. */
export function bffPath(raw: string): string {
  if (!BFF_PATH.test(raw)) throw new Error('must be a path under /bff/ (letters, digits, ".", "_" and "-" in each segment)');
  return raw;
}

export function existingFolder(raw: string): string {
  if (!existsSync(raw)) throw new Error(`folder ${raw} does not exist`);
  return raw;
}

export function redisUrl(raw: string): string {
  const url = absoluteUrl(raw, 'must be a redis:// or rediss:// URL');
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('must be a redis:// or rediss:// URL');
  return raw;
}

const NAMED_PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

export function trustedProxies(raw: string): readonly string[] {
  const list = commaList(raw);
  for (const entry of list) {
    if (NAMED_PROXY_RANGES.includes(entry)) continue;
    const [address = '', bits, ...rest] = entry.split('/');
    const version = isIP(address);
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
    if (version === 0 || rest.length > 0 || !validBits)
      throw new Error(`${entry} is not an IP address, a CIDR range, or one of ${NAMED_PROXY_RANGES.join(', ')}`);
  }
  return list;
}

/** A `host:port` list (sentinels, cluster nodes); IPv6 hosts in brackets. */
export function hostPortList(raw: string): readonly HostPort[] {
  const entries = commaList(raw);
  if (entries.length === 0) throw new Error('must be a comma-separated list of host:port');
  return entries.map((entry) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not host:port`);
    const [, host = '', portText = ''] = match;
    try {
      return { host: host.replace(/^\[(.*)\]$/, '$1'), port: port(portText) };
    } catch (error) {
      throw new Error(`"${entry}": port ${(error as Error).message}`);
    }
  });
}

export function pemFile(raw: string): string {
  let text: string;
  try {
    text = readFileSync(raw, 'utf8');
  } catch {
    throw new Error(`file ${raw} cannot be read`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`file ${raw} holds no PEM certificate`);
  return text;
}
