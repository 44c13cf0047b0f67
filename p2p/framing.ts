/**
 * Length-prefixed framing for medchain's direct streams: every frame is an
 * unsigned LEB128 varint (the body length, minimal encoding, at most
 * `MAX_LENGTH_PREFIX_BYTES` bytes) followed by that many body bytes. Empty
 * frames are never sent, so a zero length is malformed.
 *
 * `FrameDecoder` is incremental: it takes chunks as they arrive and returns the
 * complete frames, checking the declared length against the limit *before*
 * buffering the body — an oversize frame costs the receiver a few bytes, not
 * the frame.
 */
import { InvalidInputError } from '../src/errors.js';
import { P2pError, P2pErrorCode } from './errors.js';

export const MAX_LENGTH_PREFIX_BYTES = 5;
/** Frames are never larger than this whatever a limit says (fits a 4-byte varint). */
export const MAX_FRAME_BYTES = 2 ** 28 - 1;

export function varintLength(value: number): number {
  let length = 1;
  let rest = value;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80);
    length++;
  }
  return length;
}

/** Writes `value` as an unsigned LEB128 varint at `offset`; returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  while (rest >= 0x80) {
    target[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[at++] = rest;
  return at;
}

/** One frame: length prefix + body, in a new buffer. */
export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(body.length) + body.length);
  out.set(body, writeVarint(out, 0, body.length));
  return out;
}

/** Several frames back to back in one buffer (one stream write for a batch). */
export function encodeFrames(bodies: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const body of bodies) total += varintLength(body.length) + body.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const body of bodies) {
    at = writeVarint(out, at, body.length);
    out.set(body, at);
    at += body.length;
  }
  return out;
}

export type FrameErrorKind = 'oversize' | 'garbage';

/**
 * A stream violated the framing: `oversize` (declared length over the limit,
 * code `P2P_MESSAGE_TOO_LARGE`) or `garbage` (bad prefix, `P2P_MALFORMED_FRAME`).
 */
export class FrameError extends P2pError {
  readonly kind: FrameErrorKind;

  constructor(kind: FrameErrorKind, message: string, declaredBytes: number | null = null) {
    super(
      kind === 'oversize' ? P2pErrorCode.messageTooLarge : P2pErrorCode.malformedFrame,
      message,
      {
        kind,
        declaredBytes,
      },
    );
    this.kind = kind;
  }
}

/** Chunks as libp2p 3 delivers them: a Uint8Array or a Uint8ArrayList (which has `subarray()`). */
export type StreamChunk = Uint8Array | { subarray(): Uint8Array };

export function chunkBytes(chunk: StreamChunk): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray();
}

export class FrameDecoder {
  readonly maxFrameBytes: number;
  private prefixValue = 0;
  private prefixBytes = 0;
  private bodyLength: number | null = null;
  private bodyChunks: Uint8Array[] = [];
  private bodyReceived = 0;
  private failed: FrameError | null = null;

  constructor(maxFrameBytes: number) {
    if (
      !Number.isSafeInteger(maxFrameBytes) ||
      maxFrameBytes < 1 ||
      maxFrameBytes > MAX_FRAME_BYTES
    ) {
      throw new InvalidInputError('maxFrameBytes', `must be an integer in 1..${MAX_FRAME_BYTES}`);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes of a partial frame held (a bounded amount: at most one frame). */
  get bufferedBytes(): number {
    return this.prefixBytes + this.bodyReceived;
  }

  /**
   * Feeds one chunk; returns the frames it completed (copies, safe to keep).
   * Throws `FrameError` on a framing violation; after that the decoder stays
   * failed (the stream must be reset, it cannot be resynchronised).
   */
  push(chunk: StreamChunk): Uint8Array[] {
    if (this.failed !== null) throw this.failed;
    const bytes = chunkBytes(chunk);
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      if (this.bodyLength === null) {
        const byte = bytes[offset++] ?? 0;
        this.readPrefixByte(byte);
        continue;
      }
      const wanted = this.bodyLength - this.bodyReceived;
      const take = Math.min(wanted, bytes.length - offset);
      const piece = bytes.subarray(offset, offset + take);
      offset += take;
      if (take === this.bodyLength) {
        frames.push(new Uint8Array(piece));
      } else {
        this.bodyChunks.push(new Uint8Array(piece));
        this.bodyReceived += take;
        if (this.bodyReceived < this.bodyLength) continue;
        frames.push(concat(this.bodyChunks, this.bodyLength));
      }
      this.bodyLength = null;
      this.bodyChunks = [];
      this.bodyReceived = 0;
    }
    return frames;
  }

  private readPrefixByte(byte: number): void {
    if (this.prefixBytes >= MAX_LENGTH_PREFIX_BYTES - 1 && (byte & 0x80) !== 0) {
      this.fail(
        new FrameError('garbage', `length prefix longer than ${MAX_LENGTH_PREFIX_BYTES} bytes`),
      );
    }
    this.prefixValue += (byte & 0x7f) * 2 ** (7 * this.prefixBytes);
    this.prefixBytes++;
    if ((byte & 0x80) !== 0) {
      // Reject as soon as the partial value is already over the limit.
      if (this.prefixValue > this.maxFrameBytes) this.failOversize();
      return;
    }
    const length = this.prefixValue;
    if (byte === 0 && this.prefixBytes > 1) {
      this.fail(new FrameError('garbage', 'length prefix is not minimally encoded'));
    }
    if (length === 0) this.fail(new FrameError('garbage', 'empty frame'));
    if (length > this.maxFrameBytes) this.failOversize();
    this.prefixValue = 0;
    this.prefixBytes = 0;
    this.bodyLength = length;
  }

  private failOversize(): never {
    this.fail(
      new FrameError(
        'oversize',
        `frame declares at least ${this.prefixValue} bytes, limit ${this.maxFrameBytes}`,
        this.prefixValue,
      ),
    );
  }

  private fail(error: FrameError): never {
    this.failed = error;
    this.bodyChunks = [];
    throw error;
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
