/** Page sizes of a listing endpoint: used when `limit` is absent, and the most it may ask for. */
export interface PageLimits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

/** `cursor` and `limit` as SessionDirectory.list takes them. */
export interface PageQuery {
  readonly cursor: string | undefined;
  readonly limit: number;
}

/**
 * The `?cursor=…&limit=…` of every session listing (admin API, the user's own sessions), read the
 * same way: each given at most once, `limit` a whole number within the endpoint's bounds. The cursor
 * itself is checked by SessionDirectory.list (`invalid_cursor`). `invalid` builds the caller's own
 * 400 error from a client-safe message.
 */
export function pageQuery(
  query: { readonly cursor: unknown; readonly limit: unknown },
  limits: PageLimits,
  invalid: (message: string) => Error,
): PageQuery {
  if (query.cursor !== undefined && (typeof query.cursor !== 'string' || query.cursor === ''))
    throw invalid('cursor must be given once, not empty.');
  if (query.limit === undefined) return { cursor: query.cursor, limit: limits.defaultLimit };
  const limit = typeof query.limit === 'string' && /^\d{1,4}$/.test(query.limit) ? Number(query.limit) : NaN;
  if (!(limit >= 1 && limit <= limits.maxLimit)) throw invalid(`limit must be a whole number from 1 to ${limits.maxLimit}.`);
  return { cursor: query.cursor, limit };
}
