/**
 * Copy-on-write views of world state. A block runs on one overlay over the
 * committed state; each transaction runs on a child overlay that is merged
 * into the block's only if the transaction succeeds, so a failed transaction
 * leaves no trace and a later transaction sees the earlier ones' writes.
 */
import { bytesEqual, toHex } from '../codec/index.js';
import { compareBytes } from './keys.js';

/** Synchronous reads of committed world state (the node serves them from memory or `getSync`). */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
}

export interface StateWrite {
  readonly key: Uint8Array;
  /** `null` deletes the key. */
  readonly value: Uint8Array | null;
}

export class Overlay implements StateReader {
  readonly #base: StateReader;
  readonly #writes = new Map<string, StateWrite>();

  constructor(base: StateReader) {
    this.#base = base;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const write = this.#writes.get(toHex(key));
    if (write !== undefined) return write.value ?? undefined;
    return this.#base.get(key);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.#writes.set(toHex(key), { key: Uint8Array.from(key), value });
  }

  delete(key: Uint8Array): void {
    this.#writes.set(toHex(key), { key: Uint8Array.from(key), value: null });
  }

  /** Applies this overlay's writes to `target` (in key order, so the result never depends on write order). */
  mergeInto(target: Overlay): void {
    for (const write of this.sortedWrites()) {
      if (write.value === null) target.delete(write.key);
      else target.put(write.key, write.value);
    }
  }

  sortedWrites(): StateWrite[] {
    return [...this.#writes.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  /**
   * The net change against the base: one entry per key, sorted by key bytes,
   * without writes that leave a key as it was (same value, or delete of an absent key).
   */
  netChanges(): StateWrite[] {
    return this.sortedWrites().filter((write) => {
      const before = this.#base.get(write.key);
      if (write.value === null) return before !== undefined;
      return before === undefined || !bytesEqual(before, write.value);
    });
  }
}
