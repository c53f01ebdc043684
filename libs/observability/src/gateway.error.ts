export interface GatewayErrorOptions {
  /** What went wrong, for the log only; never sent to the client. */
  readonly detail?: string;
  readonly cause?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Client-safe fields the JSON body carries besides `error`, `message` and `requestId` (e.g. `loginUrl`). */
  readonly body?: Readonly<Record<string, string>>;
}

/**
 * Base of every capability's error: a stable code and a client-safe message, kept apart from the
 * logged detail. The exception filter (and the proxy) turn it into `{ error, message, requestId }`.
 */
export class GatewayError extends Error {
  readonly detail: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
    this.body = options.body;
  }
}
