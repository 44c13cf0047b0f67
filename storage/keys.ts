/**
 * Key layout. Every key starts with a one-byte bucket id; heights and positions
 * are fixed-width big-endian so that bytewise key order is numeric order and a
 * range scan over a bucket walks heights in order.
 *
 * | bucket                | key after the id byte                              | value |
 * | --------------------- | -------------------------------------------------- | ----- |
 * | meta                  | utf8 name                                          | canonical CBOR |
 * | blockByHeight         | height u64                                         | canonical CBOR block |
 * | certificateByHeight   | height u64                                         | canonical CBOR certificate |
 * | heightByBlockHash     | block hash                                         | canonical CBOR height |
 * | txIndex               | tx hash                                            | canonical CBOR [height, index] |
 * | receipt               | height u64 ‖ index u32                             | canonical CBOR receipt |
 * | state                 | state key (opaque bytes)                           | opaque bytes |
 * | index                 | len u8 ‖ name ‖ len u16 ‖ key ‖ suffix             | canonical CBOR |
 * | consensusWal          | height u64 ‖ sequence u64                          | canonical CBOR entry |
 * | vault                 | document id (opaque bytes)                         | opaque bytes (ciphertext) |
 */
import { StorageError, StorageErrorCode } from './errors.js';

/**
 * Bucket ids: the first byte of every key.
 *
 * NEVER reuse or renumber an id. A data directory written by an older version
 * may still hold keys under any id ever used; a bucket that is retired keeps
 * its number forever (move it to `RETIRED_BUCKET_IDS`) and new buckets take
 * the next unused number.
 */
export const BUCKET = {
  meta: 0x01,
  blockByHeight: 0x02,
  certificateByHeight: 0x03,
  heightByBlockHash: 0x04,
  txIndex: 0x05,
  receipt: 0x06,
  state: 0x07,
  index: 0x08,
  consensusWal: 0x09,
  vault: 0x0a,
} as const;
export type BucketName = keyof typeof BUCKET;
export type BucketId = (typeof BUCKET)[BucketName];

/** Ids that were used by buckets since removed: never assign them again. */
export const RETIRED_BUCKET_IDS: readonly number[] = [];

export const MAX_INDEX_NAME_BYTES = 64;
export const MAX_INDEX_KEY_BYTES = 0xffff;

function invalid(field: string, problem: string): StorageError {
  return new StorageError(StorageErrorCode.invalidArgument, `${field}: ${problem}`, { field });
}

export function checkHeight(height: number, field = 'height'): void {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw invalid(field, `not a non-negative safe integer (${String(height)})`);
  }
}

function checkBytes(bytes: Uint8Array, field: string, minLength = 1): void {
  if (!(bytes instanceof Uint8Array)) throw invalid(field, 'not a Uint8Array');
  if (bytes.length < minLength) throw invalid(field, `shorter than ${minLength} bytes`);
}

/** Writes `value` (a safe non-negative integer) as 8 bytes big-endian at `offset`. */
function writeU64(out: Uint8Array, offset: number, value: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000));
  view.setUint32(offset + 4, value >>> 0);
}

export function readU64(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(offset) * 0x1_0000_0000 + view.getUint32(offset + 4);
}

/** `[bucket]`: the prefix of every key in a bucket. */
export function bucketPrefix(bucket: BucketId): Uint8Array {
  return Uint8Array.of(bucket);
}

/** `[bucket] ‖ bytes` */
export function bytesKey(bucket: BucketId, bytes: Uint8Array, field: string): Uint8Array {
  checkBytes(bytes, field);
  const key = new Uint8Array(1 + bytes.length);
  key[0] = bucket;
  key.set(bytes, 1);
  return key;
}

/** `[bucket] ‖ height u64` */
export function heightKey(bucket: BucketId, height: number): Uint8Array {
  checkHeight(height);
  const key = new Uint8Array(9);
  key[0] = bucket;
  writeU64(key, 1, height);
  return key;
}

/** The height in a key made by `heightKey` (or any key with a height right after the id). */
export function heightOfKey(key: Uint8Array): number {
  return readU64(key, 1);
}

/** `[bucket] ‖ height u64 ‖ index u32` */
export function positionKey(bucket: BucketId, height: number, index: number): Uint8Array {
  checkHeight(height);
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) {
    throw invalid('index', `not a 32-bit unsigned integer (${String(index)})`);
  }
  const key = new Uint8Array(13);
  key[0] = bucket;
  writeU64(key, 1, height);
  new DataView(key.buffer).setUint32(9, index);
  return key;
}

/** `[bucket] ‖ height u64 ‖ sequence u64` */
export function heightSeqKey(bucket: BucketId, height: number, seq: number): Uint8Array {
  checkHeight(height);
  checkHeight(seq, 'sequence');
  const key = new Uint8Array(17);
  key[0] = bucket;
  writeU64(key, 1, height);
  writeU64(key, 9, seq);
  return key;
}

const textEncoder = new TextEncoder();

/** Index names: 1–64 bytes of lower-case ASCII letters, digits, '.', '-' and '_'. */
const INDEX_NAME = /^[a-z0-9._-]{1,64}$/;

export function checkIndexName(name: string): Uint8Array {
  if (typeof name !== 'string' || !INDEX_NAME.test(name)) {
    throw invalid('index', `index name must be 1-64 of [a-z0-9._-] (${JSON.stringify(name)})`);
  }
  return textEncoder.encode(name);
}

/**
 * `[index] ‖ len u8 ‖ name ‖ len u16 ‖ key`: the prefix under which every
 * entry of (`name`, `key`) sits, whatever its suffix. Both parts are
 * length-prefixed, so no (name, key) prefix is a prefix of another.
 */
export function indexPrefix(name: string, key: Uint8Array): Uint8Array {
  const nameBytes = checkIndexName(name);
  checkBytes(key, 'key', 0);
  if (key.length > MAX_INDEX_KEY_BYTES) throw invalid('key', 'longer than 65535 bytes');
  const out = new Uint8Array(1 + 1 + nameBytes.length + 2 + key.length);
  out[0] = BUCKET.index;
  out[1] = nameBytes.length;
  out.set(nameBytes, 2);
  const at = 2 + nameBytes.length;
  out[at] = key.length >>> 8;
  out[at + 1] = key.length & 0xff;
  out.set(key, at + 2);
  return out;
}

/** `[index] ‖ len u8 ‖ name` : the prefix of every entry of one index. */
export function indexNamePrefix(name: string): Uint8Array {
  const nameBytes = checkIndexName(name);
  const out = new Uint8Array(2 + nameBytes.length);
  out[0] = BUCKET.index;
  out[1] = nameBytes.length;
  out.set(nameBytes, 2);
  return out;
}

/** The full key of one index entry: `indexPrefix(name, key) ‖ suffix`. */
export function indexKey(name: string, key: Uint8Array, suffix: Uint8Array): Uint8Array {
  const prefix = indexPrefix(name, key);
  checkBytes(suffix, 'suffix', 0);
  const out = new Uint8Array(prefix.length + suffix.length);
  out.set(prefix, 0);
  out.set(suffix, prefix.length);
  return out;
}

/** Splits an index-bucket key back into its parts (for scans). */
export function parseIndexKey(full: Uint8Array): {
  name: string;
  key: Uint8Array;
  suffix: Uint8Array;
} {
  const nameLength = full[1] ?? 0;
  const at = 2 + nameLength;
  const keyLength = ((full[at] ?? 0) << 8) | (full[at + 1] ?? 0);
  if (full[0] !== BUCKET.index || full.length < at + 2 + keyLength) {
    throw new StorageError(StorageErrorCode.corruptValue, 'malformed index key', {
      bucket: 'index',
    });
  }
  return {
    name: new TextDecoder().decode(full.subarray(2, at)),
    key: full.slice(at + 2, at + 2 + keyLength),
    suffix: full.slice(at + 2 + keyLength),
  };
}

/** `[meta] ‖ utf8 name` */
export function metaKey(name: string): Uint8Array {
  return bytesKey(BUCKET.meta, textEncoder.encode(name), 'name');
}

/** Encodes a height as 8 bytes big-endian (for index suffixes ordered by height). */
export function encodeHeight(height: number): Uint8Array {
  checkHeight(height);
  const out = new Uint8Array(8);
  writeU64(out, 0, height);
  return out;
}
