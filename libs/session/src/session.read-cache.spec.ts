import { type HeldSession, SessionReadCache } from './session.read-cache.js';
import type { InvalidationFeed, InvalidationListener } from '#sessiongate/redis';
import type { Session } from './session.types.js';

const NOW = 1_000_000;
const IDLE_TIMEOUT = 60_000;
const INTERVAL = 5_000;

function session(sub: string, absoluteExpiresAt = NOW + 3_600_000): Session {
  return {
    id: sub,
    version: 1,
    idleExpiresAt: NOW + IDLE_TIMEOUT,
    publicId: 'p',
    sub,
    claims: {},
    tokens: { idToken: 'i', accessTokens: {} },
    createdAt: 0,
    absoluteExpiresAt,
  };
}

function held(sub: string, overrides: Partial<HeldSession> = {}): HeldSession {
  const absoluteExpiresAt = overrides.absoluteExpiresAt ?? NOW + 3_600_000;
  return {
    version: 1,
    digest: sub,
    session: session(sub, absoluteExpiresAt),
    idleExpiresAt: NOW + IDLE_TIMEOUT,
    absoluteExpiresAt,
    size: 4000,
    ...overrides,
  };
}

/** A feed whose liveness the test sets, and which hands the test its listener. */
class TestFeed implements InvalidationFeed {
  live = true;
  listener: InvalidationListener | undefined;
  listen(listener: InvalidationListener): void {
    this.listener = listener;
  }
}

function put(cache: SessionReadCache, keyHash: string, entry: HeldSession): void {
  const ticket = cache.begin(keyHash);
  cache.fill(ticket, entry);
  cache.end(ticket);
}

describe('SessionReadCache', () => {
  it('is bounded in entries, evicting the least recently used one', () => {
    const cache = new SessionReadCache(undefined, 3);
    for (const key of ['a', 'b', 'c']) put(cache, key, held(key));
    expect(cache.get('a')?.session.sub).toBe('a');
    put(cache, 'd', held('d'));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((key) => cache.get(key)?.session.sub)).toEqual(['a', 'c', 'd']);
  });

  it('tells whether an entry is still held without making it the most recently used', () => {
    const cache = new SessionReadCache(undefined, 2);
    const a = held('a');
    put(cache, 'a', a);
    put(cache, 'b', held('b'));
    expect(cache.holds('a', a)).toBe(true);
    expect(cache.holds('a', held('a'))).toBe(false);
    put(cache, 'c', held('c'));
    expect(cache.holds('a', a)).toBe(false);
    expect(cache.get('b')?.session.sub).toBe('b');
  });

  it('is bounded in estimated bytes', () => {
    const cache = new SessionReadCache(undefined, 100, 10_000);
    for (const key of ['a', 'b', 'c']) put(cache, key, held(key, { size: 4000 }));
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    put(cache, 'b', held('b', { version: 2, size: 9000 }));
    expect(cache.size).toBe(1);
    expect(cache.get('b')?.version).toBe(2);
  });

  it('never goes back to an older version', () => {
    const cache = new SessionReadCache(undefined);
    put(cache, 'a', held('two', { version: 2 }));
    put(cache, 'a', held('one', { version: 1 }));
    expect(cache.get('a')?.digest).toBe('two');
    put(cache, 'a', held('three', { version: 3 }));
    expect(cache.get('a')?.digest).toBe('three');
  });

  it('forgets an invalidated session, and does not keep a read of it that was under way', () => {
    const feed = new TestFeed();
    const cache = new SessionReadCache(feed);
    put(cache, 'a', held('a'));
    const racing = cache.begin('a');
    const other = cache.begin('b');
    feed.listener!.invalidated('a');
    expect(cache.get('a')).toBeUndefined();
    cache.fill(racing, held('a'));
    cache.fill(other, held('b'));
    cache.end(racing);
    cache.end(other);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    // A read begun after the invalidation is kept.
    put(cache, 'a', held('a'));
    expect(cache.get('a')).toBeDefined();
  });

  it('forgets everything on a reset, reads under way included, and keeps nothing read while the feed was not live', () => {
    const feed = new TestFeed();
    const cache = new SessionReadCache(feed);
    put(cache, 'a', held('a'));
    const racing = cache.begin('b');
    feed.listener!.reset();
    cache.fill(racing, held('b'));
    cache.end(racing);
    expect(cache.size).toBe(0);

    feed.live = false;
    const blind = cache.begin('c');
    feed.live = true;
    cache.fill(blind, held('c'));
    cache.end(blind);
    expect(cache.get('c')).toBeUndefined();
  });

  it('answers only with a live feed, before both expiries, and while no idle write is due', () => {
    const feed = new TestFeed();
    const cache = new SessionReadCache(feed);
    const entry = held('a');
    expect(cache.answers(entry, NOW, IDLE_TIMEOUT, INTERVAL)).toBe(true);
    expect(new SessionReadCache(undefined).answers(entry, NOW, IDLE_TIMEOUT, INTERVAL)).toBe(false);
    feed.live = false;
    expect(cache.answers(entry, NOW, IDLE_TIMEOUT, INTERVAL)).toBe(false);
    feed.live = true;
    // The store would slide the idle expiry once it moves by more than the interval: that read must reach it.
    expect(cache.answers(entry, NOW + INTERVAL + 1, IDLE_TIMEOUT, INTERVAL)).toBe(false);
    expect(cache.answers(entry, NOW + INTERVAL, IDLE_TIMEOUT, INTERVAL)).toBe(true);
    const ending = held('b', { absoluteExpiresAt: NOW + 1000, idleExpiresAt: NOW + 1000 });
    expect(cache.answers(ending, NOW + 999, IDLE_TIMEOUT, INTERVAL)).toBe(true);
    expect(cache.answers(ending, NOW + 1000, IDLE_TIMEOUT, INTERVAL)).toBe(false);
    // Reaching the absolute expiry, the store writes the idle expiry once more.
    expect(cache.answers(held('c', { absoluteExpiresAt: NOW + 1000, idleExpiresAt: NOW + 500 }), NOW, IDLE_TIMEOUT, INTERVAL)).toBe(false);
  });
});
