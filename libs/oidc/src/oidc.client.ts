import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { importJWK, type JWK } from 'jose';
import * as client from 'openid-client';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig, isLoopback } from '#sessiongate/config';
import { LOGGER } from '#sessiongate/observability';
import { classifyIdpFailure, describeIdpFailure } from './idp-failure.js';
import type { IssuedTokens } from './issued-tokens.js';
import { OidcError, OidcErrorCode } from './oidc.errors.js';

/** Seconds any single request to the provider may take. */
const IDP_TIMEOUT_SECONDS = 5;
/** An ID token issued further in the future than this is refused (clock skew allowance). */
const IAT_FUTURE_TOLERANCE_SECONDS = 60;

export interface AuthorizationRequest {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface ExpectedSubject {
  readonly sub: string;
  readonly iss: string;
}

/**
 * The gateway's only door to the OpenID Provider (openid-client 6). ID token signatures are
 * checked on every token response (openid-client skips that by default), the algorithm is pinned,
 * and a refreshed ID token must name the same subject as the session.
 */
@Injectable()
export class OidcClient implements OnModuleInit {
  private configuration!: client.Configuration;
  private usePar = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const { issuer, clientId, idTokenSigningAlg, allowInsecureHttp, maxAgeSeconds } = this.config.oidc;
    if (issuer.protocol === 'http:' && !isLoopback(issuer)) {
      this.logger.warn({ issuer: issuer.href }, 'OIDC_ALLOW_INSECURE_HTTP=true: talking to the provider over plain http');
    }
    const execute = [client.enableNonRepudiationChecks, ...(allowInsecureHttp ? [client.allowInsecureRequests] : [])];
    const metadata: Partial<client.ClientMetadata> = { id_token_signed_response_alg: idTokenSigningAlg };
    if (maxAgeSeconds !== undefined) metadata.default_max_age = maxAgeSeconds;
    try {
      // discovery() refuses a document whose `issuer` is not exactly OIDC_ISSUER.
      this.configuration = await client.discovery(issuer, clientId, metadata, await this.clientAuthentication(), {
        execute,
        timeout: IDP_TIMEOUT_SECONDS,
      });
    } catch (error) {
      throw new Error(`OIDC_ISSUER: discovery of ${issuer.href} failed: ${describeIdpFailure(error)}`);
    }
    const server = this.configuration.serverMetadata();
    this.usePar = this.config.oidc.usePar && server.pushed_authorization_request_endpoint !== undefined;
    if (server.require_pushed_authorization_requests && !this.usePar) {
      throw new Error('OIDC_USE_PAR: the provider requires pushed authorization requests; set OIDC_USE_PAR=true');
    }
  }

  private async clientAuthentication(): Promise<client.ClientAuth> {
    const { credentials } = this.config.oidc;
    switch (credentials.method) {
      case 'client_secret_basic':
        return client.ClientSecretBasic(credentials.secret);
      case 'client_secret_post':
        return client.ClientSecretPost(credentials.secret);
      case 'private_key_jwt': {
        const jwk = credentials.privateKey as JWK & { kid: string };
        const key = await importJWK(jwk, jwk.alg ?? 'RS256');
        if (key instanceof Uint8Array) throw new Error('OIDC_CLIENT_PRIVATE_KEY: must be an asymmetric private key');
        return client.PrivateKeyJwt({ key, kid: jwk.kid });
      }
    }
  }

  get issuer(): string {
    return this.configuration.serverMetadata().issuer;
  }

  /** Whether discovery has loaded the provider's metadata (readiness). */
  get ready(): boolean {
    return this.configuration !== undefined;
  }

  /** The provider's discovered `jwks_uri`: the keys its ID, access and logout tokens are signed with. */
  get jwksUri(): string | undefined {
    return this.configuration.serverMetadata().jwks_uri;
  }

  /** The authorization request, by PAR (RFC 9126) when the provider offers it and OIDC_USE_PAR allows it. */
  async authorizationUrl(request: AuthorizationRequest): Promise<URL> {
    const parameters: Record<string, string> = {
      redirect_uri: this.config.oidc.redirectUri.href,
      scope: this.config.oidc.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
      state: request.state,
      nonce: request.nonce,
    };
    if (this.config.oidc.maxAgeSeconds !== undefined) parameters.max_age = String(this.config.oidc.maxAgeSeconds);
    if (!this.usePar) return client.buildAuthorizationUrl(this.configuration, parameters);
    try {
      return await client.buildAuthorizationUrlWithPAR(this.configuration, parameters);
    } catch (error) {
      throw this.loginFailure(error);
    }
  }

  /**
   * Checks the authorization response before anything else: `iss` (RFC 9207, when the provider
   * advertises it) and an `error=` answer. The caller has already matched `state`.
   */
  checkAuthorizationResponse(parameters: URLSearchParams): void {
    const metadata = this.configuration.serverMetadata();
    if (metadata.authorization_response_iss_parameter_supported && parameters.get('iss') !== metadata.issuer) {
      throw new OidcError(OidcErrorCode.InvalidState, 'The login response did not come from the expected provider.', {
        detail: 'iss response parameter missing or different (RFC 9207)',
      });
    }
    const error = parameters.get('error');
    if (error !== null) {
      throw new OidcError(OidcErrorCode.IdpError, 'The identity provider did not complete the login.', { detail: `error=${error}` });
    }
  }

  async exchangeCode(parameters: URLSearchParams, request: AuthorizationRequest): Promise<IssuedTokens> {
    const callbackUrl = new URL(this.config.oidc.redirectUri);
    callbackUrl.search = parameters.toString();
    try {
      const response = await client.authorizationCodeGrant(this.configuration, callbackUrl, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
      return this.issuedTokens(response);
    } catch (error) {
      throw this.loginFailure(error);
    }
  }

  /** Refresh-token grant; `parameters` may carry `resource` (RFC 8707) or `scope`. */
  async refresh(refreshToken: string, expected: ExpectedSubject, parameters: Record<string, string> = {}): Promise<IssuedTokens> {
    let tokens: IssuedTokens;
    try {
      tokens = this.issuedTokens(await client.refreshTokenGrant(this.configuration, refreshToken, parameters));
    } catch (error) {
      throw this.refreshFailure(error);
    }
    // openid-client does not compare a refreshed ID token's subject with the original (OIDC Core §12.2).
    if (tokens.claims && (tokens.claims.sub !== expected.sub || tokens.claims.iss !== expected.iss)) {
      if (tokens.refreshToken) await this.revoke(tokens.refreshToken);
      throw new OidcError(OidcErrorCode.RefreshRejected, 'Your session has ended. Log in again.', {
        detail: 'refreshed ID token names another subject or issuer',
      });
    }
    return tokens;
  }

  /** Client-credentials grant: a token for the gateway itself (routes in `client` mode). */
  async clientCredentials(parameters: Record<string, string> = {}): Promise<IssuedTokens> {
    try {
      return this.issuedTokens(await client.clientCredentialsGrant(this.configuration, parameters));
    } catch (error) {
      if (error instanceof OidcError) throw error;
      // Down or refusing, it is the operator's problem, not the user's: no session is at stake.
      throw new OidcError(OidcErrorCode.IdpUnavailable, 'The identity provider did not give the gateway a token for this API.', {
        detail: describeIdpFailure(error),
        headers: { 'retry-after': '5' },
      });
    }
  }

  /** RFC 7009 revocation, best effort: a failure is logged, never thrown (logout must still complete). */
  async revoke(refreshToken: string): Promise<void> {
    if (!this.configuration.serverMetadata().revocation_endpoint) return;
    try {
      await client.tokenRevocation(this.configuration, refreshToken, { token_type_hint: 'refresh_token' });
    } catch (error) {
      this.logger.warn({ failure: describeIdpFailure(error) }, 'refresh token revocation failed');
    }
  }

  /** RP-initiated logout URL, or undefined when the provider has no end_session_endpoint. */
  endSessionUrl(idTokenHint: string): URL | undefined {
    if (!this.configuration.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(this.configuration, {
      id_token_hint: idTokenHint,
      post_logout_redirect_uri: this.config.oidc.postLogoutRedirectUri.href,
    });
  }

  private issuedTokens(response: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): IssuedTokens {
    const now = Date.now();
    const claims = response.claims();
    if (claims) this.checkIdTokenClaims(claims, now);
    if (typeof response.expires_in !== 'number') {
      throw new OidcError(OidcErrorCode.InvalidIdToken, 'The identity provider sent an invalid token response.', { detail: 'no expires_in' });
    }
    const refreshExpiresIn = (response as { refresh_expires_in?: unknown }).refresh_expires_in;
    return {
      accessToken: response.access_token,
      accessTokenExpiresAt: now + response.expires_in * 1000,
      refreshToken: response.refresh_token,
      refreshTokenExpiresAt: typeof refreshExpiresIn === 'number' && refreshExpiresIn > 0 ? now + refreshExpiresIn * 1000 : undefined,
      idToken: response.id_token,
      claims: claims ? { ...claims } : undefined,
    };
  }

  /** Checks openid-client leaves out: `iat` sanity, and `azp` even when `aud` is a single value (OIDC Core §3.1.3.7). */
  private checkIdTokenClaims(claims: client.IDToken, now: number): void {
    const invalid = (detail: string) => new OidcError(OidcErrorCode.InvalidIdToken, 'The identity provider sent an invalid ID token.', { detail });
    if (claims.iat > now / 1000 + IAT_FUTURE_TOLERANCE_SECONDS) throw invalid('iat in the future');
    if (claims.azp !== undefined && claims.azp !== this.config.oidc.clientId) throw invalid('azp is another client');
  }

  private loginFailure(error: unknown): OidcError {
    if (error instanceof OidcError) return error;
    const detail = describeIdpFailure(error);
    switch (classifyIdpFailure(error)) {
      case 'unavailable':
        return new OidcError(OidcErrorCode.IdpUnavailable, 'The identity provider is not reachable. Try again shortly.', { detail, headers: { 'retry-after': '5' } });
      case 'invalid_grant':
      case 'rejected':
        return new OidcError(OidcErrorCode.TokenExchangeFailed, 'The login could not be completed. Try again.', { detail });
      default:
        return new OidcError(OidcErrorCode.InvalidIdToken, 'The identity provider sent an invalid ID token.', { detail });
    }
  }

  private refreshFailure(error: unknown): OidcError {
    if (error instanceof OidcError) return error;
    const detail = describeIdpFailure(error);
    switch (classifyIdpFailure(error)) {
      case 'invalid_grant':
      case 'invalid_response':
        return new OidcError(OidcErrorCode.RefreshRejected, 'Your session has ended. Log in again.', { detail });
      default:
        return new OidcError(OidcErrorCode.IdpUnavailable, 'The identity provider is not reachable. Try again shortly.', { detail, headers: { 'retry-after': '5' } });
    }
  }
}
