import { randomBytes } from 'node:crypto';
import type { SessionService } from '#sessiongate/session';
import { type ManualClock, pendingLogin, STORE_TOPOLOGIES, typicalSession } from '#sessiongate/testing';
import { describeStores } from './store-contract.js';

// The pending logins contract (PendingLoginStore), through SessionService, on every kind of store.

const LOGIN_SECONDS = 120;

describeStores('pending logins in the %s store', STORE_TOPOLOGIES, { LOGIN_TIMEOUT: String(LOGIN_SECONDS) }, (contract) => {
  let clock: ManualClock;
  let sessions: SessionService;
  beforeEach(() => void ({ clock, sessions } = contract));

  it('hands out a pending login exactly once', async () => {
    const login = pendingLogin(clock.now());
    const loginId = await sessions.savePendingLogin(login);
    expect(loginId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [first, second] = await Promise.all([sessions.takePendingLogin(loginId), sessions.takePendingLogin(loginId)]);
    expect([first, second]).toContainEqual(login);
    expect([first, second]).toContainEqual(null);
    expect(await sessions.takePendingLogin(loginId)).toBeNull();
  });

  it('forgets a pending login after LOGIN_TIMEOUT', async () => {
    const fresh = await sessions.savePendingLogin(pendingLogin(clock.now()));
    const stale = await sessions.savePendingLogin(pendingLogin(clock.now()));
    clock.advance(LOGIN_SECONDS - 1);
    expect(await sessions.takePendingLogin(fresh)).not.toBeNull();
    clock.advance(1);
    expect(await sessions.takePendingLogin(stale)).toBeNull();
  });

  it('reads no pending login for a malformed or unknown id', async () => {
    expect(await sessions.takePendingLogin('')).toBeNull();
    expect(await sessions.takePendingLogin('../../etc')).toBeNull();
    expect(await sessions.takePendingLogin(randomBytes(32).toString('base64url'))).toBeNull();
  });

  it('keeps pending logins and sessions apart', async () => {
    const loginId = await sessions.savePendingLogin(pendingLogin(clock.now()));
    expect(await sessions.read(loginId)).toBeNull();
    const { id } = await sessions.create(typicalSession(clock.now()));
    expect(await sessions.takePendingLogin(id)).toBeNull();
  });
});
