import { SessionReadCache } from './session.read-cache.js';
import type { SessionData } from './session.types.js';

function data(sub: string): SessionData {
  return { publicId: 'p', sub, claims: {}, tokens: { idToken: 'i', accessTokens: {} }, createdAt: 0, absoluteExpiresAt: 1 };
}

describe('SessionReadCache', () => {
  it('is bounded, evicting the least recently used entry', () => {
    const cache = new SessionReadCache(3);
    for (const key of ['a', 'b', 'c']) cache.set(key, { version: 1, digest: key, data: data(key) });
    expect(cache.get('a')?.data.sub).toBe('a');
    cache.set('d', { version: 1, digest: 'd', data: data('d') });
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((key) => cache.get(key)?.data.sub)).toEqual(['a', 'c', 'd']);
  });

  it('holds the default number of entries at most', () => {
    const cache = new SessionReadCache();
    for (let n = 0; n < 10_050; n++) cache.set(`k${n}`, { version: 1, digest: '', data: data('x') });
    expect(cache.size).toBe(10_000);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k10049')).toBeDefined();
  });

  it('never goes back to an older version, and forgets a deleted entry', () => {
    const cache = new SessionReadCache();
    cache.set('a', { version: 2, digest: 'two', data: data('two') });
    cache.set('a', { version: 1, digest: 'one', data: data('one') });
    expect(cache.get('a')?.digest).toBe('two');
    cache.set('a', { version: 3, digest: 'three', data: data('three') });
    expect(cache.get('a')?.digest).toBe('three');
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });
});
