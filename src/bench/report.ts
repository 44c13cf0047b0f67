/**
 * The benchmark report: one JSON document (`report.json`) holding the
 * configuration, git commit, versions, machine, calibration, every step with
 * its percentiles, per-node resources and per-second time series, and the
 * summary that `--json` prints. CSV, HTML and the text table are views of it
 * (./report-csv.ts, ./report-html.ts, ./report-text.ts).
 */
import type { SuiteId } from '../crypto/suite.js';
import type { BoundBasis, Calibration } from './calibrate.js';
import type { FloorBenchResult } from './floor-bench.js';
import type { SeriesPoint, StepMeasurement } from './collector.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { GeneratorRunStats } from './generator-protocol.js';
import type { GitInfo, MachineInfo, Versions } from './machine.js';
import { fractionOf, round } from './stats.js';
import type { LatencySummary } from './stats.js';
import type { Workload } from './workload.js';

export const REPORT_FORMAT = 'medchain-bench';
export const REPORT_VERSION = 1;

export interface BenchConfig {
  /** `devnet`: the harness started the nodes; `targets`: nodes already running. */
  readonly mode: 'devnet' | 'targets';
  readonly nodes: number;
  readonly observers: number;
  readonly suite: SuiteId;
  readonly workload: Workload;
  readonly payloadBytes: number;
  readonly maxBlockTxs: number | null;
  readonly blockIntervalMs: number | null;
  readonly pipeline: number | null;
  /** Genesis view-change timeout of the devnet (null for targets). */
  readonly viewChangeTimeoutMs: number | null;
  /** Offered rate of a single run (null for a sweep). */
  readonly rate: number | null;
  readonly sweep: string | null;
  readonly durationS: number;
  readonly warmupS: number;
  readonly cooldownS: number;
  readonly generators: number;
  readonly lanesPerNode: number;
  readonly signers: number;
  readonly calibrate: boolean;
  /** `--floor`: the design's per-transaction floor was measured (./floor-bench.ts). */
  readonly floor: boolean;
  readonly cpuProf: boolean;
  readonly crashPrimaryAtS: number | null;
  readonly crashBackupAtS: number | null;
  readonly targets: readonly string[] | null;
}

export interface NodeReport {
  readonly id: string;
  readonly apiUrl: string;
  /** Mean CPU over the window, in cores (1.0 = one core busy). */
  readonly cpuCores: number | null;
  readonly cpuCoresMax: number | null;
  readonly rssMiBMax: number | null;
  readonly committedTps: number;
  readonly viewChanges: number | null;
  /** p2p messages / payload bytes this node sent per transaction committed in the window. */
  readonly p2pMessagesOutPerTx: number | null;
  readonly p2pBytesOutPerTx: number | null;
  /** Signatures the node verified at admission per transaction submitted in the window (1 = each tx once). */
  readonly signatureChecksPerTx: number | null;
  readonly crashedAtS: number | null;
}

export interface FaultReport {
  readonly kind: 'crash-primary' | 'crash-backup';
  readonly node: string;
  /** Seconds after the step's load started. */
  readonly atS: number;
  readonly viewAtCrash: number;
  readonly firstCommitAfterMs: number | null;
  readonly firstCommitInNewViewMs: number | null;
  readonly newView: number | null;
  /** Committed transactions per second around the crash: `[seconds relative to the crash, tx/s]`. */
  readonly timeline: readonly (readonly [number, number])[];
}

export interface GeneratorReport {
  readonly processes: number;
  /** CPU of all generator processes over their run, in cores. */
  readonly cpuCores: number;
  readonly keptRate: boolean;
  readonly sentPerSec: number;
  readonly lagP99Ms: number | null;
  readonly lagMaxMs: number | null;
  /** Batch request round trip (largest p50 / p99 over the generator processes). */
  readonly requestP50Ms: number | null;
  readonly requestP99Ms: number | null;
  readonly requests: number;
  readonly errorCodes: Readonly<Record<string, number>>;
  readonly prepareMs: number;
}

export interface SeriesRow extends SeriesPoint {
  /** CPU per node in cores during this second (null if not sampled). */
  readonly cpuCores: readonly (number | null)[];
  readonly rssMiB: readonly (number | null)[];
}

export interface StepReport extends Omit<StepMeasurement, 'window'> {
  readonly step: number;
  readonly label: string;
  readonly targetRate: number;
  readonly fractionOfBound: number | null;
  readonly saturated: boolean;
  readonly viewChanges: number | null;
  /** Over all nodes: p2p messages / bytes sent per committed transaction. */
  readonly messagesPerTx: number | null;
  readonly bytesPerTx: number | null;
  readonly generator: GeneratorReport;
  /** CPU of the harness process (event streams, bookkeeping) during the step, in cores. */
  readonly harnessCpuCores: number;
  readonly nodes: readonly NodeReport[];
  readonly faults: readonly FaultReport[];
  readonly series: readonly SeriesRow[];
}

export interface BenchSummary {
  readonly description: string;
  readonly committedTps: number;
  readonly offeredTps: number;
  readonly submittedTps: number;
  readonly boundTps: number | null;
  readonly fractionOfBound: number | null;
  /** `--floor`: the most of the bound a node doing only the floor's steps reaches. */
  readonly ceilingOfBound: number | null;
  /** ceilingOfBound × boundTps (needs --floor and --calibrate). */
  readonly ceilingTps: number | null;
  /** committedTps ÷ ceilingTps. */
  readonly fractionOfCeiling: number | null;
  readonly latencyMs: LatencySummary;
  readonly viewChanges: number | null;
  readonly blocksPerSec: number;
  readonly txsPerBlock: number | null;
  readonly messagesPerTx: number | null;
  readonly bytesPerTx: number | null;
  /** Accepted by the nodes, over the whole run. */
  readonly submitted: number;
  /** Of those, committed at a quorum of nodes. */
  readonly committed: number;
  /** Accepted but never committed (e.g. in a crashed node's mempool). */
  readonly lost: number;
  readonly generatorKeptRate: boolean;
  /** Sweep: the highest committed rate of any step, and the p99 at 80 % of it. */
  readonly saturationTps: number | null;
  readonly latencyAt80PercentOfSaturationMs: LatencySummary | null;
  readonly recovery: readonly FaultReport[];
}

export interface BenchReport {
  readonly format: typeof REPORT_FORMAT;
  readonly version: typeof REPORT_VERSION;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly config: BenchConfig;
  readonly git: GitInfo;
  readonly versions: Versions;
  readonly machine: MachineInfo;
  readonly calibration: Calibration | null;
  readonly boundTps: number | null;
  /** Which verification rate the bound uses (./calibrate.ts `BoundBasis`). */
  readonly boundBasis: BoundBasis | null;
  /** `--floor`: the per-transaction floor and the ceiling it implies. */
  readonly floor: FloorBenchResult | null;
  readonly summary: BenchSummary;
  readonly steps: readonly StepReport[];
  readonly profiles: readonly ProfileSummary[];
  readonly files: {
    readonly json: string;
    readonly csv: string;
    readonly stepsCsv: string;
    readonly html: string;
  } | null;
}

/** One line that says what was measured. */
export function describeSetup(config: BenchConfig, machine: MachineInfo): string {
  const load =
    config.sweep !== null ? `sweep ${config.sweep}` : `open loop at ${config.rate ?? '?'} tx/s`;
  const block = [
    config.maxBlockTxs === null ? null : `≤${config.maxBlockTxs} tx/block`,
    config.blockIntervalMs === null ? null : `${config.blockIntervalMs} ms interval`,
    config.pipeline === null ? null : `window ${config.pipeline}`,
  ].filter((s) => s !== null);
  return (
    `${config.nodes} validators${config.observers > 0 ? ` + ${config.observers} observer(s)` : ''}, ` +
    `suite ${config.suite}, ${config.workload}, ${load}, ${config.durationS} s measured ` +
    `(${config.warmupS} s warm-up, ${config.cooldownS} s cool-down)` +
    (block.length > 0 ? `, ${block.join(', ')}` : '') +
    `, ${config.mode === 'devnet' ? 'local processes' : 'remote targets'} on ${machine.cpuModel} ×${machine.cpus}`
  );
}

/** Combines the stats of several generator processes (CPU in cores over `wallMs`). */
export function mergeGeneratorStats(
  stats: readonly GeneratorRunStats[],
  prepareMs: number,
): GeneratorReport {
  const wallMs = Math.max(1, ...stats.map((s) => s.wallMs));
  const cpuMs = stats.reduce((sum, s) => sum + s.cpuUserMs + s.cpuSystemMs, 0);
  const errorCodes: Record<string, number> = {};
  for (const s of stats) {
    for (const [code, n] of Object.entries(s.errorCodes))
      errorCodes[code] = (errorCodes[code] ?? 0) + n;
  }
  const maxOf = (values: (number | null)[]): number | null => {
    const known = values.filter((v): v is number => v !== null);
    return known.length === 0 ? null : Math.max(...known);
  };
  return {
    processes: stats.length,
    cpuCores: round(cpuMs / wallMs, 3),
    keptRate: stats.every((s) => s.keptRate),
    sentPerSec: round(
      stats.reduce((sum, s) => sum + s.sentPerSec, 0),
      1,
    ),
    lagP99Ms: maxOf(stats.map((s) => s.lagP99Ms)),
    lagMaxMs: maxOf(stats.map((s) => s.lagMaxMs)),
    requestP50Ms: maxOf(stats.map((s) => s.requestP50Ms)),
    requestP99Ms: maxOf(stats.map((s) => s.requestP99Ms)),
    requests: stats.reduce((sum, s) => sum + s.requests, 0),
    errorCodes,
    prepareMs: Math.round(prepareMs),
  };
}

/**
 * The summary of a run. A single run: its step. A sweep: the step with the
 * highest committed rate, the saturation rate, and the latency of the step
 * at 80 % of saturation (labelled `80% of saturation`).
 */
export function summarize(
  description: string,
  steps: readonly StepReport[],
  boundTps: number | null,
  isSweep: boolean,
  ceilingOfBound: number | null = null,
): BenchSummary {
  const measured = steps.filter((s) => s.label !== LATENCY_STEP_LABEL);
  const headline =
    measured.reduce<StepReport | null>(
      (best, s) => (best === null || s.committedTps > best.committedTps ? s : best),
      null,
    ) ?? steps[0];
  const latencyStep = steps.find((s) => s.label === LATENCY_STEP_LABEL) ?? null;
  const submitted = steps.reduce((sum, s) => sum + s.counts.accepted, 0);
  const committed = steps.reduce((sum, s) => sum + s.counts.committed, 0);
  const lost = steps.reduce((sum, s) => sum + s.counts.uncommitted, 0);
  const viewChanges = steps.every((s) => s.viewChanges === null)
    ? null
    : steps.reduce((sum, s) => sum + (s.viewChanges ?? 0), 0);
  const committedTps = headline?.committedTps ?? 0;
  const ceilingTps =
    ceilingOfBound === null || boundTps === null ? null : round(ceilingOfBound * boundTps, 1);
  return {
    description,
    committedTps,
    offeredTps: headline?.offeredTps ?? 0,
    submittedTps: headline?.submittedTps ?? 0,
    boundTps,
    fractionOfBound: roundOrNull(fractionOf(committedTps, boundTps), 3),
    ceilingOfBound: roundOrNull(ceilingOfBound, 3),
    ceilingTps,
    fractionOfCeiling: roundOrNull(fractionOf(committedTps, ceilingTps), 3),
    latencyMs: headline?.latencyMs ?? {
      count: 0,
      min: null,
      mean: null,
      p50: null,
      p90: null,
      p99: null,
      p999: null,
      max: null,
    },
    viewChanges,
    blocksPerSec: headline?.blocksPerSec ?? 0,
    txsPerBlock: headline?.txsPerBlock ?? null,
    messagesPerTx: headline?.messagesPerTx ?? null,
    bytesPerTx: headline?.bytesPerTx ?? null,
    submitted,
    committed,
    lost,
    generatorKeptRate: steps.every((s) => s.generator.keptRate),
    saturationTps: isSweep ? Math.max(0, ...measured.map((s) => s.committedTps)) : null,
    latencyAt80PercentOfSaturationMs: latencyStep?.latencyMs ?? null,
    recovery: steps.flatMap((s) => s.faults),
  };
}

export const LATENCY_STEP_LABEL = '80% of saturation';

export function roundOrNull(value: number | null, digits: number): number | null {
  return value === null ? null : round(value, digits);
}

/** What `--json` prints: the summary, the configuration, the files and each step without its series. */
export function jsonSummary(report: BenchReport): Record<string, unknown> {
  return {
    ...report.summary,
    config: report.config,
    calibration: report.calibration,
    floor: report.floor,
    git: report.git,
    machine: report.machine,
    steps: report.steps.map(({ series: _series, ...rest }) => rest),
    profiles: report.profiles.map((p) => ({
      file: p.file,
      busyMs: p.busyMs,
      categories: p.categories,
      topSelf: p.topSelf.slice(0, 10),
      topProject: p.topProject.slice(0, 10),
    })),
    files: report.files,
  };
}
