/**
 * Messages between the harness and a load-generator process (./generator.ts),
 * over the `child_process.fork` IPC channel with `serialization: 'advanced'`
 * (structured clone: typed arrays cross without copying into JSON).
 *
 *   harness → generator: init → ready; prepare → prepared; run → progress… → done;
 *                        retarget (a node crashed: send its share elsewhere); exit
 *   generator → harness: error (then it exits 1)
 *
 * Signer private keys cross this channel in memory only (throwaway bench
 * keys); nothing here is logged or written to disk.
 */
import type { SuiteId } from '../crypto/suite.js';
import type { Workload, WorkloadSigner } from './workload.js';

/** Outcome of one submitted transaction, as the node answered. */
export const SEND_OUTCOME = { accepted: 0, duplicate: 1, rejected: 2, failed: 3 } as const;
export type SendOutcome = (typeof SEND_OUTCOME)[keyof typeof SEND_OUTCOME];

export interface GeneratorInit {
  readonly type: 'init';
  readonly generator: number;
  readonly suite: SuiteId;
  readonly chainId: string;
  readonly workload: Workload;
  readonly payloadBytes: number;
  readonly certificateNotAfter: number;
  /** API base URL of every node, by node index. */
  readonly targets: readonly string[];
  readonly signers: readonly WorkloadSigner[];
  /** Requests in flight per node at most (one per lane; a signer always uses the same lane). */
  readonly lanesPerNode: number;
  readonly tickMs: number;
  readonly maxBatchTxs: number;
}

export interface GeneratorPrepare {
  readonly type: 'prepare';
  readonly count: number;
  readonly validUntilHeight: number;
}

export interface GeneratorRun {
  readonly type: 'run';
  /** Time zero of the schedule, on the shared clock (`nowMs`). */
  readonly startAtMs: number;
  readonly ratePerSec: number;
}

export interface GeneratorRetarget {
  readonly type: 'retarget';
  readonly fromNode: number;
  readonly toNode: number;
}

export interface GeneratorExit {
  readonly type: 'exit';
}

export type ToGenerator =
  GeneratorInit | GeneratorPrepare | GeneratorRun | GeneratorRetarget | GeneratorExit;

export interface GeneratorReady {
  readonly type: 'ready';
}

export interface GeneratorPrepared {
  readonly type: 'prepared';
  readonly count: number;
  /** `count` hashes of `hashLength` bytes, concatenated, in schedule order. */
  readonly hashes: Uint8Array;
  readonly hashLength: number;
  /** Node index each transaction is sent to. */
  readonly targets: Uint16Array;
  readonly encodedBytes: number;
  /** Median length of the signed part (the message a node verifies). */
  readonly medianTxBytes: number;
  readonly prepareMs: number;
}

/** Sends completed since the last progress message (flushed every ~100 ms). */
export interface GeneratorProgress {
  readonly type: 'progress';
  /** Schedule indexes of the transactions. */
  readonly indexes: Uint32Array;
  readonly outcomes: Uint8Array;
  /** When each was handed to the node (request start), shared clock. */
  readonly sentAtMs: Float64Array;
  /** Node each was sent to. */
  readonly nodes: Uint16Array;
}

export interface GeneratorRunStats {
  readonly scheduled: number;
  readonly sent: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly failed: number;
  /** Rejection and failure codes with counts. */
  readonly errorCodes: Readonly<Record<string, number>>;
  readonly requests: number;
  /** Sent within ON_TIME_LAG_MS of the schedule. */
  readonly onTime: number;
  readonly lagP50Ms: number | null;
  readonly lagP99Ms: number | null;
  readonly lagMaxMs: number | null;
  /** Time from sending a batch to its answer. */
  readonly requestP50Ms: number | null;
  readonly requestP99Ms: number | null;
  readonly wallMs: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** Achieved send rate over the schedule's length. */
  readonly sentPerSec: number;
  readonly keptRate: boolean;
}

export interface GeneratorDone {
  readonly type: 'done';
  readonly stats: GeneratorRunStats;
}

export interface GeneratorErrorMessage {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
}

export type FromGenerator =
  GeneratorReady | GeneratorPrepared | GeneratorProgress | GeneratorDone | GeneratorErrorMessage;
