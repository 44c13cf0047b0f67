/**
 * The simulator's stand-in for mempool, block rules and execution: real ledger
 * blocks and transactions (hashes and Merkle roots from src/ledger), with
 * synthetic transaction contents. Deterministic given the order of calls.
 */
import { encode } from '../../src/codec/index.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import { blockHash } from '../../src/ledger/hashing.js';
import { merkleRoot } from '../../src/ledger/merkle.js';
import { encodeTransaction } from '../../src/ledger/encoding.js';
import type { Block, Transaction } from '../../src/ledger/types.js';
import type { BlockSource, CertifiedBlock, ChainReader, ProposalRequest } from '../types.js';

export const SIM_HASH_BYTES = 32;

export function simTransaction(chainId: string, seq: number): Transaction {
  const signer = new Uint8Array(32);
  signer[0] = 1;
  const signature = new Uint8Array(64);
  new DataView(signature.buffer).setUint32(0, seq);
  return {
    chainId,
    type: 'access.log',
    payload: { seq },
    signer,
    nonce: seq,
    validUntilHeight: 1_000_000_000,
    signature,
  };
}

function txSeq(tx: Transaction): number {
  const seq = tx.payload['seq'];
  return typeof seq === 'number' ? seq : -1;
}

export interface SimAppOptions {
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  readonly validatorSetHash: Uint8Array;
  /** Added to block timestamps: makes twin instances propose different blocks. */
  readonly timestampSaltMs: number;
}

/** One node's mempool, chain and state. */
export class SimApp implements BlockSource, ChainReader {
  readonly chain: CertifiedBlock[] = [];
  readonly stateRoots: Uint8Array[] = [];
  private mempool = new Map<number, Transaction>();
  private readonly committedSeqs = new Set<number>();
  private readonly txBytes = new WeakMap<Transaction, number>();
  private readonly txHashes = new WeakMap<Transaction, Uint8Array>();
  stateRoot: Uint8Array;

  constructor(private readonly o: SimAppOptions) {
    this.stateRoot = new Uint8Array(SIM_HASH_BYTES);
  }

  get height(): number {
    return this.chain.length;
  }

  addTx(tx: Transaction): void {
    const seq = txSeq(tx);
    if (!this.committedSeqs.has(seq)) this.mempool.set(seq, tx);
  }

  /** A crash loses the mempool. */
  clearMempool(): void {
    this.mempool = new Map();
  }

  mempoolSize(): number {
    return this.mempool.size;
  }

  private sizeOf(tx: Transaction): number {
    let n = this.txBytes.get(tx);
    if (n === undefined) {
      n = encodeTransaction(tx).length;
      this.txBytes.set(tx, n);
    }
    return n;
  }

  private hashOf(tx: Transaction): Uint8Array {
    let h = this.txHashes.get(tx);
    if (!h) {
      h = this.o.suite.hash(encodeTransaction(tx));
      this.txHashes.set(tx, h);
    }
    return h;
  }

  txRoot(txs: readonly Transaction[]): Uint8Array {
    return merkleRoot(
      this.o.suite,
      txs.map((t) => this.hashOf(t)),
    );
  }

  private inFlightSeqs(inFlight: readonly Block[]): Set<number> {
    const s = new Set<number>();
    for (const b of inFlight) for (const tx of b.txs) s.add(txSeq(tx));
    return s;
  }

  pending(inFlight: readonly Block[]): { txCount: number; bytes: number } {
    const busy = this.inFlightSeqs(inFlight);
    let txCount = 0;
    let bytes = 0;
    for (const [seq, tx] of this.mempool) {
      if (busy.has(seq)) continue;
      txCount++;
      bytes += this.sizeOf(tx);
      if (txCount >= this.o.maxBlockTxs) break;
    }
    return { txCount, bytes };
  }

  proposeBlock(r: ProposalRequest): Block | null {
    const busy = this.inFlightSeqs(r.inFlight);
    const txs: Transaction[] = [];
    let bytes = 0;
    for (const [seq, tx] of this.mempool) {
      if (busy.has(seq)) continue;
      const size = this.sizeOf(tx);
      if (txs.length >= this.o.maxBlockTxs || bytes + size > this.o.maxBlockBytes) break;
      txs.push(tx);
      bytes += size;
    }
    if (txs.length === 0) return null;
    return {
      header: {
        chainId: this.o.chainId,
        height: r.height,
        prevHash: r.prevHash,
        txRoot: this.txRoot(txs),
        // Under pipelining the proposer has not executed the parent: state roots
        // are compared through execution and checkpoints instead.
        stateRoot: new Uint8Array(SIM_HASH_BYTES),
        proposer: r.proposer,
        view: r.view,
        timestamp: r.nowMs + this.o.timestampSaltMs,
        validatorSetHash: this.o.validatorSetHash,
      },
      txs,
    };
  }

  validateProposal(block: Block, inFlight: readonly Block[]): boolean {
    const h = block.header;
    if (
      h.chainId !== this.o.chainId ||
      block.txs.length === 0 ||
      block.txs.length > this.o.maxBlockTxs
    ) {
      return false;
    }
    if (h.validatorSetHash.length !== SIM_HASH_BYTES || h.stateRoot.length !== SIM_HASH_BYTES)
      return false;
    const busy = this.inFlightSeqs(inFlight);
    const seen = new Set<number>();
    let bytes = 0;
    for (const tx of block.txs) {
      const seq = txSeq(tx);
      if (
        seq < 0 ||
        tx.chainId !== this.o.chainId ||
        seen.has(seq) ||
        busy.has(seq) ||
        this.committedSeqs.has(seq)
      ) {
        return false;
      }
      seen.add(seq);
      bytes += this.sizeOf(tx);
    }
    if (bytes > this.o.maxBlockBytes) return false;
    const root = this.txRoot(block.txs);
    if (root.length !== h.txRoot.length) return false;
    for (let i = 0; i < root.length; i++) if (root[i] !== h.txRoot[i]) return false;
    return true;
  }

  getCertifiedBlock(height: number): CertifiedBlock | undefined {
    return this.chain[height - 1];
  }

  /** Store and execute a committed block; returns the new state root. */
  execute(entry: CertifiedBlock): Uint8Array {
    this.chain.push(entry);
    for (const tx of entry.block.txs) {
      const seq = txSeq(tx);
      this.committedSeqs.add(seq);
      this.mempool.delete(seq);
    }
    this.stateRoot = this.o.suite.hash(
      encode([this.stateRoot, entry.block.header.height, entry.block.header.txRoot]),
    );
    this.stateRoots.push(this.stateRoot);
    return this.stateRoot;
  }

  hashBlock(block: Block): Uint8Array {
    return blockHash(this.o.suite, block.header);
  }
}
