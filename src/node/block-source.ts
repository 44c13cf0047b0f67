/**
 * The mempool and block rules as consensus sees them (consensus `BlockSource`).
 *
 * A proposal extends the block accepted at h−1 (the last in-flight block) or
 * the committed tip. Its header carries the state root after
 * `stateRootHeightFor(h)` (src/ledger/state-root.ts): the proposer waits until
 * it has executed that height; a backup compares it when it has, and otherwise
 * leaves the check to execution time (src/node/executor.ts).
 *
 * The replica commits a block (and may then propose or accept the next one in
 * the same step) before the node has performed its `execute` effect, so the
 * chain view can lag behind what consensus built on. A proposal's ancestry is
 * therefore walked from its `prevHash` through the blocks seen here down to the
 * chain view's committed tip: those ancestors give the parent (timestamp) and
 * the transactions that must not appear again.
 *
 * Validation reuses the ledger's `validateBlock` with the mempool's verdict
 * cache, so a transaction verified at admission is not verified again (and a
 * block assembled from the mempool's transactions is not hashed again); then the
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

/** Blocks remembered for lineage walks: well beyond any pipeline window. */
const MAX_KNOWN_BLOCKS = 4096;

interface KnownBlock {
  readonly parent: ParentBlock;
  readonly prevHex: string;
  readonly txKeys: readonly string[];
}

interface Lineage {
  readonly parent: ParentBlock;
  /** Tx hashes (hex) of the ancestors above the committed tip. */
  readonly busy: Set<string>;
}

export class NodeBlockSource implements BlockSource {
  readonly #o: BlockSourceOptions;
  /** Hashes of the transactions of blocks we proposed or validated. */
  readonly #hashes = new WeakMap<Block, readonly HashedTransaction[]>();
  readonly #known = new Map<string, KnownBlock>();
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

  /**
   * The hashed transactions of a block assembled here from known ones (a
   * compact pre-prepare): validation then neither encodes nor hashes them again.
   */
  adoptHashed(block: Block, hashed: readonly HashedTransaction[]): void {
    this.#hashes.set(block, hashed);
  }

  /** Remember a block for lineage walks (proposed, validated, or committed by any path). */
  remember(
    block: Block,
    hash: Uint8Array,
    hashed: readonly HashedTransaction[] = this.hashedTxs(block),
  ): void {
    const key = toHex(hash);
    if (this.#known.has(key)) return;
    this.#known.set(key, {
      parent: { height: block.header.height, hash, timestamp: block.header.timestamp },
      prevHex: toHex(block.header.prevHash),
      txKeys: hashed.map((h) => toHex(h.hash)),
    });
    if (this.#known.size > MAX_KNOWN_BLOCKS) {
      const oldest = this.#known.keys().next();
      if (oldest.done !== true) this.#known.delete(oldest.value);
    }
  }

  /** Parent and busy transactions of a block whose parent hash is `prevHash`; null if unknown. */
  #lineage(prevHash: Uint8Array): Lineage | null {
    const tip = this.#o.chain.committedTip;
    const tipHex = toHex(tip.hash);
    const busy = new Set<string>();
    let parent: ParentBlock | null = null;
    let cursor = toHex(prevHash);
    for (let steps = 0; steps <= MAX_KNOWN_BLOCKS; steps++) {
      if (cursor === tipHex) return { parent: parent ?? tip, busy };
      const known = this.#known.get(cursor);
      if (!known || known.parent.height <= tip.height) return null;
      parent ??= known.parent;
      for (const k of known.txKeys) busy.add(k);
      cursor = known.prevHex;
    }
    return null;
  }

  pending(inFlight: readonly Block[]): { txCount: number; bytes: number } {
    const keys = new Set<string>();
    for (const b of inFlight) for (const h of this.hashedTxs(b)) keys.add(toHex(h.hash));
    return this.#o.mempool.pending(keys);
  }

  proposeBlock(r: ProposalRequest): Block | null {
    const { rules, mempool, chain, validators } = this.#o;
    const lineage = this.#lineage(r.prevHash);
    const stateRoot = chain.stateRootAt(stateRootHeightFor(r.height));
    // Not executed far enough yet (or the parent is not known here): the replica asks again later.
    if (!lineage || lineage.parent.height !== r.height - 1 || !stateRoot) return null;
    const { busy, parent } = lineage;
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
    this.remember(block, blockHash(rules.suite, block.header), txs);
    return block;
  }

  validateProposal(block: Block, _inFlight: readonly Block[]): boolean {
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
    const lineage = this.#lineage(h.prevHash);
    if (!lineage) return refuse('its parent is not a block known here');
    if (h.timestamp > this.#o.now() + this.#o.maxClockDriftMs) {
      return refuse(`timestamp ${h.timestamp} is ahead of this node's clock`);
    }
    const stateRoot = chain.stateRootAt(stateRootHeightFor(h.height));
    const verdict = validateBlock(
      rules,
      block,
      { parent: lineage.parent, validators, ...(stateRoot ? { stateRoot } : {}) },
      { isVerified: (hash) => mempool.isVerified(hash), hashedTxs: this.#hashes.get(block) },
    );
    if (!verdict.ok) return refuse(verdict.error.message);
    if (block.txs.length === 0) return refuse('empty block');
    for (const [i, htx] of verdict.txs.entries()) {
      const key = toHex(htx.hash);
      if (lineage.busy.has(key)) return refuse(`txs[${i}] is already in an ancestor block`);
      if (chain.isCommitted(htx.hash)) return refuse(`txs[${i}] is already committed`);
    }
    for (const htx of verdict.txs) mempool.markVerified(htx.hash);
    this.#hashes.set(block, verdict.txs);
    this.remember(block, verdict.hash, verdict.txs);
    return true;
  }
}
