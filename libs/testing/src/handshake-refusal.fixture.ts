import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type WebSocket from 'ws';

/** The HTTP answer to a WebSocket handshake that was refused. */
export interface HandshakeRefusal {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Settles with the answer once `socket`'s handshake is refused; rejects if it opens. */
export function refusedHandshake(socket: WebSocket): Promise<HandshakeRefusal> {
  return new Promise((resolve, reject) => {
    socket.once('open', () => reject(new Error('the handshake was accepted')));
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString() }),
      );
      response.on('error', reject);
    });
    socket.once('error', (error) => (/Unexpected server response/.test(error.message) ? undefined : reject(error)));
  });
}
