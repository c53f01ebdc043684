import { randomBytes } from 'node:crypto';

/** RFC 6455 §7.4.1 close codes the gateway sends. */
export enum CloseCode {
  /** The gateway is shutting down. */
  GoingAway = 1001,
  /** The session ended (logged out, revoked or expired): reconnecting needs a new login. */
  PolicyViolation = 1008,
}

/**
 * Follows the frames of one direction of a WebSocket (RFC 6455 §5.2), reading only their headers,
 * to tell whether the bytes passed on so far end between two frames: only there can the gateway
 * put a close frame of its own (§5.4 allows a control frame between the fragments of a message).
 */
export class FrameBoundary {
  private readonly header = Buffer.alloc(14);
  private headerLength = 0;
  private payloadLeft = 0;

  get atBoundary(): boolean {
    return this.headerLength === 0 && this.payloadLeft === 0;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.payloadLeft > 0) {
        const skipped = Math.min(this.payloadLeft, chunk.length - offset);
        this.payloadLeft -= skipped;
        offset += skipped;
        continue;
      }
      this.header[this.headerLength++] = chunk[offset++]!;
      if (this.headerLength === headerSize(this.header, this.headerLength)) {
        this.payloadLeft = payloadLength(this.header);
        this.headerLength = 0;
      }
    }
  }
}

/** The whole header's size once its first two bytes are known: extended length and masking key included. */
function headerSize(header: Buffer, known: number): number | undefined {
  if (known < 2) return undefined;
  const length = header[1]! & 0x7f;
  return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + (header[1]! & 0x80 ? 4 : 0);
}

function payloadLength(header: Buffer): number {
  const length = header[1]! & 0x7f;
  if (length === 126) return header.readUInt16BE(2);
  if (length === 127) return Number(header.readBigUInt64BE(2));
  return length;
}

/** A close frame; `masked` for one sent to a server, as every client frame must be (§5.3). */
export function closeFrame(code: CloseCode, reason: string, masked: boolean): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  if (payload.length > 125) throw new Error('a close reason is at most 123 bytes');
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  const key = randomBytes(4);
  for (let index = 0; index < payload.length; index++) payload[index]! ^= key[index % 4]!;
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), key, payload]);
}
