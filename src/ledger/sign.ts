/**
 * Producing signatures over ledger objects. Pure given the suite: the private
 * key is passed in and never stored.
 */
import { DOMAIN } from '../crypto/suite.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { encodeUnsignedTransaction } from './encoding.js';
import { commitVoteBytes } from './hashing.js';
import type { CommitVote } from './hashing.js';
import type {
  CommitCertificate,
  CommitSignature,
  Transaction,
  UnsignedTransaction,
} from './types.js';

/**
 * Signs the canonical encoding of `unsigned` under DOMAIN.tx. The caller
 * passes the private key belonging to `unsigned.signer`; it is not re-derived
 * here (that would double the cost of bulk signing), so a mismatched key
 * yields a transaction that fails validation.
 */
export function signTransaction(
  suite: CryptoSuite,
  unsigned: UnsignedTransaction,
  privateKey: Uint8Array,
): Transaction {
  const signature = suite.sign(
    DOMAIN.tx,
    unsigned.chainId,
    encodeUnsignedTransaction(unsigned),
    privateKey,
  );
  return {
    chainId: unsigned.chainId,
    type: unsigned.type,
    payload: unsigned.payload,
    signer: unsigned.signer,
    nonce: unsigned.nonce,
    validUntilHeight: unsigned.validUntilHeight,
    signature,
  };
}

export function signCommitVote(
  suite: CryptoSuite,
  vote: CommitVote,
  privateKey: Uint8Array,
): Uint8Array {
  return suite.sign(DOMAIN.consensus, vote.chainId, commitVoteBytes(vote), privateKey);
}

/**
 * Assembles a certificate in canonical form: signatures sorted by validator
 * index, one per validator (the first one given wins). Does not verify them.
 */
export function buildCommitCertificate(
  vote: CommitVote,
  signatures: readonly CommitSignature[],
): CommitCertificate {
  const byValidator = new Map<number, CommitSignature>();
  for (const s of signatures) {
    if (!byValidator.has(s.validator)) {
      byValidator.set(s.validator, { validator: s.validator, signature: s.signature });
    }
  }
  return {
    chainId: vote.chainId,
    height: vote.height,
    view: vote.view,
    blockHash: vote.blockHash,
    signatures: [...byValidator.values()].sort((a, b) => a.validator - b.validator),
  };
}
