import { Inject, Injectable } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig, type TokenAudience } from '#sessiongate/config';
import { Telemetry } from '#sessiongate/observability';
import { grantedToken, OidcClient } from '#sessiongate/oidc';
import { type AccessToken, audienceKey, Clock } from '#sessiongate/session';
import { SingleFlight } from './single-flight.js';
import { isUsable } from './token-freshness.js';
import { tokenRequestParameters } from './token-request.js';

/**
 * Client-credentials tokens for routes in `client` mode: one per API, shared by every session and
 * kept in process until it nears expiry.
 */
@Injectable()
export class ClientTokenService {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly requests = new SingleFlight<AccessToken>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
  ) {}

  async accessTokenFor(audience: TokenAudience, rejectedToken?: string): Promise<string> {
    return (await this.tokenFor(audience, rejectedToken)).value;
  }

  /** The same token with its expiry and, when the provider said, its granted scope. */
  async tokenFor(audience: TokenAudience, rejectedToken?: string): Promise<AccessToken> {
    const key = audienceKey(audience);
    const held = this.tokens.get(key);
    if (held && isUsable(held, rejectedToken, this.config.tokens.refreshSkewSeconds * 1000, this.clock.now())) return held;
    return this.requests.run(key, async () => {
      const issued = await this.telemetry.tokenRequest('client_credentials', () =>
        this.oidc.clientCredentials(tokenRequestParameters(this.config, audience)),
      );
      const token = grantedToken(issued);
      this.tokens.set(key, token);
      return token;
    });
  }
}
