import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { errors } from 'jose';
import { type OidcClient, ProviderKeys, ProviderKeysUnavailable } from '#sessiongate/oidc';
import { type IdentityProvider, startIdentityProvider } from '#sessiongate/testing';

// The provider's keys as the admin API and back-channel logout fetch them: cached, and fetched
// again for an unknown `kid` at most once per cooldown, so that forged kids cannot flood the provider.

let idp: IdentityProvider;
let relay: Server;
let relayUrl: string;
let fetches = 0;

beforeAll(async () => {
  idp = await startIdentityProvider({ clients: [] });
  // Counts the JWKS requests on their way to the real provider.
  relay = createServer(async (_request, response) => {
    fetches++;
    const upstream = await fetch(idp.jwksUri);
    response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  relayUrl = `http://127.0.0.1:${(relay.address() as { port: number }).port}/jwks`;
});
afterAll(async () => {
  relay.close();
  await idp.stop();
});

test('fetches the keys once, and once more at most for any number of unknown kids', async () => {
  // As discovered: only the jwks_uri is read.
  const keys = new ProviderKeys({ ready: true, jwksUri: relayUrl } as OidcClient);
  const kid = idp.signingKey.kid!;
  await keys.key({ alg: 'RS256', kid });
  await keys.key({ alg: 'RS256', kid });
  expect(fetches).toBe(1);

  const unknown = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => keys.key({ alg: 'RS256', kid: `forged-${n}` })));
  expect(unknown.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof errors.JWKSNoMatchingKey)).toBe(true);
  // Still within the cooldown after the first fetch: no new request at all.
  expect(fetches).toBe(1);
  await keys.key({ alg: 'RS256', kid });
  expect(fetches).toBe(1);
});

test('reports an unreachable key endpoint as the provider being unavailable, not as a bad token', async () => {
  const keys = new ProviderKeys({ ready: true, jwksUri: 'http://127.0.0.1:1/jwks' } as OidcClient);
  await expect(keys.key({ alg: 'RS256', kid: 'any' })).rejects.toBeInstanceOf(ProviderKeysUnavailable);
});

test('reports a provider not discovered yet as unavailable, without fetching anything', async () => {
  const before = fetches;
  const keys = new ProviderKeys({ ready: false, jwksUri: relayUrl } as OidcClient);
  await expect(keys.key({ alg: 'RS256', kid: idp.signingKey.kid! })).rejects.toBeInstanceOf(ProviderKeysUnavailable);
  expect(fetches).toBe(before);
});
