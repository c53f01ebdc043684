import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorBody } from './error-response.js';
import type { GatewayError } from './gateway.error.js';

/**
 * Answers in the gateway's error shape on a connection that no Fastify reply owns (a request Node's
 * parser refused, a refused WebSocket handshake): a whole HTTP/1.1 response, then the connection is closed.
 */
export function endSocketWithError(
  socket: Duplex,
  error: Pick<GatewayError, 'code' | 'status' | 'message' | 'headers'> & { readonly body?: GatewayError['body'] },
  requestId: string,
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body: ErrorBody = { ...error.body, error: error.code, message: error.message, requestId };
  const json = JSON.stringify(body);
  const extra = Object.entries(error.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\n` +
      `x-request-id: ${requestId}\r\ncache-control: no-store\r\n${extra}connection: close\r\n\r\n${json}`,
  );
}
