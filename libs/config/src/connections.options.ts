import { CONNECTION_NAME, SCOPE_LIST, wholeNumber } from './api-routes.js';
import type { ClientAuthMethod, ClientCredentials, ConnectionConfig, ConnectionPersistence } from './config.types.js';
import { type JsonEntry, type JsonKeys, jsonArray } from './json-array.js';
import { httpUrl, nonEmpty, oneOf, privateJwk } from './setting-parsers.js';

const DEFAULT_PERSIST_SECONDS = 30 * 24 * 3600;

const authMethod = oneOf<ClientAuthMethod>('client_secret_basic', 'client_secret_post', 'private_key_jwt');
const persistence = oneOf<ConnectionPersistence>('session', 'user');

function optionalUrl(value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error('must be a URL string');
  return httpUrl(value);
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error('must be a string');
  return nonEmpty(value);
}

/** The keys of a CONNECTIONS entry, read in this order (see json-array.ts). */
const connectionKeys = {
  /** Names the connection in `/bff/connect/<name>` and in routes' `"token": "connected:<name>"`. */
  name: {
    unique: true,
    parse: (value: unknown): string => {
      if (typeof value !== 'string' || !CONNECTION_NAME.test(value)) throw new Error('must be lowercase letters, digits and -');
      return value;
    },
  },
  /** Discovered from here (RFC 8414, else OpenID Connect discovery) unless both endpoints are given. */
  issuer: { parse: optionalUrl },
  authorizationEndpoint: { parse: optionalUrl },
  tokenEndpoint: {
    parse: optionalUrl,
    check: (entry) =>
      entry.issuer === undefined && (entry.authorizationEndpoint === undefined || entry.tokenEndpoint === undefined)
        ? 'give an issuer (to discover the endpoints) or both authorizationEndpoint and tokenEndpoint'
        : undefined,
  },
  /** RFC 7009; when absent (and not discovered), disconnecting only forgets the tokens. */
  revocationEndpoint: { parse: optionalUrl },
  clientId: { parse: text },
  clientAuthMethod: { default: 'client_secret_basic', parse: (value: unknown) => authMethod(typeof value === 'string' ? value : '') },
  clientSecret: {
    parse: (value: unknown): string | undefined => (value === undefined ? undefined : text(value)),
    check: (entry) =>
      entry.clientAuthMethod !== 'private_key_jwt' && entry.clientSecret === undefined
        ? `clientSecret is required with ${String(entry.clientAuthMethod)}`
        : undefined,
  },
  /** A private JWK (an object, with `kid`) signing the client assertion, for private_key_jwt. */
  privateKey: {
    parse: (value: unknown) => {
      if (value === undefined) return undefined;
      if (typeof value !== 'object' || value === null) throw new Error('must be a private JWK object');
      return privateJwk(JSON.stringify(value));
    },
    check: (entry) =>
      entry.clientAuthMethod === 'private_key_jwt' && entry.privateKey === undefined
        ? 'privateKey is required with private_key_jwt'
        : undefined,
  },
  scopes: {
    default: '',
    parse: (value: unknown): string => {
      if (value === '') return '';
      if (typeof value !== 'string' || !SCOPE_LIST.test(value)) throw new Error('must be space-separated scope tokens');
      // A connection is plain OAuth 2.0: an ID token here would be the third party's login, which the gateway does not do.
      if (value.split(' ').includes('openid')) throw new Error('must not include openid (a connection is plain OAuth 2.0)');
      return value;
    },
  },
  /** `session`: the tokens end with the session; `user`: kept for the user's next sessions too, until disconnected. */
  persist: { default: 'session', parse: (value: unknown) => persistence(typeof value === 'string' ? value : '') },
  /** How long a `persist: user` connection is kept after it was last written (connected or refreshed). */
  persistSeconds: { default: DEFAULT_PERSIST_SECONDS, parse: wholeNumber(60) },
} satisfies JsonKeys;

type ConnectionEntry = JsonEntry<typeof connectionKeys>;

const connectionEntries = jsonArray('connection', connectionKeys);

/** Parses CONNECTIONS, throwing at the first problem (`connection 1: tokenEndpoint must be ...`); never echoes a secret. */
export function connections(raw: string, publicUrl: URL): ConnectionConfig[] {
  return connectionEntries(raw).map((entry: ConnectionEntry) => {
    const { clientSecret, privateKey, clientAuthMethod, ...rest } = entry;
    return { ...rest, credentials: credentialsOf(entry), redirectUri: new URL(`/bff/connect/${entry.name}/callback`, publicUrl) };
  });
}

// The keys' own checks have required a secret for the secret methods and a key for private_key_jwt.
function credentialsOf({ clientAuthMethod, clientSecret, privateKey }: ConnectionEntry): ClientCredentials {
  if (clientAuthMethod === 'private_key_jwt') {
    if (privateKey === undefined) throw new Error('privateKey is required with private_key_jwt');
    return { method: clientAuthMethod, privateKey };
  }
  if (clientSecret === undefined) throw new Error(`clientSecret is required with ${clientAuthMethod}`);
  return { method: clientAuthMethod, secret: clientSecret };
}

/** The URLs of a connection that the gateway calls or sends the browser to, for the plain-http rule. */
export function connectionUrls(connection: ConnectionConfig): URL[] {
  return [connection.issuer, connection.authorizationEndpoint, connection.tokenEndpoint, connection.revocationEndpoint].filter(
    (url): url is URL => url !== undefined,
  );
}
