import { createCipheriv, randomBytes } from 'node:crypto';
import { SessionCipher } from './session.cipher.js';
import { SessionError, SessionErrorCode } from './session.errors.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const cipher = new SessionCipher([k1]);
const AD = 'session:abc';

function expectCorrupt(action: () => unknown): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SessionError);
  expect((thrown as SessionError).code).toBe(SessionErrorCode.Corrupt);
}

describe('SessionCipher', () => {
  it('round-trips text, including non-ASCII and empty', () => {
    for (const plaintext of ['{"sub":"alice"}', 'héllo ✓ 日本', '']) {
      expect(cipher.decrypt(cipher.encrypt(plaintext, AD), AD)).toBe(plaintext);
    }
  });

  it('writes v2.<keyId>.<iv>.<ciphertext+tag> with a fresh IV each time', () => {
    const first = cipher.encrypt('same', AD);
    const second = cipher.encrypt('same', AD);
    expect(first).not.toBe(second);
    const [format, keyId, iv, sealed] = first.split('.');
    expect(format).toBe('v2');
    expect(keyId).toBe('k1');
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(sealed!, 'base64url')).toHaveLength('same'.length + 16);
    expect(first).toMatch(/^v2\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toContain('same');
  });

  it('refuses a blob bound to other associated data', () => {
    const blob = cipher.encrypt('secret', 'session:one');
    expectCorrupt(() => cipher.decrypt(blob, 'session:two'));
  });

  it('refuses a blob sealed with another key', () => {
    const other = new SessionCipher([{ id: 'k9', key: randomBytes(32) }]);
    expectCorrupt(() => cipher.decrypt(other.encrypt('secret', AD), AD));
    // Even with the key id forged to ours, authentication fails.
    const [, , iv, sealed] = other.encrypt('secret', AD).split('.');
    expectCorrupt(() => cipher.decrypt(`v2.k1.${iv}.${sealed}`, AD));
  });

  it('seals with the first key of the ring and opens with any of them', () => {
    const rotated = new SessionCipher([k2, k1]);
    const old = cipher.encrypt('sealed before the rotation', AD);
    expect(rotated.decrypt(old, AD)).toBe('sealed before the rotation');
    const fresh = rotated.encrypt('sealed after it', AD);
    expect(fresh.startsWith('v2.k2.')).toBe(true);
    expect(new SessionCipher([k2]).decrypt(fresh, AD)).toBe('sealed after it');
    // k1 dropped: what it sealed can no longer be read.
    expectCorrupt(() => new SessionCipher([k2]).decrypt(old, AD));
  });

  it('authenticates the key id: a blob relabelled with another id fails even when that id names the same key', () => {
    const twice = new SessionCipher([
      { id: 'a', key: k1.key },
      { id: 'b', key: k1.key },
    ]);
    const blob = twice.encrypt('secret', AD);
    expect(blob.startsWith('v2.a.')).toBe(true);
    expectCorrupt(() => twice.decrypt(blob.replace('v2.a.', 'v2.b.'), AD));
  });

  it('opens a v1 blob written before key rotation existed (associated data without the header)', () => {
    const iv = randomBytes(12);
    const legacy = createCipheriv('aes-256-gcm', k1.key, iv, { authTagLength: 16 });
    legacy.setAAD(Buffer.from(AD));
    const sealed = Buffer.concat([legacy.update('{"sub":"alice"}'), legacy.final(), legacy.getAuthTag()]);
    const blob = `v1.k1.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
    expect(cipher.decrypt(blob, AD)).toBe('{"sub":"alice"}');
    expectCorrupt(() => cipher.decrypt(blob.replace('v1.', 'v2.'), AD));
  });

  it('refuses any single flipped byte of IV, ciphertext or tag', () => {
    const [format, keyId, iv, sealed] = cipher.encrypt('{"tokens":"x"}', AD).split('.') as [string, string, string, string];
    const flip = (text: string, index: number) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[index]! ^= 1;
      return bytes.toString('base64url');
    };
    for (let index = 0; index < 12; index++) expectCorrupt(() => cipher.decrypt([format, keyId, flip(iv, index), sealed].join('.'), AD));
    const length = Buffer.from(sealed, 'base64url').length;
    for (let index = 0; index < length; index++)
      expectCorrupt(() => cipher.decrypt([format, keyId, iv, flip(sealed, index)].join('.'), AD));
  });

  it.each([
    '',
    'garbage',
    'v1',
    'v2',
    'v3.k1.b.c',
    'v2.x.y',
    'v2.x.y.z.w',
    `v2.KEY.AAAA.${'A'.repeat(40)}`,
    `v1.KEY.AAAA.${'A'.repeat(40)}`,
  ])('refuses the malformed blob %j', (blob) => {
    expectCorrupt(() => cipher.decrypt(blob.replace('KEY', cipher.keyId), AD));
  });

  it('refuses a truncated blob', () => {
    const blob = cipher.encrypt('secret', AD);
    expectCorrupt(() => cipher.decrypt(blob.slice(0, -4), AD));
  });

  it('needs at least one key, each of 32 bytes', () => {
    expect(() => new SessionCipher([{ id: 'k', key: randomBytes(16) }])).toThrow('32-byte');
    expect(() => new SessionCipher([])).toThrow('32-byte');
  });
});
