import { type Readable, Transform } from 'node:stream';
import type { ReceivedHeaders } from './proxy-headers.js';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';

/**
 * Enforces a route's maxBodyBytes: a declared length over it is refused before anything is sent
 * upstream; a chunked body is counted as it streams and cut off (the upstream call then fails
 * with this error) as soon as it passes the limit, so it is never buffered to be measured.
 */
export function limitBody(body: Readable | undefined, headers: ReceivedHeaders, maxBytes: number): Readable | undefined {
  const declared = headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(Number(declared), maxBytes);
  if (body === undefined || headers['transfer-encoding'] === undefined) return body;
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      done(received > maxBytes ? tooLarge(received, maxBytes) : null, chunk);
    },
  });
  body.on('error', (error) => counter.destroy(error));
  return body.pipe(counter);
}

function tooLarge(bytes: number, maxBytes: number): ProxyError {
  return new ProxyError(ProxyErrorCode.PayloadTooLarge, { detail: `request body of at least ${bytes} bytes, route allows ${maxBytes}` });
}
