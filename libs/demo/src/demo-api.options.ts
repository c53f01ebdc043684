import type { Logger } from 'pino';

export interface DemoApiOptions {
  /** Default: a free port on 127.0.0.1. */
  readonly port?: number;
  /** The provider's issuer: tokens must carry exactly this `iss`. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The resource indicator tokens must be issued for (`aud`). */
  readonly audience: string;
  /** A scope every token must carry; without it the API answers 403. */
  readonly requiredScope: string;
  /** DPoP-bound tokens are always checked with their proofs; `requireNonce`: proofs must carry this API's nonce. */
  readonly dpop?: { readonly requireNonce?: boolean };
  /** Nest's own messages go here; silent without one. */
  readonly logger?: Logger;
}

/** Injection token of the DemoApiOptions. */
export const DEMO_API_OPTIONS = Symbol('DEMO_API_OPTIONS');
