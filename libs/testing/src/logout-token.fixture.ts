import { randomBytes } from 'node:crypto';
import { importJWK, type JWTPayload, SignJWT } from 'jose';
import type { IdentityProvider } from '#sessiongate/demo';
import { GATEWAY_CLIENT_ID } from './gateway-stack.fixture.js';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * A back-channel logout token for the stack's gateway, signed with the provider's own key: valid in
 * every respect unless `claims` or `header` say otherwise (a claim or header given as undefined is left out).
 */
export async function signLogoutToken(
  idp: IdentityProvider,
  claims: JWTPayload & Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await importJWK(idp.signingKey, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: idp.issuer,
    aud: GATEWAY_CLIENT_ID,
    iat: now,
    exp: now + 120,
    jti: randomBytes(16).toString('hex'),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete (payload as Record<string, unknown>)[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: idp.signingKey.kid, typ: 'logout+jwt', ...header }).sign(key);
}
