import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { type Grant, interactionPolicy, Provider, type ProviderContext, type ProviderError, errors } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import { DEMO_USERS, type DemoUser } from './demo-users.js';
import { logoutPage, messagePage } from './interaction.pages.js';
import { ACR_VALUES, loginInteraction } from './login.interaction.js';
import { TOKEN_EXCHANGE_GRANT, TOKEN_EXCHANGE_PARAMETERS, tokenExchangeGrant } from './token-exchange.grant.js';

export interface DemoClient {
  readonly client_id: string;
  readonly client_secret: string;
  readonly redirect_uris: readonly string[];
  readonly post_logout_redirect_uris?: readonly string[];
  /** Default: authorization_code, refresh_token and client_credentials. */
  readonly grant_types?: readonly string[];
  /** Default `code`; none for a client that never sends the browser (an API that only introspects). */
  readonly response_types?: readonly string[];
  /** OIDC Back-Channel Logout 1.0: where the provider POSTs a logout token when the user logs out there. */
  readonly backchannel_logout_uri?: string;
  /** Default client_secret_basic. */
  readonly token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** The client's public keys, for private_key_jwt. */
  readonly jwks?: { readonly keys: readonly object[] };
}

export interface IdentityProviderOptions {
  /** Default: a free port. The issuer is `http://127.0.0.1:<port>`. */
  readonly port?: number;
  readonly clients: readonly DemoClient[];
  /** Resource indicators (RFC 8707) and their scopes; access tokens for a resource are JWTs with `aud` = the indicator. */
  readonly resources?: Readonly<Record<string, { readonly scope: string }>>;
  /**
   * The resource of an access token whose request names none. Default: the first of `resources`. `null`:
   * none, so that the login's access token is an opaque one the userinfo endpoint accepts (oidc-provider
   * refuses tokens for a resource there).
   */
  readonly defaultResource?: string | null;
  /** Default 300. */
  readonly accessTokenTtlSeconds?: number;
  /** A refresh-token grant returns a new refresh token and consumes the old one. Default true. */
  readonly rotateRefreshToken?: boolean;
  /** Default: DEMO_USERS (alice/alice, bob/bob). */
  readonly users?: readonly DemoUser[];
  /**
   * DPoP (RFC 9449), on by default. `enabled: false`: a provider that ignores DPoP (no
   * dpop_signing_alg_values_supported; proofs are not looked at). `requireNonce`: every proof must
   * carry a nonce of the provider's (`use_dpop_nonce` otherwise, RFC 9449 §8).
   */
  readonly dpop?: { readonly enabled?: boolean; readonly requireNonce?: boolean };
  /** `PS256`: the signing key may also sign ID tokens with PS256 (for clients registered with it). Default RS256 only. */
  readonly idTokenSigningAlg?: 'RS256' | 'PS256';
  /**
   * Ask the user to allow or deny each client's request after login (a third-party provider's consent
   * screen); default false: the clients are first party, and everything they ask for is granted.
   */
  readonly consent?: boolean;
  /** Scopes the provider knows besides the OpenID ones and the resources' (e.g. a plain OAuth 2.0 server's `calendar:read`). */
  readonly scopes?: readonly string[];
  /** RFC 7662 token introspection, for resource servers that check opaque access tokens. Default false. */
  readonly introspection?: boolean;
  /**
   * Prefixes the provider's cookie names: browsers share cookies between ports of one host, so two
   * providers on 127.0.0.1 would otherwise replace each other's sessions.
   */
  readonly cookiePrefix?: string;
}

/** What the provider did, for assertions: no token values, only who and what. */
export interface ProviderEvent {
  readonly name: string;
  readonly clientId?: string;
  readonly grantType?: string;
  /** OAuth error code, e.g. `invalid_grant`. */
  readonly error?: string;
  /** oidc-provider's detail, e.g. `refresh token already used`. */
  readonly detail?: string;
  readonly sid?: string;
}

/** Sees (and may change or replace) the JSON body of each successful `/token` response before it is sent. */
export type TokenResponseHook = (body: Record<string, unknown>) => Record<string, unknown> | undefined;

/**
 * Makes the token endpoint fail, for every request or only for one `grant_type`. A faulted request never
 * reaches oidc-provider (nothing is consumed or rotated), except after a `delay`, which then answers normally.
 */
export type TokenEndpointFault =
  /**
   * Answers `status` at once. `body: 'json'` (default) sends `{ "error": ..., "error_description": ... }` as an
   * OAuth server would (`error` defaults to `temporarily_unavailable` for 503, `server_error` from 500 up,
   * `invalid_request` below; `description` replaces the default `error_description`); `'html'` sends an HTML
   * error page, as a proxy or load balancer in front would.
   */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: 'json' | 'html';
      readonly error?: string;
      readonly description?: string;
      readonly grantType?: string;
    }
  /** Never answers, until the client gives up or `stop()` closes the connection. */
  | { readonly kind: 'hang'; readonly grantType?: string }
  /** Answers normally after `ms` milliseconds. */
  | { readonly kind: 'delay'; readonly ms: number; readonly grantType?: string }
  /**
   * Once, then clears itself: answers 400 `use_dpop_nonce` (RFC 9449 §8) with the latest nonce the provider
   * issued in `DPoP-Nonce`, as a provider whose nonce just rotated would. Needs `dpop.requireNonce`.
   */
  | { readonly kind: 'use_dpop_nonce'; readonly grantType?: string };

/** A request that reached `POST /token`, faulted or not: its parameters that are not secrets, and when it arrived. */
export interface TokenRequest {
  /** `''` when the request has no (readable) `grant_type`. */
  readonly grantType: string;
  /** RFC 8707 `resource`; several are joined by a space (a URI contains none). */
  readonly resource?: string;
  readonly scope?: string;
  /** Auth0's spelling of `resource`, which oidc-provider ignores: recorded to see what a client sent. */
  readonly audience?: string;
  /** How the client authenticated: an Authorization header, a secret in the body, or a signed assertion. */
  readonly clientAuthentication: 'basic' | 'post' | 'assertion' | 'none';
  /** RFC 8693 `subject_token_type` of a token exchange. */
  readonly subjectTokenType?: string;
  /** True when it carried a DPoP proof (RFC 9449 §5); absent otherwise. */
  readonly dpop?: true;
  /** The W3C `traceparent` header, when the client sent one. */
  readonly traceparent?: string;
  /** `Date.now()` when the request arrived. */
  readonly at: number;
}

export interface IdentityProvider {
  readonly issuer: string;
  readonly port: number;
  readonly jwksUri: string;
  /** The private signing key (JWK with `kid`), so tests can forge tokens the provider's JWKS vouches for. */
  readonly signingKey: JWK;
  readonly jwks: { readonly keys: readonly JWK[] };
  /** Every recorded event, oldest first; tests may empty it (`events.length = 0`). */
  readonly events: ProviderEvent[];
  onTokenResponse: TokenResponseHook | undefined;
  /** Sees (and may change or replace) the JSON body of each successful userinfo response. */
  onUserinfoResponse: TokenResponseHook | undefined;
  /** Applied to each `POST /token` request that arrives while it is set. */
  tokenEndpointFault: TokenEndpointFault | undefined;
  /** Every `POST /token` request, oldest first, faulted or refused ones included; tests may empty it. */
  readonly tokenRequests: TokenRequest[];
  /**
   * Whether oidc-provider has refused a refresh token because it was already used (rotation reuse: it
   * then revokes the whole grant), according to `events`, so emptying `events` resets it.
   */
  refreshTokenReuseDetected(): boolean;
  /** Grants of `grantType` the provider issued tokens for (`grant.success` events), so emptying `events` resets it. */
  grantCount(grantType: string): number;
  /** Closes the server and its connections, hanging requests included; later calls return the same promise. */
  stop(): Promise<void>;
}

const CLAIMS = { profile: ['name'], email: ['email', 'email_verified'] };
/**
 * Every ID token says how (`acr`) and when (`auth_time`) the user authenticated, asked for or not, so that
 * the gateway can judge a route's step-up (RFC 9470) from the session alone.
 */
const AUTHENTICATION_CLAIMS = { openid: ['sub', 'acr', 'auth_time'], acr: null, auth_time: null, sid: null };
const OIDC_SCOPES = new Set(['openid', 'offline_access', ...Object.keys(CLAIMS)]);

/** The scopes' claims, with the users' own extra claims released under `profile`. */
function claimsOf(users: readonly DemoUser[]): Record<string, string[]> {
  const standard = new Set(Object.values(CLAIMS).flat());
  const extra = new Set(
    users.flatMap((user) => Object.keys({ ...user.claims, ...user.userinfoClaims })).filter((name) => !standard.has(name)),
  );
  return { ...CLAIMS, profile: [...CLAIMS.profile, ...extra] };
}
const CONTEXT_EVENTS = ['grant.success', 'grant.revoked', 'end_session.success'];
/** oidc-provider's own limit for request bodies; a larger one is left for it to refuse. */
const BODY_LIMIT = 56 * 1024;
/** oidc-provider 9's `error_detail` when a rotated refresh token comes back (actions/grants/refresh_token.js). */
const REFRESH_TOKEN_REUSE = 'refresh token already used';
/** oidc-provider's default clock tolerance, stated so that the adapter's expiry margin matches it. */
const CLOCK_TOLERANCE_SECONDS = 15;

/** Koa context members oidc-provider's declarations leave out. */
interface KoaContext extends ProviderContext {
  respond: boolean;
}

interface EventContext {
  readonly oidc: { readonly client?: { readonly clientId: string }; readonly params?: { readonly grant_type?: string } };
}

interface TokenClaimsContext {
  readonly oidc: { readonly entities: Readonly<Record<string, { readonly acr?: string; readonly authTime?: number } | undefined>> };
}

/**
 * oidc-provider's default prompts, plus one: a request whose `acr_values` the provider session's `acr`
 * is not among asks the user to log in again (oidc-provider itself only does so for an essential `acr`
 * in the claims parameter). Just after a login it asks nothing more: the user chose how to sign in, and
 * the ID token says so.
 */
function stepUpPolicy() {
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login')?.checks.add(
    new Check('acr_values_not_met', 'a requested authentication level could not be obtained', (ctx) => {
      const requested = ctx.oidc.params.acr_values;
      if (typeof requested !== 'string' || !ctx.oidc.session.accountId || ctx.oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      return requested.split(' ').includes(ctx.oidc.acr ?? '') ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

interface GrantContext {
  readonly oidc: { readonly grant?: Grant; readonly route?: string };
}

/**
 * A real OpenID Provider (oidc-provider 9) on plain http at 127.0.0.1, with its own login page and
 * automatic consent for the configured (first-party) clients. Plain http on loopback needs nothing
 * special: there is no TLS-offloading proxy to trust (`proxy` stays off), and oidc-provider marks its
 * cookies Secure only when the request is https.
 */
export async function startIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider> {
  const server = createServer();
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  const signingKey: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };

  const users = options.users ?? DEMO_USERS;
  const resources = options.resources ?? {};
  const indicators = Object.keys(resources);
  const defaultResource = options.defaultResource === null ? undefined : (options.defaultResource ?? indicators[0]);
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 300;
  const knownScopes = new Set([...OIDC_SCOPES, ...(options.scopes ?? [])]);
  const cookiePrefix = options.cookiePrefix ?? '';
  const offlineAccessGranted = (ctx: GrantContext) => ctx.oidc.grant?.getOIDCScope().split(' ').includes('offline_access') ?? false;

  const resourceServerInfo = (indicator: string) => {
    const resource = resources[indicator];
    if (!resource) throw new errors.InvalidTarget();
    return {
      scope: resource.scope,
      audience: indicator,
      accessTokenFormat: 'jwt',
      accessTokenTTL: accessTokenTtl,
      jwt: { sign: { alg: 'RS256' } },
    };
  };
  const dpop = { enabled: options.dpop?.enabled ?? true, requireNonce: options.dpop?.requireNonce ?? false };

  let provider: Provider;
  try {
    provider = new Provider(issuer, {
      clients: options.clients.map((client) => ({
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE_GRANT],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        // Logout tokens name the session (`sid`), as ID tokens do.
        backchannel_logout_session_required: true,
        ...client,
      })),
      // Without `alg`, the RSA key signs RS256 and PS256 alike (a client chooses by id_token_signed_response_alg).
      jwks: { keys: [options.idTokenSigningAlg === 'PS256' ? { ...signingKey, alg: undefined } : signingKey] },
      cookies: {
        keys: [randomBytes(32).toString('base64url')],
        names: {
          session: `${cookiePrefix}_session`,
          interaction: `${cookiePrefix}_interaction`,
          resume: `${cookiePrefix}_interaction_resume`,
        },
      },
      scopes: [...knownScopes],
      // In memory on purpose: the demo and test provider lives as long as its process and serves one
      // gateway. Naming oidc-provider's own memory adapter (one store per provider) chooses it
      // explicitly, which is what its "development-only in-memory adapter" warning asks for.
      adapter: createMemoryAdapter(CLOCK_TOLERANCE_SECONDS),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      findAccount: (_ctx: unknown, sub: string) => {
        const user = users.find((candidate) => candidate.sub === sub);
        return (
          user && {
            accountId: sub,
            claims: (use: string) => ({
              sub,
              name: user.name,
              email: user.email,
              email_verified: true,
              ...user.claims,
              ...(use === 'userinfo' ? user.userinfoClaims : undefined),
            }),
          }
        );
      },
      claims: { ...AUTHENTICATION_CLAIMS, ...claimsOf(users) },
      acrValues: [...ACR_VALUES],
      interactions: { policy: stepUpPolicy() },
      // A user's extra claims (groups, roles) in their JWT access tokens too, as Keycloak puts realm roles there;
      // and the login's acr and auth_time, so that an API can ask for a step-up itself.
      extraTokenClaims: (ctx: TokenClaimsContext, token: { accountId?: string }) => {
        const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
        const authentication = source?.acr === undefined ? {} : { acr: source.acr, auth_time: source.authTime };
        return { ...users.find((user) => user.sub === token.accountId)?.claims, ...authentication };
      },
      // Profile and email claims go into the ID token too (the gateway reads them from there, not from userinfo).
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      // The login interaction always grants offline_access (see login.interaction.ts); oidc-provider's
      // default would look for it in the request, where it only survives with prompt=consent.
      issueRefreshToken: (ctx: GrantContext, client: { grantTypeAllowed(type: string): boolean }) =>
        client.grantTypeAllowed('refresh_token') && offlineAccessGranted(ctx),
      expiresWithSession: (ctx: GrantContext) => !offlineAccessGranted(ctx),
      rotateRefreshToken: options.rotateRefreshToken ?? true,
      ttl: {
        AccessToken: accessTokenTtl,
        ClientCredentials: accessTokenTtl,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 24 * 3600,
        Interaction: 600,
        Session: 24 * 3600,
        Grant: 24 * 3600,
      },
      features: {
        devInteractions: { enabled: false },
        revocation: { enabled: true },
        introspection: { enabled: options.introspection ?? false },
        clientCredentials: { enabled: true },
        dPoP: {
          enabled: dpop.enabled,
          // Nonces need a secret to derive them from; without requireNonce none is ever asked for.
          ...(dpop.requireNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
        },
        backchannelLogout: { enabled: true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx: ProviderContext, form: string) => {
            ctx.type = 'html';
            ctx.body = logoutPage(form);
          },
          postLogoutSuccessSource: (ctx: ProviderContext) => {
            ctx.type = 'html';
            ctx.body = messagePage('Signed out', 'You have signed out of the demo identity provider.');
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: (ctx: GrantContext, _client: unknown, oneOf?: string[]) => {
            if (oneOf) return defaultResource && oneOf.includes(defaultResource) ? defaultResource : oneOf[0];
            // An authorization covers every API, so that a later refresh-token request may name any of
            // them (RFC 8707 §2.2); a token request (client credentials) gets the default one.
            return ctx.oidc.route === 'token' || indicators.length === 0 ? defaultResource : indicators;
          },
          // The code's resource applies at the token endpoint even though `openid` was requested
          // (unless there is no default resource: the login's token is then for userinfo).
          useGrantedResource: () => options.defaultResource !== null,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => resourceServerInfo(indicator),
        },
      },
      // oidc-provider refuses outbound requests (back-channel logout) to loopback and private addresses
      // by giving fetch an SSRF-guarding dispatcher; the demo's clients all live on loopback.
      fetch: (url: string, init: RequestInit) => fetch(url, { ...init, dispatcher: undefined } as RequestInit),
    });
  } catch (error) {
    server.close();
    throw error;
  }

  const events: ProviderEvent[] = [];
  let stopped: Promise<void> | undefined;
  /** The last DPoP-Nonce oidc-provider sent, for the `use_dpop_nonce` fault. */
  let latestDpopNonce: string | undefined;
  const handle: IdentityProvider = {
    issuer,
    port,
    jwksUri: `${issuer}/jwks`,
    signingKey,
    jwks,
    events,
    onTokenResponse: undefined,
    onUserinfoResponse: undefined,
    tokenEndpointFault: undefined,
    tokenRequests: [],
    refreshTokenReuseDetected: () => events.some((event) => event.name === 'grant.error' && event.detail === REFRESH_TOKEN_REUSE),
    grantCount: (grantType) => events.filter((event) => event.name === 'grant.success' && event.grantType === grantType).length,
    stop() {
      // Idempotent: tests stop the provider mid-test to simulate an outage, then tear everything down.
      // Closing every connection, active ones included, is what ends hanging and delayed token requests.
      stopped ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return stopped;
    },
  };

  // Ahead of oidc-provider's router, so that a faulted request never reaches the token endpoint.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token') return next();
    const at = Date.now();
    const gone = new AbortController();
    ctx.res.once('close', () => gone.abort());
    const form = await peekForm(ctx.req);
    const resources = form?.getAll('resource') ?? [];
    const scope = form?.get('scope');
    const audience = form?.get('audience');
    const subjectTokenType = form?.get('subject_token_type');
    handle.tokenRequests.push({
      grantType: form?.get('grant_type') ?? '',
      ...(resources.length > 0 ? { resource: resources.join(' ') } : {}),
      ...(scope != null ? { scope } : {}),
      ...(audience != null ? { audience } : {}),
      ...(subjectTokenType != null ? { subjectTokenType } : {}),
      clientAuthentication: clientAuthentication(ctx.req.headers.authorization ?? '', form),
      ...(ctx.req.headers.dpop !== undefined ? { dpop: true as const } : {}),
      ...(typeof ctx.req.headers.traceparent === 'string' ? { traceparent: ctx.req.headers.traceparent } : {}),
      at,
    });

    const fault = handle.tokenEndpointFault;
    if (!fault || (fault.grantType !== undefined && fault.grantType !== form?.get('grant_type'))) return next();
    switch (fault.kind) {
      case 'use_dpop_nonce':
        handle.tokenEndpointFault = undefined;
        ctx.status = 400;
        ctx.res.setHeader('cache-control', 'no-store');
        if (latestDpopNonce) ctx.res.setHeader('dpop-nonce', latestDpopNonce);
        ctx.body = { error: 'use_dpop_nonce', error_description: 'injected: the DPoP nonce changed' };
        return;
      case 'status':
        ctx.status = fault.status;
        ctx.res.setHeader('cache-control', 'no-store');
        if (fault.body === 'html') {
          ctx.type = 'html';
          ctx.body = `<!DOCTYPE html>\n<html><head><title>${fault.status} Error</title></head><body><h1>${fault.status} Error</h1></body></html>\n`;
        } else {
          const error =
            fault.error ?? (fault.status === 503 ? 'temporarily_unavailable' : fault.status >= 500 ? 'server_error' : 'invalid_request');
          ctx.body = { error, error_description: fault.description ?? 'injected token endpoint fault' };
        }
        return;
      case 'hang':
        (ctx as KoaContext).respond = false;
        if (!gone.signal.aborted) await once(gone.signal, 'abort');
        return;
      case 'delay':
        try {
          await sleep(fault.ms, undefined, { signal: gone.signal });
        } catch {
          // The client or stop() closed the connection: there is nobody to answer.
          (ctx as KoaContext).respond = false;
          return;
        }
        return next();
    }
  });

  provider.use(async (ctx, next) => {
    await next();
    const nonce = ctx.res.getHeader('dpop-nonce');
    if (typeof nonce === 'string') latestDpopNonce = nonce;
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && handle.onTokenResponse) {
      const body = { ...(ctx.body as Record<string, unknown>) };
      ctx.body = handle.onTokenResponse(body) ?? body;
    }
    if (ctx.oidc?.route === 'userinfo' && ctx.status === 200 && handle.onUserinfoResponse) {
      const body = { ...(ctx.body as Record<string, unknown>) };
      ctx.body = handle.onUserinfoResponse(body) ?? body;
    }
  });
  provider.use(loginInteraction(provider, users, { oidcScopes: knownScopes, resources, consent: options.consent ?? false }));

  // oidc-provider puts `sid` into ID tokens only for clients registered for back-channel logout; the
  // gateway keys its sessions by it for every client.
  provider.Client.prototype.includeSid = () => true;

  const about = (ctx: EventContext) => ({ clientId: ctx.oidc.client?.clientId, grantType: ctx.oidc.params?.grant_type });
  for (const name of CONTEXT_EVENTS) {
    provider.on(name, (ctx: EventContext) => events.push({ name, ...about(ctx) }));
  }
  provider.on('grant.error', (ctx: EventContext, error: ProviderError) =>
    events.push({ name: 'grant.error', ...about(ctx), error: error.error, detail: error.error_detail ?? error.error_description }),
  );
  for (const name of ['refresh_token.consumed', 'refresh_token.destroyed']) {
    provider.on(name, (token: { clientId: string }) => events.push({ name, clientId: token.clientId }));
  }
  provider.on('backchannel.success', (_ctx: unknown, client: { clientId: string }, _accountId: string, sid: string) =>
    events.push({ name: 'backchannel.success', clientId: client.clientId, sid }),
  );
  provider.on('backchannel.error', (_ctx: unknown, error: Error, client: { clientId: string }, _accountId: string, sid: string) =>
    events.push({ name: 'backchannel.error', clientId: client.clientId, sid, detail: error.message }),
  );
  provider.on('server_error', (_ctx: unknown, error: Error) => events.push({ name: 'server_error', detail: error.message }));

  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    tokenExchangeGrant(provider, {
      jwks,
      resourceServer: resourceServerInfo,
      accountExists: (sub) => users.some((user) => user.sub === sub),
    }),
    TOKEN_EXCHANGE_PARAMETERS,
  );

  server.on('request', provider.callback());
  return handle;
}

/**
 * The form parameters of a urlencoded request body, read without consuming it: the bytes go back into
 * the stream (`unshift`) before it ends, so oidc-provider's own body parser reads them as if nobody had
 * looked. (Handing it a pre-parsed `req.body` instead works too, but it warns and takes a fallback path.)
 * Undefined for another content type, a body over oidc-provider's limit, or a client that went away.
 */
async function peekForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!request.headers['content-type']?.toLowerCase().startsWith('application/x-www-form-urlencoded')) return undefined;
  const body = await peekBody(request);
  return body && new URLSearchParams(body.toString('utf8'));
}

function peekBody(request: IncomingMessage): Promise<Buffer | undefined> {
  // Nothing (left) to read: waiting for data would only make the stream end under oidc-provider's feet.
  if (request.headers['content-length'] === '0' || (request.complete && request.readableLength === 0)) {
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (whole: boolean) => {
      request.off('readable', onReadable);
      request.off('close', onClose);
      const body = Buffer.concat(chunks, size);
      // Synchronously, within the handler that read the last bytes: a stream that has seen its end
      // only emits 'end' once its buffer is empty, so putting them back now keeps it readable.
      if (size > 0) request.unshift(body);
      resolve(whole ? body : undefined);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = request.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        size += chunk.length;
        if (size > BODY_LIMIT) return settle(false);
      }
      // `complete`: the HTTP parser has seen the end of the message, so every byte has been read.
      if (request.complete) settle(true);
    };
    const onClose = () => settle(false);
    request.on('readable', onReadable);
    request.on('close', onClose);
  });
}

function clientAuthentication(authorization: string, form: URLSearchParams | undefined): TokenRequest['clientAuthentication'] {
  if (/^basic /i.test(authorization)) return 'basic';
  if (form?.has('client_assertion')) return 'assertion';
  return form?.has('client_secret') ? 'post' : 'none';
}
