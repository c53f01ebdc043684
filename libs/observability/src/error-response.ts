import type { FastifyReply, FastifyRequest } from 'fastify';
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
 * stack, server errors at error with the cause. Used by the exception filter and the raw proxy route.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): void {
  const gatewayError = toGatewayError(error);
  request.errorCode = gatewayError.code;
  const fields = { err: error instanceof GatewayError ? undefined : error, code: gatewayError.code, detail: gatewayError.detail };
  if (gatewayError.status >= 500) request.log.error(fields, 'request failed');
  else request.log.info(fields, 'request refused');
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return;
  }
  // The extra fields go first: they can never replace the three every error body has.
  const body: ErrorBody = { ...gatewayError.body, error: gatewayError.code, message: gatewayError.message, requestId: String(request.id) };
  void reply
    .code(gatewayError.status)
    .headers({ ...gatewayError.headers, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' })
    .send(JSON.stringify(body));
}
