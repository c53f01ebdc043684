import fc from 'fast-check';
import { CloseCode, closeFrame, FrameBoundary } from './websocket-frames.js';

/** A frame as RFC 6455 §5.2 lays it out, written independently of the code under test. */
function frame(payloadLength: number, masked: boolean, opcode = 0x2): Buffer {
  const length =
    payloadLength < 126
      ? [payloadLength]
      : payloadLength < 65536
        ? [126, payloadLength >> 8, payloadLength & 0xff]
        : [127, 0, 0, 0, 0, ...[24, 16, 8, 0].map((shift) => (payloadLength >>> shift) & 0xff)];
  const header = Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | length[0]!, ...length.slice(1), ...(masked ? [1, 2, 3, 4] : [])]);
  return Buffer.concat([header, Buffer.alloc(payloadLength, 0x7e)]);
}

describe('FrameBoundary', () => {
  it('is at a boundary only between frames, however the bytes are cut into chunks', () => {
    const frames = fc.array(
      fc.record({ length: fc.oneof(fc.constantFrom(0, 1, 125, 126, 127, 65535, 65536, 70000), fc.nat(300)), masked: fc.boolean() }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 8 }), (specs, cuts) => {
        const built = specs.map(({ length, masked }) => frame(length, masked));
        const bytes = Buffer.concat(built);
        const ends = new Set(built.reduce<number[]>((offsets, part) => [...offsets, (offsets.at(-1) ?? 0) + part.length], []));
        const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b);
        const boundary = new FrameBoundary();
        let offset = 0;
        for (const point of [...points, bytes.length]) {
          boundary.push(bytes.subarray(offset, point));
          offset = point;
          expect(boundary.atBoundary).toBe(point === 0 || ends.has(point));
        }
      }),
    );
  });

  it('counts a close frame it made itself like any other', () => {
    const boundary = new FrameBoundary();
    const close = closeFrame(CloseCode.PolicyViolation, 'session_ended', true);
    boundary.push(close.subarray(0, 3));
    expect(boundary.atBoundary).toBe(false);
    boundary.push(close.subarray(3));
    expect(boundary.atBoundary).toBe(true);
  });
});

describe('closeFrame', () => {
  it('carries the code and reason, unmasked towards a client', () => {
    expect(closeFrame(CloseCode.GoingAway, 'bye', false)).toEqual(Buffer.from([0x88, 5, 0x03, 0xe9, ...Buffer.from('bye')]));
  });

  it('masks them towards a server (RFC 6455 §5.3)', () => {
    const masked = closeFrame(CloseCode.PolicyViolation, 'session_ended', true);
    expect(masked.subarray(0, 2)).toEqual(Buffer.from([0x88, 0x80 | 15]));
    const key = masked.subarray(2, 6);
    const payload = Buffer.from(masked.subarray(6).map((byte, index) => byte ^ key[index % 4]!));
    expect(payload.readUInt16BE(0)).toBe(1008);
    expect(payload.subarray(2).toString()).toBe('session_ended');
  });
});
