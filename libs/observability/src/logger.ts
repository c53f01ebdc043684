import pino, { type Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  /** Human-readable lines (demo); JSON lines otherwise. */
  readonly pretty?: boolean;
  /** Bound to every line besides `service`: e.g. `pid`, which tells apart the processes of GATEWAY_WORKERS. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

// Defence in depth: nothing should log these fields, but if it does, their values never reach the output.
const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.code',
  '*.state',
  '*.client_secret',
  '*.clientSecret',
  '*.logout_token',
  '*.password',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { service: 'sessiongate', ...options.fields },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    transport: options.pretty
      ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service' } }
      : undefined,
  });
}
