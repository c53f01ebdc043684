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

describeStores('reading the audit trail back from the %s store', STORE_TOPOLOGIES, {}, (contract) => {
  let clock: ManualClock;
  let audit: SessionAudit;
  beforeEach(async () => {
    ({ clock } = contract);
    audit = contract.gateway.module.get(SessionAudit);
    const at = (iso: string) => clock.advance((Date.parse(iso) - clock.now()) / 1000);
    at('2026-12-01T10:00:00Z');
    await audit.record({ actor: 'admin:ops', action: 'revoke_session', target: 'session:s1', sessions: ['s1'], users: ['alice'] });
    at('2026-12-02T10:00:00Z');
    await audit.record({ actor: 'idp', action: 'backchannel_logout', target: 'user:bob', sessions: ['s2', 's3'] });
    at('2026-12-03T10:00:00Z');
    await audit.record({ actor: 'user:alice', action: 'end_own_session', target: 'session:s4', sessions: ['s4'] });
    at('2026-12-04T10:00:00Z');
    await audit.record({ actor: 'admin:ops', action: 'revoke_user_sessions', target: 'user:carol with space', sessions: [], users: [] });
  });

  it('reads events newest first, with every field', async () => {
    const page = await audit.page({}, undefined, 10);
    expect(page.next).toBeUndefined();
    expect(page.events.map((event) => event.target)).toEqual(['user:carol with space', 'session:s4', 'user:bob', 'session:s1']);
    expect(page.events[3]).toEqual({
      id: expect.stringMatching(/^\d+-\d+$/),
      at: '2026-12-01T10:00:00.000Z',
      actor: 'admin:ops',
      action: 'revoke_session',
      target: 'session:s1',
      sessions: ['s1'],
      users: ['alice'],
    });
    expect(page.events[1]?.sessions).toEqual(['s4']);
    expect(page.events[2]?.sessions).toEqual(['s2', 's3']);
  });

  it('pages with the cursor it hands out, and refuses any other', async () => {
    const first = await audit.page({}, undefined, 3);
    expect(first.events).toHaveLength(3);
    const second = await audit.page({}, first.next, 3);
    expect(second.events.map((event) => event.target)).toEqual(['session:s1']);
    expect(second.next).toBeUndefined();
    const exact = await audit.page({}, undefined, 4);
    expect(exact.next).toBeUndefined();
    await expect(audit.page({}, 'not-a-cursor', 3)).rejects.toMatchObject({ code: 'invalid_cursor' });
  });

  it('filters by event, by user (as actor, target or among the users) and by time range', async () => {
    const targets = async (filter: Parameters<SessionAudit['page']>[0]) =>
      (await audit.page(filter, undefined, 10)).events.map((event) => event.target);
    expect(await targets({ action: 'end_own_session' })).toEqual(['session:s4']);
    expect(await targets({ user: 'alice' })).toEqual(['session:s4', 'session:s1']);
    expect(await targets({ user: 'bob' })).toEqual(['user:bob']);
    expect(await targets({ user: 'carol with space' })).toEqual(['user:carol with space']);
    expect(await targets({ user: 'ops' })).toEqual(['user:carol with space', 'session:s1']);
    expect(await targets({ user: 'ali' })).toEqual([]);
    expect(await targets({ from: Date.parse('2026-12-02T00:00:00Z'), to: Date.parse('2026-12-03T10:00:00Z') })).toEqual([
      'session:s4',
      'user:bob',
    ]);
    expect(await targets({ action: 'revoke_session', user: 'alice', to: Date.parse('2026-11-30T00:00:00Z') })).toEqual([]);
    // A filtered page is full before its cursor is handed out.
    const page = await audit.page({ user: 'alice' }, undefined, 1);
    expect(page.events.map((event) => event.target)).toEqual(['session:s4']);
    expect((await audit.page({ user: 'alice' }, page.next, 1)).events.map((event) => event.target)).toEqual(['session:s1']);
  });
});
