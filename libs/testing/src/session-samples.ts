import { randomBytes } from 'node:crypto';
import { audienceKey, type NewSession, type PendingLogin, type TokenSet } from '#sessiongate/session';

function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT', kid: randomBytes(16).toString('base64url') })}.${part(claims)}.${randomBytes(256).toString('base64url')}`;
}

/** A session of the size a real provider produces: RS256 ID and access tokens, an opaque refresh token. */
export function typicalSession(now: number): NewSession {
  const claims = {
    iss: 'https://idp.example.com/realms/main',
    sub: 'f3c1b7d2-8a4e-4c55-9e21-7a0d5b6c9e11',
    aud: 'gateway',
    exp: Math.floor(now / 1000) + 300,
    iat: Math.floor(now / 1000),
    auth_time: Math.floor(now / 1000),
    nonce: randomBytes(32).toString('base64url'),
    sid: randomBytes(16).toString('hex'),
    at_hash: randomBytes(16).toString('base64url'),
    name: 'Alice Example',
    email: 'alice@example.com',
    email_verified: true,
  };
  const tokens: TokenSet = {
    idToken: fakeJwt(claims),
    refreshToken: randomBytes(32).toString('base64url'),
    accessTokens: {
      [audienceKey()]: {
        value: fakeJwt({ ...claims, scope: 'openid profile email offline_access', jti: randomBytes(16).toString('base64url') }),
        expiresAt: now + 300_000,
      },
    },
  };
  return { sub: claims.sub, idpSessionId: claims.sid, claims, tokens };
}

/** A started login with random secrets, created at `now`. */
export function pendingLogin(now: number): PendingLogin {
  const random = () => randomBytes(32).toString('base64url');
  return { state: random(), nonce: random(), codeVerifier: random(), returnTo: '/todos', createdAt: now };
}
