/**
 * The PBFT replica (DESIGN.md §5) as a pure, deterministic state machine.
 *
 * Inputs: `onMessage` (a decoded message), `onMessageBytes` (raw wire bytes),
 * `onTick(nowMs)` (time is pushed in, never read) and `onBlockExecuted`.
 * Outputs: an ordered list of effects. Everything the replica signs is emitted
 * as `persist` before the effect that sends it, and it never signs two
 * different things for one (kind, height, view) — not even across a restart
 * from its WAL.
 *
 * Safety rules beyond textbook PBFT, needed because blocks chain by prevHash:
 * - a pre-prepare at h is accepted only if its prevHash is the block accepted
 *   at h−1 in the same view (or committed at h−1);
 * - a replica sends commit at h only once h−1 is prepared or committed with
 *   the digest that h's prevHash names, so a committed h implies f+1 honest
 *   replicas prepared h−1;
 * - a new primary re-proposes, from the highest stable checkpoint upward, the
 *   highest-view prepared block of each height while they chain, and stops at
 *   the first gap. Every replica recomputes that selection from the
 *   view-changes carried in the new-view.
 */
import { bytesEqual, toHex } from '../src/codec/index.js';
import { InvariantError } from '../src/errors.js';
import type { Block, CommitCertificate } from '../src/ledger/types.js';
import { ConsensusError, ConsensusErrorCode } from './errors.js';
import { maxFaulty, primaryOf, quorumSize } from './quorum.js';
import type {
  CertifiedBlock,
  CheckpointCertificate,
  CheckpointMessage,
  CommitMessage,
  ConsensusMessage,
  Effect,
  NewViewMessage,
  PrePrepareMessage,
  PreparedCertificate,
  PrepareMessage,
  ReplicaConfig,
  ReplicaDependencies,
  ReplicaMetrics,
  Reproposal,
  SignedVoteMessage,
  SyncRequestMessage,
  SyncResponseMessage,
  ViewChangeMessage,
  VoteSignature,
  WalRecord,
} from './types.js';
import { emptyMetrics } from './types.js';
import {
  checkpointVoteBytes,
  commitVoteBytes,
  newViewVoteBytes,
  prePrepareVoteBytes,
  prepareVoteBytes,
  syncRequestVoteBytes,
  viewChangeVoteBytes,
} from './votes.js';
import { decodeMessage } from './wire.js';
import type { WireLimits } from './wire.js';

export type ReplicaStatus = 'normal' | 'view-change';

interface Vote {
  readonly view: number;
  readonly digestHex: string;
  readonly signature: Uint8Array;
}

interface PendingPrePrepare {
  readonly view: number;
  readonly block: Block;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

interface Slot {
  readonly height: number;
  /** View of the pre-prepare accepted in the current view, or -1. */
  acceptedView: number;
  digest: Uint8Array | null;
  digestHex: string;
  prePrepareSignature: Uint8Array | null;
  /** A verified pre-prepare waiting for its predecessor. */
  pending: PendingPrePrepare | null;
  /** Current-view prepares, one per validator. */
  prepares: Map<number, Vote>;
  /** Latest-view commit of each validator (a commit certificate is valid in any view). */
  commits: Map<number, Vote>;
  /** Known block bodies by digest (bounded). */
  blocks: Map<string, Block>;
  /** Highest-view prepared certificate held. */
  prepared: PreparedCertificate | null;
  preparedDigestHex: string;
  commitSentView: number;
  committed: boolean;
}

interface SignedEntry {
  readonly bytesHex: string;
  readonly message: SignedVoteMessage;
}

interface Selection {
  readonly baseHeight: number;
  readonly baseHash: Uint8Array;
  readonly baseCertificate: CheckpointCertificate | null;
  readonly items: readonly { height: number; block: Block; digest: Uint8Array }[];
}

export interface ReplicaStart {
  /** Highest height stored in the chain (0 at genesis). */
  readonly committedHeight: number;
  /** The WAL as persisted by earlier runs, in order. */
  readonly wal?: readonly WalRecord[];
  readonly nowMs?: number;
  readonly wireLimits?: WireLimits;
}

const MAX_BLOCKS_PER_SLOT = 4;
const MAX_PENDING_CHECKPOINT_CERTS = 4;

function keyOf(kind: string, height: number, view: number): string {
  return `${kind}:${height}:${view}`;
}

export class Replica {
  readonly metrics: ReplicaMetrics = emptyMetrics();
  private readonly cfg: ReplicaConfig;
  private readonly deps: ReplicaDependencies;
  private readonly n: number;
  private readonly f: number;
  private readonly q: number;
  private readonly self: number;
  private readonly wireLimits: WireLimits | undefined;

  private nowMs: number;
  private view = 0;
  private status: ReplicaStatus = 'normal';
  private lastCommitted: number;
  private lastCommittedHash: Uint8Array;
  private lastExecuted: number;
  private stable: { height: number; blockHash: Uint8Array; cert: CheckpointCertificate | null };

  private readonly slots = new Map<number, Slot>();
  private readonly committedHashes = new Map<number, Uint8Array>();
  private readonly ownStateRoots = new Map<number, Uint8Array>();
  private readonly signed = new Map<string, SignedEntry>();
  private readonly checkpointVotes = new Map<number, Map<number, CheckpointMessage>>();
  private pendingCheckpointCerts: CheckpointCertificate[] = [];
  private readonly latestViewChange = new Map<number, ViewChangeMessage>();
  private lastNewView: NewViewMessage | null = null;
  private future: ConsensusMessage[] = [];
  private readonly futurePerSender = new Map<number, number>();
  private readonly peerHeights = new Map<number, number>();
  private readonly helpedAtMs = new Map<number, number>();
  private readonly servedSync = new Map<number, { fromHeight: number; atMs: number }>();
  private readonly hashCache = new WeakMap<Block, Uint8Array>();

  private nextProposeHeight = 1;
  private lastProposalMs: number;
  private viewDeadlineMs: number | null = null;
  private vcAttempts = 0;
  private lastProgressMs: number;
  private lastRetransmitMs: number;
  /** Retransmissions since the last progress: the interval doubles with each (capped). */
  private retransmits = 0;
  private syncTarget = 0;
  private syncPeerCursor = 0;
  private lastSyncRequestMs = Number.NEGATIVE_INFINITY;
  private lastScheduledMs: number | null = null;

  private out: Effect[] = [];

  constructor(config: ReplicaConfig, deps: ReplicaDependencies, start: ReplicaStart) {
    validateConfig(config);
    this.cfg = config;
    this.deps = deps;
    this.n = config.validatorCount;
    this.f = maxFaulty(this.n);
    this.q = quorumSize(this.n);
    this.self = config.selfIndex;
    this.wireLimits = start.wireLimits;
    this.nowMs = start.nowMs ?? 0;
    this.lastProposalMs = this.nowMs;
    this.lastProgressMs = this.nowMs;
    this.lastRetransmitMs = this.nowMs;
    this.lastCommitted = start.committedHeight;
    this.lastExecuted = start.committedHeight;
    this.lastCommittedHash = this.chainHashAt(start.committedHeight);
    this.committedHashes.set(this.lastCommitted, this.lastCommittedHash);
    this.stable = { height: 0, blockHash: config.genesisHash, cert: null };
    this.restoreWal(start.wal ?? []);
    this.nextProposeHeight = Math.max(this.lastCommitted, this.stable.height) + 1;
  }

  // ---------------------------------------------------------------- inspection

  get currentView(): number {
    return this.view;
  }
  get currentStatus(): ReplicaStatus {
    return this.status;
  }
  get committedHeight(): number {
    return this.lastCommitted;
  }
  get stableCheckpointHeight(): number {
    return this.stable.height;
  }
  get isPrimary(): boolean {
    return primaryOf(this.view, this.n) === this.self;
  }
  /** Sizes of every in-memory log, for boundedness checks. */
  logSizes(): {
    slots: number;
    signed: number;
    checkpointVotes: number;
    committedHashes: number;
    ownStateRoots: number;
    future: number;
    viewChanges: number;
  } {
    let checkpointVotes = 0;
    for (const m of this.checkpointVotes.values()) checkpointVotes += m.size;
    return {
      slots: this.slots.size,
      signed: this.signed.size,
      checkpointVotes,
      committedHashes: this.committedHashes.size,
      ownStateRoots: this.ownStateRoots.size,
      future: this.future.length,
      viewChanges: this.latestViewChange.size,
    };
  }

  // ---------------------------------------------------------------- handlers

  /** First effects after construction (or restart): re-send what the WAL says we last said. */
  start(): Effect[] {
    if (this.status === 'view-change') {
      const vc = this.signed.get(keyOf('view-change', 0, this.view));
      if (vc) this.emit({ type: 'broadcast', message: vc.message });
      this.armViewChangeTimer();
    }
    return this.flush();
  }

  onMessageBytes(bytes: Uint8Array): Effect[] {
    let message: ConsensusMessage;
    try {
      message = decodeMessage(bytes, this.wireLimits);
    } catch (err) {
      if (err instanceof ConsensusError) {
        this.metrics.received++;
        this.metrics.droppedMalformed++;
        return [];
      }
      throw err;
    }
    return this.onMessage(message);
  }

  /** The host received bytes that do not decode as a message (it decodes them itself). */
  noteMalformed(): void {
    this.metrics.received++;
    this.metrics.droppedMalformed++;
  }

  onMessage(message: ConsensusMessage): Effect[] {
    this.metrics.received++;
    this.dispatch(message);
    return this.flush();
  }

  onTick(nowMs: number): Effect[] {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    this.tick();
    return this.flush();
  }

  /** The host executed and durably stored `height`; `stateRoot` is the state after it. */
  onBlockExecuted(height: number, stateRoot: Uint8Array): Effect[] {
    if (height !== this.lastExecuted + 1 || height > this.lastCommitted) {
      throw new InvariantError('block executed out of order', { height, last: this.lastExecuted });
    }
    this.lastExecuted = height;
    this.ownStateRoots.set(height, stateRoot);
    this.ownStateRoots.delete(height - 2 * this.cfg.watermarkWindowHeights);
    const K = this.cfg.checkpointIntervalHeights;
    if (height % K === 0 && height > this.stable.height) {
      const blockHash = this.hashAt(height);
      if (blockHash) {
        const bytes = checkpointVoteBytes(height, blockHash, stateRoot);
        const sig = this.signOnce(keyOf('checkpoint', height, 0), bytes, false);
        if (sig) {
          const msg: CheckpointMessage = {
            kind: 'checkpoint',
            from: this.self,
            height,
            blockHash,
            stateRoot,
            signature: sig.signature,
          };
          this.recordSigned(keyOf('checkpoint', height, 0), sig, msg);
          this.emit({ type: 'broadcast', message: msg });
          if (this.checkpointInRange(height)) {
            this.storeCheckpointVote(msg);
            this.checkStable(height);
          }
        }
      }
    }
    for (const cert of [...this.pendingCheckpointCerts]) {
      if (cert.height <= height) this.considerCheckpointCert(cert);
    }
    return this.flush();
  }

  // ---------------------------------------------------------------- dispatch

  private dispatch(m: ConsensusMessage): void {
    if (m.from >= this.n) {
      this.metrics.droppedNotValidator++;
      return;
    }
    if (m.from === this.self) {
      this.metrics.droppedDuplicate++;
      return;
    }
    switch (m.kind) {
      case 'pre-prepare':
        this.onPrePrepare(m);
        return;
      case 'prepare':
        this.onPrepare(m);
        return;
      case 'commit':
        this.onCommit(m);
        return;
      case 'checkpoint':
        this.onCheckpoint(m);
        return;
      case 'view-change':
        this.onViewChange(m);
        return;
      case 'new-view':
        this.onNewView(m);
        return;
      case 'sync-request':
        this.onSyncRequest(m);
        return;
      case 'sync-response':
        this.onSyncResponse(m);
        return;
    }
  }

  // ---------------------------------------------------------------- normal case

  /**
   * Low watermark: the stable checkpoint, or the last checkpoint height this
   * replica holds certified blocks for (after a restart or a state transfer it
   * may have committed past its last proven checkpoint).
   */
  private lowWatermark(): number {
    const K = this.cfg.checkpointIntervalHeights;
    return Math.max(this.stable.height, this.lastCommitted - (this.lastCommitted % K));
  }

  private inWindow(height: number): boolean {
    const low = this.lowWatermark();
    return height > low && height <= low + this.cfg.watermarkWindowHeights;
  }

  /** Returns true when the message belongs to a later view (or this view before its new-view) and was buffered. */
  private bufferIfFuture(m: PrePrepareMessage | PrepareMessage): boolean {
    if (m.view > this.view || (m.view === this.view && this.status === 'view-change')) {
      if (m.view > this.view + this.cfg.watermarkWindowHeights) {
        this.metrics.droppedOutOfWindow++;
        return true;
      }
      const count = this.futurePerSender.get(m.from) ?? 0;
      if (count >= Math.max(1, Math.floor(this.cfg.maxFutureMessages / this.n))) {
        this.metrics.droppedFutureOverflow++;
        return true;
      }
      this.futurePerSender.set(m.from, count + 1);
      this.future.push(m);
      this.metrics.futureBuffered++;
      return true;
    }
    return false;
  }

  private checkHeight(m: { height: number; from: number; view: number }): boolean {
    if (this.inWindow(m.height)) return true;
    this.metrics.droppedOutOfWindow++;
    return false;
  }

  private onPrePrepare(m: PrePrepareMessage): void {
    if (m.from !== primaryOf(m.view, this.n)) {
      this.metrics.droppedWrongPrimary++;
      return;
    }
    if (m.view < this.view) {
      this.metrics.droppedStaleView++;
      this.maybeHelpLaggard(m.from, m.height);
      return;
    }
    if (!this.inWindow(m.height)) {
      this.metrics.droppedOutOfWindow++;
      if (m.height <= this.stable.height) this.maybeHelpLaggard(m.from, m.height);
      else this.verifiedHint(m);
      return;
    }
    if (this.bufferIfFuture(m)) return;
    const digest = this.hashBlock(m.block);
    if (
      !this.deps.crypto.verifyMessage(
        prePrepareVoteBytes(m.height, m.view, digest),
        m.signature,
        m.from,
      )
    ) {
      this.metrics.droppedBadSignature++;
      return;
    }
    this.notePeerHeight(m.from, m.height);
    this.acceptPrePrepare(m.height, m.view, m.block, digest, m.signature, false);
  }

  private verifiedHint(m: PrePrepareMessage): void {
    const digest = this.hashBlock(m.block);
    if (
      this.deps.crypto.verifyMessage(
        prePrepareVoteBytes(m.height, m.view, digest),
        m.signature,
        m.from,
      )
    ) {
      this.notePeerHeight(m.from, m.height);
    }
  }

  private expectedPrevHash(height: number): Uint8Array | undefined {
    const prev = height - 1;
    if (prev <= this.lastCommitted) return this.hashAt(prev);
    const slot = this.slots.get(prev);
    if (slot && slot.acceptedView === this.view && slot.digest) return slot.digest;
    return undefined;
  }

  private acceptPrePrepare(
    height: number,
    view: number,
    block: Block,
    digest: Uint8Array,
    signature: Uint8Array,
    reproposal: boolean,
  ): void {
    const slot = this.slot(height);
    const digestHex = toHex(digest);
    if (slot.acceptedView === view) {
      if (slot.digestHex === digestHex) {
        this.metrics.droppedDuplicate++;
      } else {
        this.metrics.equivocations++;
        this.startViewChange(view + 1);
      }
      return;
    }
    if (slot.pending && slot.pending.view === view) {
      if (toHex(slot.pending.digest) !== digestHex) {
        this.metrics.equivocations++;
        this.startViewChange(view + 1);
        return;
      }
    }
    const h = block.header;
    const headerOk =
      h.height === height &&
      h.chainId === this.cfg.chainId &&
      h.view <= view &&
      h.proposer === primaryOf(h.view, this.n) &&
      block.txs.length <= this.cfg.maxBlockTxs;
    if (!headerOk) {
      this.metrics.invalidProposals++;
      this.startViewChange(view + 1);
      return;
    }
    if (height <= this.lastCommitted) {
      const committed = this.hashAt(height);
      if (!committed || !bytesEqual(committed, digest)) {
        // A proposal that contradicts a certified block: misbehaviour (or a broken quorum).
        this.metrics.invalidProposals++;
        if (!reproposal) this.startViewChange(view + 1);
        return;
      }
    }
    const prev = this.expectedPrevHash(height);
    if (!prev) {
      if (reproposal) {
        // The new-view selection already checked the chain; the predecessor may be above our commits.
      } else {
        slot.pending = { view, block, digest, signature };
        return;
      }
    } else if (!bytesEqual(prev, h.prevHash)) {
      this.metrics.invalidProposals++;
      if (!reproposal) this.startViewChange(view + 1);
      return;
    }
    if (!reproposal && height > this.lastCommitted) {
      if (!this.deps.blockSource.validateProposal(block, this.inFlightBelow(height))) {
        this.metrics.invalidProposals++;
        this.startViewChange(view + 1);
        return;
      }
    }
    slot.acceptedView = view;
    slot.digest = digest;
    slot.digestHex = digestHex;
    slot.prePrepareSignature = signature;
    slot.pending = null;
    this.rememberBlock(slot, digestHex, block);
    if (primaryOf(view, this.n) !== this.self) {
      const bytes = prepareVoteBytes(height, view, digest);
      const key = keyOf('prepare', height, view);
      const sig = this.signOnce(key, bytes, false);
      if (!sig) return;
      const msg: PrepareMessage = {
        kind: 'prepare',
        from: this.self,
        view,
        height,
        digest,
        signature: sig.signature,
      };
      this.recordSigned(key, sig, msg);
      this.emit({ type: 'broadcast', message: msg });
      slot.prepares.set(this.self, { view, digestHex, signature: sig.signature });
    }
    this.checkPrepared(slot);
    this.checkCommitted(slot);
    const next = this.slots.get(height + 1);
    if (next?.pending && next.pending.view === this.view) {
      const p = next.pending;
      next.pending = null;
      this.acceptPrePrepare(height + 1, p.view, p.block, p.digest, p.signature, false);
    }
  }

  private onPrepare(m: PrepareMessage): void {
    if (m.from === primaryOf(m.view, this.n)) {
      this.metrics.droppedWrongPrimary++;
      return;
    }
    if (m.view < this.view) {
      this.metrics.droppedStaleView++;
      this.maybeHelpLaggard(m.from, m.height);
      return;
    }
    if (!this.checkHeight(m)) {
      if (m.height <= this.stable.height) this.maybeHelpLaggard(m.from, m.height);
      else if (
        this.deps.crypto.verifyMessage(
          prepareVoteBytes(m.height, m.view, m.digest),
          m.signature,
          m.from,
        )
      ) {
        this.notePeerHeight(m.from, m.height);
      }
      return;
    }
    if (this.bufferIfFuture(m)) return;
    const slot = this.slot(m.height);
    const digestHex = toHex(m.digest);
    const existing = slot.prepares.get(m.from);
    if (existing && existing.view === m.view) {
      this.metrics.droppedDuplicate++;
      return;
    }
    if (
      !this.deps.crypto.verifyMessage(
        prepareVoteBytes(m.height, m.view, m.digest),
        m.signature,
        m.from,
      )
    ) {
      this.metrics.droppedBadSignature++;
      return;
    }
    this.notePeerHeight(m.from, m.height);
    slot.prepares.set(m.from, { view: m.view, digestHex, signature: m.signature });
    this.checkPrepared(slot);
  }

  private onCommit(m: CommitMessage): void {
    if (!this.inWindow(m.height)) {
      this.metrics.droppedOutOfWindow++;
      if (m.height <= this.stable.height) this.maybeHelpLaggard(m.from, m.height);
      else if (this.verifyCommit(m)) this.notePeerHeight(m.from, m.height);
      return;
    }
    const slot = this.slot(m.height);
    const existing = slot.commits.get(m.from);
    if (existing && existing.view >= m.view) {
      this.metrics.droppedDuplicate++;
      if (slot.committed && m.view < this.view) this.maybeHelpLaggard(m.from, m.height);
      return;
    }
    if (!this.verifyCommit(m)) {
      this.metrics.droppedBadSignature++;
      return;
    }
    this.notePeerHeight(m.from, m.height);
    slot.commits.set(m.from, { view: m.view, digestHex: toHex(m.digest), signature: m.signature });
    this.checkCommitted(slot);
  }

  private verifyCommit(m: CommitMessage): boolean {
    return this.deps.crypto.verifyCommitVote(
      commitVoteBytes(this.cfg.chainId, m.height, m.view, m.digest),
      m.signature,
      m.from,
    );
  }

  private checkPrepared(slot: Slot): void {
    if (slot.acceptedView !== this.view || this.status !== 'normal' || !slot.digest) return;
    if (slot.prepared && slot.prepared.view === this.view) return;
    const primary = primaryOf(this.view, this.n);
    const prepares: VoteSignature[] = [];
    for (let v = 0; v < this.n; v++) {
      const p = slot.prepares.get(v);
      if (v !== primary && p && p.view === this.view && p.digestHex === slot.digestHex) {
        prepares.push({ validator: v, signature: p.signature });
      }
    }
    if (prepares.length < this.q - 1) return;
    const block = slot.blocks.get(slot.digestHex);
    if (!block || !slot.prePrepareSignature) return;
    const cert: PreparedCertificate = {
      height: slot.height,
      view: this.view,
      block,
      prePrepareSignature: slot.prePrepareSignature,
      prepares: prepares.slice(0, this.q - 1),
    };
    slot.prepared = cert;
    slot.preparedDigestHex = slot.digestHex;
    this.emit({ type: 'persist', record: { type: 'prepared', certificate: cert } });
    this.trySendCommit(slot.height);
  }

  /** Commit at h only when h−1 is prepared or committed with the digest h names as its parent. */
  private chainReady(slot: Slot): boolean {
    const block = slot.blocks.get(slot.digestHex);
    if (!block) return false;
    const prevHeight = slot.height - 1;
    if (prevHeight <= this.lastCommitted) {
      const h = this.hashAt(prevHeight);
      return h !== undefined && bytesEqual(h, block.header.prevHash);
    }
    // In order within a view: commit at h only after our commit at h−1 in this view (for its parent).
    const prev = this.slots.get(prevHeight);
    return (
      prev !== undefined &&
      prev.commitSentView === this.view &&
      prev.digestHex === toHex(block.header.prevHash)
    );
  }

  private trySendCommit(height: number): void {
    for (let h = height; ; h++) {
      const slot = this.slots.get(h);
      if (!slot || this.status !== 'normal') return;
      if (!slot.prepared || slot.prepared.view !== this.view || slot.commitSentView === this.view)
        return;
      if (!slot.digest || !this.chainReady(slot)) return;
      const bytes = commitVoteBytes(this.cfg.chainId, h, this.view, slot.digest);
      const key = keyOf('commit', h, this.view);
      const sig = this.signOnce(key, bytes, true);
      if (!sig) return;
      const msg: CommitMessage = {
        kind: 'commit',
        from: this.self,
        view: this.view,
        height: h,
        digest: slot.digest,
        signature: sig.signature,
      };
      this.recordSigned(key, sig, msg);
      this.emit({ type: 'broadcast', message: msg });
      slot.commitSentView = this.view;
      slot.commits.set(this.self, {
        view: this.view,
        digestHex: slot.digestHex,
        signature: sig.signature,
      });
      this.checkCommitted(slot);
    }
  }

  private checkCommitted(slot: Slot): void {
    if (slot.committed || slot.commits.size < this.q) return;
    const groups = new Map<string, VoteSignature[]>();
    for (let v = 0; v < this.n; v++) {
      const c = slot.commits.get(v);
      if (!c) continue;
      const key = `${c.view}:${c.digestHex}`;
      let g = groups.get(key);
      if (!g) {
        g = [];
        groups.set(key, g);
      }
      g.push({ validator: v, signature: c.signature });
    }
    for (const [key, sigs] of groups) {
      if (sigs.length < this.q) continue;
      const sep = key.indexOf(':');
      const view = Number(key.slice(0, sep));
      const digestHex = key.slice(sep + 1);
      const block = slot.blocks.get(digestHex);
      if (!block) return; // wait for the body (retransmission or state transfer)
      const blockHash = this.hashBlock(block);
      if (slot.height <= this.lastCommitted) {
        slot.committed = true;
        return;
      }
      const certificate: CommitCertificate = {
        chainId: this.cfg.chainId,
        height: slot.height,
        view,
        blockHash,
        signatures: sigs.slice(0, this.q),
      };
      slot.committed = true;
      this.committedBlocks.set(slot.height, { block, certificate });
      this.tryExecute();
      return;
    }
  }

  private readonly recentCertified = new Map<number, CertifiedBlock>();
  private readonly committedBlocks = new Map<
    number,
    { block: Block; certificate: CommitCertificate }
  >();

  private tryExecute(): void {
    for (;;) {
      const h = this.lastCommitted + 1;
      const entry = this.committedBlocks.get(h);
      if (!entry) break;
      this.committedBlocks.delete(h);
      if (!bytesEqual(entry.block.header.prevHash, this.lastCommittedHash)) {
        throw new InvariantError('committed block does not chain to the previous committed block', {
          height: h,
        });
      }
      this.advanceCommitted(h, entry.block, entry.certificate);
    }
  }

  /** The certified block at a committed height above the stable checkpoint (own memory, else the chain). */
  private certifiedAt(height: number): CertifiedBlock | undefined {
    return this.recentCertified.get(height) ?? this.deps.chain.getCertifiedBlock(height);
  }

  private advanceCommitted(h: number, block: Block, certificate: CommitCertificate): void {
    this.recentCertified.set(h, { block, certificate });
    this.recentCertified.delete(h - 2 * this.cfg.watermarkWindowHeights);
    this.lastCommitted = h;
    this.lastCommittedHash = certificate.blockHash;
    this.committedHashes.set(h, certificate.blockHash);
    // Older hashes are read back from the chain when needed.
    this.committedHashes.delete(h - 2 * this.cfg.watermarkWindowHeights);
    this.metrics.committedHeights++;
    this.emit({ type: 'execute', height: h, block, certificate });
    this.lastProgressMs = this.nowMs;
    this.retransmits = 0;
    this.vcAttempts = 0;
    if (this.status === 'normal') this.viewDeadlineMs = this.nowMs + this.timeoutMs();
    if (this.nextProposeHeight <= h) this.nextProposeHeight = h + 1;
    const slot = this.slots.get(h);
    if (slot) {
      slot.committed = true;
      this.rememberBlock(slot, toHex(certificate.blockHash), block);
    }
    // The chain rule may now let the next height commit, and a waiting pre-prepare be accepted.
    const next = this.slots.get(h + 1);
    if (next) {
      if (next.pending && next.pending.view === this.view && this.status === 'normal') {
        const p = next.pending;
        next.pending = null;
        this.acceptPrePrepare(h + 1, p.view, p.block, p.digest, p.signature, false);
      }
      this.trySendCommit(h + 1);
    }
  }

  // ---------------------------------------------------------------- proposals

  private inFlightBelow(height: number): Block[] {
    const blocks: Block[] = [];
    for (let h = this.lastCommitted + 1; h < height; h++) {
      const s = this.slots.get(h);
      if (s && s.acceptedView === this.view) {
        const b = s.blocks.get(s.digestHex);
        if (b) blocks.push(b);
      }
    }
    return blocks;
  }

  private maybePropose(): void {
    if (this.status !== 'normal' || !this.isPrimary) return;
    if (this.lastCommitted < this.stable.height || this.syncTarget > this.lastCommitted) return;
    const W = this.cfg.watermarkWindowHeights;
    for (;;) {
      const h = this.nextProposeHeight;
      if (h > this.lowWatermark() + W || h > this.lastCommitted + W) return;
      const existing = this.slots.get(h);
      if (existing && existing.acceptedView === this.view) {
        this.nextProposeHeight = h + 1;
        continue;
      }
      const prevHash = this.expectedPrevHash(h);
      if (!prevHash) return;
      const key = keyOf('pre-prepare', h, this.view);
      const before = this.signed.get(key);
      if (before && before.message.kind === 'pre-prepare') {
        // Restarted mid-view: repeat what the WAL says we proposed, never a second block.
        this.emit({ type: 'broadcast', message: before.message });
        this.adoptOwnProposal(
          h,
          before.message.block,
          this.hashBlock(before.message.block),
          before.message.signature,
        );
        continue;
      }
      const inFlight = this.inFlightBelow(h);
      const pending = this.deps.blockSource.pending(inFlight);
      const full =
        pending.txCount >= this.cfg.maxBlockTxs || pending.bytes >= this.cfg.maxBlockBytes;
      const due =
        pending.txCount > 0 && this.nowMs - this.lastProposalMs >= this.cfg.blockIntervalMs;
      if (!full && !due) return;
      const block = this.deps.blockSource.proposeBlock({
        height: h,
        view: this.view,
        proposer: this.self,
        prevHash,
        nowMs: this.nowMs,
        inFlight,
      });
      if (!block) return;
      const digest = this.hashBlock(block);
      const sig = this.signOnce(key, prePrepareVoteBytes(h, this.view, digest), false);
      if (!sig) return;
      const msg: PrePrepareMessage = {
        kind: 'pre-prepare',
        from: this.self,
        view: this.view,
        height: h,
        block,
        signature: sig.signature,
      };
      this.recordSigned(key, sig, msg);
      this.emit({ type: 'broadcast', message: msg });
      this.lastProposalMs = this.nowMs;
      this.adoptOwnProposal(h, block, digest, sig.signature);
    }
  }

  private adoptOwnProposal(
    h: number,
    block: Block,
    digest: Uint8Array,
    signature: Uint8Array,
  ): void {
    this.nextProposeHeight = h + 1;
    const slot = this.slot(h);
    slot.acceptedView = this.view;
    slot.digest = digest;
    slot.digestHex = toHex(digest);
    slot.prePrepareSignature = signature;
    slot.pending = null;
    this.rememberBlock(slot, slot.digestHex, block);
    this.checkPrepared(slot);
  }

  // ---------------------------------------------------------------- checkpoints

  private onCheckpoint(m: CheckpointMessage): void {
    if (m.height % this.cfg.checkpointIntervalHeights !== 0 || m.height === 0) {
      this.metrics.droppedMalformed++;
      return;
    }
    if (m.height <= this.stable.height) {
      this.metrics.droppedOutOfWindow++;
      return;
    }
    const verified = () =>
      this.deps.crypto.verifyMessage(
        checkpointVoteBytes(m.height, m.blockHash, m.stateRoot),
        m.signature,
        m.from,
      );
    if (!this.checkpointInRange(m.height)) {
      this.metrics.droppedOutOfWindow++;
      if (verified()) this.notePeerHeight(m.from, m.height);
      return;
    }
    const existing = this.checkpointVotes.get(m.height)?.get(m.from);
    if (existing) {
      this.metrics.droppedDuplicate++;
      return;
    }
    if (!verified()) {
      this.metrics.droppedBadSignature++;
      return;
    }
    this.notePeerHeight(m.from, m.height);
    this.storeCheckpointVote(m);
    this.checkStable(m.height);
  }

  /** Checkpoint votes kept: above the stable checkpoint, within a window either side of the low watermark. */
  private checkpointInRange(height: number): boolean {
    const low = this.lowWatermark();
    const W = this.cfg.watermarkWindowHeights;
    return height > this.stable.height && height > low - W && height <= low + W;
  }

  private storeCheckpointVote(m: CheckpointMessage): void {
    const floor = this.lowWatermark() - this.cfg.watermarkWindowHeights;
    for (const k of [...this.checkpointVotes.keys()])
      if (k <= floor) this.checkpointVotes.delete(k);
    let votes = this.checkpointVotes.get(m.height);
    if (!votes) {
      votes = new Map();
      this.checkpointVotes.set(m.height, votes);
    }
    votes.set(m.from, m);
  }

  private checkStable(height: number): void {
    const votes = this.checkpointVotes.get(height);
    if (!votes || votes.size < this.q) return;
    const groups = new Map<string, CheckpointMessage[]>();
    for (let v = 0; v < this.n; v++) {
      const m = votes.get(v);
      if (!m) continue;
      const key = `${toHex(m.blockHash)}:${toHex(m.stateRoot)}`;
      const g = groups.get(key) ?? [];
      g.push(m);
      groups.set(key, g);
    }
    for (const g of groups.values()) {
      const first = g[0];
      if (g.length >= this.q && first) {
        this.considerCheckpointCert({
          height,
          blockHash: first.blockHash,
          stateRoot: first.stateRoot,
          signatures: g
            .slice(0, this.q)
            .map((m) => ({ validator: m.from, signature: m.signature })),
        });
        return;
      }
    }
  }

  /** A proven checkpoint: adopt it once we executed that far with the same result, else aim state transfer at it. */
  private considerCheckpointCert(cert: CheckpointCertificate): void {
    if (cert.height <= this.stable.height) {
      this.pendingCheckpointCerts = this.pendingCheckpointCerts.filter(
        (c) => c.height > this.stable.height,
      );
      return;
    }
    if (this.lastExecuted >= cert.height) {
      const ownRoot = this.ownStateRoots.get(cert.height);
      const ownHash = this.hashAt(cert.height);
      const rootOk = ownRoot === undefined || bytesEqual(ownRoot, cert.stateRoot);
      if (ownHash && bytesEqual(ownHash, cert.blockHash) && rootOk) {
        this.adoptStable(cert);
      } else {
        this.metrics.stateDivergences++;
      }
      this.pendingCheckpointCerts = this.pendingCheckpointCerts.filter(
        (c) => c !== cert && c.height > this.stable.height,
      );
      return;
    }
    if (!this.pendingCheckpointCerts.some((c) => c.height === cert.height)) {
      this.pendingCheckpointCerts.push(cert);
      this.pendingCheckpointCerts.sort((a, b) => a.height - b.height);
      if (this.pendingCheckpointCerts.length > MAX_PENDING_CHECKPOINT_CERTS)
        this.pendingCheckpointCerts.shift();
    }
    this.syncTarget = Math.max(this.syncTarget, cert.height);
  }

  private adoptStable(cert: CheckpointCertificate): void {
    const h = cert.height;
    this.stable = { height: h, blockHash: cert.blockHash, cert };
    this.metrics.stableCheckpoints++;
    this.emit({ type: 'persist', record: { type: 'stable-checkpoint', certificate: cert } });
    for (const k of [...this.slots.keys()]) if (k <= h) this.slots.delete(k);
    for (const k of [...this.committedHashes.keys()]) if (k < h) this.committedHashes.delete(k);
    for (const k of [...this.ownStateRoots.keys()]) if (k < h) this.ownStateRoots.delete(k);
    for (const k of [...this.checkpointVotes.keys()]) if (k <= h) this.checkpointVotes.delete(k);
    for (const k of [...this.committedBlocks.keys()]) if (k <= h) this.committedBlocks.delete(k);
    for (const k of [...this.recentCertified.keys()]) if (k <= h) this.recentCertified.delete(k);
    for (const [k, e] of [...this.signed]) {
      const m = e.message;
      const drop =
        m.kind === 'view-change'
          ? m.newView < this.view
          : m.kind === 'new-view'
            ? m.view < this.view
            : m.height <= h;
      if (drop) this.signed.delete(k);
    }
    this.future = this.future.filter((m) => 'height' in m && m.height > h);
    this.recountFuture();
    this.emit({ type: 'wal-truncate', throughHeight: h, belowView: this.view });
    if (this.nextProposeHeight <= h) this.nextProposeHeight = h + 1;
  }

  // ---------------------------------------------------------------- view change

  private timeoutMs(): number {
    const t = this.cfg.viewChangeTimeoutMs * 2 ** Math.min(this.vcAttempts, 30);
    return Math.min(t, this.cfg.viewChangeTimeoutMaxMs);
  }

  /**
   * While changing view, the timer towards the next view runs only once a
   * quorum of validators is asking for this view or a later one: a replica
   * alone ahead waits for the others instead of racing further ahead.
   */
  private armViewChangeTimer(): void {
    if (this.status !== 'view-change' || this.viewDeadlineMs !== null) return;
    let count = 0;
    for (const vc of this.latestViewChange.values()) if (vc.newView >= this.view) count++;
    if (count >= this.q) this.viewDeadlineMs = this.nowMs + this.timeoutMs();
  }

  private resetViewState(): void {
    for (const slot of this.slots.values()) {
      slot.acceptedView = -1;
      slot.digest = null;
      slot.digestHex = '';
      slot.prePrepareSignature = null;
      slot.pending = null;
      slot.prepares.clear();
      slot.commitSentView = -1;
    }
  }

  private startViewChange(newView: number): void {
    if (newView <= this.view) return;
    this.view = newView;
    this.retransmits = 0;
    this.status = 'view-change';
    this.vcAttempts++;
    this.metrics.viewChangesStarted++;
    this.viewDeadlineMs = null;
    this.lastNewView = null;
    this.resetViewState();
    const key = keyOf('view-change', 0, newView);
    const existing = this.signed.get(key);
    let vc: ViewChangeMessage;
    if (existing && existing.message.kind === 'view-change') {
      vc = existing.message;
    } else {
      // Above the stable checkpoint: certified blocks where we committed, else prepared certificates.
      const committed: CertifiedBlock[] = [];
      const prepared: PreparedCertificate[] = [];
      const top = this.stable.height + this.cfg.watermarkWindowHeights;
      for (let h = this.stable.height + 1; h <= top; h++) {
        const c = h <= this.lastCommitted ? this.certifiedAt(h) : undefined;
        if (c) {
          committed.push(c);
          continue;
        }
        const p = this.slots.get(h)?.prepared;
        if (p) prepared.push(p);
      }
      const checkpoint = this.stable.cert;
      const bytes = this.viewChangeBytes(this.self, newView, checkpoint, committed, prepared);
      const sig = this.signOnce(key, bytes, false);
      if (!sig) return;
      vc = {
        kind: 'view-change',
        from: this.self,
        newView,
        checkpoint,
        committed,
        prepared,
        signature: sig.signature,
      };
      this.recordSigned(key, sig, vc);
    }
    this.emit({ type: 'broadcast', message: vc });
    this.latestViewChange.set(this.self, vc);
    this.armViewChangeTimer();
    this.maybeSendNewView();
  }

  private verifyCheckpointCert(c: CheckpointCertificate): boolean {
    if (c.height === 0 || c.height % this.cfg.checkpointIntervalHeights !== 0) return false;
    const bytes = checkpointVoteBytes(c.height, c.blockHash, c.stateRoot);
    return this.verifyQuorum(c.signatures, this.q, (s) =>
      this.deps.crypto.verifyMessage(bytes, s.signature, s.validator),
    );
  }

  private verifyQuorum(
    sigs: readonly VoteSignature[],
    needed: number,
    check: (s: VoteSignature) => boolean,
    exclude = -1,
  ): boolean {
    const seen = new Set<number>();
    let ok = 0;
    for (const s of sigs) {
      if (s.validator >= this.n || s.validator === exclude || seen.has(s.validator)) return false;
      seen.add(s.validator);
      if (!check(s)) return false;
      ok++;
    }
    return ok >= needed;
  }

  private verifyPreparedCert(c: PreparedCertificate, digest: Uint8Array): boolean {
    const primary = primaryOf(c.view, this.n);
    if (c.block.header.height !== c.height || c.block.header.chainId !== this.cfg.chainId)
      return false;
    if (
      !this.deps.crypto.verifyMessage(
        prePrepareVoteBytes(c.height, c.view, digest),
        c.prePrepareSignature,
        primary,
      )
    ) {
      return false;
    }
    const bytes = prepareVoteBytes(c.height, c.view, digest);
    return this.verifyQuorum(
      c.prepares,
      this.q - 1,
      (s) => this.deps.crypto.verifyMessage(bytes, s.signature, s.validator),
      primary,
    );
  }

  private viewChangeBytes(
    from: number,
    newView: number,
    checkpoint: CheckpointCertificate | null,
    committed: readonly CertifiedBlock[],
    prepared: readonly PreparedCertificate[],
  ): Uint8Array {
    return viewChangeVoteBytes(
      from,
      newView,
      checkpoint?.height ?? 0,
      checkpoint?.blockHash ?? this.cfg.genesisHash,
      committed.map((c) => ({
        height: c.certificate.height,
        view: c.certificate.view,
        digest: c.certificate.blockHash,
      })),
      prepared.map((p) => ({ height: p.height, view: p.view, digest: this.hashBlock(p.block) })),
    );
  }

  private verifyViewChange(vc: ViewChangeMessage): boolean {
    const cpHeight = vc.checkpoint?.height ?? 0;
    const top = cpHeight + this.cfg.watermarkWindowHeights;
    if (vc.checkpoint && !this.verifyCheckpointCert(vc.checkpoint)) return false;
    let last = cpHeight;
    for (const c of vc.committed) {
      const h = c.certificate.height;
      if (h <= last || h > top || !this.verifyCertificate(c.block, c.certificate)) return false;
      last = h;
    }
    last = cpHeight;
    for (const p of vc.prepared) {
      if (p.height <= last || p.height > top || p.view >= vc.newView) return false;
      last = p.height;
      if (!this.verifyPreparedCert(p, this.hashBlock(p.block))) return false;
    }
    const bytes = this.viewChangeBytes(
      vc.from,
      vc.newView,
      vc.checkpoint,
      vc.committed,
      vc.prepared,
    );
    return this.deps.crypto.verifyMessage(bytes, vc.signature, vc.from);
  }

  private onViewChange(m: ViewChangeMessage): void {
    if (m.newView < this.view || (m.newView === this.view && this.status === 'normal')) {
      this.metrics.droppedStaleView++;
      // A replica still asking for the view we are in missed the new-view: the primary repeats it.
      if (m.newView === this.view && this.lastNewView && this.isPrimary) {
        this.emit({ type: 'send', to: m.from, message: this.lastNewView });
      }
      return;
    }
    const existing = this.latestViewChange.get(m.from);
    if (existing && existing.newView >= m.newView) {
      this.metrics.droppedDuplicate++;
      return;
    }
    if (!this.verifyViewChange(m)) {
      this.metrics.droppedBadSignature++;
      return;
    }
    const top = m.prepared[m.prepared.length - 1];
    this.notePeerHeight(m.from, Math.max(m.checkpoint?.height ?? 0, top?.height ?? 0));
    this.latestViewChange.set(m.from, m);
    // f+1 replicas ask for a later view: at least one is honest, so join the smallest such view.
    const ahead: number[] = [];
    for (const vc of this.latestViewChange.values()) {
      if (vc.from !== this.self && vc.newView > this.view) ahead.push(vc.newView);
    }
    if (ahead.length >= this.f + 1) {
      this.startViewChange(Math.min(...ahead));
    }
    this.armViewChangeTimer();
    this.maybeSendNewView();
  }

  private selectReproposals(vcs: readonly ViewChangeMessage[]): Selection {
    let baseCert: CheckpointCertificate | null = null;
    for (const vc of vcs) {
      if (vc.checkpoint && (!baseCert || vc.checkpoint.height > baseCert.height))
        baseCert = vc.checkpoint;
    }
    const baseHeight = baseCert?.height ?? 0;
    const baseHash = baseCert?.blockHash ?? this.cfg.genesisHash;
    const best = new Map<
      number,
      { block: Block; view: number; committed: boolean; digest: Uint8Array; digestHex: string }
    >();
    // A commit certificate outranks every prepared certificate at its height.
    for (const vc of vcs) {
      for (const c of vc.committed) {
        const h = c.certificate.height;
        if (h <= baseHeight) continue;
        const digest = c.certificate.blockHash;
        const digestHex = toHex(digest);
        const cur = best.get(h);
        if (!cur || digestHex < cur.digestHex) {
          best.set(h, { block: c.block, view: Infinity, committed: true, digest, digestHex });
        }
      }
    }
    for (const vc of vcs) {
      for (const p of vc.prepared) {
        if (p.height <= baseHeight) continue;
        const cur = best.get(p.height);
        if (cur?.committed) continue;
        const digest = this.hashBlock(p.block);
        const digestHex = toHex(digest);
        if (!cur || p.view > cur.view || (p.view === cur.view && digestHex < cur.digestHex)) {
          best.set(p.height, { block: p.block, view: p.view, committed: false, digest, digestHex });
        }
      }
    }
    const items: { height: number; block: Block; digest: Uint8Array }[] = [];
    let prev = baseHash;
    for (let h = baseHeight + 1; h <= baseHeight + this.cfg.watermarkWindowHeights; h++) {
      const b = best.get(h);
      if (!b || !bytesEqual(b.block.header.prevHash, prev)) break;
      items.push({ height: h, block: b.block, digest: b.digest });
      prev = b.digest;
    }
    return { baseHeight, baseHash, baseCertificate: baseCert, items };
  }

  private maybeSendNewView(): void {
    if (this.status !== 'view-change' || !this.isPrimary) return;
    const vcs: ViewChangeMessage[] = [];
    for (let v = 0; v < this.n && vcs.length < this.q; v++) {
      const vc = this.latestViewChange.get(v);
      if (vc && vc.newView === this.view) vcs.push(vc);
    }
    if (vcs.length < this.q) return;
    const sel = this.selectReproposals(vcs);
    const reproposals: Reproposal[] = [];
    for (const item of sel.items) {
      const key = keyOf('pre-prepare', item.height, this.view);
      const sig = this.signOnce(
        key,
        prePrepareVoteBytes(item.height, this.view, item.digest),
        false,
      );
      if (!sig) return;
      const msg: PrePrepareMessage = {
        kind: 'pre-prepare',
        from: this.self,
        view: this.view,
        height: item.height,
        block: item.block,
        signature: sig.signature,
      };
      this.recordSigned(key, sig, msg);
      reproposals.push({ height: item.height, digest: item.digest, signature: sig.signature });
    }
    const key = keyOf('new-view', 0, this.view);
    const bytes = newViewVoteBytes(
      this.self,
      this.view,
      vcs.map((vc) => ({ from: vc.from, signature: vc.signature })),
      reproposals,
    );
    const sig = this.signOnce(key, bytes, false);
    if (!sig) return;
    const nv: NewViewMessage = {
      kind: 'new-view',
      from: this.self,
      view: this.view,
      viewChanges: vcs,
      reproposals,
      signature: sig.signature,
    };
    this.recordSigned(key, sig, nv);
    this.emit({ type: 'broadcast', message: nv });
    this.enterNewView(nv, sel);
  }

  private onNewView(m: NewViewMessage): void {
    if (m.view < this.view || (m.view === this.view && this.status === 'normal')) {
      this.metrics.droppedStaleView++;
      return;
    }
    if (m.from !== primaryOf(m.view, this.n)) {
      this.metrics.droppedWrongPrimary++;
      return;
    }
    const seen = new Set<number>();
    for (const vc of m.viewChanges) {
      if (vc.newView !== m.view || seen.has(vc.from) || vc.from >= this.n) {
        this.metrics.droppedMalformed++;
        return;
      }
      seen.add(vc.from);
    }
    if (seen.size < this.q) {
      this.metrics.droppedMalformed++;
      return;
    }
    const bytes = newViewVoteBytes(
      m.from,
      m.view,
      m.viewChanges.map((vc) => ({ from: vc.from, signature: vc.signature })),
      m.reproposals,
    );
    if (!this.deps.crypto.verifyMessage(bytes, m.signature, m.from)) {
      this.metrics.droppedBadSignature++;
      return;
    }
    for (const vc of m.viewChanges) {
      if (!this.verifyViewChange(vc)) {
        this.metrics.droppedBadSignature++;
        return;
      }
    }
    const sel = this.selectReproposals(m.viewChanges);
    if (sel.items.length !== m.reproposals.length) {
      this.metrics.droppedMalformed++;
      return;
    }
    for (let i = 0; i < sel.items.length; i++) {
      const item = sel.items[i];
      const r = m.reproposals[i];
      if (!item || !r || r.height !== item.height || !bytesEqual(r.digest, item.digest)) {
        this.metrics.droppedMalformed++;
        return;
      }
      if (
        !this.deps.crypto.verifyMessage(
          prePrepareVoteBytes(r.height, m.view, r.digest),
          r.signature,
          m.from,
        )
      ) {
        this.metrics.droppedBadSignature++;
        return;
      }
    }
    if (this.view !== m.view) {
      // Jumping ahead on the proof of 2f+1 view-changes.
      this.view = m.view;
      this.resetViewState();
    }
    this.enterNewView(m, sel);
  }

  private enterNewView(nv: NewViewMessage, sel: Selection): void {
    this.status = 'normal';
    this.retransmits = 0;
    this.lastNewView = nv;
    this.metrics.newViewsEntered++;
    this.emit({ type: 'view-changed', view: this.view, primary: primaryOf(this.view, this.n) });
    for (const [from, vc] of [...this.latestViewChange]) {
      if (vc.newView <= this.view) this.latestViewChange.delete(from);
    }
    // Durable before anything signed in this view goes out; earlier view-changes are never needed again.
    this.emit({ type: 'persist', record: { type: 'view', view: this.view } });
    this.emit({ type: 'wal-truncate', throughHeight: this.stable.height, belowView: this.view });
    // Votes of earlier views are never signed again (views only grow): the WAL keeps them for restarts.
    for (const [k, e] of [...this.signed]) {
      const m = e.message;
      if (
        (m.kind === 'prepare' || m.kind === 'commit' || m.kind === 'pre-prepare') &&
        m.view < this.view
      ) {
        this.signed.delete(k);
      }
    }
    if (sel.baseCertificate) this.considerCheckpointCert(sel.baseCertificate);
    if (sel.baseHeight > this.lastCommitted)
      this.syncTarget = Math.max(this.syncTarget, sel.baseHeight);
    for (let i = 0; i < sel.items.length; i++) {
      const item = sel.items[i];
      const r = nv.reproposals[i];
      if (!item || !r || item.height <= this.stable.height) continue;
      this.acceptPrePrepare(item.height, this.view, item.block, item.digest, r.signature, true);
      // Accepting may have started another view change (a re-proposal contradicting our chain).
      if (this.currentStatus !== 'normal') return;
    }
    const lastItem = sel.items[sel.items.length - 1];
    this.nextProposeHeight =
      Math.max(this.lastCommitted, this.stable.height, sel.baseHeight, lastItem?.height ?? 0) + 1;
    this.viewDeadlineMs = this.hasWork() ? this.nowMs + this.timeoutMs() : null;
    this.lastProposalMs = Math.min(this.lastProposalMs, this.nowMs - this.cfg.blockIntervalMs);
    this.replayFuture();
    this.maybePropose();
  }

  private replayFuture(): void {
    const buffered = this.future;
    this.future = [];
    this.futurePerSender.clear();
    for (const m of buffered) {
      if ('view' in m && m.view < this.view) continue;
      if ('view' in m && (m.view > this.view || this.status !== 'normal')) {
        this.future.push(m);
        continue;
      }
      this.dispatch(m);
    }
    this.recountFuture();
  }

  private recountFuture(): void {
    this.futurePerSender.clear();
    for (const m of this.future)
      this.futurePerSender.set(m.from, (this.futurePerSender.get(m.from) ?? 0) + 1);
  }

  // ---------------------------------------------------------------- state transfer

  private notePeerHeight(from: number, height: number): void {
    if ((this.peerHeights.get(from) ?? 0) < height) this.peerHeights.set(from, height);
  }

  /** A height that at least one honest validator has reached: the (f+1)-th highest claim. */
  private peerTarget(): number {
    const hs: number[] = [];
    for (let v = 0; v < this.n; v++) if (v !== this.self) hs.push(this.peerHeights.get(v) ?? 0);
    hs.sort((a, b) => b - a);
    return hs[this.f] ?? 0;
  }

  private maybeHelpLaggard(peer: number, height: number): void {
    if (height > this.lastCommitted) return;
    const last = this.helpedAtMs.get(peer);
    if (last !== undefined && this.nowMs - last < this.cfg.retransmitIntervalMs) return;
    this.helpedAtMs.set(peer, this.nowMs);
    this.sendBlocks(peer, height, this.lastCommitted);
  }

  private sendBlocks(peer: number, fromHeight: number, toHeight: number): void {
    const entries = [];
    const end = Math.min(
      toHeight,
      this.lastCommitted,
      fromHeight + this.cfg.maxSyncBlocksPerResponse - 1,
    );
    for (let h = Math.max(1, fromHeight); h <= end; h++) {
      const e = this.deps.chain.getCertifiedBlock(h);
      if (!e) break;
      entries.push(e);
    }
    if (entries.length === 0 && !this.stable.cert) return;
    const msg: SyncResponseMessage = {
      kind: 'sync-response',
      from: this.self,
      entries,
      checkpoint: this.stable.cert,
    };
    this.metrics.syncResponsesServed++;
    this.emit({ type: 'send', to: peer, message: msg });
  }

  private maybeRequestSync(): void {
    const target = Math.max(this.syncTarget, this.peerTarget());
    if (target <= this.lastCommitted) return;
    if (this.nowMs - this.lastProgressMs < this.cfg.retransmitIntervalMs) return;
    if (this.nowMs - this.lastSyncRequestMs < this.cfg.retransmitIntervalMs) return;
    const candidates: number[] = [];
    for (let v = 0; v < this.n; v++) {
      if (v !== this.self && (this.peerHeights.get(v) ?? 0) > this.lastCommitted)
        candidates.push(v);
    }
    if (candidates.length === 0) return;
    const peer = candidates[this.syncPeerCursor++ % candidates.length];
    if (peer === undefined) return;
    this.sendSyncRequest(peer, target);
  }

  private sendSyncRequest(peer: number, target: number): void {
    const fromHeight = this.lastCommitted + 1;
    const toHeight = Math.max(target, fromHeight + this.cfg.maxSyncBlocksPerResponse - 1);
    const signature = this.deps.crypto.signMessage(
      syncRequestVoteBytes(this.self, fromHeight, toHeight),
    );
    this.lastSyncRequestMs = this.nowMs;
    this.metrics.syncRequestsSent++;
    const msg: SyncRequestMessage = {
      kind: 'sync-request',
      from: this.self,
      fromHeight,
      toHeight,
      signature,
    };
    this.emit({ type: 'send', to: peer, message: msg });
  }

  private onSyncRequest(m: SyncRequestMessage): void {
    if (m.toHeight < m.fromHeight) {
      this.metrics.droppedMalformed++;
      return;
    }
    if (
      !this.deps.crypto.verifyMessage(
        syncRequestVoteBytes(m.from, m.fromHeight, m.toHeight),
        m.signature,
        m.from,
      )
    ) {
      this.metrics.droppedBadSignature++;
      return;
    }
    // The same range again within a retransmit interval is a duplicate; a new range is served at once.
    const last = this.servedSync.get(m.from);
    if (
      last &&
      last.fromHeight === m.fromHeight &&
      this.nowMs - last.atMs < this.cfg.retransmitIntervalMs
    ) {
      this.metrics.droppedDuplicate++;
      return;
    }
    this.servedSync.set(m.from, { fromHeight: m.fromHeight, atMs: this.nowMs });
    this.sendBlocks(m.from, m.fromHeight, m.toHeight);
  }

  /** Verify a commit certificate for `block` against the validator set. */
  verifyCertificate(block: Block, cert: CommitCertificate): boolean {
    if (cert.chainId !== this.cfg.chainId || cert.height !== block.header.height) return false;
    if (!bytesEqual(cert.blockHash, this.hashBlock(block))) return false;
    // Canonical form, as the ledger requires: strictly ascending validator indexes.
    for (let i = 1; i < cert.signatures.length; i++) {
      if ((cert.signatures[i]?.validator ?? 0) <= (cert.signatures[i - 1]?.validator ?? 0))
        return false;
    }
    const bytes = commitVoteBytes(cert.chainId, cert.height, cert.view, cert.blockHash);
    return this.verifyQuorum(cert.signatures, this.q, (s) =>
      this.deps.crypto.verifyCommitVote(bytes, s.signature, s.validator),
    );
  }

  private onSyncResponse(m: SyncResponseMessage): void {
    let applied = 0;
    for (const e of m.entries) {
      const h = e.certificate.height;
      if (h <= this.lastCommitted) continue;
      if (h !== this.lastCommitted + 1) break;
      if (
        !bytesEqual(e.block.header.prevHash, this.lastCommittedHash) ||
        !this.verifyCertificate(e.block, e.certificate)
      ) {
        this.metrics.droppedBadSignature++;
        break;
      }
      this.committedBlocks.delete(h);
      this.metrics.syncedHeights++;
      applied++;
      this.advanceCommitted(h, e.block, e.certificate);
    }
    if (applied > 0) this.notePeerHeight(m.from, this.lastCommitted);
    if (m.checkpoint && m.checkpoint.height > this.stable.height) {
      if (this.verifyCheckpointCert(m.checkpoint)) this.considerCheckpointCert(m.checkpoint);
      else this.metrics.droppedBadSignature++;
    }
    this.tryExecute();
    if (applied > 0) {
      // Still behind: ask the same peer for the next range at once (catch-up runs at network speed).
      if (Math.max(this.syncTarget, this.peerTarget()) > this.lastCommitted) {
        this.sendSyncRequest(m.from, Math.max(this.syncTarget, this.peerTarget()));
      }
      this.maybePropose();
    }
  }

  // ---------------------------------------------------------------- time

  private hasWork(): boolean {
    for (const [h, s] of this.slots) {
      if (h > this.lastCommitted && (s.acceptedView === this.view || s.pending)) return true;
    }
    return (
      this.deps.blockSource.pending(
        this.inFlightBelow(this.lastCommitted + this.cfg.watermarkWindowHeights + 1),
      ).txCount > 0
    );
  }

  private tick(): void {
    if (this.status === 'normal') {
      if (this.hasWork()) {
        if (this.viewDeadlineMs === null) this.viewDeadlineMs = this.nowMs + this.timeoutMs();
        else if (this.nowMs >= this.viewDeadlineMs) {
          this.startViewChange(this.view + 1);
        }
      } else {
        this.viewDeadlineMs = null;
      }
    } else {
      this.armViewChangeTimer();
      if (this.viewDeadlineMs !== null && this.nowMs >= this.viewDeadlineMs) {
        this.startViewChange(this.view + 1);
      }
    }
    this.maybePropose();
    this.maybeRetransmit();
    this.maybeRequestSync();
  }

  /**
   * Retransmission backs off (×2 per retransmission without progress, at most
   * ×16): a loaded replica that re-sent every block each interval would only
   * load its peers more, and slow everyone into view changes.
   */
  private retransmitIntervalMs(): number {
    return this.cfg.retransmitIntervalMs * 2 ** Math.min(this.retransmits, 4);
  }

  private maybeRetransmit(): void {
    const interval = this.retransmitIntervalMs();
    if (
      this.nowMs - this.lastProgressMs < this.cfg.retransmitIntervalMs ||
      this.nowMs - this.lastRetransmitMs < interval
    )
      return;
    this.lastRetransmitMs = this.nowMs;
    this.retransmits++;
    this.metrics.retransmissions++;
    if (this.status === 'view-change') {
      const vc = this.signed.get(keyOf('view-change', 0, this.view));
      if (vc) this.emit({ type: 'broadcast', message: vc.message });
      return;
    }
    if (this.lastNewView && this.isPrimary)
      this.emit({ type: 'broadcast', message: this.lastNewView });
    const top = this.lowWatermark() + this.cfg.watermarkWindowHeights;
    for (let h = this.lastCommitted + 1; h <= top; h++) {
      const slot = this.slots.get(h);
      if (!slot || slot.acceptedView !== this.view) continue;
      // The pre-prepare carries the whole block: only to those that show no sign of having it.
      const pp = this.signed.get(keyOf('pre-prepare', h, this.view));
      if (pp) {
        for (let v = 0; v < this.n; v++) {
          if (v === this.self || slot.prepares.has(v) || slot.commits.get(v)?.view === this.view) {
            continue;
          }
          this.emit({ type: 'send', to: v, message: pp.message });
        }
      }
      for (const kind of ['prepare', 'commit'] as const) {
        const e = this.signed.get(keyOf(kind, h, this.view));
        if (e) this.emit({ type: 'broadcast', message: e.message });
      }
    }
    // Our latest checkpoint, so lagging stable checkpoints can complete.
    const K = this.cfg.checkpointIntervalHeights;
    const cp = this.lastExecuted - (this.lastExecuted % K);
    if (cp > this.stable.height) {
      const e = this.signed.get(keyOf('checkpoint', cp, 0));
      if (e) this.emit({ type: 'broadcast', message: e.message });
    }
  }

  // ---------------------------------------------------------------- signing and WAL

  /**
   * Sign `bytes` as the one message for `key`, unless we already signed something
   * for that key: then reuse it if identical and refuse if different.
   */
  private signOnce(
    key: string,
    bytes: Uint8Array,
    commitVote: boolean,
  ): { signature: Uint8Array; bytesHex: string; fresh: boolean } | null {
    const bytesHex = toHex(bytes);
    const existing = this.signed.get(key);
    if (existing) {
      if (existing.bytesHex === bytesHex) {
        return { signature: existing.message.signature, bytesHex, fresh: false };
      }
      this.metrics.doubleSignRefused++;
      return null;
    }
    const signature = commitVote
      ? this.deps.crypto.signCommitVote(bytes)
      : this.deps.crypto.signMessage(bytes);
    return { signature, bytesHex, fresh: true };
  }

  private recordSigned(
    key: string,
    sig: { bytesHex: string; fresh: boolean },
    message: SignedVoteMessage,
  ): void {
    if (!sig.fresh) return;
    this.signed.set(key, { bytesHex: sig.bytesHex, message });
    this.emit({ type: 'persist', record: { type: 'signed', message } });
  }

  private restoreWal(records: readonly WalRecord[]): void {
    let maxView = 0;
    let vcView = -1;
    let nvOrVoteView = -1;
    for (const r of records) {
      if (r.type === 'stable-checkpoint') {
        if (
          r.certificate.height > this.stable.height &&
          r.certificate.height <= this.lastCommitted
        ) {
          this.stable = {
            height: r.certificate.height,
            blockHash: r.certificate.blockHash,
            cert: r.certificate,
          };
        }
      }
    }
    for (const r of records) {
      if (r.type === 'view') {
        nvOrVoteView = Math.max(nvOrVoteView, r.view);
        maxView = Math.max(maxView, r.view);
      } else if (r.type === 'prepared') {
        const c = r.certificate;
        if (c.height <= this.stable.height) continue;
        const slot = this.slot(c.height);
        if (!slot.prepared || slot.prepared.view < c.view) {
          slot.prepared = c;
          slot.preparedDigestHex = toHex(this.hashBlock(c.block));
          this.rememberBlock(slot, slot.preparedDigestHex, c.block);
        }
      } else if (r.type === 'signed') {
        const m = r.message;
        let key: string;
        let bytes: Uint8Array;
        switch (m.kind) {
          case 'pre-prepare': {
            key = keyOf(m.kind, m.height, m.view);
            bytes = prePrepareVoteBytes(m.height, m.view, this.hashBlock(m.block));
            nvOrVoteView = Math.max(nvOrVoteView, m.view);
            maxView = Math.max(maxView, m.view);
            break;
          }
          case 'prepare':
            key = keyOf(m.kind, m.height, m.view);
            bytes = prepareVoteBytes(m.height, m.view, m.digest);
            nvOrVoteView = Math.max(nvOrVoteView, m.view);
            maxView = Math.max(maxView, m.view);
            break;
          case 'commit':
            key = keyOf(m.kind, m.height, m.view);
            bytes = commitVoteBytes(this.cfg.chainId, m.height, m.view, m.digest);
            nvOrVoteView = Math.max(nvOrVoteView, m.view);
            maxView = Math.max(maxView, m.view);
            break;
          case 'checkpoint':
            key = keyOf(m.kind, m.height, 0);
            bytes = checkpointVoteBytes(m.height, m.blockHash, m.stateRoot);
            break;
          case 'view-change': {
            key = keyOf(m.kind, 0, m.newView);
            bytes = this.viewChangeBytes(m.from, m.newView, m.checkpoint, m.committed, m.prepared);
            vcView = Math.max(vcView, m.newView);
            maxView = Math.max(maxView, m.newView);
            break;
          }
          case 'new-view':
            key = keyOf(m.kind, 0, m.view);
            bytes = newViewVoteBytes(
              m.from,
              m.view,
              m.viewChanges.map((vc) => ({ from: vc.from, signature: vc.signature })),
              m.reproposals,
            );
            nvOrVoteView = Math.max(nvOrVoteView, m.view);
            maxView = Math.max(maxView, m.view);
            break;
        }
        if (m.from !== this.self) {
          throw new ConsensusError(
            ConsensusErrorCode.invalidWal,
            'WAL holds a message signed by another validator',
            {
              from: m.from,
            },
          );
        }
        this.signed.set(key, { bytesHex: toHex(bytes), message: m });
      }
    }
    this.view = maxView;
    if (vcView === maxView && nvOrVoteView < maxView && maxView > 0) {
      this.status = 'view-change';
      const vc = this.signed.get(keyOf('view-change', 0, maxView));
      if (vc && vc.message.kind === 'view-change') this.latestViewChange.set(this.self, vc.message);
    }
    if (records.length > 0) this.vcAttempts = 1;
  }

  // ---------------------------------------------------------------- helpers

  private slot(height: number): Slot {
    let s = this.slots.get(height);
    if (!s) {
      s = {
        height,
        acceptedView: -1,
        digest: null,
        digestHex: '',
        prePrepareSignature: null,
        pending: null,
        prepares: new Map(),
        commits: new Map(),
        blocks: new Map(),
        prepared: null,
        preparedDigestHex: '',
        commitSentView: -1,
        committed: height <= this.lastCommitted,
      };
      this.slots.set(height, s);
    }
    return s;
  }

  private rememberBlock(slot: Slot, digestHex: string, block: Block): void {
    if (slot.blocks.has(digestHex)) return;
    slot.blocks.set(digestHex, block);
    if (slot.blocks.size > MAX_BLOCKS_PER_SLOT) {
      for (const k of slot.blocks.keys()) {
        if (k !== slot.digestHex && k !== slot.preparedDigestHex && k !== digestHex) {
          slot.blocks.delete(k);
          break;
        }
      }
    }
  }

  private hashBlock(block: Block): Uint8Array {
    let h = this.hashCache.get(block);
    if (!h) {
      h = this.deps.hashBlock(block);
      this.hashCache.set(block, h);
    }
    return h;
  }

  private hashAt(height: number): Uint8Array | undefined {
    if (height === 0) return this.cfg.genesisHash;
    if (height === this.lastCommitted) return this.lastCommittedHash;
    if (height === this.stable.height) return this.stable.blockHash;
    return (
      this.committedHashes.get(height) ??
      this.deps.chain.getCertifiedBlock(height)?.certificate.blockHash
    );
  }

  private chainHashAt(height: number): Uint8Array {
    if (height === 0) return this.cfg.genesisHash;
    const e = this.deps.chain.getCertifiedBlock(height);
    if (!e) {
      throw new ConsensusError(
        ConsensusErrorCode.invalidConfig,
        'committed height not found in the chain',
        { height },
      );
    }
    return e.certificate.blockHash;
  }

  private emit(e: Effect): void {
    this.out.push(e);
  }

  private flush(): Effect[] {
    const next = this.nextDeadline();
    if (next !== null && next !== this.lastScheduledMs) {
      this.lastScheduledMs = next;
      this.out.push({ type: 'schedule', atMs: next });
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  private nextDeadline(): number | null {
    let next = this.lastProgressMs + this.cfg.retransmitIntervalMs;
    if (next <= this.nowMs) next = this.lastRetransmitMs + this.retransmitIntervalMs();
    if (this.viewDeadlineMs !== null) next = Math.min(next, this.viewDeadlineMs);
    if (this.isPrimary) next = Math.min(next, this.lastProposalMs + this.cfg.blockIntervalMs);
    return Math.max(next, this.nowMs);
  }
}

export function validateConfig(c: ReplicaConfig): void {
  const bad = (field: string, problem: string): never => {
    throw new ConsensusError(ConsensusErrorCode.invalidConfig, `${field}: ${problem}`, { field });
  };
  const posInt = (v: number, field: string): void => {
    if (!Number.isSafeInteger(v) || v <= 0) bad(field, 'must be a positive integer');
  };
  posInt(c.validatorCount, 'validatorCount');
  if (!Number.isSafeInteger(c.selfIndex) || c.selfIndex < 0 || c.selfIndex >= c.validatorCount) {
    bad('selfIndex', 'must index the validator set');
  }
  posInt(c.checkpointIntervalHeights, 'checkpointIntervalHeights');
  posInt(c.watermarkWindowHeights, 'watermarkWindowHeights');
  if (c.watermarkWindowHeights % c.checkpointIntervalHeights !== 0) {
    bad('watermarkWindowHeights', 'must be a multiple of checkpointIntervalHeights');
  }
  posInt(c.maxBlockTxs, 'maxBlockTxs');
  posInt(c.maxBlockBytes, 'maxBlockBytes');
  posInt(c.blockIntervalMs, 'blockIntervalMs');
  posInt(c.viewChangeTimeoutMs, 'viewChangeTimeoutMs');
  posInt(c.retransmitIntervalMs, 'retransmitIntervalMs');
  posInt(c.maxSyncBlocksPerResponse, 'maxSyncBlocksPerResponse');
  posInt(c.maxFutureMessages, 'maxFutureMessages');
  if (c.viewChangeTimeoutMaxMs < c.viewChangeTimeoutMs)
    bad('viewChangeTimeoutMaxMs', 'must be ≥ viewChangeTimeoutMs');
}
