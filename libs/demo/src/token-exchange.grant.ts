import { createLocalJWKSet, type JWK, jwtVerify } from 'jose';
import { errors, type Provider, type ProviderContext } from 'oidc-provider';
import { applyDpopBinding } from 'oidc-provider/lib/helpers/grant_common.js';
import { buildTokenResponse } from 'oidc-provider/lib/helpers/grant_response.js';
import validateDpop from 'oidc-provider/lib/helpers/validate_dpop.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §2.1; `resource` and `audience` both name the target, the demo takes either. */
export const TOKEN_EXCHANGE_PARAMETERS = [
  'subject_token',
  'subject_token_type',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
  'resource',
  'audience',
  'scope',
];

const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';

interface ExchangeContext extends ProviderContext {
  readonly oidc: {
    readonly route?: string;
    readonly params: Readonly<Record<string, string | undefined>>;
    readonly client: { readonly clientId: string };
    entity(name: string, entity: unknown): void;
  };
}

export interface TokenExchangeOptions {
  /** The provider's public signing keys: subject tokens are JWTs it signed. */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** The resource server of an indicator, as `getResourceServerInfo` gives it; throws InvalidTarget for an unknown one. */
  readonly resourceServer: (indicator: string) => { readonly scope: string } & Record<string, unknown>;
  readonly accountExists: (sub: string) => boolean;
}

/**
 * RFC 8693 token exchange for `provider.registerGrantType`: a real access token (or ID token) of this
 * provider, unexpired and issued to the calling client, for an access token restricted to one
 * resource server (`resource` or `audience`), with the requested scopes that resource has (all of
 * them when none is requested). A DPoP proof on the request binds the new token (RFC 9449 §5).
 */
export function tokenExchangeGrant(provider: Provider, options: TokenExchangeOptions): (ctx: ProviderContext) => Promise<void> {
  const keys = createLocalJWKSet({ keys: [...options.jwks.keys] });
  const subjectOf = async (ctx: ExchangeContext): Promise<string> => {
    const { subject_token: token, subject_token_type: type } = ctx.oidc.params;
    const clientId = ctx.oidc.client.clientId;
    if (!token || (type !== ACCESS_TOKEN && type !== ID_TOKEN)) {
      throw new errors.InvalidRequest('subject_token and a subject_token_type of access_token or id_token are required');
    }
    if (type === ACCESS_TOKEN && token.split('.').length !== 3) {
      const stored = await provider.AccessToken.find(token);
      if (!stored || stored.isExpired || stored.clientId !== clientId || !stored.accountId)
        throw new errors.InvalidGrant('subject token invalid, expired or issued to another client');
      return stored.accountId;
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: provider.issuer,
        ...(type === ACCESS_TOKEN ? { typ: 'at+jwt' } : { audience: clientId }),
      });
      if (type === ACCESS_TOKEN && payload.client_id !== clientId) throw new Error('another client');
      if (typeof payload.sub !== 'string') throw new Error('no sub');
      return payload.sub;
    } catch {
      throw new errors.InvalidGrant('subject token invalid, expired or issued to another client');
    }
  };

  return async (context) => {
    const ctx = context as ExchangeContext;
    const { params, client } = ctx.oidc;
    const dPoP = await validateDpop(provider, ctx);
    if (params.actor_token !== undefined) throw new errors.InvalidRequest('actor_token is not supported');
    if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN) {
      throw new errors.InvalidRequest('only access tokens are issued');
    }
    const sub = await subjectOf(ctx);
    if (!options.accountExists(sub)) throw new errors.InvalidGrant('subject token names an unknown account');
    const indicator = params.resource ?? params.audience;
    if (indicator === undefined) throw new errors.InvalidTarget('a resource (or audience) is required');
    const info = options.resourceServer(indicator);
    const offered = new Set(info.scope.split(' '));
    const requested = params.scope?.split(' ') ?? [...offered];
    const scope = requested.filter((name) => offered.has(name)).join(' ');
    if (scope === '') throw new errors.InvalidScope('none of the requested scopes belongs to the resource', params.scope ?? '');
    const token = new provider.AccessToken({ accountId: sub, client, gty: 'token_exchange', scope });
    token.resourceServer = new provider.ResourceServer(indicator, info);
    await applyDpopBinding(provider, ctx, dPoP, token);
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();
    ctx.body = buildTokenResponse(provider, {
      accessToken: value,
      expiresIn: token.expiration,
      scope: token.scope,
      tokenType: token.tokenType,
      issuedTokenType: ACCESS_TOKEN,
    });
  };
}
