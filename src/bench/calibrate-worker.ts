/**
 * One calibration worker thread: signs a set of synthetic messages with
 * several keys, waits at the shared start line, then verifies them in a loop
 * for the time budget and reports how many verifications it completed.
 * See ./calibrate.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { DOMAIN, getSuite } from '../crypto/index.js';
import type { SuiteId } from '../crypto/index.js';
import { MedchainError } from '../errors.js';

export interface CalibrateWorkerData {
  readonly suite: SuiteId;
  readonly seconds: number;
  readonly messageBytes: number;
  /** Distinct signing keys (the workload's signers). */
  readonly signers: number;
  /** Register the keys as known signers (precomputed tables) before verifying. */
  readonly knownKeys: boolean;
  /** Int32Array over a SharedArrayBuffer: [ready count, go flag]. */
  readonly startLine: SharedArrayBuffer;
}

export interface CalibrateWorkerResult {
  readonly verifies: number;
  readonly elapsedMs: number;
}

const CHAIN_ID = 'medchain-bench-calibration';
const MESSAGES_PER_SIGNER = 8;
/** Upper bound on loop iterations whatever the clock does. */
const MAX_VERIFIES = 50_000_000;
const START_WAIT_MS = 60_000;

function run(data: CalibrateWorkerData): CalibrateWorkerResult {
  const suite = getSuite(data.suite);
  const items: { message: Uint8Array; signature: Uint8Array; publicKey: Uint8Array }[] = [];
  for (let s = 0; s < data.signers; s++) {
    const key = suite.generateKeyPair();
    if (data.knownKeys) suite.registerKnownSigner(key.publicKey);
    for (let m = 0; m < MESSAGES_PER_SIGNER; m++) {
      const message = suite.randomBytes(data.messageBytes);
      items.push({
        message,
        signature: suite.sign(DOMAIN.tx, CHAIN_ID, message, key.privateKey),
        publicKey: key.publicKey,
      });
    }
  }
  const verifyOne = (i: number): void => {
    const item = items[i % items.length];
    if (
      item === undefined ||
      !suite.verify(DOMAIN.tx, CHAIN_ID, item.message, item.signature, item.publicKey)
    ) {
      throw new MedchainError('BENCH_CALIBRATION_FAILED', 'a calibration signature did not verify');
    }
  };
  for (let i = 0; i < Math.min(items.length, 64); i++) verifyOne(i); // warm-up: JIT, key caches
  const line = new Int32Array(data.startLine);
  Atomics.add(line, 0, 1);
  Atomics.notify(line, 0);
  if (Atomics.wait(line, 1, 0, START_WAIT_MS) === 'timed-out') {
    throw new MedchainError('BENCH_CALIBRATION_FAILED', 'calibration workers were never started');
  }
  const budgetMs = data.seconds * 1000;
  const start = performance.now();
  let verifies = 0;
  let elapsedMs = 0;
  while (elapsedMs < budgetMs && verifies < MAX_VERIFIES) {
    for (let k = 0; k < 16; k++) verifyOne(verifies + k);
    verifies += 16;
    elapsedMs = performance.now() - start;
  }
  return { verifies, elapsedMs };
}

if (parentPort !== null) {
  parentPort.postMessage(run(workerData as CalibrateWorkerData));
}
