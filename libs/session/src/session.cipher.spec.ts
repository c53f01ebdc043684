import { randomBytes } from 'node:crypto';
import { SessionCipher } from './session.cipher.js';
import { SessionError, SessionErrorCode } from './session.errors.js';

const cipher = new SessionCipher(randomBytes(32));
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

  it('writes v1.<keyId>.<iv>.<ciphertext+tag> with a fresh IV each time', () => {
    const first = cipher.encrypt('same', AD);
    const second = cipher.encrypt('same', AD);
    expect(first).not.toBe(second);
    const [format, keyId, iv, sealed] = first.split('.');
    expect(format).toBe('v1');
    expect(keyId).toBe(cipher.keyId);
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(sealed!, 'base64url')).toHaveLength('same'.length + 16);
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toContain('same');
  });

  it('refuses a blob bound to other associated data', () => {
    const blob = cipher.encrypt('secret', 'session:one');
    expectCorrupt(() => cipher.decrypt(blob, 'session:two'));
  });

  it('refuses a blob sealed with another key', () => {
    const other = new SessionCipher(randomBytes(32));
    expectCorrupt(() => cipher.decrypt(other.encrypt('secret', AD), AD));
    // Even with the key id forged to ours, authentication fails.
    const [, , iv, sealed] = other.encrypt('secret', AD).split('.');
    expectCorrupt(() => cipher.decrypt(`v1.${cipher.keyId}.${iv}.${sealed}`, AD));
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
    for (let index = 0; index < length; index++) expectCorrupt(() => cipher.decrypt([format, keyId, iv, flip(sealed, index)].join('.'), AD));
  });

  it.each(['', 'garbage', 'v1', 'v2.a.b.c', 'v1.x.y', 'v1.x.y.z.w', `v1.KEY.AAAA.${'A'.repeat(40)}`])('refuses the malformed blob %j', (blob) => {
    expectCorrupt(() => cipher.decrypt(blob.replace('KEY', cipher.keyId), AD));
  });

  it('refuses a truncated blob', () => {
    const blob = cipher.encrypt('secret', AD);
    expectCorrupt(() => cipher.decrypt(blob.slice(0, -4), AD));
  });

  it('needs a 32-byte key', () => {
    expect(() => new SessionCipher(randomBytes(16))).toThrow('32-byte');
  });
});
