/**
 * The mempool and block rules as consensus sees them (consensus `BlockSource`).
 *
 * A proposal extends the block accepted at h−1 (the last in-flight block) or
 * the committed tip. Its header carries the state root after
 * `stateRootHeightFor(h)` (src/ledger/state-root.ts): the proposer waits until
 * it has executed that height; a backup compares it when it has, and otherwise
 * leaves the check to execution time (src/node/executor.ts).
 *
 * Validation reuses the ledger's `validateBlock` with the mempool's verdict
 * cache, so a transaction verified at admission is not verified again; then the
 * node's own rules: no transaction already committed or in flight, and a
 * timestamp not far ahead of this node's clock.
 */
import { toHex } from '../codec/index.js';
import type { BlockSource, ProposalRequest } from '../../consensus/types.js';
import type { Logger } from '../logger.js';
import { blockHash, type HashedTransaction, hashTransaction } from '../ledger/hashing.js';
import { merkleRoot } from '../ledger/merkle.js';
import { stateRootHeightFor } from '../ledger/state-root.js';
import type { Block } from '../ledger/types.js';
import { validateBlock } from '../ledger/validate.js';
import type { LedgerRules, ParentBlock } from '../ledger/validate.js';
import type { ValidatorSet } from '../identity/validators.js';
import type { Mempool } from '../mempool/mempool.js';
import type { ChainView } from './chain-view.js';

export interface BlockSourceOptions {
  readonly rules: LedgerRules;
  readonly validators: ValidatorSet;
  readonly mempool: Mempool;
  readonly chain: ChainView;
  readonly logger: Logger;
  /** The node's wall clock (ms since the epoch). */
  readonly now: () => number;
  /** A proposal's timestamp may be at most this far ahead of our clock. */
  readonly maxClockDriftMs: number;
}

export class NodeBlockSource implements BlockSource {
  readonly #o: BlockSourceOptions;
  /** Hashes of the transactions of blocks we proposed or validated. */
  readonly #hashes = new WeakMap<Block, readonly HashedTransaction[]>();
  rejectedProposals = 0;

  constructor(options: BlockSourceOptions) {
    this.#o = options;
  }

  /** The hashed transactions of a block seen here (computed once per block object). */
  hashedTxs(block: Block): readonly HashedTransaction[] {
    let hashed = this.#hashes.get(block);
    if (!hashed) {
      const { suite } = this.#o.rules;
      hashed = block.txs.map((tx) => hashTransaction(suite, tx));
      this.#hashes.set(block, hashed);
    }
    return hashed;
  }

  #inFlightKeys(inFlight: readonly Block[]): Set<string> {
    const keys = new Set<string>();
    for (const b of inFlight) for (const h of this.hashedTxs(b)) keys.add(toHex(h.hash));
    return keys;
  }

  pending(inFlight: readonly Block[]): { txCount: number; bytes: number } {
    return this.#o.mempool.pending(this.#inFlightKeys(inFlight));
  }

  #parentOf(height: number, inFlight: readonly Block[]): ParentBlock | undefined {
    const last = inFlight[inFlight.length - 1];
    if (last && last.header.height === height - 1) {
      return {
        height: last.header.height,
        hash: blockHash(this.#o.rules.suite, last.header),
        timestamp: last.header.timestamp,
      };
    }
    const tip = this.#o.chain.committedTip;
    return tip.height === height - 1 ? tip : undefined;
  }

  proposeBlock(r: ProposalRequest): Block | null {
    const { rules, mempool, chain, validators } = this.#o;
    const parent = this.#parentOf(r.height, r.inFlight);
    const stateRoot = chain.stateRootAt(stateRootHeightFor(r.height));
    // Not executed far enough yet: the replica asks again on a later tick.
    if (!parent || !stateRoot) return null;
    const busy = this.#inFlightKeys(r.inFlight);
    // Leave room for the header and the CBOR framing of the block.
    const txs = mempool.select(
      r.height,
      rules.limits.maxBlockTxs,
      rules.limits.maxBlockBytes - 2048,
      (key) => busy.has(key),
    );
    if (txs.length === 0) return null;
    const block: Block = {
      header: {
        chainId: rules.chainId,
        height: r.height,
        prevHash: r.prevHash,
        txRoot: merkleRoot(
          rules.suite,
          txs.map((t) => t.hash),
        ),
        stateRoot,
        proposer: r.proposer,
        view: r.view,
        timestamp: Math.max(r.nowMs, parent.timestamp),
        validatorSetHash: validators.hash,
      },
      txs: txs.map((t) => t.tx),
    };
    this.#hashes.set(block, txs);
    return block;
  }

  validateProposal(block: Block, inFlight: readonly Block[]): boolean {
    const { rules, mempool, chain, validators, logger } = this.#o;
    const h = block.header;
    const refuse = (reason: string): boolean => {
      this.rejectedProposals++;
      logger.warn(
        { height: h.height, view: h.view, proposer: h.proposer, reason },
        'proposal refused',
      );
      return false;
    };
    const parent = this.#parentOf(h.height, inFlight);
    if (!parent) return refuse('no parent at height − 1');
    if (h.timestamp > this.#o.now() + this.#o.maxClockDriftMs) {
      return refuse(`timestamp ${h.timestamp} is ahead of this node's clock`);
    }
    const stateRoot = chain.stateRootAt(stateRootHeightFor(h.height));
    const verdict = validateBlock(
      rules,
      block,
      { parent, validators, ...(stateRoot ? { stateRoot } : {}) },
      { isVerified: (hash) => mempool.isVerified(hash) },
    );
    if (!verdict.ok) return refuse(verdict.error.message);
    if (block.txs.length === 0) return refuse('empty block');
    const busy = this.#inFlightKeys(inFlight);
    for (const [i, htx] of verdict.txs.entries()) {
      const key = toHex(htx.hash);
      if (busy.has(key)) return refuse(`txs[${i}] is already in an earlier in-flight block`);
      if (chain.isCommitted(htx.hash)) return refuse(`txs[${i}] is already committed`);
    }
    for (const htx of verdict.txs) mempool.markVerified(htx.hash);
    this.#hashes.set(block, verdict.txs);
    return true;
  }
}
