import { SessionDirectory, SessionEndListeners, type SessionService, UserVault } from '#sessiongate/session';
import { type ManualClock, STORE_TOPOLOGIES, typicalSession } from '#sessiongate/testing';
import { describeStores } from './store-contract.js';

// The user vault (UserVault over UserVaultStore) and SessionService.update, on every kind of store.

const grant = (accessToken: string) => ({ accessToken, refreshToken: `${accessToken}-refresh`, scopes: 'calendar:read', connectedAt: 1 });

describeStores('the user vault and session updates in the %s store', STORE_TOPOLOGIES, {}, (contract) => {
  let clock: ManualClock;
  let sessions: SessionService;
  let vault: UserVault;
  beforeEach(() => {
    ({ clock, sessions } = contract);
    vault = contract.gateway.module.get(UserVault);
  });

  it('keeps a value per user and name, versioned', async () => {
    expect(await vault.read('alice', 'calendar')).toBeNull();
    expect(await vault.write('alice', 'calendar', grant('a1'), 60_000)).toBe(1);
    expect(await vault.read('alice', 'calendar')).toEqual({ version: 1, value: grant('a1') });
    expect(await vault.read('bob', 'calendar')).toBeNull();
    expect(await vault.read('alice', 'other')).toBeNull();
    expect(await vault.write('alice', 'calendar', grant('a2'), 60_000)).toBe(2);
  });

  it('refuses a write or delete at a version that is no longer stored', async () => {
    await vault.write('alice', 'calendar', grant('a1'), 60_000);
    expect(await vault.write('alice', 'calendar', grant('a2'), 60_000, 1)).toBe(2);
    // A refresh that read version 1 finishes late: it must not write back.
    expect(await vault.write('alice', 'calendar', grant('stale'), 60_000, 1)).toBeNull();
    expect(await vault.delete('alice', 'calendar', 1)).toBeNull();
    expect((await vault.read('alice', 'calendar'))?.value).toEqual(grant('a2'));
    expect(await vault.delete('alice', 'calendar')).toEqual({ version: 2, value: grant('a2') });
    expect(await vault.read('alice', 'calendar')).toBeNull();
    expect(await vault.write('alice', 'calendar', grant('a3'), 60_000, 0)).toBe(1);
  });

  it('names a lock per user and record, never a session key', () => {
    expect(vault.lockName('alice', 'calendar')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(vault.lockName('alice', 'calendar')).not.toBe(vault.lockName('bob', 'calendar'));
    expect(vault.lockName('alice', 'calendar')).not.toBe(vault.lockName('alice', 'other'));
  });

  it('applies an update over a newer version, so writers of different fields keep each other', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    // Two writers read the same version: one refreshes the user's tokens, the other stores a connection.
    const tokens = { ...created.tokens, accessTokens: { ' ': { value: 'refreshed', expiresAt: clock.now() + 60_000 } } };
    const connected = await sessions.update(created, (current) => ({ ...current, connections: { calendar: grant('c1') } }));
    expect(connected?.version).toBe(created.version + 1);
    const refreshed = await sessions.replaceTokens(created, tokens);
    expect(refreshed?.tokens).toEqual(tokens);
    expect(refreshed?.connections).toEqual({ calendar: grant('c1') });
    // A token write that started from tokens since replaced gives up (only the lock holder writes tokens).
    expect(await sessions.replaceTokens(created, created.tokens)).toBeNull();
    const stored = await sessions.read(created.id, { fresh: true });
    expect(stored?.tokens).toEqual(tokens);
    expect(stored?.connections).toEqual({ calendar: grant('c1') });
    // Never the cookie value, version or idle expiry inside the record.
    expect(Object.keys(stored ?? {}).sort()).toEqual(Object.keys(refreshed ?? {}).sort());
  });

  it('tells the end listeners what an ended session held, and not what a destroyed one did', async () => {
    const heard: unknown[] = [];
    contract.gateway.module.get(SessionEndListeners).listen(async (ended) => void heard.push(ended.connections));
    const first = await sessions.create({ ...typicalSession(clock.now()), connections: { calendar: grant('e1') } });
    const second = await sessions.create({ ...typicalSession(clock.now()), connections: { calendar: grant('e2') } });
    await sessions.end(first.id);
    await sessions.destroy(second.id);
    expect(heard).toEqual([{ calendar: grant('e1') }]);
    expect(await sessions.read(first.id)).toBeNull();
    // Revoked by the directory: told; replaced (a step-up carries its connections over): not told, handed back.
    const directory = contract.gateway.module.get(SessionDirectory);
    const revoked = await sessions.create({ ...typicalSession(clock.now()), connections: { calendar: grant('e3') } });
    const replaced = await sessions.create({ ...typicalSession(clock.now()), connections: { calendar: grant('e4') } });
    await directory.revokeByPublicId(revoked.publicId);
    expect((await directory.revokeByPublicId(replaced.publicId, {}, { replaced: true }))?.connections).toEqual({ calendar: grant('e4') });
    expect(heard).toEqual([{ calendar: grant('e1') }, { calendar: grant('e3') }]);
  });
});
