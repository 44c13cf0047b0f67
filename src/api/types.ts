/**
 * What the HTTP API needs from the node, and nothing more. The node
 * (src/node) implements `NodeApi` and hands it to `createApiServer`; the API
 * layer never reaches into consensus, p2p or storage itself.
 *
 * Byte fields are `Uint8Array` (the API turns them into lower-case hex);
 * blocks, transactions, certificates and receipts are the ledger types.
 * Failures are thrown as `MedchainError`s whose codes the server maps to
 * HTTP statuses (./errors.ts, `API_ERROR_STATUS`).
 */
import type { SuiteId } from '../crypto/suite.js';
import type { Block, CommitCertificate, Receipt, Transaction } from '../ledger/types.js';

export type NodeRole = 'validator' | 'observer';
export type SyncState = 'synced' | 'syncing';

export interface NodeStatus {
  readonly chainId: string;
  /** This node's institution id (genesis). */
  readonly institutionId: string;
  readonly role: NodeRole;
  readonly suite: SuiteId;
  readonly genesisHash: Uint8Array;
  /** Height of the latest committed block; 0 before the first block. */
  readonly height: number;
  /** Hash of the latest committed block; `null` at height 0. */
  readonly latestBlockHash: Uint8Array | null;
  /** This node's state root after `height` (what checkpoints compare); `null` at height 0. */
  readonly stateRoot: Uint8Array | null;
  /** Current consensus view. */
  readonly view: number;
  /** Primary of the current view: its index in the validator set and its institution id. */
  readonly primary: { readonly index: number; readonly institutionId: string };
  /** Validators in the current set, and how many of them (other than this node) are connected. */
  readonly validators: { readonly total: number; readonly connected: number };
  /** `targetHeight` is the highest height known from peers (equal to `height` when synced). */
  readonly sync: { readonly state: SyncState; readonly targetHeight: number };
  readonly mempool: { readonly size: number; readonly bytes: number };
  /** Connected libp2p peers. */
  readonly peers: number;
  /** Node software version. */
  readonly version: string;
}

/**
 * Outcome of an accepted submission. `duplicate` is true when the node
 * already held the transaction (in its mempool or committed): submitting is
 * idempotent, so a client may retry safely.
 */
export interface SubmitResult {
  readonly hash: Uint8Array;
  readonly duplicate: boolean;
}

/** A transaction the node knows: waiting in the mempool, or committed with its receipt. */
export type TxLookup =
  | { readonly status: 'pending'; readonly tx: Transaction }
  | { readonly status: 'committed'; readonly tx: Transaction; readonly receipt: Receipt };

/** A committed block with what proves and explains it. */
export interface BlockLookup {
  readonly block: Block;
  /** Hash of `block.header`. */
  readonly hash: Uint8Array;
  readonly certificate: CommitCertificate;
  /** One receipt per transaction, in block order (`receipts[i].txHash` is the hash of `block.txs[i]`). */
  readonly receipts: readonly Receipt[];
}

export interface PeerInfo {
  /** libp2p peer id (base58). */
  readonly peerId: string;
  /** Institution bound to this peer id in genesis; `null` if unknown. */
  readonly institutionId: string | null;
  readonly role: NodeRole | null;
  /** Multiaddrs of the open connections. */
  readonly addresses: readonly string[];
  readonly direction: 'inbound' | 'outbound';
}

/** Emitted once per committed block, in height order. */
export interface CommittedBlockEvent {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly view: number;
  /** Header timestamp, milliseconds since the epoch. */
  readonly timestamp: number;
  readonly txCount: number;
  readonly receipts: readonly Receipt[];
}

export type CommittedBlockListener = (event: CommittedBlockEvent) => void;

/** `/healthz`: is the process able to serve (not halted on a broken invariant)? */
export interface HealthReport {
  readonly ok: boolean;
  /** Why not, when `ok` is false (safe to show: no keys or patient data). */
  readonly reason?: string;
}

/** `/readyz`: ready when every check is true. */
export interface ReadinessReport {
  readonly storeOpen: boolean;
  readonly p2pStarted: boolean;
  readonly synced: boolean;
}

/**
 * The node as the API sees it. Synchronous methods must be cheap (they run
 * on every status, metrics and health request).
 */
export interface NodeApi {
  status(): NodeStatus;
  /**
   * Decode, validate and admit one transaction given as its canonical bytes.
   * Throws a `MedchainError`: malformed or badly signed → a `LEDGER_*` /
   * `CODEC_*` / `TX_INVALID` code (400); over the size limit →
   * `LEDGER_TX_TOO_LARGE` (413); mempool full → `MEMPOOL_FULL` (503,
   * optional `details.retryAfterSeconds`); not ready to accept →
   * `NODE_NOT_READY` (503). See ./errors.ts for the whole table.
   */
  submitTransaction(bytes: Uint8Array): Promise<SubmitResult>;
  /** `undefined` when the node has never seen this hash. */
  getTransaction(hash: Uint8Array): Promise<TxLookup | undefined>;
  /** `undefined` above the latest height. */
  getBlock(height: number): Promise<BlockLookup | undefined>;
  latestHeight(): number;
  peers(): readonly PeerInfo[];
  /** Calls `listener` after each block commits; returns the unsubscribe function. */
  subscribe(listener: CommittedBlockListener): () => void;
  health(): HealthReport;
  readiness(): ReadinessReport;
}
