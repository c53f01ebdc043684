import { isWellFormedSessionId, newPublicId, newSessionId, sessionKeyHash } from './session.ids.js';

describe('session ids', () => {
  it('makes 256-bit base64url session ids that pass the well-formedness check', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newSessionId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(32);
      expect(isWellFormedSessionId(id)).toBe(true);
    }
  });

  it('makes 128-bit public ids', () => {
    const id = newPublicId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });

  it('hashes an id to a stable SHA-256 that does not contain it', () => {
    const id = newSessionId();
    expect(sessionKeyHash(id)).toBe(sessionKeyHash(id));
    expect(sessionKeyHash(id)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessionKeyHash(id)).not.toBe(id);
    expect(sessionKeyHash(id)).not.toBe(sessionKeyHash(newSessionId()));
  });

  it.each([
    ['too short', 'a'.repeat(42)],
    ['too long', 'a'.repeat(44)],
    ['standard base64', `${'a'.repeat(41)}+/`],
    ['padding', `${'a'.repeat(42)}=`],
    ['whitespace', ` ${'a'.repeat(42)}`],
    ['a trailing newline', `${'a'.repeat(43)}\n`],
    ['empty', ''],
  ])('refuses an id that is %s', (_, value) => {
    expect(isWellFormedSessionId(value)).toBe(false);
  });

  it('refuses non-strings', () => {
    expect(isWellFormedSessionId(undefined)).toBe(false);
    expect(isWellFormedSessionId(['a'.repeat(43)])).toBe(false);
  });
});
