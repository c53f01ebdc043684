import { createHash } from 'node:crypto';
import type { SessionCipher } from './session.cipher.js';
import type { SessionData } from './session.types.js';

/** Encrypts a session's data, bound to the store key it is written under. */
export function sealSession(cipher: SessionCipher, keyHash: string, data: SessionData): string {
  return cipher.encrypt(JSON.stringify(data), associatedData(keyHash));
}

/** Throws SessionError `session_corrupt` unless the blob was sealed for this very key. */
export function openSession(cipher: SessionCipher, keyHash: string, blob: string): SessionData {
  return JSON.parse(cipher.decrypt(blob, associatedData(keyHash))) as SessionData;
}

// Binds each blob to the record it was written for: moved under another key, it fails to decrypt.
function associatedData(keyHash: string): string {
  return `session:${keyHash}`;
}

/** Names one blob exactly; the Redis store computes the same (`redis.sha1hex`) to tell whether a reader's copy is current. */
export function blobDigest(blob: string): string {
  return createHash('sha1').update(blob).digest('hex');
}
