import { RefreshLockStore, type SessionService, sessionKeyHash } from '#sessiongate/session';
import { type ManualClock, STORE_TOPOLOGIES, typicalSession } from '#sessiongate/testing';
import { describeStores } from './store-contract.js';

// The refresh locks contract (RefreshLockStore) on every kind of store, on the keys of real sessions.

describeStores('refresh locks in the %s store', STORE_TOPOLOGIES, {}, (contract) => {
  let clock: ManualClock;
  let sessions: SessionService;
  let locks: RefreshLockStore;
  beforeEach(() => {
    ({ clock, sessions } = contract);
    locks = contract.gateway.module.get(RefreshLockStore);
  });

  it('gives the refresh lock to one owner at a time, renewable and releasable only by that owner', async () => {
    const { id } = await sessions.create(typicalSession(clock.now()));
    expect(await locks.acquire(sessionKeyHash(id), 'instance-a', 5000)).toBe(true);
    expect(await locks.acquire(sessionKeyHash(id), 'instance-b', 5000)).toBe(false);
    expect(await locks.renew(sessionKeyHash(id), 'instance-b', 5000)).toBe(false);
    expect(await locks.renew(sessionKeyHash(id), 'instance-a', 5000)).toBe(true);
    await locks.release(sessionKeyHash(id), 'instance-b');
    expect(await locks.acquire(sessionKeyHash(id), 'instance-b', 5000)).toBe(false);
    await locks.release(sessionKeyHash(id), 'instance-a');
    expect(await locks.acquire(sessionKeyHash(id), 'instance-b', 5000)).toBe(true);
  });

  it('frees the refresh lock of an owner that died when its lease runs out', async () => {
    const { id } = await sessions.create(typicalSession(clock.now()));
    expect(await locks.acquire(sessionKeyHash(id), 'dead-instance', 200)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock.advance(1);
    expect(await locks.renew(sessionKeyHash(id), 'dead-instance', 200)).toBe(false);
    expect(await locks.acquire(sessionKeyHash(id), 'live-instance', 5000)).toBe(true);
  });
});
