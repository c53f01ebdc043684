import type { Session, SessionService, TokenSet, TokenUpdate } from '#sessiongate/session';

/** A write that loses its compare-and-set this often in a row is given up (the session is being ended, or written in a loop). */
const MAX_WRITES = 5;

/**
 * Stores a change to a session's tokens by compare-and-set on its version, applying `update` again to
 * the latest tokens when another write came first: refreshes (under the session's lock) and token
 * exchanges (under a lock per target) write the same record, each only its own tokens. Null when the
 * session is gone (logged out, revoked, expired).
 */
export async function writeSessionTokens(
  sessions: SessionService,
  session: Session,
  update: (tokens: TokenSet) => TokenSet,
  options?: TokenUpdate,
): Promise<Session | null> {
  let base: Session | null = session;
  for (let attempt = 0; attempt < MAX_WRITES && base !== null; attempt++) {
    const written = await sessions.replaceTokens(base, update(base.tokens), options);
    if (written) return written;
    base = await sessions.read(session.id, { fresh: true });
  }
  return null;
}
