/**
 * Typed read access to the chain data, one repository per bucket. Blocks,
 * certificates, the tx index, receipts, world state and secondary indexes are
 * written only by `ChainStore.commitBlock`, in one atomic batch; the `*Ops`
 * helpers here build that batch's operations and are not exported from the
 * storage entry point.
 */
import { toHex } from '../src/codec/index.js';
import type { CodecValue } from '../src/codec/index.js';
import type { Block, CommitCertificate, Receipt } from '../src/ledger/types.js';
import { prefixEnd, prefixRange } from './kv.js';
import type { KvBatchOp, KvIterateOptions, KvStore } from './kv.js';
import {
  BUCKET,
  bucketPrefix,
  bytesKey,
  checkHeight,
  heightKey,
  heightOfKey,
  indexKey,
  indexNamePrefix,
  indexPrefix,
  parseIndexKey,
  positionKey,
} from './keys.js';
import {
  corrupt,
  decodeBlockValue,
  decodeCertificateValue,
  decodeHeightValue,
  decodeReceiptValue,
  decodeStored,
  decodeTxLocation,
  encodeBlockValue,
  encodeCertificateValue,
  encodeReceiptValue,
  encodeStored,
  encodeTxLocation,
} from './values.js';
import type { TxLocation, ValueSource } from './values.js';

/** Options of scans: at most `limit` items, optionally highest first, abortable. */
export interface ScanOptions {
  readonly limit?: number;
  readonly reverse?: boolean;
  readonly signal?: AbortSignal;
}

/** An inclusive height range `[fromHeight, toHeight]` (toHeight defaults to the latest). */
export interface HeightRange extends ScanOptions {
  readonly fromHeight: number;
  readonly toHeight?: number;
}

function heightRangeOptions(
  bucket: typeof BUCKET.blockByHeight | typeof BUCKET.certificateByHeight,
  range: HeightRange,
): KvIterateOptions {
  checkHeight(range.fromHeight, 'fromHeight');
  if (range.toHeight !== undefined) checkHeight(range.toHeight, 'toHeight');
  // Just past toHeight's key (or past the bucket): prefixEnd of a full key is its successor.
  const lt = prefixEnd(
    range.toHeight === undefined ? bucketPrefix(bucket) : heightKey(bucket, range.toHeight),
  );
  return {
    gte: heightKey(bucket, range.fromHeight),
    ...(lt === undefined ? {} : { lt }),
    limit: range.limit,
    reverse: range.reverse,
    signal: range.signal,
  };
}

function scanOptions(prefix: Uint8Array, scan: ScanOptions): KvIterateOptions {
  return { ...prefixRange(prefix), ...scan };
}

// ---- blocks ---------------------------------------------------------------

export class BlockRepository {
  constructor(private readonly kv: KvStore) {}

  async get(height: number): Promise<Block | undefined> {
    const bytes = await this.kv.get(heightKey(BUCKET.blockByHeight, height));
    return bytes === undefined ? undefined : decodeBlock(bytes, height);
  }

  getSync(height: number): Block | undefined {
    const bytes = this.kv.getSync(heightKey(BUCKET.blockByHeight, height));
    return bytes === undefined ? undefined : decodeBlock(bytes, height);
  }

  /** The height of the block with this hash, if committed. */
  async heightOf(blockHash: Uint8Array): Promise<number | undefined> {
    const bytes = await this.kv.get(bytesKey(BUCKET.heightByBlockHash, blockHash, 'blockHash'));
    if (bytes === undefined) return undefined;
    const source = {
      what: `height of block ${toHex(blockHash)}`,
      details: { bucket: 'heightByBlockHash' },
    };
    return decodeHeightValue(bytes, source);
  }

  async getByHash(blockHash: Uint8Array): Promise<Block | undefined> {
    const height = await this.heightOf(blockHash);
    return height === undefined ? undefined : this.get(height);
  }

  /** The highest height with a stored block (0 if none), read from the block bucket itself. */
  async latestHeight(): Promise<number> {
    for await (const { key } of this.kv.iterate({
      ...prefixRange(bucketPrefix(BUCKET.blockByHeight)),
      reverse: true,
      limit: 1,
    })) {
      return heightOfKey(key);
    }
    return 0;
  }

  /** Blocks with heights in `[fromHeight, toHeight]`, in height order (or reverse). */
  async *range(range: HeightRange): AsyncGenerator<Block, void, undefined> {
    for await (const { key, value } of this.kv.iterate(
      heightRangeOptions(BUCKET.blockByHeight, range),
    )) {
      yield decodeBlock(value, heightOfKey(key));
    }
  }
}

function decodeBlock(bytes: Uint8Array, height: number): Block {
  const source = {
    what: `block at height ${height}`,
    details: { bucket: 'blockByHeight', height },
  };
  const block = decodeBlockValue(bytes, source);
  if (block.header.height !== height) {
    throw corruptMismatch(source, `header.height is ${block.header.height}`);
  }
  return block;
}

// ---- certificates ---------------------------------------------------------

export class CertificateRepository {
  constructor(private readonly kv: KvStore) {}

  async get(height: number): Promise<CommitCertificate | undefined> {
    const bytes = await this.kv.get(heightKey(BUCKET.certificateByHeight, height));
    return bytes === undefined ? undefined : decodeCertificate(bytes, height);
  }

  getSync(height: number): CommitCertificate | undefined {
    const bytes = this.kv.getSync(heightKey(BUCKET.certificateByHeight, height));
    return bytes === undefined ? undefined : decodeCertificate(bytes, height);
  }

  async *range(range: HeightRange): AsyncGenerator<CommitCertificate, void, undefined> {
    for await (const { key, value } of this.kv.iterate(
      heightRangeOptions(BUCKET.certificateByHeight, range),
    )) {
      yield decodeCertificate(value, heightOfKey(key));
    }
  }
}

function decodeCertificate(bytes: Uint8Array, height: number): CommitCertificate {
  const source = {
    what: `certificate at height ${height}`,
    details: { bucket: 'certificateByHeight', height },
  };
  const cert = decodeCertificateValue(bytes, source);
  if (cert.height !== height) throw corruptMismatch(source, `height field is ${cert.height}`);
  return cert;
}

// ---- tx index -------------------------------------------------------------

export class TxIndexRepository {
  constructor(private readonly kv: KvStore) {}

  /** Where the transaction with this hash was committed. */
  async get(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const [location] = await this.getMany([txHash]);
    return location;
  }

  async getMany(txHashes: readonly Uint8Array[]): Promise<(TxLocation | undefined)[]> {
    const keys = txHashes.map((hash) => bytesKey(BUCKET.txIndex, hash, 'txHash'));
    const values = await this.kv.getMany(keys);
    return values.map((bytes, i) => decodeLocation(bytes, txHashes[i] ?? new Uint8Array()));
  }

  /** Whether (and where) the transaction was committed, read synchronously (block validation). */
  getSync(txHash: Uint8Array): TxLocation | undefined {
    return decodeLocation(this.kv.getSync(bytesKey(BUCKET.txIndex, txHash, 'txHash')), txHash);
  }
}

function decodeLocation(bytes: Uint8Array | undefined, hash: Uint8Array): TxLocation | undefined {
  if (bytes === undefined) return undefined;
  const source = { what: `tx index entry for ${toHex(hash)}`, details: { bucket: 'txIndex' } };
  return decodeTxLocation(bytes, source);
}

// ---- receipts -------------------------------------------------------------

export class ReceiptRepository {
  constructor(
    private readonly kv: KvStore,
    private readonly txIndex: TxIndexRepository,
  ) {}

  async get(height: number, index: number): Promise<Receipt | undefined> {
    const bytes = await this.kv.get(positionKey(BUCKET.receipt, height, index));
    return bytes === undefined ? undefined : decodeReceipt(bytes, height, index);
  }

  async getByTxHash(txHash: Uint8Array): Promise<Receipt | undefined> {
    const location = await this.txIndex.get(txHash);
    return location === undefined ? undefined : this.get(location.height, location.index);
  }

  /** Every receipt of the block at `height`, in transaction order. */
  async forBlock(height: number, options: ScanOptions = {}): Promise<Receipt[]> {
    const receipts: Receipt[] = [];
    for await (const { key, value } of this.kv.iterate(
      scanOptions(heightKey(BUCKET.receipt, height), options),
    )) {
      const index = new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(9);
      receipts.push(decodeReceipt(value, height, index));
    }
    return receipts;
  }
}

function decodeReceipt(bytes: Uint8Array, height: number, index: number): Receipt {
  const source = {
    what: `receipt ${index} at height ${height}`,
    details: { bucket: 'receipt', height, index },
  };
  const receipt = decodeReceiptValue(bytes, source);
  if (receipt.height !== height || receipt.index !== index) {
    throw corruptMismatch(source, `it names position ${receipt.height}/${receipt.index}`);
  }
  return receipt;
}

// ---- world state ----------------------------------------------------------

export interface StateEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * The world state: opaque byte keys to opaque byte values. The contracts own
 * the encoding of both (the stored bytes are exactly what the state root
 * commits to); storage only orders keys bytewise.
 */
export class StateRepository {
  constructor(private readonly kv: KvStore) {}

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.kv.get(bytesKey(BUCKET.state, key, 'key'));
  }

  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.kv.getMany(keys.map((key) => bytesKey(BUCKET.state, key, 'key')));
  }

  /** Synchronous read: the contracts execute synchronously against committed state. */
  getSync(key: Uint8Array): Uint8Array | undefined {
    return this.kv.getSync(bytesKey(BUCKET.state, key, 'key'));
  }

  /** Entries whose key starts with `prefix` (empty prefix: the whole state), in key order. */
  async *scan(
    prefix: Uint8Array,
    options: ScanOptions = {},
  ): AsyncGenerator<StateEntry, void, undefined> {
    const full = new Uint8Array(1 + prefix.length);
    full[0] = BUCKET.state;
    full.set(prefix, 1);
    for await (const { key, value } of this.kv.iterate(scanOptions(full, options))) {
      yield { key: key.subarray(1), value };
    }
  }
}

// ---- secondary indexes ----------------------------------------------------

/** One entry of a secondary index: under (`index`, `key`), ordered by `suffix`. */
export interface IndexEntry {
  /** Index name, 1–64 of `[a-z0-9._-]`, e.g. `record.by-patient`. */
  readonly index: string;
  /** What is looked up, e.g. a patient pseudonym (≤ 65535 bytes). */
  readonly key: Uint8Array;
  /** Distinguishes and orders entries under one key, e.g. height u64 ‖ record id. */
  readonly suffix: Uint8Array;
  /** Stored with the entry (canonical CBOR); default `null`. */
  readonly value?: CodecValue;
}

export type IndexEntryRef = Omit<IndexEntry, 'value'>;

export interface IndexHit {
  readonly suffix: Uint8Array;
  readonly value: CodecValue;
}

export interface IndexRow extends IndexHit {
  readonly key: Uint8Array;
}

export class IndexRepository {
  constructor(private readonly kv: KvStore) {}

  async get(index: string, key: Uint8Array, suffix: Uint8Array): Promise<CodecValue | undefined> {
    const bytes = await this.kv.get(indexKey(index, key, suffix));
    return bytes === undefined ? undefined : decodeStored(bytes, indexSource(index));
  }

  /** Entries of `index` under `key`, ordered by suffix. */
  async *scan(
    index: string,
    key: Uint8Array,
    options: ScanOptions = {},
  ): AsyncGenerator<IndexHit, void, undefined> {
    const prefix = indexPrefix(index, key);
    for await (const entry of this.kv.iterate(scanOptions(prefix, options))) {
      yield {
        suffix: entry.key.slice(prefix.length),
        value: decodeStored(entry.value, indexSource(index)),
      };
    }
  }

  /** Every entry of `index`, ordered by (key length, key, suffix). */
  async *scanAll(
    index: string,
    options: ScanOptions = {},
  ): AsyncGenerator<IndexRow, void, undefined> {
    for await (const entry of this.kv.iterate(scanOptions(indexNamePrefix(index), options))) {
      const { key, suffix } = parseIndexKey(entry.key);
      yield { key, suffix, value: decodeStored(entry.value, indexSource(index)) };
    }
  }
}

function indexSource(index: string): ValueSource {
  return { what: `index entry of ${index}`, details: { bucket: 'index', index } };
}

function corruptMismatch(source: ValueSource, problem: string): Error {
  return corrupt(source, `stored under the wrong key: ${problem}`);
}

// ---- batch operations (ChainStore only) -----------------------------------

export function blockOps(block: Block, blockHash: Uint8Array): KvBatchOp[] {
  const height = block.header.height;
  return [
    {
      type: 'put',
      key: heightKey(BUCKET.blockByHeight, height),
      value: encodeBlockValue(block),
    },
    {
      type: 'put',
      key: bytesKey(BUCKET.heightByBlockHash, blockHash, 'blockHash'),
      value: encodeStored(height, 'height'),
    },
  ];
}

export function certificateOps(certificate: CommitCertificate): KvBatchOp[] {
  return [
    {
      type: 'put',
      key: heightKey(BUCKET.certificateByHeight, certificate.height),
      value: encodeCertificateValue(certificate),
    },
  ];
}

export function txIndexOps(height: number, txHashes: readonly Uint8Array[]): KvBatchOp[] {
  return txHashes.map((hash, index) => ({
    type: 'put',
    key: bytesKey(BUCKET.txIndex, hash, `txHashes[${index}]`),
    value: encodeTxLocation({ height, index }),
  }));
}

export function receiptOps(receipts: readonly Receipt[]): KvBatchOp[] {
  return receipts.map((receipt, i) => ({
    type: 'put',
    key: positionKey(BUCKET.receipt, receipt.height, receipt.index),
    value: encodeReceiptValue(receipt, `receipts[${i}]`),
  }));
}

export function stateOps(
  changes: readonly { readonly key: Uint8Array; readonly value: Uint8Array | null }[],
): KvBatchOp[] {
  return changes.map((change, i) => {
    const key = bytesKey(BUCKET.state, change.key, `stateChanges[${i}].key`);
    return change.value === null ? { type: 'del', key } : { type: 'put', key, value: change.value };
  });
}

export function indexOps(
  entries: readonly IndexEntry[],
  removals: readonly IndexEntryRef[],
): KvBatchOp[] {
  const ops: KvBatchOp[] = removals.map((ref) => ({
    type: 'del',
    key: indexKey(ref.index, ref.key, ref.suffix),
  }));
  // Contracts pass one value object to several indexes (an audit event is
  // stored under its record, patient and institutions): encode it once.
  const encoded = new Map<CodecValue, Uint8Array>();
  for (const [i, entry] of entries.entries()) {
    const value = entry.value ?? null;
    let bytes = encoded.get(value);
    if (bytes === undefined) {
      bytes = encodeStored(value, `indexEntries[${i}].value`);
      if (typeof value === 'object' && value !== null) encoded.set(value, bytes);
    }
    ops.push({ type: 'put', key: indexKey(entry.index, entry.key, entry.suffix), value: bytes });
  }
  return ops;
}

/** Keys of the block-level records that must not exist before a commit. */
export function existingKeysToCheck(
  blockHash: Uint8Array,
  txHashes: readonly Uint8Array[],
): Uint8Array[] {
  return [
    bytesKey(BUCKET.heightByBlockHash, blockHash, 'blockHash'),
    ...txHashes.map((hash, i) => bytesKey(BUCKET.txIndex, hash, `txHashes[${i}]`)),
  ];
}
