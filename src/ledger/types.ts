/**
 * Ledger data types (DESIGN.md §4). Plain data, encoded with the canonical
 * codec; hashes and ids are computed by ./hashing.ts with the chain's suite.
 * Byte fields are `Uint8Array`; heights, views and nonces are integers.
 */
import type { CodecValue } from '../codec/index.js';

export const TX_TYPES = [
  'record.register',
  'consent.grant',
  'consent.revoke',
  'referral.create',
  'referral.accept',
  'referral.reject',
  'referral.complete',
  'access.log',
  'member.certify',
  'member.revoke',
  'gov.propose',
  'gov.vote',
] as const;
export type TxType = (typeof TX_TYPES)[number];

/** The signed part of a transaction: everything but `signature`. */
export interface UnsignedTransaction {
  readonly chainId: string;
  readonly type: TxType;
  /** Contract-specific arguments, validated by the contract for `type`. */
  readonly payload: { readonly [key: string]: CodecValue };
  /** Raw public key of the signer (member or institution key). */
  readonly signer: Uint8Array;
  /** Per-signer counter; replays are rejected by the contracts. */
  readonly nonce: number;
  /** Last height at which the transaction may be included. */
  readonly validUntilHeight: number;
}

export interface Transaction extends UnsignedTransaction {
  /** Suite signature over DOMAIN.tx of the canonical encoding of the unsigned part. */
  readonly signature: Uint8Array;
}

export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  /** Hash of the previous block header; for height 1, whose parent is the genesis, the genesis hash. */
  readonly prevHash: Uint8Array;
  /** Merkle root of the transaction hashes. */
  readonly txRoot: Uint8Array;
  /** State root after executing the previous block. */
  readonly stateRoot: Uint8Array;
  /** Index of the proposing validator in the validator set of this height. */
  readonly proposer: number;
  readonly view: number;
  /** Proposer's wall-clock time in milliseconds since the epoch; pure code only reads it from here. */
  readonly timestamp: number;
  /** Hash of the validator set that must certify this block. */
  readonly validatorSetHash: Uint8Array;
}

export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly Transaction[];
}

export interface CommitSignature {
  /** Index of the validator in the validator set of the block's height. */
  readonly validator: number;
  readonly signature: Uint8Array;
}

/** 2f+1 validator signatures over (chainId, height, view, blockHash): proof of finality. */
export interface CommitCertificate {
  readonly chainId: string;
  readonly height: number;
  readonly view: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CommitSignature[];
}

/** Outcome of one transaction: `code` is `OK` or a contract error code with a reason. */
export interface Receipt {
  readonly txHash: Uint8Array;
  readonly height: number;
  readonly index: number;
  readonly code: string;
  readonly reason: string;
}
