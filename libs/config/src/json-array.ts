/**
 * One key of the objects in a JSON-array setting (API_ROUTES): how it is read, and what it is when an
 * entry leaves it out. Keys are read in the order they are declared, and the first problem is reported.
 */
export interface JsonKey<T> {
  /** Returns the value or throws an Error whose message follows the key's name ("must be ..."); an absent key arrives as its default, else undefined. */
  readonly parse: (value: unknown) => T;
  /** Used when an entry leaves the key out; the caller may give another (from other settings). */
  readonly default?: unknown;
  /** Another spelling of the key, read into it; an entry gives one or the other. */
  readonly alias?: string;
  /** No two entries may give the same value. */
  readonly unique?: boolean;
  /** Its value names the entry in later messages (`route 2 (/api/todos)`). */
  readonly names?: boolean;
  /** A rule tying this key to the ones read before it: what is wrong, or undefined. */
  readonly check?: (entry: Readonly<Record<string, unknown>>) => string | undefined;
}

/** Thrown by a key's parser about a part of its value: the message names `<key>.<path>`. */
export class JsonKeyError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export type JsonKeys = Readonly<Record<string, JsonKey<unknown>>>;

/** An entry as read: each key's parsed value. */
export type JsonEntry<K extends JsonKeys> = { readonly [N in keyof K]: ReturnType<K[N]['parse']> };

/**
 * A parser for a JSON array of objects with exactly `keys`, naming the entry (`route 2`) and the key in
 * its message. `defaults` replace the keys' own defaults (e.g. a route's limits are the global settings).
 */
export function jsonArray<K extends JsonKeys>(
  noun: string,
  keys: K,
): (raw: string, defaults?: { readonly [N in keyof K]?: unknown }) => JsonEntry<K>[] {
  const known = new Set(Object.entries(keys).flatMap(([name, key]) => (key.alias === undefined ? [name] : [name, key.alias])));
  return (raw, defaults = {}) => {
    const defaultFor: Readonly<Record<string, unknown>> = defaults;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new Error(`must be a JSON array of ${noun}s`);
    }
    if (!Array.isArray(parsed)) throw new Error(`must be a JSON array of ${noun}s`);
    const seen = new Map<string, Set<unknown>>();
    return parsed.map((item: unknown, index) => {
      let where = `${noun} ${index}`;
      if (typeof item !== 'object' || item === null) throw new Error(`${where} must be an object`);
      const given = item as Record<string, unknown>;
      const unknownKeys = Object.keys(given).filter((name) => !known.has(name));
      if (unknownKeys.length > 0) throw new Error(`${where} has unknown field(s): ${unknownKeys.join(', ')}`);
      const entry: Record<string, unknown> = {};
      for (const [name, key] of Object.entries(keys)) {
        if (key.alias !== undefined && given[name] !== undefined && given[key.alias] !== undefined)
          throw new Error(`${where}: give ${name} or ${key.alias}, not both`);
        // Only an absent (undefined) key takes a default: an explicit null is read, and refused, as given.
        const spelled = key.alias === undefined ? given[name] : (given[name] ?? given[key.alias]);
        const fallback = defaultFor[name] !== undefined ? defaultFor[name] : key.default;
        const value = spelled !== undefined ? spelled : fallback;
        try {
          entry[name] = key.parse(value);
        } catch (error) {
          const named = error instanceof JsonKeyError ? `${name}.${error.path}` : name;
          throw new Error(`${where}: ${named} ${(error as Error).message}`);
        }
        if (key.names) where = `${where} (${String(entry[name])})`;
        if (key.unique) {
          const values = seen.get(name) ?? new Set();
          if (values.has(entry[name])) throw new Error(`${where}: ${name} ${String(entry[name])} is listed twice`);
          seen.set(name, values.add(entry[name]));
        }
        const problem = key.check?.(entry);
        if (problem !== undefined) throw new Error(`${where}: ${problem}`);
      }
      // Every key was read into entry, each by its own parser.
      return entry as JsonEntry<K>;
    });
  };
}
