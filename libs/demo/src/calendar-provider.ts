import type { DemoUser } from './demo-users.js';
import { type CalendarApi, startCalendarApi } from './calendar-api.js';
import { type IdentityProvider, type IdentityProviderOptions, startIdentityProvider } from './identity-provider.js';

/** The calendar's own users: other accounts than the demo identity provider's, as at any third party. */
export const CALENDAR_USERS: readonly DemoUser[] = [
  { sub: 'cal-501', username: 'alice', password: 'alice-calendar', name: 'Alice (calendar)', email: 'alice@calendar.example' },
  { sub: 'cal-502', username: 'bob', password: 'bob-calendar', name: 'Bob (calendar)', email: 'bob@calendar.example' },
];

export const CALENDAR_SCOPE = 'calendar:read';
const CALENDAR_API_CLIENT_ID = 'calendar-api';
const CALENDAR_API_CLIENT_SECRET = 'calendar-api-secret-not-for-production';

export interface CalendarProviderOptions {
  /** The gateway's client at the calendar provider: its id, secret and connect callbacks (PUBLIC_URL/bff/connect/<name>/callback). */
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  /** Default 300. */
  readonly accessTokenTtlSeconds?: number;
  readonly idp?: Partial<Omit<IdentityProviderOptions, 'clients'>>;
}

export interface CalendarProvider {
  /** The third-party authorization server (plain OAuth 2.0: no `openid` is asked of it). */
  readonly provider: IdentityProvider;
  readonly api: CalendarApi;
  /** The CONNECTIONS entry for the gateway. */
  readonly connection: Readonly<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * The demo's third party: an independent authorization server (another oidc-provider, with its own users,
 * a consent screen, rotating refresh tokens, revocation and introspection; opaque access tokens, no
 * resource indicators) and a calendar API that accepts only its tokens.
 */
export async function startCalendarProvider(options: CalendarProviderOptions): Promise<CalendarProvider> {
  const provider = await startIdentityProvider({
    users: CALENDAR_USERS,
    consent: true,
    scopes: [CALENDAR_SCOPE],
    introspection: true,
    cookiePrefix: 'calendar',
    resources: {},
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 300,
    ...options.idp,
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
      },
      // The calendar API's own client: no redirect URIs, it only introspects.
      {
        client_id: CALENDAR_API_CLIENT_ID,
        client_secret: CALENDAR_API_CLIENT_SECRET,
        redirect_uris: [],
        response_types: [],
        grant_types: [],
      },
    ],
  });
  let api: CalendarApi;
  try {
    api = await startCalendarApi({
      introspectionEndpoint: `${provider.issuer}/token/introspection`,
      clientId: CALENDAR_API_CLIENT_ID,
      clientSecret: CALENDAR_API_CLIENT_SECRET,
      requiredScope: CALENDAR_SCOPE,
    });
  } catch (error) {
    await provider.stop();
    throw error;
  }
  return {
    provider,
    api,
    connection: {
      name: 'calendar',
      issuer: provider.issuer,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      scopes: CALENDAR_SCOPE,
    },
    async stop() {
      await api.stop();
      await provider.stop();
    },
  };
}
