import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Logger } from 'pino';
import { SessionRevocation } from '#sessiongate/admin';
import { ConfigError, type GatewayConfig, loadConfig, loadStoreConfig, type StoreConfig } from '#sessiongate/config';
import { OidcClient } from '#sessiongate/oidc';
import { openSessionDirectory, type OpenedSessionDirectory, SessionError } from '#sessiongate/session';
import { sessionJson, sessionTable } from './session-table.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const USAGE = `Usage:
  sessiongate sessions list [--sub <sub>] [--limit <n>] [--cursor <cursor>] [--json]
  sessiongate sessions revoke <public id> [--json]
  sessiongate sessions revoke --sub <sub> [--json]

Break-glass session administration straight on Redis, for operators without an admin token (the
admin API, /admin, is the everyday way). Listing reads these settings from the environment, as the
gateway does, and nothing else:
  REDIS_URL               the gateway's Redis (redis:// or rediss://), or its REDIS_SENTINELS and
                          REDIS_SENTINEL_NAME, or its REDIS_CLUSTER_NODES, with the other REDIS_*
                          settings the gateway uses (docs/REDIS.md)
  SESSION_ENCRYPTION_KEY  the gateway's key or key list (base64 of 32 bytes, or k2:<base64>,k1:<base64>):
                          needed to read sessions
  SESSION_INDEX_KEY       the gateway's, when it sets one (required with a key list): needed to find a
                          user's sessions (their index is keyed with it)

Revoking does what the admin API does, and so needs the gateway's whole environment (run it where
the gateway runs, e.g. kubectl exec or docker compose exec): the sessions end at once on every
gateway instance, their refresh tokens are revoked at the identity provider (RFC 7009, with the
gateway's OIDC_* client credentials), and an audit event (actor cli:<os user>) goes to the sg:audit
stream. Should the provider be unreachable, the sessions still end, with a warning.

Exit status: 0 done, 1 failed (Redis unreachable, no such session), 2 bad usage or settings.`;

const DEFAULT_LIMIT = 50;

class UsageError extends Error {}

/** The `sessiongate` command line; returns the exit status. */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (command.kind === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  let config: CliConfig;
  try {
    config = settingsFor(command, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(error.message);
    return 2;
  }
  // Audit lines (and Redis trouble) go to stderr as JSON; the answer goes to stdout.
  const logger = pino({ base: { service: 'sessiongate-cli' } }, pino.destination({ fd: 2, sync: true }));
  let opened: OpenedSessionDirectory;
  try {
    opened = await openSessionDirectory(config.store, logger);
  } catch (error) {
    io.stderr(`Cannot reach Redis (REDIS_URL): ${describe(error)}`);
    return 1;
  }
  try {
    if (command.kind === 'list') return await list(command, opened, io);
    return await revoke(command, opened, await discoverProvider(config.gateway!, logger, io), io);
  } catch (error) {
    if (!(error instanceof SessionError)) throw error;
    io.stderr(`Failed: ${error.message} (${describe(error)})`);
    return error.status === 400 ? 2 : 1;
  } finally {
    await opened.close();
  }
}

interface CliConfig {
  readonly store: StoreConfig;
  /** For revoke only: the gateway's configuration, for its provider client. */
  readonly gateway: GatewayConfig | undefined;
}

/** Every problem at once, as the gateway reports them: the store's settings, and the gateway's for revoke. */
function settingsFor(command: Exclude<Command, { kind: 'help' }>, env: Record<string, string | undefined>): CliConfig {
  const problems = new Set<string>();
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) problems.add(problem);
      return undefined;
    }
  };
  const store = attempt(() => loadStoreConfig(env));
  const gateway = command.kind === 'revoke' ? attempt(() => loadConfig(env)) : undefined;
  if (problems.size > 0) throw new ConfigError([...problems]);
  return { store: store!, gateway };
}

/**
 * The gateway's provider client. A provider that cannot be discovered (down, or refusing the
 * configuration) must not stop a break-glass revocation: the sessions still end, and the refresh
 * tokens are left to die with them.
 */
async function discoverProvider(config: GatewayConfig, logger: Logger, io: CliIo): Promise<OidcClient> {
  const oidc = new OidcClient(config, logger);
  await oidc.onModuleInit().catch((error: unknown) => io.stderr(`Warning: ${error instanceof Error ? error.message : String(error)}`));
  // The CLI makes one attempt: no retries in the background.
  oidc.onModuleDestroy();
  if (!oidc.ready)
    io.stderr('Warning: the identity provider could not be discovered: refresh tokens will not be revoked there (the sessions still end).');
  return oidc;
}

type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'list'; readonly sub?: string; readonly limit: number; readonly cursor?: string; readonly json: boolean }
  | { readonly kind: 'revoke'; readonly publicId?: string; readonly sub?: string; readonly json: boolean };

function parseCommand(argv: readonly string[]): Command {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      sub: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, action, ...rest] = positionals;
  if (values.help || group === undefined || group === 'help') return { kind: 'help' };
  if (group !== 'sessions') throw new UsageError(`Unknown command: ${group}`);
  if (values.sub === '') throw new UsageError('--sub must not be empty');
  switch (action) {
    case 'list': {
      if (rest.length > 0) throw new UsageError(`Unexpected argument: ${rest[0]}`);
      const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
      return { kind: 'list', sub: values.sub, limit, cursor: values.cursor, json: values.json };
    }
    case 'revoke': {
      if (values.limit !== undefined || values.cursor !== undefined) throw new UsageError('revoke takes no --limit or --cursor');
      if (rest.length > 1) throw new UsageError(`Unexpected argument: ${rest[1]}`);
      if ((rest[0] === undefined) === (values.sub === undefined)) throw new UsageError('revoke needs a public id or --sub <sub>, not both');
      return { kind: 'revoke', publicId: rest[0], sub: values.sub, json: values.json };
    }
    default:
      throw new UsageError(action === undefined ? 'sessions: list or revoke?' : `Unknown sessions command: ${action}`);
  }
}

async function list(command: Extract<Command, { kind: 'list' }>, { directory }: OpenedSessionDirectory, io: CliIo): Promise<number> {
  const page = await directory.list({ sub: command.sub, cursor: command.cursor, limit: command.limit });
  if (command.json) {
    io.stdout(
      JSON.stringify(
        { sessions: page.sessions.map(sessionJson), nextCursor: page.nextCursor ?? null, unreadable: page.unreadable },
        null,
        2,
      ),
    );
  } else {
    io.stdout(page.sessions.length > 0 ? sessionTable(page.sessions) : 'No sessions.');
    if (page.nextCursor) io.stdout(`More: --cursor ${page.nextCursor}`);
  }
  if (page.unreadable > 0)
    io.stderr(`Warning: ${page.unreadable} session(s) could not be decrypted: is SESSION_ENCRYPTION_KEY the gateway's?`);
  return 0;
}

async function revoke(
  command: Extract<Command, { kind: 'revoke' }>,
  { directory, audit }: OpenedSessionDirectory,
  oidc: OidcClient,
  io: CliIo,
): Promise<number> {
  const revocation = new SessionRevocation(directory, audit, oidc);
  const actor = `cli:${operator()}`;
  const ids =
    command.publicId !== undefined
      ? await revocation.revokeSession(actor, command.publicId)
      : await revocation.revokeUser(actor, command.sub!);
  if (!ids) {
    io.stderr(`No session with public id ${command.publicId}.`);
    return 1;
  }
  io.stdout(
    command.json
      ? JSON.stringify({ revoked: ids }, null, 2)
      : ids.length > 0
        ? `Revoked ${ids.length} session(s): ${ids.join(' ')}`
        : 'No sessions to revoke.',
  );
  return 0;
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The store's own detail: the Redis failure, never the URL (it may carry a password). */
function describe(error: unknown): string {
  if (error instanceof SessionError) return error.detail ?? error.code;
  return error instanceof Error ? error.message : String(error);
}
