import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from './error-response.js';

/**
 * Answers a request Node's HTTP parser refused (headers too large, a bad header, a conflicting
 * Content-Length) in the gateway's own error shape; no route or hook has run, so it is written to
 * the socket directly and the connection is closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const requestId = randomUUID();
  const body: ErrorBody = {
    error: tooLarge ? 'headers_too_large' : 'bad_request',
    message: tooLarge ? 'The request headers are too large.' : 'The request is malformed.',
    requestId,
  };
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\n` +
      `x-request-id: ${requestId}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${json}`,
  );
}
