/**
 * The one database interface every repository is written against (STYLE.md:
 * typed repositories over one database interface). Keys and values are bytes;
 * keys are ordered bytewise (memcmp, shorter first on a common prefix), the
 * LevelDB default comparator. Two implementations: `LevelKvStore` (on disk)
 * and `MemoryKvStore` (simulator and unit tests); both pass the same contract
 * tests (test/unit/storage-contract.ts).
 */
import { StorageError, StorageErrorCode } from './errors.js';

export interface KvPut {
  readonly type: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface KvDel {
  readonly type: 'del';
  readonly key: Uint8Array;
}

export type KvBatchOp = KvPut | KvDel;

export interface KvWriteOptions {
  /**
   * Wait until the write has reached stable storage (fsync) before resolving.
   * Costs about 10 ms per write on the reference machine (FACTS.md): use it once
   * per block or WAL append, never per key.
   */
  readonly sync?: boolean;
}

/** A key range `[gte, lt)`; both bounds optional. */
export interface KvRange {
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
}

export interface KvIterateOptions extends KvRange {
  /** Yield at most this many entries (default: no limit). */
  readonly limit?: number;
  /** Iterate from the highest key down. */
  readonly reverse?: boolean;
  /** Stops the iteration with `StorageError('ABORTED')`. */
  readonly signal?: AbortSignal;
}

export interface KvEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface KvStore {
  /** Where the data lives: a directory path, or `:memory:`. */
  readonly location: string;
  /** The value at `key`, or `undefined`. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * The value at `key`, read synchronously (blocks the event loop for one
   * lookup): for the hot paths that pure code calls synchronously, such as the
   * contracts reading world state and the replica serving blocks.
   */
  getSync(key: Uint8Array): Uint8Array | undefined;
  /** Values at `keys`, in the same order; `undefined` where absent. */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  put(key: Uint8Array, value: Uint8Array, options?: KvWriteOptions): Promise<void>;
  del(key: Uint8Array, options?: KvWriteOptions): Promise<void>;
  /**
   * Applies all operations atomically, in order (a later op on the same key
   * wins): after a crash either all of them are visible or none is. Invalid
   * input rejects the whole batch before anything is written.
   */
  batch(ops: readonly KvBatchOp[], options?: KvWriteOptions): Promise<void>;
  /**
   * Entries in `[gte, lt)` in key order (or reverse order), read from a
   * snapshot taken when the iteration starts: writes made while iterating are
   * not seen. Breaking out of the loop releases the iterator.
   */
  iterate(options?: KvIterateOptions): AsyncIterable<KvEntry>;
  /** Releases the store; later calls fail with `StorageError('CLOSED')`. Idempotent. */
  close(): Promise<void>;
}

/** Bytewise comparison, the order of keys in every `KvStore`. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * The smallest key greater than every key that starts with `prefix`, or
 * `undefined` if there is none (prefix all 0xff). `{ gte: prefix, lt:
 * prefixEnd(prefix) }` is the range of keys under `prefix`.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i] ?? 0;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** The range of all keys that start with `prefix`. */
export function prefixRange(prefix: Uint8Array): KvRange {
  const lt = prefixEnd(prefix);
  return lt === undefined ? { gte: prefix } : { gte: prefix, lt };
}

/** Collects an iteration into an array (bounded by `limit` if given). */
export async function collect(store: KvStore, options: KvIterateOptions = {}): Promise<KvEntry[]> {
  const out: KvEntry[] = [];
  for await (const entry of store.iterate(options)) out.push(entry);
  return out;
}

export function checkKey(key: unknown, field = 'key'): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new StorageError(StorageErrorCode.invalidArgument, `${field}: not a Uint8Array`, {
      field,
    });
  }
  if (key.length === 0) {
    throw new StorageError(StorageErrorCode.invalidArgument, `${field}: empty key`, { field });
  }
}

export function checkValue(value: unknown, field = 'value'): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new StorageError(StorageErrorCode.invalidArgument, `${field}: not a Uint8Array`, {
      field,
    });
  }
}

export function checkBatch(ops: readonly KvBatchOp[]): void {
  if (!Array.isArray(ops)) {
    throw new StorageError(StorageErrorCode.invalidArgument, 'batch: not an array of operations');
  }
  ops.forEach((op: KvBatchOp, i) => {
    checkKey(op.key, `batch[${i}].key`);
    if (op.type === 'put') checkValue(op.value, `batch[${i}].value`);
    else if ((op.type as string) !== 'del') {
      throw new StorageError(
        StorageErrorCode.invalidArgument,
        `batch[${i}].type: must be 'put' or 'del'`,
        { field: `batch[${i}].type` },
      );
    }
  });
}

export function checkIterateOptions(options: KvIterateOptions): void {
  if (options.gte !== undefined) checkValue(options.gte, 'gte');
  if (options.lt !== undefined) checkValue(options.lt, 'lt');
  if (options.limit !== undefined && !(Number.isSafeInteger(options.limit) && options.limit >= 0)) {
    throw new StorageError(StorageErrorCode.invalidArgument, 'limit: not a non-negative integer', {
      field: 'limit',
    });
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, location: string): void {
  if (signal?.aborted === true) {
    throw new StorageError(StorageErrorCode.aborted, `iteration over ${location} was aborted`, {
      location,
    });
  }
}

export function closedError(location: string): StorageError {
  return new StorageError(StorageErrorCode.closed, `database ${location} is closed`, { location });
}
