import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { consoleSite } from '#sessiongate/admin';
import { loadConfig } from '#sessiongate/config';
import { startGateway } from '#sessiongate/gateway';
import { createLogger } from '#sessiongate/observability';
import { startCalendarProvider } from './calendar-provider.js';
import { startDemoApi } from './demo-api.js';
import { startIdentityProvider } from './identity-provider.js';
import { ACR_SECOND_FACTOR } from './login.interaction.js';

const CLIENT_ID = 'sessiongate-demo';
/** The demo API's resource indicator (RFC 8707): the audience of its access tokens. */
const TODOS_RESOURCE = 'urn:sessiongate:demo:todos';

export interface RunningDemo {
  /** The gateway's public URL: the page to open. */
  readonly url: string;
  readonly identityProviderUrl: string;
  /** The third-party provider users connect their calendar at. */
  readonly calendarProviderUrl: string;
  stop(): Promise<void>;
}

/**
 * The whole demo: the embedded identity provider and todos API on free loopback ports, and the
 * gateway in front of the demo SPA. Any gateway setting may come from `env` (PORT, PUBLIC_URL,
 * REDIS_URL, SPA_DIR, LOG_LEVEL, ...) except those that wire it to the demo's parts.
 */
export async function startDemo(
  env: Readonly<Record<string, string | undefined>>,
  options: { logger?: Logger } = {},
): Promise<RunningDemo> {
  const settings = {
    PUBLIC_URL: `http://localhost:${env.PORT || 3000}`,
    HOST: 'localhost',
    SESSION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // The admin console at /admin/console, for carol (DEMO_USERS) and whoever else is in `admins`.
    ADMIN_JWT_AUDIENCE: 'http://admin.sessiongate.demo',
    ADMIN_CONSOLE_REQUIRE: JSON.stringify({ groups: { containsAnyOf: ['admins'] } }),
    ...env,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    OIDC_SCOPES: 'openid profile email offline_access todos:read todos:write',
  };
  // Checked before anything starts; the provider's address is not known yet, so a stand-in issuer.
  const draft = loadConfig({ ...settings, OIDC_ISSUER: 'http://127.0.0.1' });
  const logger = options.logger ?? createLogger({ level: draft.logLevel, pretty: true });
  const running: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of running.splice(0)) await close();
  };
  try {
    const idp = await startIdentityProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: settings.OIDC_CLIENT_SECRET,
          // The admin console logs operators in through the same client (docs/ADMIN-CONSOLE.md).
          redirect_uris: [draft.oidc.redirectUri.href, consoleSite(draft).redirectUri.href],
          post_logout_redirect_uris: [draft.oidc.postLogoutRedirectUri.href],
          // Logging out at the provider ends the gateway session too (OIDC Back-Channel Logout).
          backchannel_logout_uri: new URL('/bff/backchannel-logout', draft.publicUrl).href,
        },
      ],
      resources: { [TODOS_RESOURCE]: { scope: 'todos:read todos:write' } },
    });
    running.unshift(idp.stop);
    const api = await startDemoApi({
      issuer: idp.issuer,
      jwksUri: idp.jwksUri,
      audience: TODOS_RESOURCE,
      requiredScope: 'todos:read',
      logger: logger.child({ component: 'demo-api' }, { level: 'warn' }),
    });
    running.unshift(api.stop);
    // The third party: its own authorization server and users, and a calendar API that takes only its tokens.
    const calendar = await startCalendarProvider({
      clientId: 'sessiongate-demo-calendar',
      clientSecret: randomBytes(24).toString('base64url'),
      redirectUris: [new URL('/bff/connect/calendar/callback', draft.publicUrl).href],
    });
    running.unshift(calendar.stop);
    const config = loadConfig({
      ...settings,
      OIDC_ISSUER: idp.issuer,
      API_ROUTES: JSON.stringify([
        { prefix: '/api/todos', target: api.url, token: 'user' },
        // Only bob's group (DEMO_USERS): alice gets 403 forbidden (docs/ROUTES.md). The API echoes who called.
        { prefix: '/api/ops', target: api.url, token: 'user', methods: ['GET'], require: { groups: { containsAnyOf: ['ops'] } } },
        { prefix: '/api/calendar', target: calendar.api.url, token: 'connected:calendar' },
        // The same todos, but the gateway itself asks for the second factor first (a route's step-up, RFC 9470).
        { prefix: '/api/vault', target: `${api.url}/todos`, token: 'user', acr: [ACR_SECOND_FACTOR] },
      ]),
      CONNECTIONS: JSON.stringify([calendar.connection]),
    });
    const gateway = await startGateway(config, { logger });
    running.unshift(gateway.close);
    return { url: config.publicUrl.origin, identityProviderUrl: idp.issuer, calendarProviderUrl: calendar.provider.issuer, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
