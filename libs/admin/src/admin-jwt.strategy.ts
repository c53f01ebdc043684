import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { decodeProtectedHeader } from 'jose';
import passport from 'passport';
import { ExtractJwt, Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { GATEWAY_CONFIG, type GatewayConfig } from '#sessiongate/config';
import { OidcClient, ProviderKeys } from '#sessiongate/oidc';

/** Seconds of clock skew tolerated on `exp` and `nbf`. */
const LEEWAY_SECONDS = 30;

/** Who called the admin API, as its verified token says. */
export interface AdminPrincipal {
  /** `sub`, else `client_id`/`azp` (a client-credentials token names the client). For the audit trail. */
  readonly subject: string;
  /** Everything in `scope`, `scp` and `roles`. */
  readonly grants: ReadonlySet<string>;
}

/** Rejected before any key is looked up, so that forged headers cannot make the provider's keys be fetched. */
class AlgorithmNotAllowed extends Error {}

/**
 * Admin bearer tokens: JWTs signed by the OIDC provider (its JWKS, from discovery), with an allowed
 * asymmetric algorithm (ADMIN_JWT_ALGS; `none` and HS* never: an HS256 token "signed" with the public
 * key would otherwise pass), `iss` = the provider, `aud` = ADMIN_JWT_AUDIENCE, an `exp` that has not
 * passed and any `nbf` reached (both with LEEWAY_SECONDS).
 */
@Injectable()
export class AdminJwtStrategy extends PassportStrategy(Strategy, 'sessiongate-admin-jwt') implements OnModuleDestroy {
  /**
   * What AdminGuard authenticates with. Passport's registry is process-wide and keeps the last
   * strategy registered under a name, so the shared name above would let one gateway in a process
   * (a second instance in tests, the ADMIN_PORT listener) check tokens with another's settings.
   */
  readonly registeredName = `sessiongate-admin-jwt-${randomUUID()}`;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    keys: ProviderKeys,
    private readonly oidc: OidcClient,
  ) {
    const { audience, algorithms } = config.admin!;
    const options: StrategyOptionsWithoutRequest = {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_request: unknown, token: string, done: (error: unknown, key?: string | Buffer) => void) => {
        let alg: unknown;
        try {
          alg = decodeProtectedHeader(token).alg;
        } catch (error) {
          return done(error);
        }
        if (typeof alg !== 'string' || !algorithms.includes(alg)) return done(new AlgorithmNotAllowed(`alg ${String(alg)} is not allowed`));
        keys.keyObject(decodeProtectedHeader(token)).then(
          // jsonwebtoken takes a KeyObject (and checks its type against the algorithm) though its types say otherwise.
          (key) => done(null, key as unknown as Buffer),
          (error: unknown) => done(error),
        );
      },
      algorithms: [...algorithms] as StrategyOptionsWithoutRequest['algorithms'],
      audience,
      jsonWebTokenOptions: { clockTolerance: LEEWAY_SECONDS },
    };
    super(options);
    passport.use(this.registeredName, this);
  }

  onModuleDestroy(): void {
    passport.unuse(this.registeredName);
  }

  /** Claims passport-jwt leaves to us: the issuer (known only after discovery) and a mandatory `exp`. */
  validate(payload: Record<string, unknown>): AdminPrincipal | false {
    if (payload.iss !== this.oidc.issuer || typeof payload.exp !== 'number') return false;
    const subject = [payload.sub, payload.client_id, payload.azp].find(
      (value): value is string => typeof value === 'string' && value !== '',
    );
    if (!subject) return false;
    return { subject, grants: new Set([...words(payload.scope), ...words(payload.scp), ...words(payload.roles)]) };
  }
}

/** `scope` is a space-separated string (RFC 9068); `scp` and `roles` are arrays (Entra ID, Keycloak), or strings. */
function words(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((item): item is string => typeof item === 'string');
  return [];
}
