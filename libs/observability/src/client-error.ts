import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { ErrorCode } from './error-catalogue.js';
import { GatewayError } from './gateway.error.js';
import { endSocketWithError } from './socket-error.js';

/**
 * Answers a request Node's HTTP parser refused (headers too large, a bad header, a conflicting
 * Content-Length) in the gateway's own error shape; no route or hook has run, so it is written to
 * the socket directly and the connection is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const refusal = new GatewayError(error.code === 'HPE_HEADER_OVERFLOW' ? ErrorCode.HeadersTooLarge : ErrorCode.BadRequest);
  endSocketWithError(socket, refusal, randomUUID());
}
