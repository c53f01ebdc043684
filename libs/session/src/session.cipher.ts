import { createCipheriv, createDecipheriv, createHash, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { SessionError, SessionErrorCode } from './session.errors.js';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for records at rest. A blob is `v1.<keyId>.<base64url iv>.<base64url ciphertext||tag>`:
 * the version and key id leave room for key rotation. The associated data names the record the blob
 * belongs to, so a blob copied under another key does not decrypt.
 */
export class SessionCipher {
  private readonly key: KeyObject;
  /** Public by design: a truncated SHA-256 of a random 256-bit key reveals nothing about it. */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SessionCipher needs a 32-byte key');
    this.key = createSecretKey(key);
    this.keyId = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  }

  encrypt(plaintext: string, associatedData: string): string {
    // A fresh random 96-bit IV per message: never repeats under one key for any realistic volume.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${this.keyId}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** Throws SessionError `session_corrupt` on anything but an intact blob for this key and associated data. */
  decrypt(blob: string, associatedData: string): string {
    const [format, keyId, ivText, sealedText, ...rest] = blob.split('.');
    if (format !== FORMAT || rest.length > 0 || ivText === undefined || sealedText === undefined) throw corrupt('not a v1 blob');
    if (keyId !== this.keyId) throw corrupt('encrypted with an unknown key');
    const iv = Buffer.from(ivText, 'base64url');
    const sealed = Buffer.from(sealedText, 'base64url');
    if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) throw corrupt('malformed blob');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (error) {
      throw corrupt('authentication failed', error);
    }
  }
}

function corrupt(detail: string, cause?: unknown): SessionError {
  return new SessionError(SessionErrorCode.Corrupt, { detail, cause });
}
