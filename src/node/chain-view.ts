/**
 * The node's synchronous view of its chain, for the parts that must answer
 * without awaiting: the replica (serving state transfer, `ChainReader`), the
 * block source (parent, duplicates, state roots) and the mempool (already
 * committed?).
 *
 * "Committed" runs ahead of "stored": the replica commits a block (its
 * `execute` effect) before the executor has written it. Such blocks are held
 * here until stored, so nothing asks LevelDB for a block that is only in
 * flight to it, and a transaction committed but not yet indexed still counts as
 * committed.
 */
import { toHex } from '../codec/index.js';
import type { CertifiedBlock, ChainReader } from '../../consensus/types.js';
import type { Transaction } from '../ledger/types.js';
import { InvariantError } from '../errors.js';
import type { ParentBlock } from '../ledger/validate.js';
import type { ChainStore } from '../../storage/chain-store.js';

/** Recent certified blocks kept in memory (the rest is read from LevelDB on demand). */
const RECENT_BLOCKS = 256;
/** Recent state roots kept in memory (at least STATE_ROOT_LAG_HEIGHTS + 1). */
const RECENT_ROOTS = 128;

export class ChainView implements ChainReader {
  readonly #store: ChainStore;
  readonly #genesis: ParentBlock;
  readonly #recent = new Map<number, CertifiedBlock>();
  /** Tx hashes (hex) of committed blocks not yet stored, with their index, by height. */
  readonly #unstoredTxs = new Map<number, Map<string, number>>();
  readonly #roots = new Map<number, Uint8Array>();
  #committedTip: ParentBlock;
  #storedHeight: number;

  constructor(store: ChainStore, genesis: ParentBlock, genesisStateRoot: Uint8Array) {
    this.#store = store;
    this.#genesis = genesis;
    this.#storedHeight = store.latestHeight();
    this.#roots.set(0, genesisStateRoot);
    this.#committedTip = genesis;
    if (this.#storedHeight > 0) {
      const tip = store.blocks.getSync(this.#storedHeight);
      const head = store.head();
      if (!tip || !head) {
        throw new InvariantError('stored head block is missing', { height: this.#storedHeight });
      }
      this.#committedTip = {
        height: this.#storedHeight,
        hash: head.blockHash,
        timestamp: tip.header.timestamp,
      };
    }
  }

  /** Highest height committed by consensus (possibly not stored yet). */
  get committedHeight(): number {
    return this.#committedTip.height;
  }

  /** The committed tip as a parent for the next block. */
  get committedTip(): ParentBlock {
    return this.#committedTip;
  }

  get storedHeight(): number {
    return this.#storedHeight;
  }

  get genesis(): ParentBlock {
    return this.#genesis;
  }

  /** Consensus committed this block (called at the `execute` effect, before storing). */
  noteCommitted(
    entry: CertifiedBlock,
    blockHash: Uint8Array,
    txHashes: readonly Uint8Array[],
  ): void {
    const { height, timestamp } = entry.block.header;
    if (height !== this.#committedTip.height + 1) {
      throw new InvariantError('blocks committed out of order', {
        height,
        tip: this.#committedTip.height,
      });
    }
    this.#committedTip = { height, hash: blockHash, timestamp };
    this.#remember(height, entry);
    this.#unstoredTxs.set(height, new Map(txHashes.map((h, i) => [toHex(h), i])));
  }

  /** A transaction of a block committed by consensus but not stored yet (not in the tx index). */
  unstoredTx(hashHex: string): Transaction | undefined {
    for (const [height, txs] of this.#unstoredTxs) {
      const index = txs.get(hashHex);
      if (index !== undefined) return this.#recent.get(height)?.block.txs[index];
    }
    return undefined;
  }

  /** The executor stored this height with the state root after it. */
  noteStored(height: number, stateRoot: Uint8Array): void {
    this.#storedHeight = height;
    this.#unstoredTxs.delete(height);
    this.setStateRoot(height, stateRoot);
  }

  setStateRoot(height: number, stateRoot: Uint8Array): void {
    this.#roots.set(height, stateRoot);
    for (const h of this.#roots.keys()) {
      if (h < height - RECENT_ROOTS) this.#roots.delete(h);
    }
  }

  /** State root after `height`, if this node has executed it (and still remembers it). */
  stateRootAt(height: number): Uint8Array | undefined {
    return this.#roots.get(height);
  }

  /** Whether a transaction is committed: stored in the tx index or committed and on its way there. */
  isCommitted(txHash: Uint8Array): boolean {
    if (this.#unstoredTxs.size > 0) {
      const key = toHex(txHash);
      for (const txs of this.#unstoredTxs.values()) if (txs.has(key)) return true;
    }
    return this.#store.txIndex.getSync(txHash) !== undefined;
  }

  getCertifiedBlock(height: number): CertifiedBlock | undefined {
    if (height < 1 || height > this.#committedTip.height) return undefined;
    const cached = this.#recent.get(height);
    if (cached) return cached;
    const block = this.#store.blocks.getSync(height);
    const certificate = this.#store.certificates.getSync(height);
    if (!block || !certificate) return undefined;
    return { block, certificate };
  }

  #remember(height: number, entry: CertifiedBlock): void {
    this.#recent.set(height, entry);
    for (const h of this.#recent.keys()) {
      if (h <= height - RECENT_BLOCKS) this.#recent.delete(h);
      else break;
    }
  }
}
