import { type IdentityProvider, type IdentityProviderOptions, startIdentityProvider } from '#sessiongate/demo';
import { serveChild } from './child-process.js';

/** What the provider did at its token endpoint since the last `reset-events`. */
export interface GrantCounts {
  readonly refreshGrants: number;
  readonly grantErrors: number;
  readonly refreshTokenReuseDetected: boolean;
}

/**
 * The real oidc-provider of the demo, in a process of its own so that signing tokens during a refresh
 * storm does not compete with the load generator for one event loop (nor the other way round).
 */
let idp: IdentityProvider | undefined;

serveChild({
  async start(payload) {
    idp = await startIdentityProvider(payload as IdentityProviderOptions);
    return idp.issuer;
  },
  async stop() {
    await idp?.stop();
  },
  calls: {
    grants: (): GrantCounts => ({
      refreshGrants: idp!.events.filter((event) => event.name === 'grant.success' && event.grantType === 'refresh_token').length,
      grantErrors: idp!.events.filter((event) => event.name === 'grant.error').length,
      refreshTokenReuseDetected: idp!.refreshTokenReuseDetected(),
    }),
    'reset-events': () => {
      idp!.events.length = 0;
    },
  },
});
