import type { ReceivedHeaders } from './proxy-headers.js';
import { ProxyError, ProxyErrorCode } from './proxy.errors.js';

/** The largest request body held in memory so that the request can be sent again after a 401. */
export const REPLAYABLE_BODY_LIMIT = 64 * 1024;

/**
 * Whether the request could be sent upstream twice: it has no body, or one whose declared length is
 * small enough to hold in memory. A chunked body's size is unknown until it has all arrived, so it keeps
 * streaming and is never retried. The method plays no part: HTTP/1.1 frames a request body by these
 * two headers alone (RFC 9112 section 6.3), and none of them means no body.
 */
export function isReplayable(headers: ReceivedHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  // A malformed length is NaN, which is not replayable.
  return length === undefined || Number(length) <= REPLAYABLE_BODY_LIMIT;
}

/**
 * Reads a request body of declared length fully into memory. Memory stays bounded by the declared
 * length whatever arrives: bytes past it are read (so that the client can still be answered) but not
 * kept, and any length other than the declared one is refused with 400 bad_body.
 */
export async function readDeclaredBody(body: AsyncIterable<Uint8Array>, declaredLength: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of body) {
    received += chunk.length;
    if (received <= declaredLength) chunks.push(chunk);
  }
  if (received !== declaredLength) {
    throw new ProxyError(ProxyErrorCode.BadBody, { detail: `request body of ${received} bytes, ${declaredLength} declared` });
  }
  return Buffer.concat(chunks, received);
}
