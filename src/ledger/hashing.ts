/**
 * Hashes and signed digests of ledger objects, all through the chain's
 * `CryptoSuite`:
 *
 * - transaction hash = H(encodeTransaction(tx)) — covers the signature, so it
 *   names exactly one signed transaction (the key of verdict caches and the tx index);
 * - block hash = H(encodeBlockHeader(header)) — the header commits to the
 *   transactions through `txRoot`;
 * - a transaction signature covers `encodeUnsignedTransaction(tx)` under
 *   DOMAIN.tx; a commit vote covers `commitVoteBytes(vote)` under
 *   DOMAIN.consensus. The suite prefixes the domain tag and chain id, so
 *   neither can be replayed as the other or on another chain.
 */
import { encode } from '../codec/index.js';
import { DOMAIN } from '../crypto/suite.js';
import type { CryptoSuite } from '../crypto/suite.js';
import {
  decodeTransaction,
  DEFAULT_LEDGER_LIMITS,
  encodeBlockHeader,
  encodeTransaction,
  encodeUnsignedTransaction,
} from './encoding.js';
import type { LedgerLimits } from './encoding.js';
import type { BlockHeader, Transaction } from './types.js';

/** A transaction with its canonical bytes and hash, computed once and passed along. */
export interface HashedTransaction {
  readonly tx: Transaction;
  /** `encodeTransaction(tx)`. */
  readonly bytes: Uint8Array;
  /** `suite.hash(bytes)`. */
  readonly hash: Uint8Array;
}

export function hashTransaction(suite: CryptoSuite, tx: Transaction): HashedTransaction {
  const bytes = encodeTransaction(tx);
  return { tx, bytes, hash: suite.hash(bytes) };
}

/**
 * Decodes a transaction received as bytes and hashes those very bytes: the
 * decoder accepts only the canonical encoding, so they equal `encodeTransaction(tx)`
 * and nothing is encoded again. `bytes` must not be modified afterwards.
 */
export function decodeHashedTransaction(
  suite: CryptoSuite,
  bytes: Uint8Array,
  limits: Pick<LedgerLimits, 'maxTxBytes'> = DEFAULT_LEDGER_LIMITS,
): HashedTransaction {
  const tx = decodeTransaction(bytes, limits);
  return { tx, bytes, hash: suite.hash(bytes) };
}

export function blockHash(suite: CryptoSuite, header: BlockHeader): Uint8Array {
  return suite.hash(encodeBlockHeader(header));
}

/** Whether `tx.signature` is the signer's signature of the unsigned part under DOMAIN.tx. */
export function verifyTransactionSignature(suite: CryptoSuite, tx: Transaction): boolean {
  return suite.verify(
    DOMAIN.tx,
    tx.chainId,
    encodeUnsignedTransaction(tx),
    tx.signature,
    tx.signer,
  );
}

/** What a validator signs to commit a block: (chainId, height, view, blockHash). */
export interface CommitVote {
  readonly chainId: string;
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
}

/**
 * The bytes of a commit vote, signed under DOMAIN.consensus. The `type` field
 * keeps a commit apart from any other consensus message (prepare, view change)
 * the engine signs under the same domain.
 */
export function commitVoteBytes(vote: CommitVote): Uint8Array {
  return encode({
    type: 'commit',
    chainId: vote.chainId,
    height: vote.height,
    view: vote.view,
    blockHash: vote.blockHash,
  });
}

export function verifyCommitVote(
  suite: CryptoSuite,
  vote: CommitVote,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  return suite.verify(DOMAIN.consensus, vote.chainId, commitVoteBytes(vote), signature, publicKey);
}
