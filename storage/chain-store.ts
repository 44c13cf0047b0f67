/**
 * The chain store: one handle over a `KvStore` that owns the typed
 * repositories and is the only writer of committed chain data.
 *
 * `commitBlock` writes a block with everything it implies — certificate, hash
 * → height, tx index, receipts, state changes, index entries and the new head —
 * in ONE atomic batch with `sync: true`. After a crash the store holds exactly
 * the blocks whose batch completed: heights 1..H with everything of each, and
 * nothing of H+1 (test/integration/storage-crash.test.ts).
 *
 * Storage computes no hashes: callers pass the block hash and tx hashes they
 * computed with the chain's suite; storage checks only that the parts agree
 * with each other and extend the stored chain.
 */
import { bytesEqual, toHex } from '../src/codec/index.js';
import type { Block, CommitCertificate, Receipt, Transaction } from '../src/ledger/types.js';
import { StorageError, StorageErrorCode } from './errors.js';
import type { KvBatchOp, KvStore } from './kv.js';
import { MetaRepository, SCHEMA_VERSION, headOps } from './meta.js';
import type { ChainHead, ChainIdentity } from './meta.js';
import {
  BlockRepository,
  CertificateRepository,
  IndexRepository,
  ReceiptRepository,
  StateRepository,
  TxIndexRepository,
  blockOps,
  certificateOps,
  existingKeysToCheck,
  indexOps,
  receiptOps,
  stateOps,
  txIndexOps,
} from './repositories.js';
import type { IndexEntry, IndexEntryRef } from './repositories.js';
import { VaultRepository } from './vault.js';
import { WalRepository } from './wal.js';
import type { TxLocation } from './values.js';

/** A change to one world-state key: `value: null` deletes it. */
export interface StateChange {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

export interface CommitBlockInput {
  readonly block: Block;
  /** Hash of `block.header`, computed by the caller with the chain's suite. */
  readonly blockHash: Uint8Array;
  /** The certificate that makes the block final (height and hash must match). */
  readonly certificate: CommitCertificate;
  /** Hash of each transaction, in block order. */
  readonly txHashes: readonly Uint8Array[];
  /** One receipt per transaction, in block order. */
  readonly receipts: readonly Receipt[];
  /** Applied in order; a later change to the same key wins. */
  readonly stateChanges: readonly StateChange[];
  /** Secondary index entries to add (or overwrite). */
  readonly indexEntries: readonly IndexEntry[];
  /** Secondary index entries to remove (applied before `indexEntries`). */
  readonly indexRemovals?: readonly IndexEntryRef[];
}

export interface ChainStoreOptions {
  /**
   * The chain this directory must belong to. Recorded on first open; a later
   * open with a different chain id or genesis hash fails with `CHAIN_MISMATCH`.
   */
  readonly chain?: ChainIdentity;
}

export class ChainStore {
  readonly blocks: BlockRepository;
  readonly certificates: CertificateRepository;
  readonly txIndex: TxIndexRepository;
  readonly receipts: ReceiptRepository;
  readonly state: StateRepository;
  readonly indexes: IndexRepository;
  readonly meta: MetaRepository;
  readonly vault: VaultRepository;
  readonly wal: WalRepository;

  readonly #kv: KvStore;
  #head: ChainHead | undefined;
  #chain: ChainIdentity | undefined;
  /** Commits run one at a time: the height check and the write must not interleave. */
  #commitQueue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    kv: KvStore,
    wal: WalRepository,
    head: ChainHead | undefined,
    chain: ChainIdentity | undefined,
  ) {
    this.#kv = kv;
    this.blocks = new BlockRepository(kv);
    this.certificates = new CertificateRepository(kv);
    this.txIndex = new TxIndexRepository(kv);
    this.receipts = new ReceiptRepository(kv, this.txIndex);
    this.state = new StateRepository(kv);
    this.indexes = new IndexRepository(kv);
    this.meta = new MetaRepository(kv);
    this.vault = new VaultRepository(kv);
    this.wal = wal;
    this.#head = head;
    this.#chain = chain;
  }

  /**
   * Opens the chain store over `kv` (which it then owns: `close()` closes it).
   * Initialises an empty store, checks the schema version and chain identity,
   * and checks that the recorded head matches the stored blocks.
   */
  static async open(kv: KvStore, options: ChainStoreOptions = {}): Promise<ChainStore> {
    const meta = new MetaRepository(kv);
    const version = await meta.getSchemaVersion();
    if (version === undefined) {
      if (!(await isEmpty(kv))) {
        throw new StorageError(
          StorageErrorCode.schemaMismatch,
          `database ${kv.location} holds data but no medchain schema version: it is not a medchain data directory`,
          { location: kv.location },
        );
      }
      await meta.setSchemaVersion(SCHEMA_VERSION);
    } else if (version !== SCHEMA_VERSION) {
      throw new StorageError(
        StorageErrorCode.schemaMismatch,
        `database ${kv.location} has storage schema version ${version}, this node reads version ${SCHEMA_VERSION}`,
        { location: kv.location, found: version, expected: SCHEMA_VERSION },
      );
    }

    let chain = await meta.getChainIdentity();
    if (options.chain !== undefined) {
      if (chain === undefined) {
        await meta.setChainIdentity(options.chain);
        chain = options.chain;
      } else if (
        chain.chainId !== options.chain.chainId ||
        !bytesEqual(chain.genesisHash, options.chain.genesisHash)
      ) {
        throw new StorageError(
          StorageErrorCode.chainMismatch,
          `database ${kv.location} belongs to chain ${chain.chainId} (genesis ${toHex(chain.genesisHash)}), not ${options.chain.chainId} (genesis ${toHex(options.chain.genesisHash)}): use another data directory`,
          { location: kv.location, storedChainId: chain.chainId, chainId: options.chain.chainId },
        );
      }
    }

    const head = await meta.getHead();
    const storedTop = await new BlockRepository(kv).latestHeight();
    if (storedTop !== (head?.height ?? 0)) {
      throw new StorageError(
        StorageErrorCode.corruptDatabase,
        `database ${kv.location} records head height ${head?.height ?? 0} but holds blocks up to ${storedTop}`,
        { location: kv.location, headHeight: head?.height ?? 0, storedTop },
      );
    }
    const wal = await WalRepository.open(kv);
    return new ChainStore(kv, wal, head, chain);
  }

  get location(): string {
    return this.#kv.location;
  }

  /** Height of the last committed block; 0 before the first commit. */
  latestHeight(): number {
    return this.#head?.height ?? 0;
  }

  /** The last committed height and block hash, or `undefined` before the first commit. */
  head(): ChainHead | undefined {
    return this.#head === undefined
      ? undefined
      : { height: this.#head.height, blockHash: this.#head.blockHash.slice() };
  }

  chainIdentity(): ChainIdentity | undefined {
    return this.#chain;
  }

  /**
   * Commits the next block. Rejects with `HEIGHT_MISMATCH` unless
   * `block.header.height` is `latestHeight() + 1`, and with `INVALID_COMMIT` or
   * `INVALID_ARGUMENT` if the parts disagree; a rejected commit writes nothing.
   * Resolves once the batch is on disk (fsync).
   */
  commitBlock(input: CommitBlockInput): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new StorageError(StorageErrorCode.closed, `chain store ${this.location} is closed`, {
          location: this.location,
        }),
      );
    }
    const run = this.#commitQueue.then(() => this.#commit(input));
    this.#commitQueue = run.catch(() => undefined);
    return run;
  }

  async #commit(input: CommitBlockInput): Promise<void> {
    const ops = this.#prepare(input);
    const { block, blockHash, txHashes } = input;
    const height = block.header.height;

    const existing = await this.#kv.getMany(existingKeysToCheck(blockHash, txHashes));
    existing.forEach((value, i) => {
      if (value === undefined) return;
      if (i === 0) {
        invalidCommit(`block hash ${toHex(blockHash)} is already committed`, height);
      }
      invalidCommit(
        `transaction ${toHex(txHashes[i - 1] ?? new Uint8Array())} is already committed`,
        height,
      );
    });

    await this.#kv.batch(ops, { sync: true });
    this.#head = { height, blockHash: Uint8Array.from(blockHash) };
  }

  /** Validates the input and builds the batch (throws before anything is written). */
  #prepare(input: CommitBlockInput): KvBatchOp[] {
    const { block, blockHash, certificate, txHashes, receipts } = input;
    const height = block.header.height;
    const expected = this.latestHeight() + 1;
    if (height !== expected) {
      throw new StorageError(
        StorageErrorCode.heightMismatch,
        `cannot commit block at height ${String(height)}: the next height is ${expected}`,
        { height: typeof height === 'number' ? height : String(height), expected },
      );
    }
    if (!(blockHash instanceof Uint8Array) || blockHash.length === 0) {
      invalidCommit('blockHash must be a non-empty Uint8Array', height);
    }
    // The parent: the last committed block, or for height 1 the genesis (when known).
    const parent =
      this.#head !== undefined
        ? { what: `block ${this.#head.height}`, hash: this.#head.blockHash }
        : this.#chain !== undefined
          ? { what: 'the genesis', hash: this.#chain.genesisHash }
          : undefined;
    if (parent !== undefined && !bytesEqual(block.header.prevHash, parent.hash)) {
      invalidCommit(
        `block.header.prevHash ${toHex(block.header.prevHash)} is not the hash of ${parent.what} (${toHex(parent.hash)})`,
        height,
      );
    }
    if (this.#chain !== undefined) {
      if (block.header.chainId !== this.#chain.chainId) {
        invalidCommit(
          `block is for chain ${block.header.chainId}, not ${this.#chain.chainId}`,
          height,
        );
      }
      if (certificate.chainId !== this.#chain.chainId) {
        invalidCommit(`certificate is for chain ${certificate.chainId}`, height);
      }
    }
    if (certificate.height !== height) {
      invalidCommit(`certificate is for height ${certificate.height}`, height);
    }
    if (!bytesEqual(certificate.blockHash, blockHash)) {
      invalidCommit('certificate.blockHash does not match blockHash', height);
    }
    const txCount = block.txs.length;
    if (txHashes.length !== txCount) {
      invalidCommit(`${txHashes.length} tx hashes for ${txCount} transactions`, height);
    }
    if (receipts.length !== txCount) {
      invalidCommit(`${receipts.length} receipts for ${txCount} transactions`, height);
    }
    const seen = new Set<string>();
    txHashes.forEach((hash, i) => {
      if (!(hash instanceof Uint8Array) || hash.length === 0) {
        invalidCommit(`txHashes[${i}] must be a non-empty Uint8Array`, height);
      }
      const hex = toHex(hash);
      if (seen.has(hex)) invalidCommit(`txHashes[${i}] ${hex} appears twice in the block`, height);
      seen.add(hex);
      const receipt = receipts[i];
      if (
        receipt === undefined ||
        receipt.height !== height ||
        receipt.index !== i ||
        !bytesEqual(receipt.txHash, hash)
      ) {
        invalidCommit(
          `receipts[${i}] is not the receipt of transaction ${i} at this height`,
          height,
        );
      }
    });
    for (const [i, change] of input.stateChanges.entries()) {
      if (change.value !== null && !(change.value instanceof Uint8Array)) {
        invalidCommit(`stateChanges[${i}].value must be a Uint8Array or null`, height);
      }
    }
    return [
      ...blockOps(block, blockHash),
      ...certificateOps(certificate),
      ...txIndexOps(height, txHashes),
      ...receiptOps(receipts),
      ...stateOps(input.stateChanges),
      ...indexOps(input.indexEntries, input.indexRemovals ?? []),
      ...headOps({ height, blockHash }),
    ];
  }

  // ---- convenience reads ----------------------------------------------------

  getBlock(height: number): Promise<Block | undefined> {
    return this.blocks.get(height);
  }

  getBlockByHash(blockHash: Uint8Array): Promise<Block | undefined> {
    return this.blocks.getByHash(blockHash);
  }

  getCertificate(height: number): Promise<CommitCertificate | undefined> {
    return this.certificates.get(height);
  }

  getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    return this.txIndex.get(txHash);
  }

  /** The committed transaction with this hash and where it is. */
  async getTransaction(
    txHash: Uint8Array,
  ): Promise<{ tx: Transaction; location: TxLocation } | undefined> {
    const location = await this.txIndex.get(txHash);
    if (location === undefined) return undefined;
    const block = await this.blocks.get(location.height);
    const tx = block?.txs[location.index];
    if (tx === undefined) {
      throw new StorageError(
        StorageErrorCode.corruptValue,
        `tx index points at ${location.height}/${location.index}, which holds no transaction`,
        { height: location.height, index: location.index },
      );
    }
    return { tx, location };
  }

  getReceipt(txHash: Uint8Array): Promise<Receipt | undefined> {
    return this.receipts.getByTxHash(txHash);
  }

  getState(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.state.get(key);
  }

  /** Waits for a commit in progress, then closes the underlying store. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#commitQueue;
    await this.#kv.close();
  }
}

function invalidCommit(problem: string, height: number): never {
  throw new StorageError(
    StorageErrorCode.invalidCommit,
    `cannot commit block at height ${height}: ${problem}`,
    { height },
  );
}

async function isEmpty(kv: KvStore): Promise<boolean> {
  for await (const _entry of kv.iterate({ limit: 1 })) return false;
  return true;
}
