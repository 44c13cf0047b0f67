/**
 * PBFT message, effect and dependency types (DESIGN.md §5).
 *
 * The replica is a pure state machine: it receives events (a decoded message,
 * a tick carrying the current time, a block-executed notification) and returns
 * effects for its host to perform in order. Everything a replica signs is
 * emitted as a `persist` effect before the `send`/`broadcast` effect that
 * carries it: the host must make the persist durable before it sends.
 */
import type { Block, CommitCertificate } from '../src/ledger/types.js';

export const MESSAGE_KINDS = [
  'pre-prepare',
  'prepare',
  'commit',
  'checkpoint',
  'view-change',
  'new-view',
  'sync-request',
  'sync-response',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** One validator's signature inside a certificate. */
export interface VoteSignature {
  readonly validator: number;
  readonly signature: Uint8Array;
}

/** Primary of `view` proposes `block` at `height`. Signature over prePrepareVoteBytes(height, view, hash(block)). */
export interface PrePrepareMessage {
  readonly kind: 'pre-prepare';
  readonly from: number;
  readonly view: number;
  readonly height: number;
  readonly block: Block;
  readonly signature: Uint8Array;
}

/** A backup accepted the pre-prepare for (height, view, digest). */
export interface PrepareMessage {
  readonly kind: 'prepare';
  readonly from: number;
  readonly view: number;
  readonly height: number;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/** Prepared for (height, view, digest); the signature is the certificate signature over commitVoteBytes. */
export interface CommitMessage {
  readonly kind: 'commit';
  readonly from: number;
  readonly view: number;
  readonly height: number;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/** State after executing `height` (a multiple of the checkpoint interval). */
export interface CheckpointMessage {
  readonly kind: 'checkpoint';
  readonly from: number;
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly signature: Uint8Array;
}

/** 2f+1 matching checkpoint signatures: the proof of a stable checkpoint. */
export interface CheckpointCertificate {
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly signatures: readonly VoteSignature[];
}

/**
 * Proof that `block` was prepared at (height, view): the pre-prepare signature
 * of the primary of `view` and 2f prepare signatures of distinct backups.
 */
export interface PreparedCertificate {
  readonly height: number;
  readonly view: number;
  readonly block: Block;
  readonly prePrepareSignature: Uint8Array;
  readonly prepares: readonly VoteSignature[];
}

export interface ViewChangeMessage {
  readonly kind: 'view-change';
  readonly from: number;
  readonly newView: number;
  /** The sender's stable checkpoint, or null for the genesis (height 0). */
  readonly checkpoint: CheckpointCertificate | null;
  /** Blocks the sender committed above the checkpoint, with their commit certificates, ascending. */
  readonly committed: readonly CertifiedBlock[];
  /** Highest-view prepared certificate of every other height above the checkpoint, ascending. */
  readonly prepared: readonly PreparedCertificate[];
  readonly signature: Uint8Array;
}

/** A re-proposal in the new view, signed by the new primary like a pre-prepare. */
export interface Reproposal {
  readonly height: number;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * The new primary's proof (2f+1 view-changes) and its pre-prepare signatures
 * for the re-proposals every replica recomputes from those view-changes.
 */
export interface NewViewMessage {
  readonly kind: 'new-view';
  readonly from: number;
  readonly view: number;
  readonly viewChanges: readonly ViewChangeMessage[];
  readonly reproposals: readonly Reproposal[];
  readonly signature: Uint8Array;
}

export interface SyncRequestMessage {
  readonly kind: 'sync-request';
  readonly from: number;
  readonly fromHeight: number;
  readonly toHeight: number;
  readonly signature: Uint8Array;
}

export interface CertifiedBlock {
  readonly block: Block;
  readonly certificate: CommitCertificate;
}

/** Unsigned: every entry proves itself with its commit certificate. */
export interface SyncResponseMessage {
  readonly kind: 'sync-response';
  readonly from: number;
  readonly entries: readonly CertifiedBlock[];
  /** The responder's stable checkpoint, so a lagging replica can advance its window. */
  readonly checkpoint: CheckpointCertificate | null;
}

export type ConsensusMessage =
  | PrePrepareMessage
  | PrepareMessage
  | CommitMessage
  | CheckpointMessage
  | ViewChangeMessage
  | NewViewMessage
  | SyncRequestMessage
  | SyncResponseMessage;

/** Messages a replica signs and must never sign twice differently for one (kind, height, view). */
export type SignedVoteMessage =
  | PrePrepareMessage
  | PrepareMessage
  | CommitMessage
  | CheckpointMessage
  | ViewChangeMessage
  | NewViewMessage;

/** What the replica writes to its write-ahead log. */
export type WalRecord =
  | { readonly type: 'signed'; readonly message: SignedVoteMessage }
  | { readonly type: 'prepared'; readonly certificate: PreparedCertificate }
  | { readonly type: 'stable-checkpoint'; readonly certificate: CheckpointCertificate }
  /** Entered `view` (after its new-view): a restart must never resume in an earlier view. */
  | { readonly type: 'view'; readonly view: number };

export type Effect =
  /** Make `record` durable before performing any later effect. */
  | { readonly type: 'persist'; readonly record: WalRecord }
  /** Records for heights ≤ throughHeight and view-level records of views < belowView may be dropped. */
  | { readonly type: 'wal-truncate'; readonly throughHeight: number; readonly belowView: number }
  | { readonly type: 'send'; readonly to: number; readonly message: ConsensusMessage }
  /** To every other validator. */
  | { readonly type: 'broadcast'; readonly message: ConsensusMessage }
  /** Execute and store `block` with `certificate` atomically, then call `onBlockExecuted`. Strictly in height order. */
  | {
      readonly type: 'execute';
      readonly height: number;
      readonly block: Block;
      readonly certificate: CommitCertificate;
    }
  /** The replica wants `onTick` to be called no later than `atMs`. */
  | { readonly type: 'schedule'; readonly atMs: number }
  | { readonly type: 'view-changed'; readonly view: number; readonly primary: number };

/** Signing and verification with the chain's suite, bound to this replica's key and the validator set. */
export interface ConsensusCrypto {
  /** Signs under the consensus domain. */
  signMessage(bytes: Uint8Array): Uint8Array;
  verifyMessage(bytes: Uint8Array, signature: Uint8Array, validator: number): boolean;
  /** Signs a commit vote under the certificate domain (what certificate validation verifies). */
  signCommitVote(bytes: Uint8Array): Uint8Array;
  verifyCommitVote(bytes: Uint8Array, signature: Uint8Array, validator: number): boolean;
}

export interface ProposalRequest {
  readonly height: number;
  readonly view: number;
  readonly proposer: number;
  readonly prevHash: Uint8Array;
  readonly nowMs: number;
  /** Blocks accepted but not yet committed below `height`: their transactions must not be proposed again. */
  readonly inFlight: readonly Block[];
}

/** The mempool and block rules, as seen by consensus. */
export interface BlockSource {
  /** Transactions waiting that are not inside `inFlight`. */
  pending(inFlight: readonly Block[]): { readonly txCount: number; readonly bytes: number };
  /** Build a block of at most maxBlockTxs / maxBlockBytes; null when there is nothing to propose. */
  proposeBlock(request: ProposalRequest): Block | null;
  /** Full validity of a proposal (transactions, roots, timestamp); consensus checks height, view, proposer and prevHash itself. */
  validateProposal(block: Block, inFlight: readonly Block[]): boolean;
}

/** Read access to the committed chain, to serve state transfer. */
export interface ChainReader {
  getCertifiedBlock(height: number): CertifiedBlock | undefined;
}

export interface ReplicaDependencies {
  readonly crypto: ConsensusCrypto;
  readonly blockSource: BlockSource;
  readonly chain: ChainReader;
  /** Hash of a block (its header), with the chain's suite. */
  hashBlock(block: Block): Uint8Array;
}

export interface ReplicaConfig {
  readonly chainId: string;
  readonly validatorCount: number;
  readonly selfIndex: number;
  /** prevHash of height 1. */
  readonly genesisHash: Uint8Array;
  readonly checkpointIntervalHeights: number;
  /** Heights accepted above the stable checkpoint; a multiple of the checkpoint interval. */
  readonly watermarkWindowHeights: number;
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  /** The primary cuts a non-full block once this long has passed since its last proposal. */
  readonly blockIntervalMs: number;
  readonly viewChangeTimeoutMs: number;
  readonly viewChangeTimeoutMaxMs: number;
  /** Re-send own votes and ask for missing blocks after this long without progress. */
  readonly retransmitIntervalMs: number;
  readonly maxSyncBlocksPerResponse: number;
  /** Bound on buffered messages for views above the current one. */
  readonly maxFutureMessages: number;
}

export const DEFAULT_REPLICA_TIMING = {
  checkpointIntervalHeights: 8,
  watermarkWindowHeights: 16,
  maxBlockTxs: 500,
  maxBlockBytes: 1024 * 1024,
  blockIntervalMs: 50,
  viewChangeTimeoutMs: 1000,
  viewChangeTimeoutMaxMs: 16_000,
  retransmitIntervalMs: 200,
  maxSyncBlocksPerResponse: 16,
  maxFutureMessages: 512,
} as const;

/** Counters of everything the replica did or refused; all monotonic. */
export interface ReplicaMetrics {
  received: number;
  droppedNotValidator: number;
  droppedBadSignature: number;
  droppedStaleView: number;
  droppedOutOfWindow: number;
  droppedMalformed: number;
  droppedDuplicate: number;
  droppedWrongPrimary: number;
  droppedFutureOverflow: number;
  futureBuffered: number;
  invalidProposals: number;
  equivocations: number;
  doubleSignRefused: number;
  stateDivergences: number;
  viewChangesStarted: number;
  newViewsEntered: number;
  committedHeights: number;
  syncedHeights: number;
  syncRequestsSent: number;
  syncResponsesServed: number;
  retransmissions: number;
  stableCheckpoints: number;
}

export function emptyMetrics(): ReplicaMetrics {
  return {
    received: 0,
    droppedNotValidator: 0,
    droppedBadSignature: 0,
    droppedStaleView: 0,
    droppedOutOfWindow: 0,
    droppedMalformed: 0,
    droppedDuplicate: 0,
    droppedWrongPrimary: 0,
    droppedFutureOverflow: 0,
    futureBuffered: 0,
    invalidProposals: 0,
    equivocations: 0,
    doubleSignRefused: 0,
    stateDivergences: 0,
    viewChangesStarted: 0,
    newViewsEntered: 0,
    committedHeights: 0,
    syncedHeights: 0,
    syncRequestsSent: 0,
    syncResponsesServed: 0,
    retransmissions: 0,
    stableCheckpoints: 0,
  };
}
