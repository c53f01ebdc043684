import { performance } from 'node:perf_hooks';
import { dpopKeyOf, DpopNonceCache, newDpopKey } from '#sessiongate/dpop';
import { DpopCredential } from '#sessiongate/tokens';

/**
 * Issue 13's rows: the same small JSON GET through a route whose token is DPoP-bound (`"dpop": true`, one new
 * ES256 proof per request, docs/TOKENS.md#dpop-rfc-9449) and through a token-exchange route (`"token": "exchange"`,
 * the exchanged token cached in the session), beside the plain Bearer route of the same gateway instance. They are
 * routes of that instance, not instances of their own: a session gets its DPoP key at login, from an instance
 * configured with a DPoP route. The bench's provider (the demo's) has DPoP and the RFC 8693 grant on by default.
 */

export const DPOP_PREFIX = '/api/dpop';
export const EXCHANGE_PREFIX = '/api/exchange';
const DPOP_RESOURCE = 'http://bench-dpop.api.test';
const EXCHANGE_RESOURCE = 'http://bench-exchange.api.test';

/** The provider's resources for the two routes (each route's token is for a resource of its own). */
export const TOKEN_ROUTE_RESOURCES = {
  [DPOP_RESOURCE]: { scope: 'bench:read' },
  [EXCHANGE_RESOURCE]: { scope: 'bench:read' },
} as const;

/** The two routes, to the same upstream `target` as the plain one. */
export function tokenRoutes(target: string): object[] {
  return [
    { prefix: DPOP_PREFIX, target, token: 'user', resource: DPOP_RESOURCE, dpop: true },
    { prefix: EXCHANGE_PREFIX, target, token: 'exchange', resource: EXCHANGE_RESOURCE },
  ];
}

const SIGNING_ROUNDS = 2_000;

/** µs of this process's CPU to make one proof, as the gateway makes it per attempt (DpopCredential, ES256). */
export async function proofSigningMicroseconds(): Promise<number> {
  const credential = new DpopCredential('x'.repeat(800), dpopKeyOf(await newDpopKey('ES256')), new DpopNonceCache());
  const attempt = { method: 'GET', url: 'http://127.0.0.1:1/v1/small?x=1' };
  for (let round = 0; round < SIGNING_ROUNDS / 10; round++) credential.attemptHeaders(attempt);
  const before = process.cpuUsage();
  const started = performance.now();
  for (let round = 0; round < SIGNING_ROUNDS; round++) credential.attemptHeaders(attempt);
  const { user, system } = process.cpuUsage(before);
  // CPU time where there is any to read, wall-clock time otherwise.
  return (user + system || (performance.now() - started) * 1000) / SIGNING_ROUNDS;
}

/** The report's line: the DPoP row's server CPU per request against the Bearer row's, and one proof's signing alone. */
export function dpopCostLine(bearerMicroseconds: number | undefined, dpopMicroseconds: number | undefined, signing: number): string {
  const difference =
    bearerMicroseconds === undefined || dpopMicroseconds === undefined
      ? 'the CPU per request was not measured (no /proc)'
      : `${(dpopMicroseconds - bearerMicroseconds).toFixed(0)} µs of server CPU per request more than the Bearer route ` +
        `(${dpopMicroseconds.toFixed(0)} against ${bearerMicroseconds.toFixed(0)} µs, same instance)`;
  return (
    `DPoP (issue 13): a DPoP-bound route costs ${difference}; signing one ES256 proof with the gateway's DpopCredential ` +
    `takes ${signing.toFixed(1)} µs of CPU here (${SIGNING_ROUNDS.toLocaleString('en')} proofs, in the bench's process).`
  );
}
