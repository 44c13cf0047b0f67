/**
 * How `medchain sim` flags become `SimulationOptions` (consensus/sim): named
 * fault profiles, the Byzantine validators chosen from the seed, and the
 * "twins split" that makes twins a meaningful negative control.
 *
 * Everything is a pure function of the flags and the seed, so a printed
 * `SEED=…` line replays exactly with the same flags.
 */
import { maxFaulty } from '../consensus/quorum.js';
import { Prng, sweepScenario } from '../consensus/sim/index.js';
import type { ByzantineBehaviour, SimulationOptions } from '../consensus/sim/index.js';
import { SWEEP_REPLICA_TIMING } from '../consensus/sim/sweep.js';
import type { CryptoSuite } from '../src/crypto/suite.js';

export const FAULT_PROFILES = ['none', 'delay', 'loss', 'partition', 'crash', 'mixed'] as const;
export type FaultProfile = (typeof FAULT_PROFILES)[number];

/** One line per profile, for `--help` and docs/cli.md. */
export const FAULT_PROFILE_DESCRIPTIONS: Readonly<Record<FaultProfile, string>> = {
  none: 'no faults: delays 1–20 ms, no loss (the normal case; use it to measure cost per block)',
  delay: 'slow, reordering network: delays 1–200 ms, no loss',
  loss: '20 % loss and 30 % duplication for the first 2 s, delays 1–20 ms',
  partition: 'two random symmetric partitions and one asymmetric partition in the first 2.5 s',
  crash:
    'three random crash/restarts from the WAL (some part-way through a step) in the first 2.5 s',
  mixed:
    'what the seed sweep uses: per seed, random delay, loss, duplication, crashes and partitions',
};

/** Seconds of virtual time the twins split lasts at least (the fault period, if longer). */
export const TWINS_SPLIT_MS = 3000;

export interface SimRequest {
  readonly nodes: number;
  readonly byzantine: number;
  readonly behaviour: ByzantineBehaviour;
  readonly faults: FaultProfile;
  /** Heights every honest replica must commit after the faults end. */
  readonly blocks: number;
  readonly suite: CryptoSuite;
  readonly insecureFakeSignatures: boolean;
}

/** `--behaviour` default: `silent` while the Byzantine replicas are at most f, `twins` (the negative control) beyond. */
export function defaultBehaviour(nodes: number, byzantine: number): ByzantineBehaviour {
  return byzantine > maxFaulty(nodes) ? 'twins' : 'silent';
}

/** `count` distinct validators in 0..nodes−1, chosen from the seed alone, ascending. */
export function chooseByzantine(seed: number, nodes: number, count: number): number[] {
  const prng = new Prng((seed ^ 0x62797a21) >>> 0);
  const pool = Array.from({ length: nodes }, (_, i) => i);
  const chosen: number[] = [];
  for (let i = 0; i < count && pool.length > 0; i++) {
    const [validator] = pool.splice(prng.int(0, pool.length - 1), 1);
    if (validator !== undefined) chosen.push(validator);
  }
  return chosen.sort((a, b) => a - b);
}

/**
 * One side of the twins split, as simulator instance ids (a twin runs as two
 * instances with consecutive ids; see consensus/sim/simulator.ts): the first
 * copy of every twin plus every other honest replica. The other side holds
 * the second copies and the remaining honest replicas, so with more than f
 * twins both sides hold a quorum and can commit different blocks.
 */
export function twinsSplitSide(nodes: number, twins: readonly number[]): number[] {
  const side: number[] = [];
  let id = 0;
  let honestSeen = 0;
  for (let v = 0; v < nodes; v++) {
    if (twins.includes(v)) {
      side.push(id);
      id += 2;
    } else {
      if (honestSeen % 2 === 0) side.push(id);
      honestSeen++;
      id += 1;
    }
  }
  return side;
}

type FaultOptions = Pick<
  SimulationOptions,
  'network' | 'randomFaults' | 'faultsEndMs' | 'livenessWindowMs'
>;

function profileOptions(profile: FaultProfile, seed: number, request: SimRequest): FaultOptions {
  switch (profile) {
    case 'none':
      return { network: { minDelayMs: 1, maxDelayMs: 20, lossRate: 0, duplicateRate: 0 } };
    case 'delay':
      return { network: { minDelayMs: 1, maxDelayMs: 200, lossRate: 0, duplicateRate: 0 } };
    case 'loss':
      return {
        network: { minDelayMs: 1, maxDelayMs: 20, lossRate: 0.2, duplicateRate: 0.3 },
        faultsEndMs: 2000,
      };
    case 'partition':
      return { randomFaults: { partitions: 2, asymmetricPartitions: 1 }, faultsEndMs: 2500 };
    case 'crash':
      return { randomFaults: { crashes: 3 }, faultsEndMs: 2500 };
    case 'mixed': {
      const sweep = sweepScenario(seed, request.suite, [request.nodes]);
      return {
        ...(sweep.network === undefined ? {} : { network: sweep.network }),
        ...(sweep.randomFaults === undefined ? {} : { randomFaults: sweep.randomFaults }),
        ...(sweep.faultsEndMs === undefined ? {} : { faultsEndMs: sweep.faultsEndMs }),
      };
    }
  }
}

/** The simulator options for one seed of a `medchain sim` run. */
export function scenarioFor(request: SimRequest, seed: number): SimulationOptions {
  const faults = profileOptions(request.faults, seed, request);
  const byzantineValidators = chooseByzantine(seed, request.nodes, request.byzantine);
  const byzantine = byzantineValidators.map((validator) => ({
    validator,
    behaviour: request.behaviour,
  }));
  let faultsEndMs = faults.faultsEndMs ?? 0;
  const partitions: NonNullable<SimulationOptions['partitions']>[number][] = [];
  if (request.behaviour === 'twins' && byzantine.length > 0) {
    faultsEndMs = Math.max(faultsEndMs, TWINS_SPLIT_MS);
    partitions.push({
      fromMs: 0,
      toMs: faultsEndMs,
      groups: [twinsSplitSide(request.nodes, byzantineValidators)],
    });
  }
  return {
    seed,
    validators: request.nodes,
    suite: request.suite,
    insecureFakeSignatures: request.insecureFakeSignatures,
    byzantine,
    ...faults,
    partitions,
    faultsEndMs,
    livenessHeights: request.blocks,
    livenessWindowMs: 40_000 + request.blocks * 500,
    replica: SWEEP_REPLICA_TIMING,
  };
}
