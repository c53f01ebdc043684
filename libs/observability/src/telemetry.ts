import type { FastifyRequest } from 'fastify';
import { toGatewayError } from './error-response.js';

/**
 * What a start hook returns and its end hook takes back; opaque to callers, who only keep it. Metrics
 * make it a start time or nothing, so that the hot path allocates nothing; a tracer may make it a span.
 */
export type TelemetryHandle = unknown;

/**
 * What requestStarted sees of a request: a FastifyRequest has these, and so does the /api data plane's
 * request (which never reaches Fastify), so that an implementation reads nothing else.
 */
export type ObservedRequest = Pick<FastifyRequest, 'id' | 'method' | 'url' | 'headers'>;

/** A token request to the provider: the code exchange at login, a refresh, a client-credentials token, a token exchange (RFC 8693). */
export type TokenGrant = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'token_exchange';

/** An endpoint whose outcomes are reported (see ReportOutcome). */
export type OutcomeEvent = 'login' | 'logout' | 'backchannel_logout' | 'admin_revoke_session' | 'admin_revoke_user';

/** Where a session was read from: this instance's memory, or the session store. */
export type SessionReadSource = 'memory' | 'store';

/** A session store as telemetry reads it: only when asked (a metrics scrape), never on a request. */
export interface ObservedSessionStore {
  /** A bounded label value: `redis` or `memory`. */
  readonly kind: string;
  /** At a bounded cost whatever the number of sessions; rejects while the store cannot be reached. */
  countSessions(): Promise<number>;
  /** Commands that failed to reach the store since it was opened. */
  readonly failures: number;
}

/**
 * Where capabilities report what they do, for metrics (prom-client, GatewayMetrics) and whatever
 * else is plugged in beside them (CompositeTelemetry): nothing outside an implementation knows which.
 * Every label-like argument comes from a bounded set (a route label or prefix, a status, an error code,
 * an outcome), except the session public id, which an implementation may log or attach to a span but
 * must never make a metric label.
 *
 * An operation with a duration has a start hook, which returns a handle, and an end hook, which takes
 * it back once, whatever the outcome. Implementations override the hooks; the wrappers below only
 * pair them. The /api path calls requestStarted/requestEnded, sessionRead* and upstream* on every
 * request: there an implementation must not allocate (CompositeTelemetry excepted), and does nothing it
 * does not need.
 */
export abstract class Telemetry {
  /**
   * In the first onRequest hook (the /api data plane: as its first step); the handle is kept until
   * requestEnded (on `request.telemetryHandle` for Fastify's requests).
   */
  abstract requestStarted(request: ObservedRequest): TelemetryHandle;

  /**
   * Once the response has been sent (or the connection dropped). `route`: see routeLabel;
   * `errorCode`: the code answered, if it was an error. `handle` is null for a request refused before
   * any hook ran (a malformed URL: see frameworkErrors in startGateway).
   */
  abstract requestEnded(
    handle: TelemetryHandle,
    route: string,
    status: number,
    durationMs: number,
    errorCode: string | null,
    sessionPublicId: string | null,
  ): void;

  /** Before SessionService.read looks a well-formed session id up, in memory or the store. */
  abstract sessionReadStarted(): TelemetryHandle;

  /** `outcome`: found, none (unknown, expired or unreadable), or the error's code. */
  abstract sessionReadEnded(handle: TelemetryHandle, source: SessionReadSource, outcome: string): void;

  /** Before a token request is sent to the provider. */
  abstract tokenRequestStarted(grant: TokenGrant): TelemetryHandle;

  /** `outcome`: ok, or the error's code. */
  abstract tokenRequestEnded(handle: TelemetryHandle, grant: TokenGrant, outcome: string): void;

  /** Before a session's refresh lock is first asked for. */
  abstract lockWaitStarted(): TelemetryHandle;

  /** `outcome`: ok once the lock is held, or the error's code (refresh_timeout, session_store_unavailable). */
  abstract lockWaitEnded(handle: TelemetryHandle, outcome: string): void;

  /**
   * Before a proxied request is sent to an API route's upstream. `route`: the route's prefix;
   * `resendCount`: 0, or 1 for the one retry with a renewed token (OpenTelemetry's http.request.resend_count).
   */
  abstract upstreamStarted(route: string, resendCount: number): TelemetryHandle;

  /** `outcome`: the upstream's status once its response headers arrived, or the error's code when none did. */
  abstract upstreamEnded(handle: TelemetryHandle, route: string, resendCount: number, outcome: number | string): void;

  /** An endpoint's outcome: ok, or the error's code. */
  abstract outcome(event: OutcomeEvent, outcome: string): void;

  /** The session store of the process (once, from the main listener), read when metrics are collected. */
  abstract sessionStoreOpened(store: ObservedSessionStore): void;

  /**
   * Runs `work` as part of the operation `handle` came from, so that what it does (a request to the
   * provider) is reported inside it: a tracer makes the operation's span the current one. Nothing by default.
   */
  within<T>(_handle: TelemetryHandle, work: () => T): T {
    return work();
  }

  /**
   * Runs `work`, the rest of a request requestStarted returned `handle` for, as that request, so that
   * its operations (session read, token request, upstream call) are reported inside it: for the /api
   * data plane, which no Fastify hook runs for. Nothing by default.
   */
  serving<T>(_requestHandle: TelemetryHandle, work: () => T): T {
    return work();
  }

  /**
   * Writes into an outgoing request's headers what carries the trace on (W3C `traceparent` and
   * `tracestate`): the operation of `handle` (upstreamStarted's), else the current one (see within).
   * Nothing by default.
   */
  propagate(_headers: Record<string, string | string[]>, _handle?: TelemetryHandle): void {}

  /** Reports `send` (not sent yet: a span starts before it) as a token request; the request to the provider is made within it. */
  tokenRequest<T>(grant: TokenGrant, send: () => Promise<T>): Promise<T> {
    const handle = this.tokenRequestStarted(grant);
    return settled(
      () => this.within(handle, send),
      (outcome) => this.tokenRequestEnded(handle, grant, outcome),
    );
  }

  /** Reports `acquire` (not started yet) as the wait for a session's refresh lock. */
  lockWait<T>(acquire: () => Promise<T>): Promise<T> {
    const handle = this.lockWaitStarted();
    return settled(acquire, (outcome) => this.lockWaitEnded(handle, outcome));
  }
}

/** The outcome of an operation, for a label or a span: ok, or its error code (a stable string). */
export function outcomeOf(error: unknown): string {
  return toGatewayError(error).code;
}

async function settled<T>(work: () => Promise<T>, end: (outcome: string) => void): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    end(outcomeOf(error));
    throw error;
  }
  end('ok');
  return result;
}
