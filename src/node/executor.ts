/**
 * Executes committed blocks strictly in height order and stores each one —
 * block, certificate, receipts, state changes, indexes and head — in one atomic
 * batch (storage/chain-store.ts), then reports the new state root.
 *
 * Execution-time state-root check: block h's header names the state root after
 * `stateRootHeightFor(h)`, which every node has executed by the time it
 * executes h. If the header disagrees with our root, the block is *void*: every
 * transaction gets a failed receipt `STATE_ROOT_MISMATCH` and nothing changes.
 * Every honest node reaches the same verdict (honest states agree), so the
 * chain stays deterministic; a node whose own state diverged is caught by the
 * state roots in consensus checkpoints instead.
 */
import type { CertifiedBlock } from '../../consensus/types.js';
import { bytesEqual } from '../codec/index.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { InvariantError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HashedTransaction } from '../ledger/hashing.js';
import { stateRootHeightFor } from '../ledger/state-root.js';
import type { Block, Receipt } from '../ledger/types.js';
import { encodeHeight } from '../../storage/keys.js';
import type { ChainStore } from '../../storage/chain-store.js';
import type { ContractEvent } from '../contracts/events.js';
import type { BlockExecution, ExecuteBlockInput } from '../contracts/execute.js';
import type { StateReader } from '../contracts/overlay.js';
import type { ChainView } from './chain-view.js';
import { StateCache } from './state-cache.js';

/** The deterministic state machine (src/contracts), bound to the chain's suite and genesis. */
export interface ContractEngine {
  genesisStateRoot(): Uint8Array;
  executeBlock(state: StateReader, input: ExecuteBlockInput): BlockExecution;
}

/** Index holding the state root after every height: key `root`, suffix = height u64. */
export const STATE_ROOT_INDEX = 'chain.state-root';
const STATE_ROOT_KEY = new TextEncoder().encode('root');
export const STATE_ROOT_MISMATCH = 'STATE_ROOT_MISMATCH';

export interface CommittedBlock {
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly block: Block;
  readonly certificate: CertifiedBlock['certificate'];
  readonly txHashes: readonly Uint8Array[];
  readonly receipts: readonly Receipt[];
  readonly events: readonly ContractEvent[];
  readonly stateRoot: Uint8Array;
  /** Wall-clock ms from the block's timestamp to it being stored here. */
  readonly commitLatencyMs: number;
}

export interface ExecutorOptions {
  readonly store: ChainStore;
  readonly chain: ChainView;
  readonly engine: ContractEngine;
  readonly suite: CryptoSuite;
  readonly logger: Logger;
  readonly now: () => number;
  /** Called after each block is durably stored, in height order. */
  readonly onStored: (committed: CommittedBlock) => void;
  /** Called when execution fails: the node must halt (a broken invariant or the disk). */
  readonly onFatal: (err: unknown) => void;
}

interface Job {
  readonly entry: CertifiedBlock;
  readonly blockHash: Uint8Array;
  readonly txs: readonly HashedTransaction[];
}

export class Executor {
  readonly #o: ExecutorOptions;
  readonly #queue: Job[] = [];
  #running: Promise<void> | null = null;
  #failed = false;
  #nextHeight: number;
  readonly #state: StateCache;
  voidBlocks = 0;

  constructor(options: ExecutorOptions) {
    this.#o = options;
    this.#nextHeight = options.store.latestHeight() + 1;
    this.#state = new StateCache((key) => options.store.state.getSync(key));
  }

  /** Recent state roots from the store, so the lag rule works right after a restart. */
  static async loadStateRoots(store: ChainStore, chain: ChainView, count: number): Promise<void> {
    const found: [number, Uint8Array][] = [];
    for await (const hit of store.indexes.scan(STATE_ROOT_INDEX, STATE_ROOT_KEY, {
      reverse: true,
      limit: count,
    })) {
      if (hit.value instanceof Uint8Array) found.push([readHeight(hit.suffix), hit.value]);
    }
    for (const [height, root] of found.reverse()) chain.setStateRoot(height, root);
  }

  /** Queue a committed block; heights must be consecutive. */
  enqueue(entry: CertifiedBlock, blockHash: Uint8Array, txs: readonly HashedTransaction[]): void {
    const height = entry.block.header.height;
    const expected = this.#nextHeight + this.#queue.length;
    if (height !== expected) {
      throw new InvariantError('block queued for execution out of order', { height, expected });
    }
    this.#queue.push({ entry, blockHash, txs });
    this.#running ??= this.#drain().finally(() => {
      this.#running = null;
    });
  }

  /** Resolves when everything queued is stored (or execution failed). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  get pendingBlocks(): number {
    return this.#queue.length;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#failed) {
      const job = this.#queue[0];
      if (!job) break;
      try {
        await this.#execute(job);
      } catch (err) {
        this.#failed = true;
        this.#o.onFatal(err);
        return;
      }
      this.#queue.shift();
      this.#nextHeight++;
    }
  }

  async #execute(job: Job): Promise<void> {
    const { store, chain, engine, logger } = this.#o;
    const { block, certificate } = job.entry;
    const height = block.header.height;
    const prevStateRoot = chain.stateRootAt(height - 1);
    const expectedHeaderRoot = chain.stateRootAt(stateRootHeightFor(height));
    if (!prevStateRoot || !expectedHeaderRoot) {
      throw new InvariantError('state root of an executed height is unknown', { height });
    }
    const txHashes = job.txs.map((t) => t.hash);
    const state = this.#state;
    let result: BlockExecution;
    if (bytesEqual(block.header.stateRoot, expectedHeaderRoot)) {
      result = engine.executeBlock(state, { block, txHashes, prevStateRoot });
    } else {
      this.voidBlocks++;
      logger.error(
        { height, proposer: block.header.proposer, view: block.header.view },
        'certified block names a wrong state root: voiding its transactions',
      );
      const empty = engine.executeBlock(state, {
        block: { header: block.header, txs: [] },
        txHashes: [],
        prevStateRoot,
      });
      result = {
        ...empty,
        receipts: txHashes.map((txHash, index) => ({
          txHash,
          height,
          index,
          code: STATE_ROOT_MISMATCH,
          reason: `block ${height} names a state root that is not the state after height ${stateRootHeightFor(height)}`,
        })),
        events: [],
      };
    }
    if (result.receipts.length !== block.txs.length) {
      throw new InvariantError('contracts returned a receipt count unlike the block', { height });
    }
    await store.commitBlock({
      block,
      blockHash: job.blockHash,
      certificate,
      txHashes,
      receipts: result.receipts,
      stateChanges: result.stateChanges,
      indexEntries: [
        ...result.indexEntries,
        {
          index: STATE_ROOT_INDEX,
          key: STATE_ROOT_KEY,
          suffix: encodeHeight(height),
          value: result.stateRoot,
        },
      ],
      indexRemovals: result.indexRemovals,
    });
    state.apply(result.stateChanges);
    chain.noteStored(height, result.stateRoot);
    this.#o.onStored({
      height,
      blockHash: job.blockHash,
      block,
      certificate,
      txHashes,
      receipts: result.receipts,
      events: result.events,
      stateRoot: result.stateRoot,
      commitLatencyMs: Math.max(0, this.#o.now() - block.header.timestamp),
    });
  }
}

function readHeight(suffix: Uint8Array): number {
  const view = new DataView(suffix.buffer, suffix.byteOffset, suffix.byteLength);
  return Number(view.getBigUint64(0));
}
