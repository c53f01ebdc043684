export type RouteTokenMode = 'user' | 'none';

export interface ApiRoute {
  /** Path prefix under which the SPA calls this API, e.g. `/api/todos`. */
  readonly prefix: string;
  /** Upstream base URL; the remainder of the request path is appended to its path. */
  readonly target: URL;
  readonly token: RouteTokenMode;
}

export type SameSite = 'lax' | 'strict';

export interface GatewayConfig {
  readonly production: boolean;
  readonly publicUrl: URL;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  readonly oidc: {
    readonly issuer: URL;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly scopes: string;
    readonly idTokenSigningAlg: string;
    /** True when an http:// issuer is allowed; warned about at start-up unless it is loopback. */
    readonly allowInsecureHttp: boolean;
    readonly redirectUri: URL;
    readonly postLogoutRedirectUri: URL;
  };
  readonly redis: { readonly url: string | undefined };
  readonly session: {
    /** AES-256-GCM key for tokens at rest. */
    readonly encryptionKey: Buffer;
    readonly idleTimeoutSeconds: number;
    readonly absoluteTimeoutSeconds: number;
    readonly cookieName: string;
    readonly loginCookieName: string;
    readonly sameSite: SameSite;
    readonly secureCookies: boolean;
    readonly loginTimeoutSeconds: number;
  };
  readonly tokens: { readonly refreshSkewSeconds: number };
  readonly proxy: { readonly upstreamTimeoutMs: number; readonly connectTimeoutMs: number };
  readonly routes: readonly ApiRoute[];
  /** Folder of static SPA files served at `/`, if any. */
  readonly spaDir: string | undefined;
}
