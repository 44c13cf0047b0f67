/**
 * Pure validity rules for transactions, blocks and commit certificates
 * (DESIGN.md §4–5). Each returns a `LedgerVerdict`: `{ ok: true, … }` or
 * `{ ok: false, error }` with a `LedgerError` code — hostile input is an
 * expected outcome here, not an exception.
 *
 * Cheap checks run first; signatures last. Signature verification is the hot
 * path, so nothing is encoded twice: a transaction travels as a
 * `HashedTransaction` (bytes and hash computed once), a verdict cache can skip
 * signatures verified earlier (mempool → block), and a certificate's vote bytes
 * are encoded once for all its signatures.
 */
import { bytesEqual, CodecError, toHex } from '../codec/index.js';
import { fieldPath } from '../codec/fields.js';
import { DOMAIN } from '../crypto/suite.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { blockEncodedLength, encodeBlockHeader, isTxType } from './encoding.js';
import type { LedgerLimits } from './encoding.js';
import { LedgerErrorCode, reject } from './errors.js';
import type { LedgerVerdict } from './errors.js';
import { commitVoteBytes, hashTransaction, verifyHashedTransactionSignature } from './hashing.js';
import type { HashedTransaction } from './hashing.js';
import { merkleRoot } from './merkle.js';
import { quorum } from './quorum.js';
import type { ValidatorKeys } from './quorum.js';
import type { Block, CommitCertificate } from './types.js';

/** What every check needs to know about the chain. */
export interface LedgerRules {
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly limits: LedgerLimits;
}

export interface SignatureCacheOptions {
  /**
   * Verdict cache: return true if the transaction with this hash already
   * passed signature verification on this chain (e.g. at mempool admission);
   * its signature is then not verified again. The hash covers the signature,
   * so a hit is a verdict on these exact bytes.
   */
  readonly isVerified?: (txHash: Uint8Array) => boolean;
}

function isUint(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * Whether a transaction may be included in a block at `height`: right chain,
 * known type, integer nonce and expiry, within `maxTxBytes`, not expired
 * (`height ≤ validUntilHeight`), signer a key of the chain's suite, signature valid.
 */
export function validateTransaction(
  rules: LedgerRules,
  htx: HashedTransaction,
  height: number,
  options: SignatureCacheOptions = {},
): LedgerVerdict {
  return checkTransaction(rules, htx, height, options, '');
}

/** `at` is the transaction's path inside a larger object ('' alone, 'txs[3]' in a block). */
function checkTransaction(
  rules: LedgerRules,
  htx: HashedTransaction,
  height: number,
  options: SignatureCacheOptions,
  at: string,
): LedgerVerdict {
  const { tx } = htx;
  const { suite } = rules;
  const where = (field: string): string => fieldPath(at, field);
  if (tx.chainId !== rules.chainId) {
    return reject(
      LedgerErrorCode.wrongChain,
      where('chainId'),
      `transaction is for chain "${tx.chainId}", not "${rules.chainId}"`,
    );
  }
  if (!isTxType(tx.type)) {
    return reject(
      LedgerErrorCode.unknownTxType,
      where('type'),
      `unknown transaction type "${String(tx.type)}"`,
    );
  }
  if (!isUint(tx.nonce)) {
    return reject(LedgerErrorCode.malformed, where('nonce'), 'must be an integer ≥ 0');
  }
  if (!isUint(tx.validUntilHeight)) {
    return reject(LedgerErrorCode.malformed, where('validUntilHeight'), 'must be an integer ≥ 0');
  }
  if (htx.bytes.length > rules.limits.maxTxBytes) {
    return reject(
      LedgerErrorCode.txTooLarge,
      at,
      `transaction of ${htx.bytes.length} bytes exceeds the limit of ${rules.limits.maxTxBytes}`,
      { length: htx.bytes.length, maxTxBytes: rules.limits.maxTxBytes },
    );
  }
  if (tx.validUntilHeight < height) {
    return reject(
      LedgerErrorCode.txExpired,
      where('validUntilHeight'),
      `transaction expired after height ${tx.validUntilHeight}, block height is ${height}`,
      { validUntilHeight: tx.validUntilHeight, height },
    );
  }
  if (tx.signer.length !== suite.publicKeyLength) {
    return reject(
      LedgerErrorCode.badSigner,
      where('signer'),
      `expected a ${suite.id} public key of ${suite.publicKeyLength} bytes, got ${tx.signer.length}`,
    );
  }
  if (options.isVerified?.(htx.hash) !== true && !verifyHashedTransactionSignature(suite, htx)) {
    return reject(
      LedgerErrorCode.badSignature,
      where('signature'),
      'does not verify for the signer',
    );
  }
  return { ok: true };
}

/** The chain position a block must extend. For height 1 the parent is the genesis: its hash and `genesisTime`. */
export interface ParentBlock {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly timestamp: number;
}

export interface BlockContext {
  readonly parent: ParentBlock;
  /** The validator set of the block's height. */
  readonly validators: ValidatorKeys;
  /** State root after executing the parent, when the caller has it. */
  readonly stateRoot?: Uint8Array;
}

export interface ValidBlock {
  /** `blockHash(suite, block.header)`, computed on the way. */
  readonly hash: Uint8Array;
  /** The block's transactions with bytes and hashes, for execution and receipts. */
  readonly txs: readonly HashedTransaction[];
}

const HEADER_HASH_FIELDS = ['prevHash', 'txRoot', 'stateRoot', 'validatorSetHash'] as const;

/**
 * Whether `block` may follow `context.parent`: chain id, height = parent + 1,
 * prevHash, validator set hash, proposer index in range, integer view,
 * timestamp not before the parent's, state root (if known), transaction count
 * and encoded size limits, no transaction twice, txRoot over the transaction
 * hashes, and every transaction valid at this height.
 */
export interface BlockValidationOptions extends SignatureCacheOptions {
  /**
   * The block's transactions already hashed by the caller, in order
   * (`hashedTxs[i].tx === block.txs[i]`, e.g. taken from the mempool): used
   * instead of encoding and hashing each transaction again. Each must come from
   * `hashTransaction` or `decodeHashedTransaction`.
   */
  readonly hashedTxs?: readonly HashedTransaction[];
}

export function validateBlock(
  rules: LedgerRules,
  block: Block,
  context: BlockContext,
  options: BlockValidationOptions = {},
): LedgerVerdict<ValidBlock> {
  const { suite, limits } = rules;
  const { header, txs } = block;
  const { parent, validators } = context;

  if (header.chainId !== rules.chainId) {
    return reject(
      LedgerErrorCode.wrongChain,
      'header.chainId',
      `block is for chain "${header.chainId}", not "${rules.chainId}"`,
    );
  }
  if (header.height !== parent.height + 1) {
    return reject(
      LedgerErrorCode.wrongHeight,
      'header.height',
      `expected ${parent.height + 1}, got ${header.height}`,
      { expected: parent.height + 1 },
    );
  }
  for (const field of HEADER_HASH_FIELDS) {
    if (header[field].length !== suite.hashLength) {
      return reject(
        LedgerErrorCode.malformed,
        `header.${field}`,
        `expected ${suite.hashLength} bytes, got ${header[field].length}`,
      );
    }
  }
  if (!bytesEqual(header.prevHash, parent.hash)) {
    return reject(
      LedgerErrorCode.wrongPrevHash,
      'header.prevHash',
      'not the hash of the parent block',
    );
  }
  if (!bytesEqual(header.validatorSetHash, validators.hash)) {
    return reject(
      LedgerErrorCode.wrongValidatorSet,
      'header.validatorSetHash',
      'not the validator set of this height',
    );
  }
  if (!isUint(header.proposer) || header.proposer >= validators.validators.length) {
    return reject(
      LedgerErrorCode.badProposer,
      'header.proposer',
      `no validator ${header.proposer} in a set of ${validators.validators.length}`,
    );
  }
  if (!isUint(header.view)) {
    return reject(LedgerErrorCode.malformed, 'header.view', 'must be an integer ≥ 0');
  }
  if (!isUint(header.timestamp) || header.timestamp < parent.timestamp) {
    return reject(
      LedgerErrorCode.badTimestamp,
      'header.timestamp',
      `${header.timestamp} is not an integer at or after the parent's ${parent.timestamp}`,
    );
  }
  if (context.stateRoot !== undefined && !bytesEqual(header.stateRoot, context.stateRoot)) {
    return reject(
      LedgerErrorCode.wrongStateRoot,
      'header.stateRoot',
      'not the state root after the parent block',
    );
  }
  if (txs.length > limits.maxBlockTxs) {
    return reject(
      LedgerErrorCode.tooManyTxs,
      'txs',
      `${txs.length} transactions exceed the limit of ${limits.maxBlockTxs}`,
      { count: txs.length, maxBlockTxs: limits.maxBlockTxs },
    );
  }

  const hashed: HashedTransaction[] = [];
  const seen = new Set<string>();
  for (const [i, tx] of txs.entries()) {
    const given = options.hashedTxs?.[i];
    let htx: HashedTransaction;
    try {
      htx = given?.tx === tx ? given : hashTransaction(suite, tx);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      return reject(LedgerErrorCode.malformed, `txs[${i}]`, err.message);
    }
    const key = toHex(htx.hash);
    if (seen.has(key)) {
      return reject(
        LedgerErrorCode.duplicateTx,
        `txs[${i}]`,
        'the same transaction appears twice',
        {
          txIndex: i,
        },
      );
    }
    seen.add(key);
    hashed.push(htx);
  }

  const headerBytes = encodeBlockHeader(header);
  const blockBytes = blockEncodedLength(
    headerBytes.length,
    hashed.map((htx) => htx.bytes.length),
  );
  if (blockBytes > limits.maxBlockBytes) {
    return reject(
      LedgerErrorCode.blockTooLarge,
      '',
      `block of ${blockBytes} bytes exceeds the limit of ${limits.maxBlockBytes}`,
      { length: blockBytes, maxBlockBytes: limits.maxBlockBytes },
    );
  }
  const root = merkleRoot(
    suite,
    hashed.map((htx) => htx.hash),
  );
  if (!bytesEqual(header.txRoot, root)) {
    return reject(
      LedgerErrorCode.wrongTxRoot,
      'header.txRoot',
      'not the Merkle root of the transactions',
    );
  }
  for (const [i, htx] of hashed.entries()) {
    const verdict = checkTransaction(rules, htx, header.height, options, `txs[${i}]`);
    if (!verdict.ok) return verdict;
  }
  return { ok: true, hash: suite.hash(headerBytes), txs: hashed };
}

/** The block a certificate must certify. */
export interface CertifiedBlock {
  readonly height: number;
  readonly blockHash: Uint8Array;
}

/**
 * Whether `cert` proves `target` final: same chain, height and block hash;
 * signatures sorted by validator index, each index inside `validators`, no
 * validator twice (a duplicate never counts and rejects the certificate), at
 * least quorum(n) of them, and every signature a valid commit vote by that
 * validator under DOMAIN.consensus.
 */
export function validateCommitCertificate(
  rules: Pick<LedgerRules, 'suite' | 'chainId'>,
  cert: CommitCertificate,
  validators: ValidatorKeys,
  target: CertifiedBlock,
): LedgerVerdict {
  if (cert.chainId !== rules.chainId) {
    return reject(
      LedgerErrorCode.wrongChain,
      'chainId',
      `certificate is for chain "${cert.chainId}", not "${rules.chainId}"`,
    );
  }
  if (cert.height !== target.height) {
    return reject(
      LedgerErrorCode.certWrongBlock,
      'height',
      `certificate is for height ${cert.height}, not ${target.height}`,
    );
  }
  if (!bytesEqual(cert.blockHash, target.blockHash)) {
    return reject(LedgerErrorCode.certWrongBlock, 'blockHash', 'certificate is for another block');
  }
  if (!isUint(cert.view)) {
    return reject(LedgerErrorCode.malformed, 'view', 'must be an integer ≥ 0');
  }
  const n = validators.validators.length;
  const seen = new Set<number>();
  let previous = -1;
  for (const [i, { validator }] of cert.signatures.entries()) {
    const field = `signatures[${i}].validator`;
    if (!isUint(validator) || validator >= n) {
      return reject(
        LedgerErrorCode.certUnknownSigner,
        field,
        `no validator ${validator} in a set of ${n}`,
      );
    }
    if (seen.has(validator)) {
      return reject(
        LedgerErrorCode.certDuplicateSigner,
        field,
        `validator ${validator} signed more than once`,
        { validator },
      );
    }
    if (validator < previous) {
      return reject(
        LedgerErrorCode.certUnsorted,
        field,
        'signatures must be sorted by validator index',
      );
    }
    seen.add(validator);
    previous = validator;
  }
  const needed = quorum(n);
  if (seen.size < needed) {
    return reject(
      LedgerErrorCode.certNoQuorum,
      'signatures',
      `${seen.size} distinct validators signed, ${needed} of ${n} needed`,
      { signers: seen.size, quorum: needed },
    );
  }
  const message = commitVoteBytes(cert);
  for (const [i, { validator, signature }] of cert.signatures.entries()) {
    // every index was checked to be in range above
    const publicKey = validators.validators[validator]?.publicKey ?? new Uint8Array(0);
    if (!rules.suite.verify(DOMAIN.consensus, cert.chainId, message, signature, publicKey)) {
      return reject(
        LedgerErrorCode.certBadSignature,
        `signatures[${i}].signature`,
        `not validator ${validator}'s commit vote for this block`,
        { validator },
      );
    }
  }
  return { ok: true };
}
