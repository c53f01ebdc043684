import { LogoutTokenReplayGuard } from '#sessiongate/session';
import { type RedisFixture, STORE_TOPOLOGIES } from '#sessiongate/testing';
import { describeStores } from './store-contract.js';

// The used logout tokens contract (UsedLogoutTokenStore), through LogoutTokenReplayGuard, on every kind of store.

describeStores('used logout tokens in the %s store', STORE_TOPOLOGIES, {}, (contract) => {
  let replay: LogoutTokenReplayGuard;
  beforeEach(() => {
    replay = contract.gateway.module.get(LogoutTokenReplayGuard);
  });

  it('remembers a logout token id once, until it expires or is forgotten', async () => {
    expect(await replay.remember('https://idp', 'jti-1', 60_000)).toBe(true);
    expect(await replay.remember('https://idp', 'jti-1', 60_000)).toBe(false);
    expect(await replay.remember('https://other-idp', 'jti-1', 60_000)).toBe(true);
    await replay.forget('https://idp', 'jti-1');
    expect(await replay.remember('https://idp', 'jti-1', 60_000)).toBe(true);
  });
});

describeStores('used logout tokens in %s', ['redis'], {}, (contract) => {
  let redis: RedisFixture;
  let replay: LogoutTokenReplayGuard;
  beforeEach(() => {
    redis = contract.topologies.redis;
    replay = contract.gateway.module.get(LogoutTokenReplayGuard);
  });

  it('keeps a used logout token id only until its expiry', async () => {
    expect(await replay.remember('https://idp', 'jti-short', 200)).toBe(true);
    const [key] = await redis.client.keys('sg:jti:*');
    expect(key).toMatch(/^sg:jti:\{[A-Za-z0-9_-]{43}\}$/);
    expect(await redis.client.pttl(key!)).toBeLessThanOrEqual(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await replay.remember('https://idp', 'jti-short', 200)).toBe(true);
  });
});
