import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CalendarApiOptions {
  /** The third-party provider's RFC 7662 introspection endpoint: the only judge of its tokens. */
  readonly introspectionEndpoint: string;
  /** The API's own client at that provider, allowed to introspect. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** A scope every token must carry; 403 without it. */
  readonly requiredScope: string;
  /** Default: a free port on 127.0.0.1. */
  readonly port?: number;
}

export interface CalendarApi {
  readonly url: string;
  /** How many requests it answered 401 (an inactive or missing token), for assertions. */
  readonly refused: number;
  stop(): Promise<void>;
}

interface Introspection {
  readonly active: boolean;
  readonly sub?: string;
  readonly scope?: string;
  readonly client_id?: string;
}

/**
 * The demo's "calendar": an API of the third-party provider, accepting only that provider's access tokens,
 * checked by introspection on every request, so a revoked token is refused at once. `GET /events` lists the
 * token's user's events; any other path answers 404.
 */
export async function startCalendarApi(options: CalendarApiOptions): Promise<CalendarApi> {
  let refused = 0;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;
  const introspect = async (token: string): Promise<Introspection> => {
    const response = await fetch(options.introspectionEndpoint, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`introspection answered ${response.status}`);
    return (await response.json()) as Introspection;
  };
  const answer = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  const server = createServer(async (request, response) => {
    for await (const _chunk of request);
    const [scheme, token] = (request.headers.authorization ?? '').split(' ');
    const claims = scheme?.toLowerCase() === 'bearer' && token ? await introspect(token).catch(() => undefined) : undefined;
    if (!claims?.active) {
      refused += 1;
      return answer(response, 401, { error: 'invalid_token' }, { 'www-authenticate': token ? 'Bearer error="invalid_token"' : 'Bearer' });
    }
    if (!(claims.scope ?? '').split(' ').includes(options.requiredScope)) {
      return answer(
        response,
        403,
        { error: 'insufficient_scope' },
        { 'www-authenticate': `Bearer error="insufficient_scope", scope="${options.requiredScope}"` },
      );
    }
    if (request.method !== 'GET' || request.url?.split('?', 1)[0] !== '/events') return answer(response, 404, { error: 'not_found' });
    answer(response, 200, { owner: claims.sub, events: eventsOf(claims.sub ?? '') });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get refused() {
      return refused;
    },
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A week of made-up events, the same for a user every time. */
function eventsOf(sub: string): { readonly title: string; readonly start: string }[] {
  const monday = new Date(Date.UTC(2026, 11, 7, 9));
  return ['Stand-up', 'Design review', 'Lunch with the team'].map((title, day) => ({
    title: `${title} (${sub})`,
    start: new Date(monday.getTime() + day * 86_400_000).toISOString(),
  }));
}
