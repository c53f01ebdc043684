import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import type { SessionKey } from '#sessiongate/config';
import { SessionError, SessionErrorCode } from './session.errors.js';

const FORMAT = 'v2';
/** Written before key rotation existed; still opened, so that upgrading ends no session. */
const LEGACY_FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for records at rest, under a key ring: the first key seals, every key opens. A blob is
 * `v2.<keyId>.<base64url iv>.<base64url ciphertext||tag>`. The associated data is the blob's header
 * (format and key id) followed by the name of the record it belongs to: a blob copied under another
 * record, or relabelled with another key id, does not decrypt.
 */
export class SessionCipher {
  private readonly keys: ReadonlyMap<string, KeyObject>;
  /** The id of the key new blobs are sealed with. Public by design: it names a key, it reveals nothing of it. */
  readonly keyId: string;

  constructor(keys: readonly SessionKey[]) {
    if (keys.length === 0 || keys.some(({ key }) => key.length !== 32)) throw new Error('SessionCipher needs 32-byte keys');
    this.keys = new Map(keys.map(({ id, key }) => [id, createSecretKey(key)]));
    this.keyId = keys[0]!.id;
  }

  encrypt(plaintext: string, associatedData: string): string {
    // A fresh random 96-bit IV per message: never repeats under one key for any realistic volume.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`${FORMAT}.${this.keyId}.${associatedData}`, 'utf8'));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${this.keyId}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  /** Throws SessionError `session_corrupt` on anything but an intact blob, under a key of the ring, for this associated data. */
  decrypt(blob: string, associatedData: string): string {
    const [format, keyId, ivText, sealedText, ...rest] = blob.split('.');
    if ((format !== FORMAT && format !== LEGACY_FORMAT) || rest.length > 0 || ivText === undefined || sealedText === undefined)
      throw corrupt('not a v1 or v2 blob');
    const key = this.keys.get(keyId!);
    if (!key) throw corrupt('encrypted with a key that is no longer configured');
    const iv = Buffer.from(ivText, 'base64url');
    const sealed = Buffer.from(sealedText, 'base64url');
    if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) throw corrupt('malformed blob');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(format === FORMAT ? `${FORMAT}.${keyId}.${associatedData}` : associatedData, 'utf8'));
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
