import { RateCounter } from '#sessiongate/session';
import { type ManualClock, type SessionModuleFixture, STORE_TOPOLOGIES } from '#sessiongate/testing';
import { describeStores } from './store-contract.js';

// The rate counters contract (RateCounterStore), through RateCounter, on every kind of store.

describeStores('rate counters in the %s store', STORE_TOPOLOGIES, {}, (contract) => {
  let clock: ManualClock;
  let gateway: SessionModuleFixture;
  beforeEach(() => void ({ clock, gateway } = contract));

  it('counts hits per name in a window that starts with the first hit and then resets', async () => {
    const counter = gateway.module.get(RateCounter);
    expect(await counter.hit('login\u0000192.0.2.1', 200)).toEqual({ hits: 1, resetsInMs: expect.any(Number) });
    const second = await counter.hit('login\u0000192.0.2.1', 200);
    expect(second.hits).toBe(2);
    expect(second.resetsInMs).toBeGreaterThan(0);
    expect(second.resetsInMs).toBeLessThanOrEqual(200);
    expect((await counter.hit('login\u0000192.0.2.2', 200)).hits).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    clock.advance(300);
    expect((await counter.hit('login\u0000192.0.2.1', 200)).hits).toBe(1);
  });
});
