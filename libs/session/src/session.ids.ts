import { hash, randomBytes } from 'node:crypto';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** 256 random bits, base64url (43 characters): the session cookie value, and the pre-login cookie value. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** 128 random bits, base64url: a session's public handle, which reveals nothing about its cookie. */
export function newPublicId(): string {
  return randomBytes(16).toString('base64url');
}

/** The store is keyed by this hash, never by the id itself, so a dump of the store yields no usable cookie. */
export function sessionKeyHash(id: string): string {
  // One-shot: no Hash object per request (about 1 µs less than createHash, on every proxied request).
  return hash('sha256', id, 'base64url');
}

/** Checked before the store is asked: anything else in the cookie cannot be one of our ids. */
export function isWellFormedSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}
