import 'reflect-metadata';
import { startDemoApi } from '#sessiongate/demo';
import { createLogger } from '#sessiongate/observability';

/**
 * The demo API on its own (docker compose): a resource server in front of any OpenID Provider.
 * DEMO_API_PORT, OIDC_ISSUER, DEMO_API_AUDIENCE and DEMO_API_SCOPE say where it listens and what
 * an access token must carry; the JWKS location comes from the provider's discovery document.
 */
const { DEMO_API_PORT = '4000', OIDC_ISSUER, DEMO_API_AUDIENCE, DEMO_API_SCOPE = 'todos:read' } = process.env;
if (!OIDC_ISSUER || !DEMO_API_AUDIENCE) {
  console.error('OIDC_ISSUER and DEMO_API_AUDIENCE are required');
  process.exit(1);
}
const discovery = await fetch(new URL(`${OIDC_ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`));
const { jwks_uri: jwksUri } = (await discovery.json()) as { jwks_uri: string };
const api = await startDemoApi({
  port: Number(DEMO_API_PORT),
  issuer: OIDC_ISSUER,
  jwksUri,
  audience: DEMO_API_AUDIENCE,
  requiredScope: DEMO_API_SCOPE,
  logger: createLogger({ level: 'info' }),
});
console.log(`demo API listening on ${api.url}`);
process.once('SIGTERM', () => void api.stop().then(() => process.exit(0)));
