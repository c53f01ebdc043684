import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { importJWK, type JWK } from 'jose';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { type ClientCredentials, FAPI2_ALGORITHMS, GATEWAY_CONFIG, type GatewayConfig, isLoopback } from '#sessiongate/config';
import { DpopNonceCache, dpopKeyOf, type StoredDpopKey } from '#sessiongate/dpop';
import { LOGGER, Telemetry } from '#sessiongate/observability';
import { classifyIdpFailure, describeIdpFailure, isTransientDiscoveryFailure } from './idp-failure.js';
import type { IssuedTokens } from './issued-tokens.js';
import { OidcError, OidcErrorCode } from './oidc.errors.js';
import { retryDelay } from './retry-backoff.js';

/** Seconds any single request to the provider may take. */
const IDP_TIMEOUT_SECONDS = 5;
/** An ID token issued further in the future than this is refused (clock skew allowance). */
const IAT_FUTURE_TOLERANCE_SECONDS = 60;

export interface AuthorizationRequest {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The DPoP key of the session to be: the code is bound to it (RFC 9449 §10), and so are its tokens. */
  readonly dpopKey?: StoredDpopKey;
  /** Another of the client's registered redirect URIs than `/bff/callback` (the admin console's); sent again with the code. */
  readonly redirectUri?: URL;
  /** Other scopes than OIDC_SCOPES. */
  readonly scope?: string;
}

/** RFC 8693 §3: what the subject token of an exchange is. */
export type SubjectTokenType = 'access_token' | 'id_token';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPE_URN = 'urn:ietf:params:oauth:token-type:';

export interface ExpectedSubject {
  readonly sub: string;
  readonly iss: string;
}

/** Where discovery stands: `failed` is for good (a setting is wrong), `pending` is retried in the background. */
export type ProviderStatus =
  | { readonly state: 'ready' }
  | { readonly state: 'pending'; readonly attempts: number; readonly retryAt: number }
  | { readonly state: 'failed'; readonly problem: string };

/** The provider answered, but nothing it could answer later will do: the message names the setting to fix. */
class ProviderRefused extends Error {}

/**
 * The gateway's only door to the OpenID Provider (openid-client 6). ID token signatures are
 * checked on every token response (openid-client skips that by default), the algorithm is pinned,
 * and a refreshed ID token must name the same subject as the session.
 */
@Injectable()
export class OidcClient implements OnModuleInit, OnModuleDestroy {
  private configuration: client.Configuration | undefined;
  private usePar = false;
  private discoveryStatus: ProviderStatus = { state: 'pending', attempts: 0, retryAt: Date.now() };
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The latest DPoP-Nonce the provider sent (RFC 9449 §8), by origin, for the next proof to carry. */
  private readonly dpopNonces = new DpopNonceCache();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: Pick<GatewayConfig, 'oidc' | 'tracing'>,
    @Inject(LOGGER) private readonly logger: Logger,
    // Absent in the CLI, which traces nothing.
    @Optional() private readonly telemetry?: Telemetry,
  ) {}

  /**
   * Discovers the provider before the gateway serves, when it can. A provider that is down or
   * answering 5xx does not stop the start: discovery is retried in the background (RETRY_MIN_MS to
   * RETRY_MAX_MS), and meanwhile what needs the provider answers 503 `idp_unavailable`. A provider
   * that answers something no retry can fix (another issuer, a 404) stops the start, naming the setting.
   */
  async onModuleInit(): Promise<void> {
    const { issuer } = this.config.oidc;
    if (issuer.protocol === 'http:' && !isLoopback(issuer)) {
      this.logger.warn({ issuer: issuer.href }, 'OIDC_ALLOW_INSECURE_HTTP=true: talking to the provider over plain http');
    }
    const clientAuthentication = await this.clientAuthentication();
    await this.attempt(clientAuthentication);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  /** Whether the provider's metadata and keys are loaded (readiness). */
  get ready(): boolean {
    return this.configuration !== undefined;
  }

  get status(): ProviderStatus {
    return this.discoveryStatus;
  }

  /** One discovery and key load; on a transient failure the next one is scheduled, on a refusal this throws. */
  private async attempt(clientAuthentication: client.ClientAuth): Promise<void> {
    const attempts = this.discoveryStatus.state === 'pending' ? this.discoveryStatus.attempts + 1 : 1;
    try {
      const configuration = await this.discover(clientAuthentication);
      await this.loadKeys(configuration);
      this.configuration = configuration;
      this.discoveryStatus = { state: 'ready' };
      if (attempts > 1) this.logger.info({ attempts }, 'provider discovered: login is available');
    } catch (error) {
      if (error instanceof ProviderRefused) {
        this.discoveryStatus = { state: 'failed', problem: error.message };
        throw error;
      }
      const delayMs = retryDelay(attempts);
      this.discoveryStatus = { state: 'pending', attempts, retryAt: Date.now() + delayMs };
      this.logger.warn(
        { attempt: attempts, retryInMs: delayMs, failure: (error as Error).message },
        'provider discovery failed: login answers 503 until it succeeds',
      );
      if (!this.stopped) this.retryTimer = setTimeout(() => void this.retry(clientAuthentication), delayMs).unref();
    }
  }

  private async retry(clientAuthentication: client.ClientAuth): Promise<void> {
    if (this.stopped) return;
    try {
      await this.attempt(clientAuthentication);
    } catch (error) {
      this.logger.error(
        { problem: (error as Error).message },
        'the provider refused the configuration: not retrying; fix the setting and restart',
      );
    }
  }

  private async discover(clientAuthentication: client.ClientAuth): Promise<client.Configuration> {
    const { issuer, clientId, idTokenSigningAlg, allowInsecureHttp, maxAgeSeconds } = this.config.oidc;
    const execute = [client.enableNonRepudiationChecks, ...(allowInsecureHttp ? [client.allowInsecureRequests] : [])];
    const traced = this.tracedFetch();
    const metadata: Partial<client.ClientMetadata> = { id_token_signed_response_alg: idTokenSigningAlg };
    if (maxAgeSeconds !== undefined) metadata.default_max_age = maxAgeSeconds;
    let configuration: client.Configuration;
    try {
      // discovery() refuses a document whose `issuer` is not exactly OIDC_ISSUER.
      configuration = await client.discovery(issuer, clientId, metadata, clientAuthentication, {
        execute,
        timeout: IDP_TIMEOUT_SECONDS,
        ...(traced ? { [client.customFetch]: traced } : {}),
      });
    } catch (error) {
      const failure = `OIDC_ISSUER: discovery of ${issuer.href} failed: ${describeIdpFailure(error)}`;
      throw isTransientDiscoveryFailure(error) ? new Error(failure) : new ProviderRefused(failure);
    }
    const server = configuration.serverMetadata();
    this.usePar = this.config.oidc.usePar && server.pushed_authorization_request_endpoint !== undefined;
    if (server.require_pushed_authorization_requests && !this.usePar) {
      throw new ProviderRefused('OIDC_USE_PAR: the provider requires pushed authorization requests; set OIDC_USE_PAR=true');
    }
    if (this.config.oidc.fetchUserinfo && !server.userinfo_endpoint) {
      throw new ProviderRefused('OIDC_FETCH_USERINFO: the provider publishes no userinfo_endpoint; set OIDC_FETCH_USERINFO=false');
    }
    const problem = this.dpopProblem(server) ?? this.profileProblem(server);
    if (problem) throw new ProviderRefused(problem);
    if (this.config.oidc.dpop === 'optional' && server.dpop_signing_alg_values_supported === undefined) {
      this.logger.warn('OIDC_DPOP=optional: the provider does not advertise DPoP; its tokens will be Bearer tokens');
    }
    // Every provider response passes here, so that the DPoP-Nonce it sends is the one the next proof carries
    // (wrapping the traced fetch when tracing is on).
    const send: client.CustomFetch = traced ?? ((url, options) => fetch(url, options as RequestInit));
    configuration[client.customFetch] = async (url, options) => {
      const response = await send(url, options);
      const nonce = response.headers.get('dpop-nonce');
      if (nonce) this.dpopNonces.remember(new URL(url).origin, nonce);
      return response;
    };
    return configuration;
  }

  /** OIDC_DPOP=true (or the FAPI 2.0 profile) needs a provider that says it takes DPoP proofs, with our key's algorithm. */
  private dpopProblem(server: client.ServerMetadata): string | undefined {
    const { dpop, dpopAlg } = this.config.oidc;
    if (dpop !== 'true') return undefined;
    const algorithms = server.dpop_signing_alg_values_supported;
    if (algorithms === undefined) {
      return 'OIDC_DPOP: the provider does not advertise DPoP (its discovery document lacks dpop_signing_alg_values_supported), so its tokens would be Bearer tokens; set OIDC_DPOP=optional to accept that, or false';
    }
    return algorithms.includes(dpopAlg)
      ? undefined
      : `OIDC_DPOP_ALG: the provider takes DPoP proofs signed with ${algorithms.join(', ')}, not ${dpopAlg}`;
  }

  /** What SECURITY_PROFILE=fapi2 needs of the provider itself (FAPI 2.0 Security Profile, authorization server requirements). */
  private profileProblem(server: client.ServerMetadata): string | undefined {
    if (this.config.oidc.securityProfile !== 'fapi2') return undefined;
    if (server.pushed_authorization_request_endpoint === undefined)
      return 'SECURITY_PROFILE=fapi2: the provider offers no pushed_authorization_request_endpoint (FAPI 2.0: PAR is required)';
    if (server.authorization_response_iss_parameter_supported !== true)
      return 'SECURITY_PROFILE=fapi2: the provider does not advertise authorization_response_iss_parameter_supported (FAPI 2.0, RFC 9207)';
    const methods = server.code_challenge_methods_supported;
    if (methods !== undefined && !methods.includes('S256'))
      return 'SECURITY_PROFILE=fapi2: the provider does not support PKCE S256 (FAPI 2.0)';
    const algorithms = server.id_token_signing_alg_values_supported;
    if (algorithms !== undefined && !algorithms.some((alg) => FAPI2_ALGORITHMS.includes(alg)))
      return `SECURITY_PROFILE=fapi2: the provider signs ID tokens with none of ${FAPI2_ALGORITHMS.join(', ')} (FAPI 2.0)`;
    return undefined;
  }

  /**
   * openid-client's DPoP handle for one token request with a session's key, told the nonce the
   * provider last asked for (it retries once by itself, inside the same call, when the provider
   * asks for another: under the same refresh lock as the request it retries).
   */
  private async dpopHandle(key: StoredDpopKey | undefined): Promise<client.DPoPHandle | undefined> {
    if (key === undefined) return undefined;
    const configuration = this.discovered();
    const handle = client.getDPoPHandle(configuration, await dpopKeyOf(key).cryptoKeyPair());
    // cacheNonce is oauth4webapi's own way in (what it calls on each response); its type leaves it out.
    const cache = (handle as unknown as { cacheNonce?: (response: Response, url: URL) => void }).cacheNonce;
    const server = configuration.serverMetadata();
    for (const endpoint of [server.token_endpoint, server.pushed_authorization_request_endpoint]) {
      if (endpoint === undefined || typeof cache !== 'function') continue;
      const url = new URL(endpoint);
      const nonce = this.dpopNonces.get(url.origin);
      if (nonce) cache.call(handle, new Response(null, { headers: { 'dpop-nonce': nonce } }), url);
    }
    return handle;
  }

  /**
   * With tracing on, what the configuration sends the provider (token, PAR and revocation requests) carries
   * the current trace: the token request's span (see Telemetry.tokenRequest). Off, openid-client's own fetch.
   */
  private tracedFetch(): client.CustomFetch | undefined {
    const telemetry = this.telemetry;
    if (this.config.tracing === undefined || telemetry === undefined) return undefined;
    return (url, options) => {
      telemetry.propagate(options.headers);
      return fetch(url, options);
    };
  }

  /**
   * Fetches the provider's signing keys once, so that the first login need not, and so that a
   * provider whose keys cannot be fetched is not reported ready. openid-client refetches them itself
   * when they age or a new `kid` appears.
   */
  private async loadKeys(configuration: client.Configuration): Promise<void> {
    const uri = configuration.serverMetadata().jwks_uri;
    if (!uri) throw new ProviderRefused('OIDC_ISSUER: the provider publishes no jwks_uri, so ID token signatures cannot be checked');
    // The same rule openid-client applies when it fetches the keys itself.
    if (new URL(uri).protocol !== 'https:' && !this.config.oidc.allowInsecureHttp)
      throw new ProviderRefused('OIDC_ISSUER: the provider publishes its keys (jwks_uri) over plain http');
    let jwks: unknown;
    try {
      const response = await fetch(uri, {
        headers: { accept: 'application/json, application/jwk-set+json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(IDP_TIMEOUT_SECONDS * 1000),
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      jwks = await response.json();
    } catch (error) {
      throw new Error(`the provider's keys (jwks_uri) could not be fetched: ${describeIdpFailure(error)}`);
    }
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new Error("the provider's jwks_uri did not answer a JWK set");
    }
    client.setJwksCache(configuration, { jwks: jwks as client.JWKS, uat: Math.floor(Date.now() / 1000) });
  }

  /** The discovered configuration, or 503 `idp_unavailable` while discovery is still pending (or refused). */
  private discovered(): client.Configuration {
    if (this.configuration) return this.configuration;
    const status = this.discoveryStatus;
    throw new OidcError(OidcErrorCode.IdpUnavailable, {
      detail: status.state === 'failed' ? status.problem : 'provider discovery pending',
      retryAfterSeconds: status.state === 'pending' ? (status.retryAt - Date.now()) / 1000 : undefined,
    });
  }

  /** Throws 503 `idp_unavailable` (with Retry-After) unless the provider is discovered. */
  assertReady(): void {
    this.discovered();
  }

  private clientAuthentication(): Promise<client.ClientAuth> {
    return clientAuthentication(this.config.oidc.credentials, 'OIDC_CLIENT_PRIVATE_KEY');
  }

  get issuer(): string {
    return this.discovered().serverMetadata().issuer;
  }

  /** The provider's discovered `jwks_uri`: the keys its ID, access and logout tokens are signed with. */
  get jwksUri(): string | undefined {
    return this.discovered().serverMetadata().jwks_uri;
  }

  /** The authorization request, by PAR (RFC 9126) when the provider offers it and OIDC_USE_PAR allows it. */
  async authorizationUrl(request: AuthorizationRequest, extra: Readonly<Record<string, string>> = {}): Promise<URL> {
    const parameters: Record<string, string> = {
      // The SPA's allowlisted login parameters (prompt, acr_values, ...): never one of those the gateway sets below.
      ...extra,
      redirect_uri: (request.redirectUri ?? this.config.oidc.redirectUri).href,
      scope: request.scope ?? this.config.oidc.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
      state: request.state,
      nonce: request.nonce,
    };
    const maxAge = this.maxAgeFor(extra.max_age === undefined ? undefined : Number(extra.max_age));
    if (maxAge !== undefined) parameters.max_age = String(maxAge);
    const configuration = this.discovered();
    const query = withAuthorizationResources(parameters, this.config);
    // RFC 9449 §10: the code is bound to the key, by the PAR request's proof or, without PAR, by dpop_jkt.
    if (request.dpopKey !== undefined && !this.usePar) query.set('dpop_jkt', dpopKeyOf(request.dpopKey).thumbprint);
    if (!this.usePar) return client.buildAuthorizationUrl(configuration, query);
    try {
      return await client.buildAuthorizationUrlWithPAR(configuration, query, { DPoP: await this.dpopHandle(request.dpopKey) });
    } catch (error) {
      throw this.loginFailure(error);
    }
  }

  /**
   * Checks the authorization response before anything else: `iss` (RFC 9207, when the provider
   * advertises it) and an `error=` answer. The caller has already matched `state`.
   */
  checkAuthorizationResponse(parameters: URLSearchParams): void {
    const metadata = this.discovered().serverMetadata();
    // FAPI 2.0 (client requirements): required under the profile, whatever the provider advertises.
    const issRequired = metadata.authorization_response_iss_parameter_supported || this.config.oidc.securityProfile === 'fapi2';
    if (issRequired && parameters.get('iss') !== metadata.issuer) {
      throw new OidcError(OidcErrorCode.InvalidState, {
        variant: 'otherIssuer',
        detail: 'iss response parameter missing or different (RFC 9207)',
      });
    }
    const error = parameters.get('error');
    if (error !== null) {
      throw new OidcError(OidcErrorCode.IdpError, { detail: `error=${error}` });
    }
  }

  /** The `max_age` a login asks for: the stricter of OIDC_MAX_AGE and the login's own. */
  maxAgeFor(requested: number | undefined): number | undefined {
    const configured = this.config.oidc.maxAgeSeconds;
    if (requested === undefined) return configured;
    return configured === undefined ? requested : Math.min(configured, requested);
  }

  /** `maxAgeSeconds`: the login's own max_age, checked on `auth_time` besides OIDC_MAX_AGE. */
  async exchangeCode(parameters: URLSearchParams, request: AuthorizationRequest, maxAgeSeconds?: number): Promise<IssuedTokens> {
    const callbackUrl = new URL(request.redirectUri ?? this.config.oidc.redirectUri);
    callbackUrl.search = parameters.toString();
    try {
      const DPoP = await this.dpopHandle(request.dpopKey);
      const response = await client.authorizationCodeGrant(
        this.discovered(),
        callbackUrl,
        {
          pkceCodeVerifier: request.codeVerifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
          idTokenExpected: true,
          ...(maxAgeSeconds !== undefined ? { maxAge: this.maxAgeFor(maxAgeSeconds) } : {}),
        },
        undefined,
        { DPoP },
      );
      return this.issuedTokens(response, DPoP !== undefined);
    } catch (error) {
      throw this.loginFailure(error);
    }
  }

  /**
   * The userinfo claims of a login (OIDC_FETCH_USERINFO), or undefined when the gateway keeps none. OIDC
   * Core §5.3.4: a userinfo `sub` other than the ID token's means the response must not be used, so the
   * login fails. Fetched once, at login: a refresh keeps them (§12.2 asks nothing more of a refresh).
   */
  async userinfo(accessToken: string, sub: string): Promise<Readonly<Record<string, unknown>> | undefined> {
    if (!this.config.oidc.fetchUserinfo) return undefined;
    let claims: Record<string, unknown>;
    try {
      claims = { ...(await client.fetchUserInfo(this.discovered(), accessToken, client.skipSubjectCheck)) };
    } catch (error) {
      throw this.loginFailure(error);
    }
    if (claims.sub !== sub) {
      throw new OidcError(OidcErrorCode.InvalidIdToken, {
        variant: 'userinfoSubject',
        detail: 'userinfo names another sub than the ID token',
      });
    }
    return claims;
  }

  /**
   * Refresh-token grant; `parameters` may carry `resource` (RFC 8707) or `scope`. With `dpopKey`, the
   * request proves possession of it and the token must come back DPoP-bound (RFC 9449 §5).
   */
  async refresh(
    refreshToken: string,
    expected: ExpectedSubject,
    parameters: Record<string, string> = {},
    dpopKey?: StoredDpopKey,
  ): Promise<IssuedTokens> {
    let tokens: IssuedTokens;
    try {
      const DPoP = await this.dpopHandle(dpopKey);
      tokens = this.issuedTokens(await client.refreshTokenGrant(this.discovered(), refreshToken, parameters, { DPoP }), DPoP !== undefined);
    } catch (error) {
      throw this.refreshFailure(error);
    }
    // openid-client does not compare a refreshed ID token's subject with the original (OIDC Core §12.2).
    if (tokens.claims && (tokens.claims.sub !== expected.sub || tokens.claims.iss !== expected.iss)) {
      if (tokens.refreshToken) await this.revoke(tokens.refreshToken);
      throw new OidcError(OidcErrorCode.RefreshRejected, { detail: 'refreshed ID token names another subject or issuer' });
    }
    return tokens;
  }

  /** Client-credentials grant: a token for the gateway itself (routes in `client` mode). */
  async clientCredentials(parameters: Record<string, string> = {}, dpopKey?: StoredDpopKey): Promise<IssuedTokens> {
    try {
      const DPoP = await this.dpopHandle(dpopKey);
      return this.issuedTokens(await client.clientCredentialsGrant(this.discovered(), parameters, { DPoP }), DPoP !== undefined);
    } catch (error) {
      if (error instanceof OidcError) throw error;
      const detail = describeIdpFailure(error);
      if (classifyIdpFailure(error) === 'invalid_target') throw new OidcError(OidcErrorCode.ResourceRefused, { detail });
      // Down or refusing, it is the operator's problem, not the user's: no session is at stake.
      throw OidcError.idpUnavailable(detail);
    }
  }

  /**
   * Token exchange (RFC 8693): the user's `subjectToken` for an access token meant for the API that
   * `parameters` names (`resource` or `audience`, and `scope`). A refusal (`invalid_grant`,
   * `invalid_target`, ...) is 403 `exchange_refused`: the session is not at stake.
   */
  async exchangeToken(
    subjectToken: string,
    subjectTokenType: SubjectTokenType,
    parameters: Record<string, string>,
    dpopKey?: StoredDpopKey,
  ): Promise<IssuedTokens> {
    try {
      const DPoP = await this.dpopHandle(dpopKey);
      const response = await client.genericGrantRequest(
        this.discovered(),
        TOKEN_EXCHANGE,
        {
          ...parameters,
          subject_token: subjectToken,
          subject_token_type: `${TOKEN_TYPE_URN}${subjectTokenType}`,
          requested_token_type: `${TOKEN_TYPE_URN}access_token`,
        },
        { DPoP },
      );
      const issuedType = (response as { issued_token_type?: unknown }).issued_token_type;
      if (issuedType !== undefined && issuedType !== `${TOKEN_TYPE_URN}access_token`) {
        throw OidcError.idpUnavailable(`token exchange issued a ${String(issuedType)}, not an access token`);
      }
      return this.issuedTokens(response, DPoP !== undefined);
    } catch (error) {
      if (error instanceof OidcError) throw error;
      const detail = describeIdpFailure(error);
      const failure = classifyIdpFailure(error);
      if (failure === 'invalid_grant' || failure === 'invalid_target' || failure === 'rejected')
        throw new OidcError(OidcErrorCode.ExchangeRefused, { detail });
      throw OidcError.idpUnavailable(detail);
    }
  }

  /** RFC 7009 revocation, best effort: a failure is logged, never thrown (logout must still complete). */
  async revoke(refreshToken: string): Promise<void> {
    if (!this.configuration) {
      this.logger.warn('refresh token not revoked: the provider is not discovered yet');
      return;
    }
    if (!this.configuration.serverMetadata().revocation_endpoint) return;
    try {
      await client.tokenRevocation(this.configuration, refreshToken, { token_type_hint: 'refresh_token' });
    } catch (error) {
      this.logger.warn({ failure: describeIdpFailure(error) }, 'refresh token revocation failed');
    }
  }

  /**
   * RP-initiated logout URL, or undefined when the provider has no end_session_endpoint, or is not
   * discovered yet: logging out then ends the gateway's session only, which must always be possible.
   */
  endSessionUrl(idTokenHint: string): URL | undefined {
    if (!this.configuration?.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(this.configuration, {
      id_token_hint: idTokenHint,
      post_logout_redirect_uri: this.config.oidc.postLogoutRedirectUri.href,
    });
  }

  private issuedTokens(response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, proven: boolean): IssuedTokens {
    const now = Date.now();
    const tokenType = this.tokenType(response.token_type, proven);
    const claims = response.claims();
    if (claims) this.checkIdTokenClaims(claims, now);
    if (typeof response.expires_in !== 'number') {
      throw new OidcError(OidcErrorCode.InvalidIdToken, { variant: 'tokenResponse', detail: 'no expires_in' });
    }
    const refreshExpiresIn = (response as { refresh_expires_in?: unknown }).refresh_expires_in;
    return {
      accessToken: response.access_token,
      accessTokenExpiresAt: now + response.expires_in * 1000,
      scope: typeof response.scope === 'string' ? response.scope : undefined,
      refreshToken: response.refresh_token,
      refreshTokenExpiresAt: typeof refreshExpiresIn === 'number' && refreshExpiresIn > 0 ? now + refreshExpiresIn * 1000 : undefined,
      idToken: response.id_token,
      claims: claims ? { ...claims } : undefined,
      tokenType,
    };
  }

  /**
   * RFC 9449 §5: a provider that answers a proven request with a Bearer token ignores DPoP. That is
   * accepted only with OIDC_DPOP=optional; otherwise it is an error the operator sees, not a downgrade.
   */
  private tokenType(type: string | undefined, proven: boolean): 'DPoP' | 'Bearer' {
    if (type?.toLowerCase() === 'dpop') {
      if (!proven) throw OidcError.idpUnavailable('the provider issued a DPoP token to a request without a proof');
      return 'DPoP';
    }
    if (proven && this.config.oidc.dpop !== 'optional') {
      throw new OidcError(OidcErrorCode.DpopNotBound, {
        detail: `a DPoP-proven token request got token_type ${type ?? '(none)'}: the provider ignores DPoP; set OIDC_DPOP=optional to accept Bearer tokens`,
      });
    }
    return 'Bearer';
  }

  /** Checks openid-client leaves out: `iat` sanity, and `azp` even when `aud` is a single value (OIDC Core §3.1.3.7). */
  private checkIdTokenClaims(claims: client.IDToken, now: number): void {
    const invalid = (detail: string) => new OidcError(OidcErrorCode.InvalidIdToken, { detail });
    if (claims.iat > now / 1000 + IAT_FUTURE_TOLERANCE_SECONDS) throw invalid('iat in the future');
    if (claims.azp !== undefined && claims.azp !== this.config.oidc.clientId) throw invalid('azp is another client');
  }

  private loginFailure(error: unknown): OidcError {
    if (error instanceof OidcError) return error;
    const detail = describeIdpFailure(error);
    switch (classifyIdpFailure(error)) {
      case 'unavailable':
        return OidcError.idpUnavailable(detail);
      case 'invalid_target':
        return new OidcError(OidcErrorCode.ResourceRefused, { detail });
      case 'invalid_grant':
      case 'rejected':
        return new OidcError(OidcErrorCode.TokenExchangeFailed, { detail });
      default:
        return new OidcError(OidcErrorCode.InvalidIdToken, { detail });
    }
  }

  private refreshFailure(error: unknown): OidcError {
    if (error instanceof OidcError) return error;
    const detail = describeIdpFailure(error);
    switch (classifyIdpFailure(error)) {
      case 'invalid_grant':
      case 'invalid_response':
        return new OidcError(OidcErrorCode.RefreshRejected, { detail });
      // The refresh token is still good for the other APIs: the session is kept, and no Retry-After.
      case 'invalid_target':
        return new OidcError(OidcErrorCode.ResourceRefused, { detail });
      default:
        return OidcError.idpUnavailable(detail);
    }
  }
}

/** How a client proves itself at a token endpoint (openid-client's ClientAuth); `keySetting` names where a bad key came from. */
export async function clientAuthentication(credentials: ClientCredentials, keySetting: string): Promise<client.ClientAuth> {
  switch (credentials.method) {
    case 'client_secret_basic':
      return client.ClientSecretBasic(credentials.secret);
    case 'client_secret_post':
      return client.ClientSecretPost(credentials.secret);
    case 'private_key_jwt': {
      const jwk = credentials.privateKey as JWK & { kid: string };
      const key = await importJWK(jwk, jwk.alg ?? 'RS256');
      if (key instanceof Uint8Array) throw new Error(`${keySetting}: must be an asymmetric private key`);
      return client.PrivateKeyJwt({ key, kid: jwk.kid });
    }
  }
}

/** The authorization request's parameters, plus one RFC 8707 `resource` for each of OIDC_AUTHORIZATION_RESOURCES (§2: repeated). */
function withAuthorizationResources(parameters: Record<string, string>, config: Pick<GatewayConfig, 'oidc'>): URLSearchParams {
  const query = new URLSearchParams(parameters);
  for (const resource of config.oidc.authorizationResources) query.append('resource', resource);
  return query;
}
