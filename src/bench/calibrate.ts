/**
 * `--calibrate`: this machine's signature-verification bound, measured in the
 * same run as the benchmark (before the nodes start, so nothing competes).
 *
 * Worker threads verify synthetic signatures of the workload's size with the
 * chain's suite: first one worker alone (one core, nothing else running),
 * then one worker per core side by side (what the machine does when every
 * core verifies; shared caches and turbo make it less than cores × alone).
 * The bound is `verifies/s per core × cores ÷ nodes` with the side-by-side
 * per-core figure (./stats.ts `verificationBoundTps`): every node verifies
 * every transaction once.
 *
 * Both rates are measured: plain verification, and verification with the
 * signers registered as known keys (precomputed tables; several times faster
 * for gm, about equal for intl). Nodes register every certified member's key,
 * so the bound of a workload whose signers are members uses the known-key
 * rate (`boundOf`); anything else would flatter the nodes.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SuiteId } from '../crypto/index.js';
import { MedchainError } from '../errors.js';
import { builtBenchModule } from './built-module.js';
import type { CalibrateWorkerData, CalibrateWorkerResult } from './calibrate-worker.js';
import { round, verificationBoundTps } from './stats.js';

export interface CalibrationOptions {
  readonly suite: SuiteId;
  /** Time budget per measurement (default 2 s). */
  readonly seconds?: number;
  /** Size of the signed messages (the workload's encoded unsigned transaction). */
  readonly messageBytes?: number;
  /** Cores to load side by side (default: `os.availableParallelism()`). */
  readonly cores?: number;
  /** Distinct signing keys (default 64). */
  readonly signers?: number;
}

export interface Calibration {
  readonly suite: SuiteId;
  readonly cores: number;
  readonly messageBytes: number;
  readonly seconds: number;
  /** One worker, alone. */
  readonly verifyPerSecAlone: number;
  /** Total of `cores` workers side by side. */
  readonly verifyPerSecAllCores: number;
  /** `verifyPerSecAllCores ÷ cores`: the per-core figure the bound uses. */
  readonly verifyPerSecPerCore: number;
  /** Per core, side by side, with the keys registered as known signers. */
  readonly knownKeyVerifyPerSecPerCore: number;
}

const DEFAULT_SECONDS = 2;
const DEFAULT_MESSAGE_BYTES = 700;
const DEFAULT_SIGNERS = 64;
const READY_TIMEOUT_MS = 120_000;
const READY_POLL_MS = 5;

export class CalibrationError extends MedchainError {}

async function measure(
  workers: number,
  data: Omit<CalibrateWorkerData, 'startLine'>,
): Promise<number> {
  const startLine = new SharedArrayBuffer(8);
  const line = new Int32Array(startLine);
  const file = builtBenchModule('calibrate-worker');
  const threads = Array.from(
    { length: workers },
    () => new Worker(file, { workerData: { ...data, startLine } satisfies CalibrateWorkerData }),
  );
  const results = threads.map(
    (worker) =>
      new Promise<CalibrateWorkerResult>((resolve, reject) => {
        worker.once('message', (m: CalibrateWorkerResult) => {
          resolve(m);
        });
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (code !== 0) {
            reject(
              new CalibrationError(
                'BENCH_CALIBRATION_FAILED',
                `a calibration worker exited with code ${code}`,
              ),
            );
          }
        });
      }),
  );
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Atomics.load(line, 0) < workers) {
      if (Date.now() > deadline) {
        throw new CalibrationError(
          'BENCH_CALIBRATION_FAILED',
          'calibration workers did not get ready',
        );
      }
      await Promise.race([
        new Promise((resolve) => setTimeout(resolve, READY_POLL_MS)),
        ...results.map((r) => r.then(() => undefined)),
      ]);
    }
    Atomics.store(line, 1, 1);
    Atomics.notify(line, 1);
    const done = await Promise.all(results);
    return done.reduce((sum, r) => sum + (r.verifies / r.elapsedMs) * 1000, 0);
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

/** Measures the verify rates; takes about 3 × `seconds` plus key generation. */
export async function calibrate(options: CalibrationOptions): Promise<Calibration> {
  const seconds = options.seconds ?? DEFAULT_SECONDS;
  const messageBytes = options.messageBytes ?? DEFAULT_MESSAGE_BYTES;
  const cores = options.cores ?? availableParallelism();
  const signers = options.signers ?? DEFAULT_SIGNERS;
  if (!(seconds > 0 && seconds <= 60)) {
    throw new CalibrationError(
      'INVALID_INPUT',
      `calibration seconds: must be in (0, 60], got ${seconds}`,
    );
  }
  if (!Number.isSafeInteger(cores) || cores < 1 || cores > 256) {
    throw new CalibrationError('INVALID_INPUT', `cores: must be 1 to 256, got ${cores}`);
  }
  const base = { suite: options.suite, seconds, messageBytes, signers };
  const alone = await measure(1, { ...base, knownKeys: false });
  const allCores = await measure(cores, { ...base, knownKeys: false });
  const known = await measure(cores, { ...base, knownKeys: true });
  const total = Math.round(allCores);
  return {
    suite: options.suite,
    cores,
    messageBytes,
    seconds,
    verifyPerSecAlone: Math.round(alone),
    verifyPerSecAllCores: total,
    verifyPerSecPerCore: Math.round(total / cores),
    knownKeyVerifyPerSecPerCore: Math.round(known / cores),
  };
}

/**
 * Which verification rate a bound uses: `known-key` when the workload's
 * signers are certified members (the nodes verify them with precomputed
 * tables), `plain` when they are strangers (`rejected`).
 */
export type BoundBasis = 'known-key' | 'plain';

/** The verifications per second per core behind a bound of this basis. */
export function boundRate(calibration: Calibration, basis: BoundBasis): number {
  return basis === 'known-key'
    ? calibration.knownKeyVerifyPerSecPerCore
    : calibration.verifyPerSecPerCore;
}

/** The bound for `nodes` nodes on this machine. */
export function boundOf(calibration: Calibration, nodes: number, basis: BoundBasis): number {
  return round(verificationBoundTps(boundRate(calibration, basis), calibration.cores, nodes), 1);
}
