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
import { bytesEqual, encode } from '../codec/index.js';
import { DOMAIN } from '../crypto/suite.js';
import type { CryptoSuite } from '../crypto/suite.js';
import {
  cborHeadLength,
  decodeTransaction,
  DEFAULT_LEDGER_LIMITS,
  encodeBlockHeader,
  encodeTransaction,
  encodeUnsignedTransaction,
  noteTransactionBytes,
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
  noteTransactionBytes(tx, bytes);
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

/** The canonical key "signature" (text of 9 bytes) as it appears in an encoded transaction. */
const SIGNATURE_KEY = Uint8Array.from([0x69, ...new TextEncoder().encode('signature')]);
/** The key "validUntilHeight" (16 bytes): the last key of a transaction in canonical order. */
const VALID_UNTIL_KEY_BYTES = 1 + 16;

/**
 * `encodeUnsignedTransaction(htx.tx)`, cut out of the transaction's canonical
 * bytes instead of encoded again. In canonical (length-first) key order a
 * transaction is type, nonce, signer, chainId, payload, signature,
 * validUntilHeight; the unsigned form is the same map with one entry fewer and
 * without the signature entry, which sits just before validUntilHeight.
 */
export function unsignedBytesOf(htx: HashedTransaction): Uint8Array {
  const { tx, bytes } = htx;
  const validUntil = VALID_UNTIL_KEY_BYTES + cborHeadLength(tx.validUntilHeight);
  const signatureEntry =
    SIGNATURE_KEY.length + cborHeadLength(tx.signature.length) + tx.signature.length;
  const start = bytes.length - validUntil - signatureEntry;
  const MAP_OF_7 = 0xa7;
  const keyAt = bytes.subarray(start, start + SIGNATURE_KEY.length);
  if (start < 1 || bytes[0] !== MAP_OF_7 || !bytesEqual(keyAt, SIGNATURE_KEY)) {
    return encodeUnsignedTransaction(tx);
  }
  const out = new Uint8Array(bytes.length - signatureEntry);
  out[0] = MAP_OF_7 - 1;
  out.set(bytes.subarray(1, start), 1);
  out.set(bytes.subarray(start + signatureEntry), start);
  return out;
}

/** `verifyTransactionSignature` for a transaction whose canonical bytes are at hand. */
export function verifyHashedTransactionSignature(
  suite: CryptoSuite,
  htx: HashedTransaction,
): boolean {
  const { tx } = htx;
  return suite.verify(DOMAIN.tx, tx.chainId, unsignedBytesOf(htx), tx.signature, tx.signer);
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
