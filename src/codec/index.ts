/**
 * Canonical, deterministic binary encoding for everything medchain signs or
 * hashes: CBOR (RFC 8949) via `cborg`, with map keys in RFC 8949 bytewise
 * order, integers in their shortest form, and no floats, tags, `undefined` or
 * indefinite lengths.
 *
 * Decoding is strict: it rejects non-shortest integers and lengths, duplicate or
 * unsorted map keys, trailing bytes, floats, tags and oversize input — so every
 * value has exactly one encoding and `encode(decode(b))` equals `b` for every
 * accepted `b`.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import type { EncodeOptions, TypeEncoder } from 'cborg';
import { MedchainError } from '../errors.js';

/** What the codec accepts: integers (number within ±2^53 or bigint within 64 bits), strings, bytes, booleans, null, arrays and plain objects of these. */
export type CodecValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CodecValue[]
  | { readonly [key: string]: CodecValue };

export const CodecErrorCode = {
  encode: 'CODEC_ENCODE',
  decode: 'CODEC_DECODE',
  nonCanonical: 'CODEC_NON_CANONICAL',
  tooLarge: 'CODEC_TOO_LARGE',
} as const;

export class CodecError extends MedchainError {}

/** Default upper bound on any decoded object (4 MiB); callers pass tighter limits. */
export const DEFAULT_MAX_DECODE_BYTES = 4 * 1024 * 1024;

const rejectFloat: TypeEncoder = (value) => {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new CodecError(
      CodecErrorCode.encode,
      `cannot encode non-integer or unsafe number ${String(value)}`,
    );
  }
  return null;
};
const reject =
  (what: string): TypeEncoder =>
  () => {
    throw new CodecError(CodecErrorCode.encode, `cannot encode ${what}`);
  };

/**
 * A string with a lone UTF-16 surrogate has no UTF-8 form: the encoder would
 * silently write U+FFFD, so two different strings would share one encoding.
 */
const rejectIllFormedString: TypeEncoder = (value) => {
  if (typeof value === 'string' && !value.isWellFormed()) {
    throw new CodecError(CodecErrorCode.encode, 'cannot encode a string with a lone surrogate');
  }
  return null;
};
/** Class instances would lose their prototype (and any getters) on a round trip. */
function checkPlainObject(value: object): void {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new CodecError(
      CodecErrorCode.encode,
      'cannot encode an object that is not a plain object',
    );
  }
}
const rejectNonPlainObject: TypeEncoder = (value) => {
  checkPlainObject(value as object);
  return null;
};
/** cborg writes other binary views as byte strings; they would decode as a `Uint8Array`. */
const BINARY_VIEWS = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/**
 * cborg's default options, not `rfc8949EncodeOptions`: its default map sorter
 * orders keys by encoded length, then bytewise — for text keys (the only keys a
 * plain object has) exactly RFC 8949's bytewise order of the encoded keys, as
 * a string's length prefix grows with its length. The default sorter also
 * keeps cborg on its direct encoding path; the RFC 8949 sorter sends every map
 * through tokens, which made encoding about twice as slow
 * (test/vectors pin the bytes either way).
 */
const ENCODE_OPTIONS: EncodeOptions = {
  typeEncoders: {
    ...Object.fromEntries(BINARY_VIEWS.map((name) => [name, reject(`${name} (use a Uint8Array)`)])),
    number: rejectFloat,
    string: rejectIllFormedString,
    Object: rejectNonPlainObject,
    undefined: reject('undefined'),
    Map: reject('Map (use a plain object)'),
    Set: reject('Set (use an array)'),
    Date: reject('Date (use an integer)'),
    Tagged: reject('CBOR tags'),
  },
};

const DECODE_OPTIONS = {
  strict: true,
  rejectDuplicateMapKeys: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: true,
  useMaps: false,
} as const;

export function encode(value: CodecValue): Uint8Array {
  try {
    return cborEncode(value, ENCODE_OPTIONS);
  } catch (err) {
    if (err instanceof CodecError) throw err;
    throw new CodecError(
      CodecErrorCode.encode,
      `cannot encode value: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

/**
 * A value whose canonical encoding is already at hand — a transaction's
 * received bytes, a block encoded once. `encodeSpliced` copies `bytes` where
 * the value would be encoded again. Whoever wraps bytes vouches that they are
 * the canonical encoding of one value (they came from `encode`, or from input
 * `decode` accepted); the result is then byte for byte what `encode` gives for
 * the tree with each `Encoded` replaced by its value.
 */
export class Encoded {
  constructor(readonly bytes: Uint8Array) {}
}

/** A `CodecValue` tree in which some subtrees are already encoded. */
export type SplicedValue =
  CodecValue | Encoded | readonly SplicedValue[] | { readonly [key: string]: SplicedValue };

function containsEncoded(value: SplicedValue): boolean {
  if (value instanceof Encoded) return true;
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) return value.some(containsEncoded);
  return Object.values(value).some(containsEncoded);
}

/** The head of a CBOR data item: major type and argument, in shortest form. */
function itemHead(major: number, n: number): Uint8Array {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  const head = new Uint8Array(5);
  head[0] = m | 26;
  new DataView(head.buffer).setUint32(1, n);
  return head;
}

/** RFC 8949 deterministic order: shorter encoded key first, then bytewise. */
function compareEncodedKeys(a: Uint8Array, b: Uint8Array): number {
  return a.length - b.length || Buffer.compare(a, b);
}

function writeSpliced(value: SplicedValue, out: Uint8Array[]): void {
  if (value instanceof Encoded) {
    out.push(value.bytes);
    return;
  }
  if (!containsEncoded(value)) {
    out.push(encode(value as CodecValue));
    return;
  }
  if (Array.isArray(value)) {
    const items = value as readonly SplicedValue[];
    out.push(itemHead(4, items.length));
    for (const item of items) writeSpliced(item, out);
    return;
  }
  // Only containers hold an `Encoded`: what is left is an object.
  const record = value as { readonly [key: string]: SplicedValue };
  checkPlainObject(record);
  // An `undefined` value reaches `encode`, which refuses it as it would anywhere.
  const entries = Object.entries(record)
    .map(([key, item]) => ({ key: encode(key), item }))
    .sort((a, b) => compareEncodedKeys(a.key, b.key));
  out.push(itemHead(5, entries.length));
  for (const { key, item } of entries) {
    out.push(key);
    writeSpliced(item, out);
  }
}

/**
 * `encode` for a tree holding `Encoded` subtrees: the containers above them
 * are written here (heads and sorted keys), everything else by `encode`, and
 * the encoded bytes are copied in. A block of received transactions thus
 * costs its header and a copy, not a second encoding of every transaction.
 */
export function encodeSpliced(value: SplicedValue): Uint8Array {
  const out: Uint8Array[] = [];
  writeSpliced(value, out);
  if (out.length === 1 && out[0] !== undefined) return out[0];
  return Buffer.concat(out);
}

export interface DecodeOptions {
  /** Reject input longer than this many bytes (default 4 MiB). */
  maxBytes?: number;
  /**
   * Check that the input is the one canonical encoding of its value, by
   * encoding the value again (default true). Costs a full encode: callers that
   * never sign or hash the received bytes themselves — they re-encode every
   * signed or hashed part, as consensus messages do — may pass false. cborg's
   * strict checks (minimal lengths, no duplicate keys, no indefinite lengths,
   * no trailing bytes) still apply.
   */
  canonical?: boolean;
}

export function decode(bytes: Uint8Array, options: DecodeOptions = {}): CodecValue {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DECODE_BYTES;
  if (!(bytes instanceof Uint8Array)) {
    throw new CodecError(CodecErrorCode.decode, 'input is not a byte array');
  }
  if (bytes.length > maxBytes) {
    throw new CodecError(
      CodecErrorCode.tooLarge,
      `input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
      {
        length: bytes.length,
        maxBytes,
      },
    );
  }
  if (bytes.length === 0) throw new CodecError(CodecErrorCode.decode, 'input is empty');
  let value: CodecValue;
  try {
    // cborg throws on trailing bytes after the first complete item.
    value = cborDecode(bytes, DECODE_OPTIONS) as CodecValue;
  } catch (err) {
    throw new CodecError(
      CodecErrorCode.decode,
      `malformed CBOR: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  if (options.canonical === false) return value;
  // Floats, map key order and anything else cborg cannot check on decode:
  // the only accepted encoding is the one we would produce.
  let again: Uint8Array;
  try {
    again = encode(value);
  } catch {
    throw new CodecError(
      CodecErrorCode.nonCanonical,
      'input holds a value outside the canonical subset',
    );
  }
  if (!bytesEqual(again, bytes)) {
    throw new CodecError(CodecErrorCode.nonCanonical, 'input is not in canonical form');
  }
  return value;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length > 64) {
    return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
      Buffer.from(b.buffer, b.byteOffset, b.length),
    );
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `bytes` itself when it is the whole of its buffer, else a copy that is.
 * Encoders (cborg, `Buffer.concat`) return views into Node's shared 8 KiB
 * `Buffer` pool slabs, and one view kept alive keeps its whole slab alive:
 * anything held for long (a cache entry, a queued message) should hold owned bytes.
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : new Uint8Array(bytes);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string, field = 'hex'): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new CodecError(CodecErrorCode.decode, `${field}: not an even-length hex string`, {
      field,
    });
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
