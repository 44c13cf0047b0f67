/**
 * The consensus write-ahead log (DESIGN.md §5, STYLE.md "persist before you
 * speak"): the replica appends what it is about to sign or send, and waits
 * for the append (fsync) before the message leaves the node. On restart it
 * reads everything back in append order. Entries are opaque to storage:
 * canonical-CBOR values with the height they belong to; once a checkpoint is
 * stable the replica truncates everything below it.
 *
 * Keys are `height u64 ‖ sequence u64`, so truncation is a range; `sequence`
 * increases with every append over the life of the directory, so reads return
 * entries in append order even when heights interleave.
 */
import { Encoded } from '../src/codec/index.js';
import type { CodecValue } from '../src/codec/index.js';
import type { KvBatchOp, KvIterateOptions, KvStore } from './kv.js';
import { BUCKET, bucketPrefix, checkHeight, heightKey, heightSeqKey, readU64 } from './keys.js';
import { prefixRange } from './kv.js';
import { decodeStored, encodeStored } from './values.js';

export interface WalEntry {
  readonly height: number;
  readonly sequence: number;
  readonly entry: CodecValue;
}

export interface WalAppend {
  readonly height: number;
  /** The entry, or its canonical encoding already made (read back as the value either way). */
  readonly entry: CodecValue | Encoded;
}

export interface WalWriteOptions {
  /** fsync before resolving (default true: the point of a WAL). */
  readonly sync?: boolean;
}

export class WalRepository {
  #nextSequence: number;

  private constructor(
    private readonly kv: KvStore,
    nextSequence: number,
  ) {
    this.#nextSequence = nextSequence;
  }

  /**
   * Opens the WAL, finding the next sequence number from what is stored (one
   * scan: the WAL stays small because the replica truncates it at every
   * stable checkpoint).
   */
  static async open(kv: KvStore, options: { signal?: AbortSignal } = {}): Promise<WalRepository> {
    let next = 0;
    const scan: KvIterateOptions = { ...prefixRange(bucketPrefix(BUCKET.consensusWal)) };
    for await (const { key } of kv.iterate(
      options.signal === undefined ? scan : { ...scan, signal: options.signal },
    )) {
      next = Math.max(next, readU64(key, 9) + 1);
    }
    return new WalRepository(kv, next);
  }

  /** Appends one entry; resolves once it is durable. Returns its sequence number. */
  async append(height: number, entry: CodecValue, options: WalWriteOptions = {}): Promise<number> {
    const [sequence] = await this.appendMany([{ height, entry }], options);
    return sequence ?? 0;
  }

  /** Appends entries atomically, in order; resolves once they are durable. */
  async appendMany(
    entries: readonly WalAppend[],
    options: WalWriteOptions = {},
  ): Promise<number[]> {
    const ops: KvBatchOp[] = [];
    const values = entries.map((e, i) => {
      checkHeight(e.height, `entries[${i}].height`);
      return e.entry instanceof Encoded
        ? e.entry.bytes
        : encodeStored(e.entry, `entries[${i}].entry`);
    });
    // Sequences are taken only after every entry encoded, so a rejected call
    // leaves no gap (gaps would be harmless, but are confusing to read).
    const sequences = entries.map((e, i) => {
      const sequence = this.#nextSequence++;
      ops.push({
        type: 'put',
        key: heightSeqKey(BUCKET.consensusWal, e.height, sequence),
        value: values[i] ?? new Uint8Array(),
      });
      return sequence;
    });
    await this.kv.batch(ops, { sync: options.sync ?? true });
    return sequences;
  }

  /** Every entry, in append order. */
  async readAll(options: { signal?: AbortSignal } = {}): Promise<WalEntry[]> {
    const entries: WalEntry[] = [];
    const scan: KvIterateOptions = { ...prefixRange(bucketPrefix(BUCKET.consensusWal)) };
    for await (const { key, value } of this.kv.iterate(
      options.signal === undefined ? scan : { ...scan, signal: options.signal },
    )) {
      const height = readU64(key, 1);
      const sequence = readU64(key, 9);
      const source = {
        what: `WAL entry ${sequence} at height ${height}`,
        details: { bucket: 'consensusWal', height, sequence },
      };
      entries.push({ height, sequence, entry: decodeStored(value, source) });
    }
    return entries.sort((a, b) => a.sequence - b.sequence);
  }

  /** Removes exactly these entries (by height and sequence), atomically. */
  async remove(
    entries: readonly Pick<WalEntry, 'height' | 'sequence'>[],
    options: WalWriteOptions = {},
  ): Promise<void> {
    const ops: KvBatchOp[] = entries.map((e) => ({
      type: 'del',
      key: heightSeqKey(BUCKET.consensusWal, e.height, e.sequence),
    }));
    if (ops.length > 0) await this.kv.batch(ops, { sync: options.sync ?? true });
  }

  /** Removes every entry with height < `height`, atomically. Returns how many were removed. */
  async truncateBelow(height: number, options: WalWriteOptions = {}): Promise<number> {
    checkHeight(height);
    const ops: KvBatchOp[] = [];
    for await (const { key } of this.kv.iterate({
      gte: bucketPrefix(BUCKET.consensusWal),
      lt: heightKey(BUCKET.consensusWal, height),
    })) {
      ops.push({ type: 'del', key });
    }
    if (ops.length > 0) await this.kv.batch(ops, { sync: options.sync ?? true });
    return ops.length;
  }
}
