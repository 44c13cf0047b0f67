/**
 * What the micro-benchmarks (`npm run bench:encode`, `bench:http`,
 * `bench:floor`) share: timing an operation per call, their `--name=value`
 * number flags, and one doctor's `record.register` transactions.
 */
import { performance } from 'node:perf_hooks';
import type { CryptoSuite } from '../crypto/index.js';
import { WorkloadBuilder } from './workload.js';
import type { PreparedTx } from './workload.js';

/**
 * Microseconds per call of `op`, run in groups of 10 until `seconds` have
 * passed (at most a million calls), after a warm-up of `warmUp` calls. `wall`
 * measures elapsed time; `cpu` the process's CPU (user + system, all threads,
 * so the garbage collector's helpers count too).
 */
export function microsPerCall(
  op: () => unknown,
  seconds: number,
  clock: 'wall' | 'cpu',
  warmUp = 20,
): number {
  for (let i = 0; i < warmUp; i++) op();
  let calls = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end && calls < 1_000_000) {
    for (let i = 0; i < 10; i++) op();
    calls += 10;
    now = performance.now();
  }
  if (clock === 'wall') return ((now - start) * 1000) / calls;
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / calls;
}

/** The value of `--name=<number>` in `argv`, clamped to [min, max]; `fallback` when absent or not a number. */
export function numberArg(
  argv: readonly string[],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const arg = argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

/**
 * `count` signed `record.register` transactions (256 bytes of metadata) of one
 * fresh doctor of a fresh institution, valid until height 10^9. Returns the
 * doctor's public key with them.
 */
export function oneDoctorRecords(
  suite: CryptoSuite,
  chainId: string,
  count: number,
): { readonly doctorKey: Uint8Array; readonly txs: PreparedTx[] } {
  const doctor = suite.generateKeyPair();
  const institution = suite.generateKeyPair();
  const builder = new WorkloadBuilder(
    {
      suite,
      chainId,
      workload: 'record.register',
      payloadBytes: 256,
      certificateNotAfter: 1_000_000_000,
    },
    [
      {
        privateKey: doctor.privateKey,
        publicKey: doctor.publicKey,
        institution: 'bench-hospital',
        institutionKey: institution.publicKey,
        target: 0,
        firstNonce: 1,
      },
    ],
  );
  return { doctorKey: doctor.publicKey, txs: builder.prepare(count, 1_000_000_000) };
}
