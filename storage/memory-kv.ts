/**
 * In-memory `KvStore`: a sorted array of entries with binary search, same
 * semantics as `LevelKvStore` (bytewise key order, atomic in-order batches,
 * snapshot iteration). Serves the simulator and unit tests.
 *
 * Iterators read a snapshot: starting one marks the current array as shared,
 * and the next write copies it first (copy-on-write), so a run of writes with
 * no iteration in between costs a binary search and a splice each.
 */
import {
  checkBatch,
  checkIterateOptions,
  checkKey,
  closedError,
  throwIfAborted,
  compareBytes,
} from './kv.js';
import { StorageError, StorageErrorCode } from './errors.js';
import type { KvBatchOp, KvEntry, KvIterateOptions, KvStore, KvWriteOptions } from './kv.js';

interface Slot {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export class MemoryKvStore implements KvStore {
  readonly location = ':memory:';
  #slots: Slot[] = [];
  #shared = false;
  #closed = false;

  /** Number of keys held (for tests and metrics). */
  get size(): number {
    return this.#slots.length;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#run(() => {
      checkKey(key);
      return this.#read(key);
    });
  }

  getSync(key: Uint8Array): Uint8Array | undefined {
    if (this.#closed) throw closedError(this.location);
    checkKey(key);
    return this.#read(key);
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.#run(() => {
      keys.forEach((key, i) => {
        checkKey(key, `keys[${i}]`);
      });
      return keys.map((key) => this.#read(key));
    });
  }

  put(key: Uint8Array, value: Uint8Array, _options?: KvWriteOptions): Promise<void> {
    return this.batch([{ type: 'put', key, value }]);
  }

  del(key: Uint8Array, _options?: KvWriteOptions): Promise<void> {
    return this.batch([{ type: 'del', key }]);
  }

  batch(ops: readonly KvBatchOp[], _options?: KvWriteOptions): Promise<void> {
    return this.#run(() => {
      checkBatch(ops);
      if (ops.length === 0) return;
      // Validated above and applied without an await in between: atomic.
      if (this.#shared) {
        this.#slots = this.#slots.slice();
        this.#shared = false;
      }
      for (const op of ops) {
        if (op.type === 'put') this.#write(op.key, op.value);
        else this.#remove(op.key);
      }
    });
  }

  // Entries come from memory: nothing to await, but callers get the same async API.
  // eslint-disable-next-line @typescript-eslint/require-await
  async *iterate(options: KvIterateOptions = {}): AsyncGenerator<KvEntry, void, undefined> {
    yield* this.#entries(options);
  }

  *#entries(options: KvIterateOptions): Generator<KvEntry, void, undefined> {
    this.#checkOpen();
    checkIterateOptions(options);
    const { gte, lt, reverse = false, signal } = options;
    const limit = options.limit ?? Infinity;
    const slots = this.#slots;
    this.#shared = true;
    let from = gte === undefined ? 0 : lowerBound(slots, gte);
    let to = lt === undefined ? slots.length : lowerBound(slots, lt);
    if (to < from) to = from;
    let yielded = 0;
    while (from < to && yielded < limit) {
      throwIfAborted(signal, this.location);
      this.#checkOpen();
      const slot = reverse ? slots[--to] : slots[from++];
      if (slot === undefined) break;
      yielded++;
      yield { key: slot.key.slice(), value: slot.value.slice() };
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError(this.location);
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /**
   * After `close()`: a new open store holding everything this one held, as a
   * restarted process finds its data directory. Every completed write is kept
   * (writes are atomic and synchronous here, so a "crash" is just a close).
   */
  reopen(): MemoryKvStore {
    if (!this.#closed) {
      throw new StorageError(StorageErrorCode.invalidArgument, 'reopen: close the store first');
    }
    const store = new MemoryKvStore();
    store.#slots = this.#slots;
    store.#shared = true;
    this.#slots = [];
    return store;
  }

  #run<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(closedError(this.location));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(
        err instanceof Error ? err : new StorageError(StorageErrorCode.ioError, String(err)),
      );
    }
  }

  #read(key: Uint8Array): Uint8Array | undefined {
    const i = lowerBound(this.#slots, key);
    const slot = this.#slots[i];
    return slot !== undefined && compareBytes(slot.key, key) === 0 ? slot.value.slice() : undefined;
  }

  #write(key: Uint8Array, value: Uint8Array): void {
    const slot = { key: key.slice(), value: value.slice() };
    const i = lowerBound(this.#slots, key);
    const at = this.#slots[i];
    if (at !== undefined && compareBytes(at.key, key) === 0) this.#slots[i] = slot;
    else this.#slots.splice(i, 0, slot);
  }

  #remove(key: Uint8Array): void {
    const i = lowerBound(this.#slots, key);
    const at = this.#slots[i];
    if (at !== undefined && compareBytes(at.key, key) === 0) this.#slots.splice(i, 1);
  }
}

/** Index of the first slot whose key is >= `key` (slots.length if none). */
function lowerBound(slots: readonly Slot[], key: Uint8Array): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const slot = slots[mid];
    if (slot !== undefined && compareBytes(slot.key, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
