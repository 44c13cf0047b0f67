/**
 * The benchmark's arithmetic, kept apart from processes and sockets so it can
 * be tested on synthetic events: latency percentiles from a histogram,
 * measurement windows (warm-up and cool-down excluded), rates, the
 * signature-verification bound, per-second bucketing, the quorum commit rate
 * and the time from a crash to the first commit in a new view.
 *
 * Every time is in milliseconds on one clock (the harness's `nowMs`), every
 * rate per second.
 */
import { createHistogram } from 'node:perf_hooks';
import type { RecordableHistogram } from 'node:perf_hooks';
import { InvalidInputError } from '../errors.js';

// ---------------------------------------------------------------------------
// latency

/** Percentiles of a latency distribution, in milliseconds (null when nothing was recorded). */
export interface LatencySummary {
  readonly count: number;
  readonly min: number | null;
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly p999: number | null;
  readonly max: number | null;
}

export const EMPTY_LATENCY: LatencySummary = {
  count: 0,
  min: null,
  mean: null,
  p50: null,
  p90: null,
  p99: null,
  p999: null,
  max: null,
};

/** Histogram resolution: microseconds, so sub-millisecond latencies keep 3 significant digits. */
const MICROS_PER_MS = 1000;
/** Largest latency recorded exactly: one hour. Longer ones are clamped (and counted as such). */
const MAX_LATENCY_MICROS = 3_600_000_000;

/**
 * Latencies in an HDR histogram (`perf_hooks.createHistogram`, 3 significant
 * digits: any percentile is within 0.1 % of the exact value), recorded in
 * microseconds and reported in milliseconds rounded to 0.01 ms.
 */
export class LatencyHistogram {
  readonly #histogram: RecordableHistogram;
  #clamped = 0;

  constructor() {
    this.#histogram = createHistogram({ lowest: 1, highest: MAX_LATENCY_MICROS, figures: 3 });
  }

  /** Records one latency; negative values (clock steps) count as 0, NaN is refused. */
  record(latencyMs: number): void {
    if (Number.isNaN(latencyMs)) throw new InvalidInputError('latencyMs', 'must be a number');
    let micros = Math.round(latencyMs * MICROS_PER_MS);
    if (micros > MAX_LATENCY_MICROS) {
      micros = MAX_LATENCY_MICROS;
      this.#clamped++;
    }
    this.#histogram.record(Math.max(1, micros));
  }

  get count(): number {
    return this.#histogram.count;
  }

  /** Latencies above one hour, recorded as one hour. */
  get clamped(): number {
    return this.#clamped;
  }

  summary(): LatencySummary {
    const h = this.#histogram;
    if (h.count === 0) return EMPTY_LATENCY;
    const ms = (micros: number): number => round(micros / MICROS_PER_MS, 2);
    return {
      count: h.count,
      min: ms(h.min),
      mean: ms(h.mean),
      p50: ms(h.percentile(50)),
      p90: ms(h.percentile(90)),
      p99: ms(h.percentile(99)),
      p999: ms(h.percentile(99.9)),
      max: ms(h.max),
    };
  }
}

/** Exact nearest-rank percentile of an ascending list (`p` in (0, 100]); the reference the histogram is tested against. */
export function percentileOfSorted(sorted: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new InvalidInputError('p', 'must be in (0, 100]');
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export function summarizeLatencies(latenciesMs: Iterable<number>): LatencySummary {
  const h = new LatencyHistogram();
  for (const value of latenciesMs) h.record(value);
  return h.summary();
}

// ---------------------------------------------------------------------------
// windows and rates

/** A half-open interval `[startMs, endMs)`. */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export interface LoadPhases {
  /** When the generator starts sending (its schedule's time zero). */
  readonly loadStartMs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly cooldownMs: number;
}

/** The measured part of a run: after the warm-up, before the cool-down. */
export function measurementWindow(phases: LoadPhases): TimeWindow {
  for (const [field, value] of Object.entries(phases)) {
    if (!Number.isFinite(value) || (field !== 'loadStartMs' && value < 0)) {
      throw new InvalidInputError(field, `must be a finite, non-negative number, got ${value}`);
    }
  }
  if (phases.durationMs <= 0) throw new InvalidInputError('durationMs', 'must be positive');
  const startMs = phases.loadStartMs + phases.warmupMs;
  return { startMs, endMs: startMs + phases.durationMs };
}

/** When the generator stops: warm-up + measured duration + cool-down after the load starts. */
export function loadEndMs(phases: LoadPhases): number {
  return phases.loadStartMs + phases.warmupMs + phases.durationMs + phases.cooldownMs;
}

export function inWindow(window: TimeWindow, atMs: number): boolean {
  return atMs >= window.startMs && atMs < window.endMs;
}

export function windowSeconds(window: TimeWindow): number {
  return (window.endMs - window.startMs) / 1000;
}

/** `count` events over `window`, per second. */
export function ratePerSecond(count: number, window: TimeWindow): number {
  const seconds = windowSeconds(window);
  if (seconds <= 0) throw new InvalidInputError('window', 'must have a positive length');
  return count / seconds;
}

/** How many of `times` fall in `window`. */
export function countInWindow(times: Iterable<number>, window: TimeWindow): number {
  let n = 0;
  for (const t of times) if (inWindow(window, t)) n++;
  return n;
}

/**
 * The rate at which a commit quorum of nodes commits: the `quorum`-th highest
 * of the per-node rates (0 if fewer nodes reported). With 4 validators and a
 * quorum of 3, one crashed or lagging node does not lower it; two do.
 */
export function quorumRate(perNodeRates: readonly number[], quorum: number): number {
  if (!Number.isSafeInteger(quorum) || quorum < 1) {
    throw new InvalidInputError('quorum', 'must be a positive integer');
  }
  const sorted = [...perNodeRates].sort((a, b) => b - a);
  return sorted[quorum - 1] ?? 0;
}

/** PBFT commit quorum 2f + 1 of `n` validators. */
export function commitQuorum(validators: number): number {
  if (!Number.isSafeInteger(validators) || validators < 1) {
    throw new InvalidInputError('validators', 'must be a positive integer');
  }
  const f = Math.floor((validators - 1) / 3);
  return 2 * f + 1;
}

// ---------------------------------------------------------------------------
// the bound

/**
 * The signature-verification bound: every node verifies every transaction
 * once, so `nodes` nodes sharing `cores` cores commit at most
 * `verifies/s per core × cores ÷ nodes` transactions per second.
 */
export function verificationBoundTps(
  verifiesPerSecPerCore: number,
  cores: number,
  nodes: number,
): number {
  if (!(verifiesPerSecPerCore > 0) || !Number.isFinite(verifiesPerSecPerCore)) {
    throw new InvalidInputError('verifiesPerSecPerCore', 'must be a positive number');
  }
  if (!Number.isSafeInteger(cores) || cores < 1) {
    throw new InvalidInputError('cores', 'must be a positive integer');
  }
  if (!Number.isSafeInteger(nodes) || nodes < 1) {
    throw new InvalidInputError('nodes', 'must be a positive integer');
  }
  return (verifiesPerSecPerCore * cores) / nodes;
}

/** `tps` as a fraction of `bound` (null without a bound). */
export function fractionOf(tps: number, bound: number | null): number | null {
  if (bound === null || !(bound > 0)) return null;
  return tps / bound;
}

// ---------------------------------------------------------------------------
// time series

/** The bucket (0-based second of the run, or `bucketMs` slice) that `atMs` falls in; negative before `originMs`. */
export function bucketOf(atMs: number, originMs: number, bucketMs = 1000): number {
  if (!(bucketMs > 0)) throw new InvalidInputError('bucketMs', 'must be positive');
  return Math.floor((atMs - originMs) / bucketMs);
}

/**
 * Counts per bucket from `originMs` for `buckets` buckets: weighted events
 * `[atMs, weight]` outside the range are dropped.
 */
export function bucketCounts(
  events: Iterable<readonly [atMs: number, weight: number]>,
  originMs: number,
  buckets: number,
  bucketMs = 1000,
): number[] {
  if (!Number.isSafeInteger(buckets) || buckets < 0) {
    throw new InvalidInputError('buckets', 'must be a non-negative integer');
  }
  const counts = new Array<number>(buckets).fill(0);
  for (const [atMs, weight] of events) {
    const b = bucketOf(atMs, originMs, bucketMs);
    if (b >= 0 && b < buckets) counts[b] = (counts[b] ?? 0) + weight;
  }
  return counts;
}

// ---------------------------------------------------------------------------
// faults

/** A block as the harness saw it commit at a node. */
export interface CommitSighting {
  readonly atMs: number;
  readonly node: number;
  readonly height: number;
  readonly view: number;
  readonly txCount: number;
}

export interface CrashRecovery {
  /** Time from the crash to the first block any surviving node committed after it. */
  readonly firstCommitAfterMs: number | null;
  /** Time from the crash to the first block committed in a view above the view at the crash. */
  readonly firstCommitInNewViewMs: number | null;
  readonly viewAtCrash: number;
  /** The view of that first block (null if none came). */
  readonly newView: number | null;
}

/**
 * How long the alliance took to commit again after a crash. `viewAtCrash` is
 * the highest view committed before the crash; blocks from the crashed node
 * itself are ignored.
 */
export function crashRecovery(
  crashAtMs: number,
  crashedNode: number,
  viewAtCrash: number,
  sightings: Iterable<CommitSighting>,
): CrashRecovery {
  let firstAfter: number | null = null;
  let firstNewView: { atMs: number; view: number } | null = null;
  for (const s of sightings) {
    if (s.node === crashedNode || s.atMs < crashAtMs) continue;
    if (firstAfter === null || s.atMs < firstAfter) firstAfter = s.atMs;
    if (s.view > viewAtCrash && (firstNewView === null || s.atMs < firstNewView.atMs)) {
      firstNewView = { atMs: s.atMs, view: s.view };
    }
  }
  return {
    firstCommitAfterMs: firstAfter === null ? null : round(firstAfter - crashAtMs, 1),
    firstCommitInNewViewMs: firstNewView === null ? null : round(firstNewView.atMs - crashAtMs, 1),
    viewAtCrash,
    newView: firstNewView?.view ?? null,
  };
}

// ---------------------------------------------------------------------------
// small helpers

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Mean of a list (null when empty). */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Median of a list (null when empty). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? null)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
