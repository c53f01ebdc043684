import type { InvalidationFeed, InvalidationListener } from '#sessiongate/redis';
import { idleWriteDue, type KnownBlob } from './stores/session-record.store.js';
import type { Session } from './session.types.js';

/** Sessions one instance keeps decrypted, at most. */
export const READ_CACHE_ENTRIES = 10_000;
/** And their estimated size at most (a typical session is about 4 KB). */
export const READ_CACHE_BYTES = 32 * 2 ** 20;

export interface HeldSession extends KnownBlob {
  /** Frozen, and handed as is to every read this entry answers: one object per version, not one per request. */
  readonly session: Session;
  /** The store's idle expiry as last read: it only ever moves later, so this is a lower bound. */
  readonly idleExpiresAt: number;
  /** The store's (plaintext) absolute expiry, which its idle-write rule uses. */
  readonly absoluteExpiresAt: number;
  /** Estimated memory, from the length of the sealed record. */
  readonly size: number;
}

/** A read of the store under way: what it brings back may be kept only if nothing invalidated the session meanwhile. */
export interface ReadTicket {
  readonly keyHash: string;
  readonly generation: number;
  /** False when the feed was not live as the read began: invalidations sent meanwhile may be lost. */
  readonly keep: boolean;
}

interface InFlight {
  generation: number;
  readers: number;
}

/**
 * The decrypted data of recently read sessions, by key hash: a bounded LRU (a Map keeps insertion
 * order, and a hit moves its entry to the end), bounded in entries and in estimated bytes.
 *
 * Every entry is a memo of openSession for one version and blob digest, which spares the decrypt
 * and parse when the store reports that very version. With a live InvalidationFeed it also answers
 * reads on its own (`answer`): the store publishes every delete and replace, this cache forgets
 * the session as the message arrives, and until then the entry is exactly what the store holds,
 * except for the idle expiry, which only moves later; so an entry answers only while the store
 * would not write the idle expiry back (idleWriteDue), and never past either expiry.
 *
 * Races: an invalidation that arrives while a read of the same session is under way bumps that
 * session's generation, and the read's result is then not kept (it may predate the change). A
 * reset (the feed was cut) forgets everything and bumps every generation.
 */
export class SessionReadCache implements InvalidationListener {
  private readonly entries = new Map<string, HeldSession>();
  private readonly inFlight = new Map<string, InFlight>();
  private bytes = 0;
  /** Settles once the I/O already received by this process has been handled (see `drained`). */
  private drain: Promise<void> | undefined;

  /** Without a feed (the memory store, or SESSION_CACHE=verify) entries are memos only. */
  constructor(
    private readonly feed: InvalidationFeed | undefined,
    private readonly capacity = READ_CACHE_ENTRIES,
    private readonly maxBytes = READ_CACHE_BYTES,
  ) {
    feed?.listen(this);
  }

  get size(): number {
    return this.entries.size;
  }

  /** What is held for this key, refreshed as most recently used. */
  get(keyHash: string): HeldSession | undefined {
    const held = this.entries.get(keyHash);
    if (!held) return undefined;
    this.entries.delete(keyHash);
    this.entries.set(keyHash, held);
    return held;
  }

  /** Whether `held` is still what is held for this key (without refreshing it as most recently used). */
  holds(keyHash: string, held: HeldSession): boolean {
    return this.entries.get(keyHash) === held;
  }

  /** Whether `held` may answer a read at `now` without the store (call `drained` first, then check it is still held). */
  answers(held: HeldSession, now: number, idleTimeoutMs: number, intervalMs: number): boolean {
    return (
      this.feed?.live === true &&
      held.idleExpiresAt > now &&
      held.absoluteExpiresAt > now &&
      held.session.absoluteExpiresAt > now &&
      !idleWriteDue(now, held.idleExpiresAt, held.absoluteExpiresAt, idleTimeoutMs, intervalMs)
    );
  }

  /**
   * Resolves after every callback of the I/O this process has already been told of has run,
   * invalidation messages included: libuv polls sockets level-triggered, so a message that reached
   * the subscriber socket before this request reached its own is handled in the same poll phase,
   * and setImmediate runs after that phase. One promise serves every read of the same turn.
   */
  drained(): Promise<void> {
    return (this.drain ??= new Promise((resolve) =>
      setImmediate(() => {
        this.drain = undefined;
        resolve();
      }),
    ));
  }

  /** Call before asking the store; always `end` the ticket. */
  begin(keyHash: string): ReadTicket {
    let flight = this.inFlight.get(keyHash);
    if (!flight) this.inFlight.set(keyHash, (flight = { generation: 0, readers: 0 }));
    flight.readers++;
    return { keyHash, generation: flight.generation, keep: this.feed === undefined || this.feed.live };
  }

  /** Keeps what the store returned for `ticket`, unless the session was invalidated meanwhile. */
  fill(ticket: ReadTicket, entry: HeldSession): void {
    if (!ticket.keep || this.inFlight.get(ticket.keyHash)?.generation !== ticket.generation) return;
    // Two reads of one session may finish out of order: never go back to an older version.
    const held = this.entries.get(ticket.keyHash);
    if (held && held.version > entry.version) return;
    this.remove(ticket.keyHash);
    this.entries.set(ticket.keyHash, entry);
    this.bytes += entry.size;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity && this.bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
  }

  end(ticket: ReadTicket): void {
    const flight = this.inFlight.get(ticket.keyHash);
    if (flight && --flight.readers === 0) this.inFlight.delete(ticket.keyHash);
  }

  invalidated(keyHash: string): void {
    this.remove(keyHash);
    const flight = this.inFlight.get(keyHash);
    if (flight) flight.generation++;
  }

  reset(): void {
    this.entries.clear();
    this.bytes = 0;
    for (const flight of this.inFlight.values()) flight.generation++;
  }

  private remove(keyHash: string): void {
    const held = this.entries.get(keyHash);
    if (!held) return;
    this.entries.delete(keyHash);
    this.bytes -= held.size;
  }
}
