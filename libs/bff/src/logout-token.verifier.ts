import { Inject, Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { OidcClient, OidcError, ProviderKeys, ProviderKeysUnavailable } from '#sessiongate/oidc';
import { BffError, BffErrorCode } from './bff.errors.js';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Seconds of clock skew tolerated on `iat` and `exp`. */
const LEEWAY_SECONDS = 60;
/**
 * A logout token is sent the moment the user logs out at the provider; one issued longer ago than
 * this is refused, which bounds how long its `jti` must be remembered.
 */
export const LOGOUT_TOKEN_MAX_AGE_SECONDS = 600;
/**
 * `typ` values accepted: the spec's explicit type, none (§2.4 makes it a recommendation), or plain
 * `JWT`, which several providers send; the `events` claim and the absence of `nonce` are what tell a
 * logout token from an ID token. Another explicit type (an access token's `at+jwt`) is refused.
 */
const ACCEPTED_TYPES = new Set(['logout+jwt', 'application/logout+jwt', 'jwt']);

/** A validated logout token: who or which provider session to log out. */
export interface LogoutToken {
  readonly issuer: string;
  readonly jti: string;
  readonly sub: string | undefined;
  readonly sid: string | undefined;
  /** Epoch ms until which the `jti` must be remembered (a replay after that fails the age check). */
  readonly rememberUntil: number;
}

/**
 * OIDC Back-Channel Logout 1.0 §2.6: a logout token is a JWT signed by the provider (its JWKS, the
 * ID token algorithm), for us (`aud` = our client id), issued recently (`iat`), not expired (`exp`
 * when present), naming the back-channel logout event, without `nonce` (so that an ID token can
 * never pass for one), and naming a `sub`, a `sid` or both. openid-client has no helper for this.
 */
@Injectable()
export class LogoutTokenVerifier {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly oidc: OidcClient,
    private readonly keys: ProviderKeys,
  ) {}

  async verify(token: string): Promise<LogoutToken> {
    let payload: JWTPayload;
    try {
      // Checked before the signature: an explicitly typed token of another kind (an access token) is refused outright.
      const { typ } = decodeProtectedHeader(token);
      if (typ !== undefined && !ACCEPTED_TYPES.has(typ.toLowerCase())) throw invalid(`typ ${typ}`);
      ({ payload } = await jwtVerify(token, this.keys.getKey, {
        issuer: this.oidc.issuer,
        audience: this.config.oidc.clientId,
        algorithms: [this.config.oidc.idTokenSigningAlg],
        clockTolerance: LEEWAY_SECONDS,
        maxTokenAge: LOGOUT_TOKEN_MAX_AGE_SECONDS,
        requiredClaims: ['iat', 'jti', 'events'],
      }));
    } catch (error) {
      if (error instanceof BffError || error instanceof OidcError) throw error;
      if (error instanceof ProviderKeysUnavailable) {
        throw OidcError.idpUnavailable(error.message);
      }
      throw invalid(error instanceof errors.JOSEError ? `${error.code}: ${error.message}` : 'not a JWT');
    }
    const now = Date.now() / 1000;
    const { iat, exp, jti, sub, sid, events } = payload;
    // jose accepts an `iat` in the future when maxTokenAge is set; the spec validates it as for ID tokens.
    if (iat! > now + LEEWAY_SECONDS) throw invalid('iat in the future');
    if (typeof events !== 'object' || events === null || !isObject((events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT]))
      throw invalid('no back-channel logout event');
    if ('nonce' in payload) throw invalid('has a nonce');
    if (typeof jti !== 'string' || jti === '') throw invalid('no jti');
    if (sub !== undefined && (typeof sub !== 'string' || sub === '')) throw invalid('sub is not a string');
    if (sid !== undefined && (typeof sid !== 'string' || sid === '')) throw invalid('sid is not a string');
    if (sub === undefined && sid === undefined) throw invalid('neither sub nor sid');
    const lastValid = Math.min(exp ?? Infinity, iat! + LOGOUT_TOKEN_MAX_AGE_SECONDS) + LEEWAY_SECONDS;
    return { issuer: payload.iss!, jti, sub, sid: sid as string | undefined, rememberUntil: lastValid * 1000 };
  }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): BffError {
  return new BffError(BffErrorCode.InvalidLogoutToken, { detail });
}
