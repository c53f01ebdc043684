import type { SessionService } from '#sessiongate/session';
import {
  ManualClock,
  minimalGatewayEnv,
  type SessionModuleFixture,
  type StoreTopologiesFixture,
  type StoreTopology,
  startSessionModule,
  startStoreTopologies,
} from '#sessiongate/testing';

/** What each test of a store contract gets: a fresh session module on its own ManualClock. */
export interface StoreContract {
  readonly topologies: StoreTopologiesFixture;
  readonly clock: ManualClock;
  readonly gateway: SessionModuleFixture;
  readonly sessions: SessionService;
}

let topologies: StoreTopologiesFixture | undefined;
let started = false;

/**
 * Runs `suite` once on each of `stores` (describe.each: `%s` in the title names the store), started
 * once per test file. Before each test the store is emptied and a session module is started on it,
 * with the settings `env` adds; after it, closed.
 */
export function describeStores(
  title: string,
  stores: readonly StoreTopology[],
  env: Record<string, string>,
  suite: (contract: StoreContract) => void,
): void {
  if (!started) {
    started = true;
    beforeAll(async () => {
      topologies = await startStoreTopologies();
    });
    afterAll(() => topologies?.stop());
  }
  describe.each(stores)(title, (store) => {
    const contract = {} as { -readonly [K in keyof StoreContract]: StoreContract[K] };
    beforeEach(async () => {
      contract.topologies = topologies!;
      await topologies!.flush(store);
      contract.clock = new ManualClock();
      contract.gateway = await startSessionModule(minimalGatewayEnv({ ...topologies!.env(store), ...env }), { clock: contract.clock });
      contract.sessions = contract.gateway.sessions;
    });
    afterEach(async () => {
      await contract.gateway.module.close();
    });
    suite(contract);
  });
}
