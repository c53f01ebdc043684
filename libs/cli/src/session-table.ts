import type { SessionSummary } from '#sessiongate/session';

const COLUMNS: readonly [string, (session: SessionSummary) => string][] = [
  ['ID', (session) => session.publicId],
  ['SUB', (session) => session.sub],
  ['CREATED', (session) => iso(session.createdAt)],
  ['LAST SEEN', (session) => iso(session.lastSeenAt)],
  ['EXPIRES', (session) => iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt))],
  ['IP', (session) => session.ip ?? '-'],
  ['USER AGENT', (session) => session.userAgent ?? '-'],
];

/** Sessions as an aligned text table, one per line (nothing secret: no token, no cookie value). */
export function sessionTable(sessions: readonly SessionSummary[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...sessions.map((session) => COLUMNS.map(([, cell]) => oneLine(cell(session))))];
  const widths = COLUMNS.map((_column, index) => Math.max(...rows.map((row) => row[index]!.length)));
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  ')).join('\n');
}

/** The JSON a script would want: the table's fields, with ISO dates. */
export function sessionJson(session: SessionSummary): Record<string, unknown> {
  return {
    id: session.publicId,
    sub: session.sub,
    createdAt: iso(session.createdAt),
    lastSeenAt: iso(session.lastSeenAt),
    expiresAt: iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)),
    absoluteExpiresAt: iso(session.absoluteExpiresAt),
    ip: session.ip,
    userAgent: session.userAgent,
    hasRefreshToken: session.hasRefreshToken,
  };
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// A user agent is whatever the browser sent: never let it break (or forge) a line of the table.
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}
