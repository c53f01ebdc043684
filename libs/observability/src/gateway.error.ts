import {
  ERROR_CATALOGUE,
  type ErrorBodyFields,
  type ErrorCode,
  type ErrorDefinition,
  type ErrorVariant,
  type ExplainedErrorCode,
  type RetryableErrorCode,
} from './error-catalogue.js';

export interface GatewayErrorOptions<C extends ErrorCode = ErrorCode> {
  /** What went wrong, for the log only; never sent to the client. */
  readonly detail?: string;
  readonly cause?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** The extra body fields the catalogue declares for this code (`bodyFields`, e.g. step_up_required's `loginUrl`). */
  readonly body?: ErrorBodyFields<C>;
  /** One of the catalogue's other wordings for this code, instead of its message. */
  readonly variant?: ErrorVariant<C>;
  /** Retry-After, rounded up to a whole second (at least 1); only for codes the catalogue marks. */
  readonly retryAfterSeconds?: C extends RetryableErrorCode ? number : never;
  /** The validation's own client-safe message, for codes the catalogue marks `explained`. */
  readonly explanation?: C extends ExplainedErrorCode ? string : never;
  /** Only for a framework refusal relayed with a status the catalogue has no code of (see GatewayExceptionFilter). */
  readonly status?: number;
}

/**
 * Base of every capability's error: a stable code whose status and client-safe message come from
 * ERROR_CATALOGUE, kept apart from the logged detail. The exception filter (and the proxy) turn it
 * into `{ error, message, requestId }`.
 */
export class GatewayError<C extends ErrorCode = ErrorCode> extends Error {
  readonly status: number;
  readonly detail: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly code: C,
    options: GatewayErrorOptions<C> = {},
  ) {
    const definition: ErrorDefinition = ERROR_CATALOGUE[code];
    super(options.explanation ?? (options.variant && definition.variants?.[options.variant]) ?? definition.message, {
      cause: options.cause,
    });
    this.name = new.target.name;
    this.status = options.status ?? definition.status;
    this.detail = options.detail;
    this.body = options.body;
    const { retryAfterSeconds } = options;
    this.headers =
      retryAfterSeconds === undefined
        ? (options.headers ?? {})
        : { ...options.headers, 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  }
}
