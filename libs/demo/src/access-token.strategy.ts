import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { DEMO_API_OPTIONS, type DemoApiOptions } from './demo-api.options.js';
import { JwksCache } from './jwks.cache.js';

export interface AccessTokenClaims {
  readonly sub: string;
  readonly aud: string | string[];
  readonly scope: string;
  readonly jti: string;
  /** RFC 9449 §6.1: the thumbprint of the key a DPoP-bound token is bound to. */
  readonly cnf?: { readonly jkt?: string };
  /** How the user authenticated (the provider's extraTokenClaims), when the token is a user's. */
  readonly acr?: string;
}

export type AuthenticatedRequest = FastifyRequest & { readonly user: AccessTokenClaims };

/**
 * Bearer JWT access tokens from the provider: RS256 only, signed by a key of its JWKS (chosen by
 * `kid`), with the expected `iss` and `aud`, not expired.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, 'access-token') {
  constructor(@Inject(DEMO_API_OPTIONS) options: DemoApiOptions) {
    const jwks = new JwksCache(options.jwksUri);
    super({
      // A DPoP-bound token comes as `Authorization: DPoP` (RFC 9449 §7.1); BearerGuard checks its proof.
      jwtFromRequest: ExtractJwt.fromExtractors([ExtractJwt.fromAuthHeaderAsBearerToken(), ExtractJwt.fromAuthHeaderWithScheme('dpop')]),
      secretOrKeyProvider: (_request: unknown, token: string, done: (error: unknown, key?: string) => void) => {
        signingKeyFor(jwks, token).then(
          (key) => done(null, key),
          (error: unknown) => done(error),
        );
      },
      algorithms: ['RS256'],
      issuer: options.issuer,
      audience: options.audience,
    });
  }

  validate(payload: Partial<AccessTokenClaims>): AccessTokenClaims {
    const { sub = '', aud = '', scope = '', jti = '', cnf } = payload;
    const acr = typeof payload.acr === 'string' ? { acr: payload.acr } : {};
    return { sub, aud, scope, jti, ...acr, ...(cnf ? { cnf } : {}) };
  }
}

async function signingKeyFor(jwks: JwksCache, token: string): Promise<string> {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown };
  if (typeof header.kid !== 'string') throw new Error('token without kid');
  const key = await jwks.key(header.kid);
  if (!key) throw new Error('token signed with an unknown key');
  return key;
}
