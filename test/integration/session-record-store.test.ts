import { randomBytes } from 'node:crypto';
import { audienceKey, type SessionService, type TokenSet } from '#sessiongate/session';
import { type ManualClock, STORE_TOPOLOGIES, typicalSession } from '#sessiongate/testing';
import { describeStores } from './store-contract.js';

// The session records contract (SessionRecordStore), through SessionService, on every kind of store.

const IDLE_SECONDS = 60;
const ABSOLUTE_SECONDS = 300;

function newTokens(label: string, now: number): TokenSet {
  return {
    idToken: `id-${label}`,
    refreshToken: `refresh-${label}`,
    accessTokens: { [audienceKey()]: { value: `access-${label}`, expiresAt: now + 300_000 } },
  };
}

const SETTINGS = { SESSION_IDLE_TIMEOUT: String(IDLE_SECONDS), SESSION_ABSOLUTE_TIMEOUT: String(ABSOLUTE_SECONDS) };

describeStores('sessions in the %s store', STORE_TOPOLOGIES, SETTINGS, (contract) => {
  let clock: ManualClock;
  let sessions: SessionService;
  beforeEach(() => void ({ clock, sessions } = contract));

  it('creates a session and reads it back by its id', async () => {
    const data = typicalSession(clock.now());
    const created = await sessions.create(data);
    expect(created.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.publicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(created).toMatchObject({ ...data, version: 1, createdAt: clock.now() });
    expect(created.absoluteExpiresAt).toBe(clock.now() + ABSOLUTE_SECONDS * 1000);
    expect(created.idleExpiresAt).toBe(clock.now() + IDLE_SECONDS * 1000);

    clock.advance(1);
    expect(await sessions.read(created.id)).toEqual({ ...created, idleExpiresAt: clock.now() + IDLE_SECONDS * 1000 });
  });

  it('reads nothing for a malformed, unknown or destroyed id', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.read('not-a-session-id')).toBeNull();
    expect(await sessions.read(`${created.id}x`)).toBeNull();
    expect(await sessions.read(randomBytes(32).toString('base64url'))).toBeNull();
    await sessions.destroy(created.id);
    expect(await sessions.read(created.id)).toBeNull();
    await expect(sessions.destroy(created.id)).resolves.toBeUndefined();
    await expect(sessions.destroy('garbage')).resolves.toBeUndefined();
  });

  it('slides the idle expiry on every read', async () => {
    const { id } = await sessions.create(typicalSession(clock.now()));
    for (let step = 0; step < 4; step++) {
      clock.advance(IDLE_SECONDS - 1);
      expect(await sessions.read(id)).not.toBeNull();
    }
    clock.advance(IDLE_SECONDS);
    expect(await sessions.read(id)).toBeNull();
    clock.advance(-IDLE_SECONDS);
    expect(await sessions.read(id)).toBeNull();
  });

  it('never slides the absolute expiry, however active the session', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    let last = created;
    while (clock.now() + 50_000 < created.absoluteExpiresAt) {
      clock.advance(50);
      last = (await sessions.read(created.id))!;
      expect(last.absoluteExpiresAt).toBe(created.absoluteExpiresAt);
      expect(last.idleExpiresAt).toBeLessThanOrEqual(created.absoluteExpiresAt);
    }
    expect(last.idleExpiresAt).toBe(created.absoluteExpiresAt);
    clock.advance(50);
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('ends a session at an earlier absolute expiry the caller asks for', async () => {
    const created = await sessions.create({ ...typicalSession(clock.now()), absoluteExpiresAt: clock.now() + 30_000 });
    expect(created.absoluteExpiresAt).toBe(clock.now() + 30_000);
    expect(created.idleExpiresAt).toBe(clock.now() + 30_000);
    clock.advance(30);
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('keeps only the earlier absolute expiry when a later one is asked for', async () => {
    const created = await sessions.create({ ...typicalSession(clock.now()), absoluteExpiresAt: clock.now() + 10_000_000 });
    expect(created.absoluteExpiresAt).toBe(clock.now() + ABSOLUTE_SECONDS * 1000);
  });

  it('replaces tokens, bumping the version and keeping everything else', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    clock.advance(10);
    const tokens = newTokens('second', clock.now());
    const replaced = await sessions.replaceTokens(created, tokens);
    expect(replaced).toEqual({ ...created, tokens, version: 2, idleExpiresAt: clock.now() + IDLE_SECONDS * 1000 });
    expect(await sessions.read(created.id)).toEqual(replaced);
  });

  it('takes new claims and a shorter absolute expiry on replace, never a longer one', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    const shorter = await sessions.replaceTokens(created, newTokens('a', clock.now()), {
      claims: { sub: created.sub, refreshed: true },
      absoluteExpiresAt: clock.now() + 100_000,
    });
    expect(shorter).toMatchObject({ claims: { sub: created.sub, refreshed: true }, absoluteExpiresAt: clock.now() + 100_000 });
    const longer = await sessions.replaceTokens(shorter!, newTokens('b', clock.now()), { absoluteExpiresAt: clock.now() + 10_000_000 });
    expect(longer!.absoluteExpiresAt).toBe(clock.now() + 100_000);
    expect((await sessions.read(created.id))!.absoluteExpiresAt).toBe(clock.now() + 100_000);
  });

  it('ends the session when a replace asks for an absolute expiry already past', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.replaceTokens(created, newTokens('late', clock.now()), { absoluteExpiresAt: clock.now() - 1 })).toBeNull();
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('lets only the first of two writers of one version win', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    const [first, second] = await Promise.all([
      sessions.replaceTokens(created, newTokens('first', clock.now())),
      sessions.replaceTokens(created, newTokens('second', clock.now())),
    ]);
    const winner = first ?? second;
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect((await sessions.read(created.id))!.tokens).toEqual(winner!.tokens);

    const stale = await sessions.replaceTokens(created, newTokens('stale', clock.now()));
    expect(stale).toBeNull();
    expect((await sessions.read(created.id))!.tokens).toEqual(winner!.tokens);
  });

  it('never brings back a session destroyed while its tokens were refreshed', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    await sessions.destroy(created.id);
    expect(await sessions.replaceTokens(created, newTokens('late', clock.now()))).toBeNull();
    expect(await sessions.read(created.id)).toBeNull();
  });

  it('never brings back a session that expired while its tokens were refreshed', async () => {
    const created = await sessions.create(typicalSession(clock.now()));
    clock.advance(IDLE_SECONDS);
    expect(await sessions.replaceTokens(created, newTokens('late', clock.now()))).toBeNull();
    expect(await sessions.read(created.id)).toBeNull();
  });
});
