import type { GatewayConfig, TokenAudience } from '#sessiongate/config';

/** Token endpoint parameters asking for a token for `audience` (RFC 8707 `resource`, or Auth0's `audience`, and `scope`). */
export function tokenRequestParameters(config: GatewayConfig, audience: TokenAudience): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (audience.resource !== undefined) parameters[config.tokens.resourceParameter] = audience.resource;
  if (audience.scopes !== undefined) parameters.scope = audience.scopes;
  return parameters;
}
