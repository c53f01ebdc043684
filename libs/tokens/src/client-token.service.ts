import { Inject, Injectable } from '@nestjs/common';
import { type ApiRoute, GATEWAY_CONFIG, type GatewayConfig, routeUsesDpop } from '#sessiongate/config';
import { newDpopKey, type StoredDpopKey } from '#sessiongate/dpop';
import { Telemetry } from '#sessiongate/observability';
import { grantedToken, OidcClient } from '#sessiongate/oidc';
import { type AccessToken, audienceKey, Clock } from '#sessiongate/session';
import { SingleFlight } from './single-flight.js';
import { isUsable } from './token-freshness.js';
import { tokenRequestParameters } from './token-request.js';

/**
 * Client-credentials tokens for routes in `client` mode: one per API, shared by every session and
 * kept in process until it nears expiry. DPoP-bound ones are bound to a key of this instance's own,
 * made on first need and never stored: the tokens it binds live no longer than the process either.
 */
@Injectable()
export class ClientTokenService {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly requests = new SingleFlight<AccessToken>();
  private key: Promise<StoredDpopKey> | undefined;
  private heldKey: StoredDpopKey | undefined;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
  ) {}

  /** The instance's DPoP key, once a DPoP-bound client token has been asked for. */
  get dpopKey(): StoredDpopKey | undefined {
    return this.heldKey;
  }

  async accessTokenFor(audience: ApiRoute['audience'], rejectedToken?: string): Promise<string> {
    return (await this.tokenFor({ audience }, rejectedToken)).value;
  }

  async tokenFor(route: Pick<ApiRoute, 'audience' | 'dpop'>, rejectedToken?: string): Promise<AccessToken> {
    const dpop = routeUsesDpop(this.config.oidc.dpop, route);
    const key = `${audienceKey(route.audience)}${dpop ? ' dpop' : ''}`;
    const held = this.tokens.get(key);
    if (held && isUsable(held, rejectedToken, this.config.tokens.refreshSkewSeconds * 1000, this.clock.now())) return held;
    return this.requests.run(key, async () => {
      const dpopKey = dpop ? await this.instanceKey() : undefined;
      const issued = await this.telemetry.tokenRequest('client_credentials', () =>
        this.oidc.clientCredentials(tokenRequestParameters(this.config, route.audience), dpopKey),
      );
      const token = grantedToken(issued);
      this.tokens.set(key, token);
      return token;
    });
  }

  private instanceKey(): Promise<StoredDpopKey> {
    this.key ??= newDpopKey(this.config.oidc.dpopAlg).then((key) => (this.heldKey = key));
    return this.key;
  }
}
