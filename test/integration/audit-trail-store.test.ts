import { SessionAudit } from '#sessiongate/session';
import { type ManualClock, type RedisFixture, type SessionModuleFixture, STORE_TOPOLOGIES } from '#sessiongate/testing';
import { describeStores } from './store-contract.js';

// The audit trail contract (AuditTrailStore), through SessionAudit, on every kind of store.

describeStores('the audit trail in the %s store', STORE_TOPOLOGIES, {}, (contract) => {
  let clock: ManualClock;
  let gateway: SessionModuleFixture;
  let audit: SessionAudit;
  beforeEach(() => {
    ({ clock, gateway } = contract);
    audit = gateway.module.get(SessionAudit);
  });

  it('writes audit events to the log', async () => {
    await audit.record({ actor: 'admin:ops', action: 'revoke_session', target: 'session:abc', sessions: ['abc'] });
    const line = gateway.logs.map((raw) => JSON.parse(raw) as { audit?: Record<string, unknown> }).find((entry) => entry.audit);
    expect(line?.audit).toEqual({
      actor: 'admin:ops',
      action: 'revoke_session',
      target: 'session:abc',
      sessions: ['abc'],
      at: new Date(clock.now()).toISOString(),
    });
  });
});

describeStores('the audit trail in %s', ['redis'], {}, (contract) => {
  let clock: ManualClock;
  let redis: RedisFixture;
  let audit: SessionAudit;
  beforeEach(() => {
    ({ clock } = contract);
    redis = contract.topologies.redis;
    audit = contract.gateway.module.get(SessionAudit);
  });

  it('appends audit events to a bounded stream', async () => {
    await audit.record({ actor: 'admin:ops', action: 'revoke_user_sessions', target: 'user:alice', sessions: ['a', 'b'] });
    const [[, fields]] = (await redis.client.xrange('sg:audit', '-', '+')) as [string, string[]][];
    expect(fields).toEqual([
      'at',
      new Date(clock.now()).toISOString(),
      'actor',
      'admin:ops',
      'action',
      'revoke_user_sessions',
      'target',
      'user:alice',
      'sessions',
      'a b',
    ]);

    const pipeline = redis.client.pipeline();
    for (let n = 0; n < 10_500; n++) pipeline.xadd('sg:audit', '*', 'n', String(n));
    await pipeline.exec();
    await audit.record({ actor: 'admin:ops', action: 'revoke_session', target: 'session:x', sessions: ['x'] });
    expect(await redis.client.xlen('sg:audit')).toBeLessThanOrEqual(10_000 + 200);
  });
});
