/**
 * Deterministic fixtures for the ledger and identity tests: fixed keys,
 * transactions, blocks, validator sets and certificates, for either suite.
 */
import { expect } from 'vitest';
import { getSuite } from '../../src/crypto/index.js';
import type { CryptoSuite, KeyPair } from '../../src/crypto/suite.js';
import { createValidatorSet } from '../../src/identity/index.js';
import type { ValidatorSet } from '../../src/identity/index.js';
import {
  blockHash,
  DEFAULT_LEDGER_LIMITS,
  hashTransaction,
  merkleRoot,
  signCommitVote,
  signTransaction,
} from '../../src/ledger/index.js';
import type {
  Block,
  BlockHeader,
  CommitCertificate,
  LedgerError,
  LedgerRules,
  LedgerVerdict,
  ParentBlock,
  Transaction,
  UnsignedTransaction,
} from '../../src/ledger/index.js';

export const CHAIN_ID = 'test-alliance';
export const SUITES: readonly CryptoSuite[] = [getSuite('intl'), getSuite('gm')];

/** A fixed key pair per seed (1–200: valid for both Ed25519 seeds and SM2 scalars). */
export function fixedKey(suite: CryptoSuite, seed: number): KeyPair {
  return suite.keyPairFromPrivateKey(new Uint8Array(32).fill(seed));
}

export function rulesFor(suite: CryptoSuite, limits = DEFAULT_LEDGER_LIMITS): LedgerRules {
  return { suite, chainId: CHAIN_ID, limits };
}

export function unsignedTx(
  signer: KeyPair,
  overrides: Partial<UnsignedTransaction> = {},
): UnsignedTransaction {
  return {
    chainId: CHAIN_ID,
    type: 'record.register',
    payload: {
      recordId: 'rec-0001',
      level: 'L3',
      contentHash: new Uint8Array(32).fill(0xab),
      tags: ['imaging', 'ct'],
      sizeBytes: 1_048_576,
    },
    signer: signer.publicKey,
    nonce: 0,
    validUntilHeight: 100,
    ...overrides,
  };
}

export function signedTx(
  suite: CryptoSuite,
  signer: KeyPair,
  overrides: Partial<UnsignedTransaction> = {},
): Transaction {
  return signTransaction(suite, unsignedTx(signer, overrides), signer.privateKey);
}

/** `count` validators with keys from seeds 101, 102, … */
export function validatorKeys(suite: CryptoSuite, count: number): KeyPair[] {
  return Array.from({ length: count }, (_, i) => fixedKey(suite, 101 + i));
}

export function validatorSetOf(suite: CryptoSuite, keys: readonly KeyPair[]): ValidatorSet {
  return createValidatorSet(
    suite,
    keys.map((key, i) => ({
      institutionId: `hospital-${i}`,
      publicKey: key.publicKey,
      peerId: peerIdFor(i),
    })),
  );
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
/** A string of the shape of an Ed25519 libp2p peer id, distinct per `i`. */
export function peerIdFor(i: number): string {
  let tail = '';
  for (let k = 0; k < 44; k++) tail += BASE58.charAt((i * 7 + k * 13 + Math.floor(i / 58)) % 58);
  return `12D3KooW${tail}`;
}

export const GENESIS_PARENT_HASH = new Uint8Array(32).fill(0x9e);
export const PARENT: ParentBlock = {
  height: 0,
  hash: GENESIS_PARENT_HASH,
  timestamp: 1_767_225_600_000,
};

/** A block at `parent.height + 1` holding `txs`, with a correct txRoot. */
export function blockOf(
  suite: CryptoSuite,
  validators: ValidatorSet,
  txs: readonly Transaction[],
  overrides: Partial<BlockHeader> = {},
  parent: ParentBlock = PARENT,
): Block {
  const header: BlockHeader = {
    chainId: CHAIN_ID,
    height: parent.height + 1,
    prevHash: parent.hash,
    txRoot: merkleRoot(
      suite,
      txs.map((tx) => hashTransaction(suite, tx).hash),
    ),
    stateRoot: new Uint8Array(32).fill(0x5a),
    proposer: 0,
    view: 0,
    timestamp: parent.timestamp + 1000,
    validatorSetHash: validators.hash,
    ...overrides,
  };
  return { header, txs };
}

/** A certificate for `header` signed by the validators at `signers` (indexes into `keys`). */
export function certificateFor(
  suite: CryptoSuite,
  keys: readonly KeyPair[],
  header: BlockHeader,
  signers: readonly number[],
  view = header.view,
): CommitCertificate {
  const vote = {
    chainId: header.chainId,
    height: header.height,
    view,
    blockHash: blockHash(suite, header),
  };
  return {
    ...vote,
    signatures: signers.map((validator) => ({
      validator,
      signature: signCommitVote(suite, vote, keyAt(keys, validator).privateKey),
    })),
  };
}

export function keyAt(keys: readonly KeyPair[], index: number): KeyPair {
  const key = keys[index];
  if (key === undefined) throw new RangeError(`no key ${index}`);
  return key;
}

/** Asserts a failed verdict with this code and returns its error. */
export function expectRejected(verdict: LedgerVerdict, code: string, field?: string): LedgerError {
  expect(verdict.ok, `expected ${code}`).toBe(false);
  if (verdict.ok) throw new RangeError('unreachable');
  expect(verdict.error.code).toBe(code);
  if (field !== undefined) {
    expect(verdict.error.details.field).toBe(field);
    expect(verdict.error.message.startsWith(`${field}: `)).toBe(true);
  }
  return verdict.error;
}

export function expectAccepted(verdict: LedgerVerdict): void {
  if (!verdict.ok)
    expect.fail(`expected acceptance, got ${verdict.error.code}: ${verdict.error.message}`);
}

/** Flip one bit of a copy. */
export function flipped(bytes: Uint8Array, index = 0): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const at = index % copy.length;
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/** A suite that counts signature verifications. */
export function countingSuite(suite: CryptoSuite): {
  suite: CryptoSuite;
  verifications: () => number;
} {
  let count = 0;
  const counted: CryptoSuite = {
    ...suite,
    verify: (...args) => {
      count++;
      return suite.verify(...args);
    },
  };
  return { suite: counted, verifications: () => count };
}
