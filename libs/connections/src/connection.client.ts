import * as client from 'openid-client';
import type { Logger } from 'pino';
import { type ConnectionConfig, isLoopback } from '#sessiongate/config';
import { classifyIdpFailure, clientAuthentication, describeIdpFailure, isTransientDiscoveryFailure } from '#sessiongate/oidc';
import { ConnectionError, ConnectionErrorCode } from './connection.errors.js';

/** Seconds any single request to a third-party provider may take. */
const PROVIDER_TIMEOUT_SECONDS = 5;
/** A discovery that failed for a transient reason is tried again on use, at most this often. */
const REDISCOVERY_INTERVAL_MS = 5000;

/** What a token endpoint answered, reduced to what a connection keeps. */
export interface IssuedGrant {
  readonly accessToken: string;
  readonly expiresAt: number | undefined;
  readonly refreshToken: string | undefined;
  readonly scopes: string;
}

/** Why a refresh did not give a new token: refused for good (drop the connection), or the provider is down (keep it). */
export class RefreshRefused extends Error {}

/** The provider answered discovery with something no retry can fix: the message names the setting. */
export class ConnectionMisconfigured extends Error {}

/**
 * A plain OAuth 2.0 client (openid-client 6, on oauth4webapi) for one connection's provider: the
 * authorization code flow with PKCE and `state`, refresh and RFC 7009 revocation. No ID token is asked
 * for (the configuration refuses `openid`): GitHub-style providers issue none, and the login is OIDC_*'s.
 */
export class ConnectionClient {
  private configuration: client.Configuration | undefined;
  private lastDiscovery = 0;
  private discovering: Promise<void> | undefined;

  constructor(
    readonly definition: ConnectionConfig,
    private readonly allowInsecureHttp: boolean,
    private readonly logger: Logger,
  ) {}

  /**
   * Builds the client from the configured endpoints, or discovers them from `issuer`: RFC 8414 first,
   * then OpenID Connect discovery. A provider that is down does not stop the start (the connection
   * answers 503 until it is found); one that answers nonsense throws ConnectionMisconfigured.
   */
  async prepare(): Promise<void> {
    try {
      await this.discover();
    } catch (error) {
      if (error instanceof ConnectionMisconfigured) throw error;
      this.logger.warn(
        { connection: this.definition.name, failure: describeIdpFailure(error) },
        'connection provider discovery failed: the connection answers 503 until it succeeds',
      );
    }
  }

  /** The authorization request the browser is sent to. */
  async authorizationUrl(state: string, codeVerifier: string): Promise<URL> {
    const parameters: Record<string, string> = {
      redirect_uri: this.definition.redirectUri.href,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    };
    if (this.definition.scopes !== '') parameters.scope = this.definition.scopes;
    return client.buildAuthorizationUrl(await this.configured(), parameters);
  }

  /** Exchanges the callback's code; the caller has matched `state` already, openid-client matches it (and RFC 9207 `iss`) again. */
  async exchangeCode(parameters: URLSearchParams, state: string, codeVerifier: string): Promise<IssuedGrant> {
    const configuration = await this.configured();
    const metadata = configuration.serverMetadata();
    if (metadata.authorization_response_iss_parameter_supported && parameters.get('iss') !== metadata.issuer) {
      throw new ConnectionError(ConnectionErrorCode.ConnectInvalidState, {
        variant: 'otherIssuer',
        detail: 'iss response parameter (RFC 9207)',
      });
    }
    const error = parameters.get('error');
    if (error !== null) throw new ConnectionError(ConnectionErrorCode.ConnectRefused, { detail: `error=${error}` });
    const callbackUrl = new URL(this.definition.redirectUri);
    callbackUrl.search = parameters.toString();
    try {
      const response = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: codeVerifier,
        expectedState: state,
        idTokenExpected: false,
      });
      return this.issued(response, undefined);
    } catch (failure) {
      const detail = describeIdpFailure(failure);
      if (classifyIdpFailure(failure) === 'unavailable') throw ConnectionError.unavailable(detail);
      throw new ConnectionError(ConnectionErrorCode.ConnectRefused, { variant: 'exchange', detail });
    }
  }

  /** Throws RefreshRefused when the provider refused the refresh token, ConnectionError 503 when it could not be asked. */
  async refresh(refreshToken: string, grantedScopes: string): Promise<IssuedGrant> {
    const configuration = await this.configured();
    try {
      return this.issued(await client.refreshTokenGrant(configuration, refreshToken), grantedScopes);
    } catch (failure) {
      const detail = describeIdpFailure(failure);
      const kind = classifyIdpFailure(failure);
      if (kind === 'invalid_grant' || kind === 'rejected' || kind === 'invalid_response') throw new RefreshRefused(detail);
      throw ConnectionError.unavailable(detail);
    }
  }

  /** RFC 7009, best effort: a failure is logged, never thrown (disconnecting and logging out must complete). */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    let configuration: client.Configuration;
    try {
      configuration = await this.configured();
    } catch {
      this.logger.warn({ connection: this.definition.name }, 'connection token not revoked: its provider is not discovered');
      return;
    }
    if (!configuration.serverMetadata().revocation_endpoint) return;
    try {
      await client.tokenRevocation(configuration, token, { token_type_hint: hint });
    } catch (failure) {
      this.logger.warn({ connection: this.definition.name, failure: describeIdpFailure(failure) }, 'connection token revocation failed');
    }
  }

  private async configured(): Promise<client.Configuration> {
    if (this.configuration) return this.configuration;
    if (Date.now() - this.lastDiscovery >= REDISCOVERY_INTERVAL_MS) {
      this.discovering ??= this.discover().finally(() => (this.discovering = undefined));
      await this.discovering.catch(() => undefined);
    }
    if (this.configuration) return this.configuration;
    throw ConnectionError.unavailable(`connection ${this.definition.name}: provider not discovered`);
  }

  private async discover(): Promise<void> {
    this.lastDiscovery = Date.now();
    const { issuer, authorizationEndpoint, tokenEndpoint, revocationEndpoint, clientId } = this.definition;
    const authentication = await this.clientAuthentication();
    let configuration: client.Configuration;
    if (authorizationEndpoint && tokenEndpoint) {
      const server: client.ServerMetadata = {
        // Without a configured issuer, an `iss` in the authorization response cannot be checked: give `issuer` if the provider sends one.
        issuer: issuer?.href ?? authorizationEndpoint.origin,
        authorization_endpoint: authorizationEndpoint.href,
        token_endpoint: tokenEndpoint.href,
        ...(revocationEndpoint ? { revocation_endpoint: revocationEndpoint.href } : {}),
      };
      configuration = new client.Configuration(server, clientId, undefined, authentication);
      if (this.insecure([authorizationEndpoint, tokenEndpoint, ...(revocationEndpoint ? [revocationEndpoint] : [])]))
        client.allowInsecureRequests(configuration);
    } else if (issuer) {
      const discovered = await this.discoverAt(issuer, authentication);
      // A configured revocationEndpoint completes a provider that does not advertise one.
      configuration = revocationEndpoint
        ? new client.Configuration(
            { ...(discovered.serverMetadata() as client.ServerMetadata), revocation_endpoint: revocationEndpoint.href },
            clientId,
            undefined,
            authentication,
          )
        : discovered;
      if (revocationEndpoint && this.insecure([issuer, revocationEndpoint])) client.allowInsecureRequests(configuration);
    } else {
      throw new ConnectionMisconfigured(`CONNECTIONS: connection ${this.definition.name}: no issuer and no endpoints`);
    }
    configuration.timeout = PROVIDER_TIMEOUT_SECONDS;
    this.configuration = configuration;
  }

  /** RFC 8414 (`/.well-known/oauth-authorization-server`), then OpenID Connect discovery, each checking the document's `issuer`. */
  private async discoverAt(issuer: URL, authentication: client.ClientAuth): Promise<client.Configuration> {
    const execute = this.insecure([issuer]) ? [client.allowInsecureRequests] : [];
    const { clientId, name } = this.definition;
    let firstFailure: unknown;
    for (const algorithm of ['oauth2', 'oidc'] as const) {
      try {
        return await client.discovery(issuer, clientId, undefined, authentication, {
          algorithm,
          execute,
          timeout: PROVIDER_TIMEOUT_SECONDS,
        });
      } catch (error) {
        if (isTransientDiscoveryFailure(error)) throw error;
        firstFailure ??= error;
      }
    }
    throw new ConnectionMisconfigured(
      `CONNECTIONS: connection ${name}: discovery of ${issuer.href} failed (RFC 8414 and OpenID Connect): ${describeIdpFailure(firstFailure)}`,
    );
  }

  private insecure(urls: readonly URL[]): boolean {
    return urls.some((url) => url.protocol === 'http:' && (isLoopback(url) || this.allowInsecureHttp));
  }

  private async clientAuthentication(): Promise<client.ClientAuth> {
    const { credentials, name } = this.definition;
    try {
      return await clientAuthentication(credentials, `CONNECTIONS: connection ${name}: privateKey`);
    } catch (error) {
      throw new ConnectionMisconfigured((error as Error).message);
    }
  }

  private issued(response: client.TokenEndpointResponse, previousScopes: string | undefined): IssuedGrant {
    return {
      accessToken: response.access_token,
      expiresAt: typeof response.expires_in === 'number' ? Date.now() + response.expires_in * 1000 : undefined,
      refreshToken: response.refresh_token,
      // RFC 6749 §5.1: a response without `scope` granted what was asked for (a refresh: what was granted before).
      scopes: typeof response.scope === 'string' ? response.scope : (previousScopes ?? this.definition.scopes),
    };
  }
}
