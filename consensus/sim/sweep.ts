/**
 * Seed sweeps: each seed picks a validator count, Byzantine replicas (at most
 * f), network faults, crashes and partitions, then runs the simulator. The
 * same seed always yields the same scenario and the same run.
 */
import type { CryptoSuite } from '../../src/crypto/suite.js';
import { maxFaulty } from '../quorum.js';
import { Prng } from './prng.js';
import { BYZANTINE_BEHAVIOURS, runSimulation } from './simulator.js';
import type { ByzantineBehaviour, SimulationOptions, SimulationResult } from './simulator.js';

/** Short timeouts so a sweep spends its virtual time on faults, not waiting. */
export const SWEEP_REPLICA_TIMING = {
  viewChangeTimeoutMs: 400,
  viewChangeTimeoutMaxMs: 3200,
  retransmitIntervalMs: 100,
  blockIntervalMs: 50,
} as const;

export function sweepScenario(
  seed: number,
  suite: CryptoSuite,
  sizes: readonly number[] = [4, 7, 10],
): SimulationOptions {
  const p = new Prng(seed ^ 0x5eed5eed);
  const n = p.pick(sizes) ?? 4;
  const f = maxFaulty(n);
  const byzCount = p.int(0, f);
  const validators = Array.from({ length: n }, (_, i) => i);
  const byzantine: { validator: number; behaviour: ByzantineBehaviour }[] = [];
  for (let i = 0; i < byzCount; i++) {
    const idx = p.int(0, validators.length - 1);
    const [validator] = validators.splice(idx, 1);
    const behaviour = p.pick(BYZANTINE_BEHAVIOURS) ?? 'silent';
    if (validator !== undefined) byzantine.push({ validator, behaviour });
  }
  return {
    seed,
    validators: n,
    suite,
    byzantine,
    network: {
      minDelayMs: 1,
      maxDelayMs: p.pick([5, 20, 50]) ?? 20,
      lossRate: p.pick([0, 0.05, 0.2]) ?? 0,
      duplicateRate: p.pick([0, 0.1, 0.3]) ?? 0,
    },
    randomFaults: {
      crashes: p.int(0, 3),
      partitions: p.int(0, 2),
      asymmetricPartitions: p.int(0, 1),
    },
    faultsEndMs: p.int(1000, 2500),
    livenessWindowMs: 40_000,
    livenessHeights: 3,
    replica: SWEEP_REPLICA_TIMING,
  };
}

export interface SweepResult {
  readonly runs: readonly SimulationResult[];
  readonly failures: readonly SimulationResult[];
}

export function runSweep(
  seeds: readonly number[],
  suite: CryptoSuite,
  overrides: Partial<SimulationOptions> = {},
): SweepResult {
  const runs = seeds.map((seed) => runSimulation({ ...sweepScenario(seed, suite), ...overrides }));
  return { runs, failures: runs.filter((r) => !r.ok) };
}
