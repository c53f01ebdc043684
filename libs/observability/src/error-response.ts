import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from './error-catalogue.js';
import { GatewayError } from './gateway.error.js';

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId: string;
}

const INTERNAL = new GatewayError(ErrorCode.InternalError);

/** Maps anything thrown to a GatewayError; what is not one becomes a plain 500 with nothing leaked. */
export function toGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : INTERNAL;
}

/**
 * Writes the one error shape every endpoint uses, and logs it: client errors at info without a
 * stack, server errors at error with the cause. Used by the exception filter and the Fastify hooks.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): void {
  const refusal = loggedRefusal(request.log, error);
  request.errorCode = refusal.code;
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  void reply
    .code(refusal.status)
    .headers(errorHeaders(refusal))
    .send(errorJson(refusal, String(request.id)));
}

/**
 * The same answer on a bare node:http response (the /api data plane), which carries its own
 * `x-request-id` and any `headers` already decided for the response (CORS). Returns the code answered, for the request's log line and telemetry.
 */
export function writeError(
  response: ServerResponse,
  log: FastifyBaseLogger,
  error: unknown,
  requestId: string,
  headers?: Readonly<Record<string, string>>,
): string {
  const refusal = loggedRefusal(log, error);
  if (response.headersSent) {
    response.destroy();
    return refusal.code;
  }
  const json = errorJson(refusal, requestId);
  response.writeHead(refusal.status, {
    ...headers,
    ...errorHeaders(refusal),
    'content-length': Buffer.byteLength(json),
    'x-request-id': requestId,
  });
  response.end(json);
  return refusal.code;
}

function loggedRefusal(log: FastifyBaseLogger, error: unknown): GatewayError {
  const refusal = toGatewayError(error);
  const fields = { err: error instanceof GatewayError ? undefined : error, code: refusal.code, detail: refusal.detail };
  if (refusal.status >= 500) log.error(fields, 'request failed');
  else log.info(fields, 'request refused');
  return refusal;
}

function errorHeaders(refusal: GatewayError): Record<string, string> {
  return { ...refusal.headers, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' };
}

function errorJson(refusal: GatewayError, requestId: string): string {
  // The extra fields go first: they can never replace the three every error body has.
  const body: ErrorBody = { ...refusal.body, error: refusal.code, message: refusal.message, requestId };
  return JSON.stringify(body);
}
