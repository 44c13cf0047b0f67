import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  FrameError,
  MAX_FRAME_BYTES,
  encodeFrame,
  encodeFrames,
  varintLength,
  writeVarint,
} from '../../p2p/framing.js';
import { P2pErrorCode } from '../../p2p/errors.js';

function frameErrorOf(run: () => unknown): FrameError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FrameError);
    return err as FrameError;
  }
  return expect.fail('expected a FrameError');
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, within range). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const at of points) {
    out.push(bytes.subarray(from, at));
    from = at;
  }
  out.push(bytes.subarray(from));
  return out;
}

describe('varint', () => {
  it('encodes lengths as minimal unsigned LEB128', () => {
    const cases: [number, number[]][] = [
      [1, [0x01]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [300, [0xac, 0x02]],
      [16_384, [0x80, 0x80, 0x01]],
      [MAX_FRAME_BYTES, [0xff, 0xff, 0xff, 0x7f]],
    ];
    for (const [value, expected] of cases) {
      const out = new Uint8Array(8);
      const end = writeVarint(out, 0, value);
      expect([...out.subarray(0, end)]).toEqual(expected);
      expect(varintLength(value)).toBe(expected.length);
    }
  });
});

describe('FrameDecoder', () => {
  it('decodes frames however the bytes are chunked (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (bodies, cuts) => {
          const wire = encodeFrames(bodies);
          const decoder = new FrameDecoder(300);
          const frames = split(wire, cuts).flatMap((chunk) => decoder.push(chunk));
          expect(frames).toEqual(bodies.map((b) => new Uint8Array(b)));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns copies that stay valid when the source buffer is reused', () => {
    const wire = encodeFrame(new Uint8Array([1, 2, 3]));
    const frames = new FrameDecoder(10).push(wire);
    wire.fill(0);
    expect(frames).toEqual([new Uint8Array([1, 2, 3])]);
  });

  it('accepts a Uint8ArrayList-like chunk (libp2p 3 message events)', () => {
    const wire = encodeFrames([new Uint8Array([9]), new Uint8Array([8, 7])]);
    const frames = new FrameDecoder(10).push({ subarray: () => wire });
    expect(frames).toEqual([new Uint8Array([9]), new Uint8Array([8, 7])]);
  });

  it('accepts a frame of exactly the limit and refuses one byte more, before buffering the body', () => {
    expect(new FrameDecoder(1000).push(encodeFrame(new Uint8Array(1000)))).toHaveLength(1);
    const decoder = new FrameDecoder(1000);
    // Only the prefix arrives: the oversize verdict must not wait for the body.
    const prefix = encodeFrame(new Uint8Array(1001)).subarray(0, 2);
    const err = frameErrorOf(() => decoder.push(prefix));
    expect(err.kind).toBe('oversize');
    expect(err.code).toBe(P2pErrorCode.messageTooLarge);
    expect(err.details['declaredBytes']).toBe(1001);
  });

  it('rejects a huge declared length as soon as the partial prefix exceeds the limit', () => {
    const decoder = new FrameDecoder(100);
    const err = frameErrorOf(() => decoder.push(new Uint8Array([0xff, 0xff])));
    expect(err.kind).toBe('oversize');
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(2);
  });

  it('calls malformed prefixes garbage: empty frame, non-minimal, too long', () => {
    const garbage: number[][] = [
      [0x00],
      [0x81, 0x00],
      [0x80, 0x80, 0x80, 0x80, 0x80],
      [0x80, 0x80, 0x80, 0x80, 0x00],
    ];
    for (const bytes of garbage) {
      const err = frameErrorOf(() => new FrameDecoder(MAX_FRAME_BYTES).push(new Uint8Array(bytes)));
      expect(err.kind, `bytes ${bytes.join(',')}`).toBe('garbage');
      expect(err.code).toBe(P2pErrorCode.malformedFrame);
    }
  });

  it('stays failed after an error (a stream cannot be resynchronised)', () => {
    const decoder = new FrameDecoder(10);
    frameErrorOf(() => decoder.push(new Uint8Array([0x00])));
    const again = frameErrorOf(() => decoder.push(encodeFrame(new Uint8Array([1]))));
    expect(again.kind).toBe('garbage');
  });

  it('never throws anything but FrameError on random bytes (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 1, max: 64 }),
        (bytes, limit) => {
          const decoder = new FrameDecoder(limit);
          try {
            for (const frame of decoder.push(bytes)) {
              expect(frame.length).toBeGreaterThan(0);
              expect(frame.length).toBeLessThanOrEqual(limit);
            }
          } catch (err) {
            expect(err).toBeInstanceOf(FrameError);
          }
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(limit + 5);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a limit outside 1..MAX_FRAME_BYTES', () => {
    expect(() => new FrameDecoder(0)).toThrow(/maxFrameBytes/);
    expect(() => new FrameDecoder(MAX_FRAME_BYTES + 1)).toThrow(/maxFrameBytes/);
  });
});
