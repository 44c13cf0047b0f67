/**
 * `medchain bench` end to end: calibrate, start (or reach) the nodes, certify
 * the workload's signers, run each step open-loop from separate generator
 * processes, watch every node's commits, inject crashes, sample CPU and
 * memory, then build and write the report.
 *
 * Order of a run
 *   1. `--calibrate`: verify rates on idle cores (./calibrate.ts); `--floor`:
 *      the per-transaction floor (./floor-bench.ts)
 *   2. devnet in a fresh directory (or `--targets`), every node answering
 *   3. one `/v1/events` subscription per validator → BenchCollector
 *   4. setup: each institution certifies its signers (doctors or admins) and
 *      the harness waits until every certificate is committed OK
 *   5. per step: generators pre-sign their share, then all start on one
 *      schedule; metrics are scraped at the window's edges; faults fire;
 *      after the cool-down the harness waits until the accepted
 *      transactions are committed (bounded), then measures
 *   6. stop generators and nodes (SIGTERM, so `--cpu-prof` profiles are
 *      written), summarise profiles, write report.json, CSVs and HTML
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MedchainClient } from '../api/client.js';
import type { BlockEventJson, EventSubscription } from '../api/client.js';
import { toHex } from '../codec/index.js';
import { getSuite } from '../crypto/index.js';
import type { CryptoSuite, KeyPair, SuiteId } from '../crypto/suite.js';
import { loadInstitutionKey, nextClientNonce } from '../devnet/bootstrap.js';
import { initDevnet, readDevnetManifest } from '../devnet/layout.js';
import type { DevnetManifest, DevnetNode } from '../devnet/layout.js';
import { DevnetProcesses, waitFor, waitForApis } from '../devnet/processes.js';
import { MedchainError } from '../errors.js';
import { encodeTransaction } from '../ledger/encoding.js';
import { signTransaction } from '../ledger/sign.js';
import { silentLogger } from '../logger.js';
import type { Logger } from '../logger.js';
import { buildMemberCertify, unsignedTransaction } from '../records/builders.js';
import { boundOf, calibrate } from './calibrate.js';
import { runFloorBench } from './floor-bench.js';
import type { FloorBenchResult } from './floor-bench.js';
import type { BoundBasis, Calibration } from './calibrate.js';
import { nowMs, delay } from './clock.js';
import { BenchCollector } from './collector.js';
import { parseCpuProfile, profileTimeOf, summarizeCpuProfile } from './cpu-profile.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { GeneratorPrepared, GeneratorRunStats } from './generator-protocol.js';
import { GeneratorHandle } from './generator-handle.js';
import { gitInfo, machineInfo, versions } from './machine.js';
import { coresBetween, counterDelta, countersFromMetrics, sampleProcess } from './node-probe.js';
import type { NodeCounters, ProcSample } from './node-probe.js';
import { ProgressLine } from './progress.js';
import {
  describeSetup,
  LATENCY_STEP_LABEL,
  mergeGeneratorStats,
  REPORT_FORMAT,
  REPORT_VERSION,
  roundOrNull,
  summarize,
} from './report.js';
import type {
  BenchConfig,
  BenchReport,
  FaultReport,
  NodeReport,
  SeriesRow,
  StepReport,
} from './report.js';
import { stepsCsv, timeSeriesCsv } from './report-csv.js';
import { renderHtml } from './report-html.js';
import {
  isSaturated,
  LATENCY_TARGET_SHARE_OF_SATURATION,
  sweepRates,
  transactionsFor,
} from './schedule.js';
import type { SweepSpec } from './schedule.js';
import { commitQuorum, crashRecovery, fractionOf, measurementWindow, round } from './stats.js';
import type { TimeWindow } from './stats.js';
import { signerRoleOf, WorkloadBuilder } from './workload.js';
import type { Workload, WorkloadSigner } from './workload.js';

export class BenchError extends MedchainError {}

export interface BenchOptions {
  readonly nodes: number;
  readonly observers: number;
  readonly suite: SuiteId;
  readonly workload: Workload;
  readonly payloadBytes: number;
  readonly maxBlockTxs: number | null;
  readonly blockIntervalMs: number | null;
  readonly pipeline: number | null;
  /** Genesis policy: the initial view-change timeout. */
  readonly viewChangeTimeoutMs: number;
  readonly rate: number;
  readonly sweep: SweepSpec | null;
  readonly sweepText: string | null;
  readonly durationS: number;
  readonly warmupS: number;
  readonly cooldownS: number;
  readonly generators: number;
  readonly lanesPerNode: number;
  readonly signersPerNode: number;
  readonly calibrate: boolean;
  readonly calibrateSeconds: number;
  /** Also measure the design's per-transaction floor (./floor-bench.ts) before the nodes start. */
  readonly floor: boolean;
  readonly cpuProf: boolean;
  readonly crashPrimaryAtS: number | null;
  readonly crashBackupAtS: number | null;
  /** Already running nodes (API URLs); null: start a devnet. */
  readonly targets: readonly string[] | null;
  /** With `--targets`: the devnet directory holding the institutions' keystores. */
  readonly keysFrom: string | null;
  /** Devnet directory (default: a fresh one under the OS temp dir). */
  readonly devnetDir: string | null;
  readonly basePort: number;
  /** Keep the devnet directory (databases, logs) after the run. */
  readonly keep: boolean;
  /** Where report.json, the CSVs and report.html go. */
  readonly outDir: string;
  readonly logger?: Logger;
  readonly progress?: ProgressLine;
  /** Aborts the run (Ctrl-C): nodes and generators are stopped, nothing is written. */
  readonly signal?: AbortSignal;
}

/**
 * The floor inside a run: 1,000 blocks of 30 (30 k transactions written
 * durably, twice) and half a second per in-memory measurement — about 6 s.
 */
const FLOOR_BLOCKS = 1000;
const FLOOR_TXS_PER_BLOCK = 30;
const FLOOR_SECONDS = 0.5;

/** Defaults of every tunable (the CLI shows them in --help). */
export const BENCH_DEFAULTS = {
  nodes: 4,
  observers: 0,
  rate: 500,
  durationS: 20,
  warmupS: 3,
  cooldownS: 2,
  payloadBytes: 256,
  generators: 1,
  lanesPerNode: 2,
  signersPerNode: 16,
  calibrateSeconds: 2,
  basePort: 7300,
  /** The genesis default (DEFAULT_POLICY); the devnet's 1000 ms fires spuriously on a starved machine. */
  viewChangeTimeoutMs: 2000,
  tickMs: 10,
  maxBatchTxs: 1000,
} as const;

const BENCH_SCRYPT = { N: 2 ** 12, r: 8, p: 1 } as const;
/** Heights between checkpoints on the bench chain (the devnet's); `--pipeline` must be a multiple. */
export const BENCH_CHECKPOINT_INTERVAL = 16;
const START_TIMEOUT_MS = 90_000;
const SETUP_TIMEOUT_MS = 60_000;
const CERTIFICATE_HEIGHTS = 10_000_000;
/** Pre-signed transactions stay valid this many heights past the head (the mempool allows 100 000). */
const TX_LIFETIME_HEIGHTS = 50_000;
const MIN_DRAIN_MS = 10_000;
const SAMPLE_INTERVAL_MS = 1000;
const STOP_TIMEOUT_MS = 20_000;
const SLOW_STOP_MS = 5000;
const SETTLE_TIMEOUT_MS = 60_000;
const FINAL_DRAIN_MS = 30_000;
/** Signing throughput we assume when bounding the prepare step (tx/s per generator; gm is slow). */
const MIN_PREPARE_RATE = 100;
const LOG_LEVEL_FOR_NODES = 'warn';

interface NodeHandle {
  readonly index: number;
  readonly id: string;
  readonly apiUrl: string;
  readonly client: MedchainClient;
  readonly devnet: DevnetNode | null;
  crashedAtMs: number | null;
  subscription: EventSubscription | null;
  readonly samples: ProcSample[];
}

interface Running {
  readonly options: BenchOptions;
  readonly log: Logger;
  readonly progress: ProgressLine;
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly manifest: DevnetManifest | null;
  readonly processes: DevnetProcesses | null;
  /** The devnet directory this session created (null for targets). */
  readonly devnetDir: string | null;
  readonly nodes: NodeHandle[];
  readonly validators: number;
  readonly collector: BenchCollector;
  readonly generators: GeneratorHandle[];
  signerCount: number;
  /** Indexes (in the run's step list) of this session's steps. */
  readonly stepIndexes: number[];
  stopSampler: () => void;
  closed: boolean;
  readonly watched: Map<string, string | null>;
  /** Measurement window of each step. */
  readonly windows: Map<number, TimeWindow>;
  /** Wall-clock span of the loaded time of all steps (profiles are cut to it). */
  loadSpan: { fromMs: number; toMs: number } | null;
  stopping: boolean;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new BenchError('BENCH_INTERRUPTED', 'interrupted');
}

function validate(o: BenchOptions): void {
  const bad = (field: string, problem: string): never => {
    throw new BenchError('INVALID_INPUT', `${field}: ${problem}`, { field });
  };
  if (!Number.isSafeInteger(o.nodes) || o.nodes < 1 || o.nodes > 64)
    bad('nodes', 'must be 1 to 64');
  if (!(o.rate > 0)) bad('rate', 'must be positive');
  if (!(o.durationS > 0)) bad('duration', 'must be positive');
  if (o.warmupS < 0 || o.cooldownS < 0) bad('warmup/cooldown', 'must not be negative');
  if (o.sweep !== null && (o.crashPrimaryAtS !== null || o.crashBackupAtS !== null)) {
    bad('sweep', 'crashes are injected in a single run (--rate), not in a sweep');
  }
  for (const [field, at] of [
    ['crash-primary-at', o.crashPrimaryAtS],
    ['crash-backup-at', o.crashBackupAtS],
  ] as const) {
    if (at === null) continue;
    if (o.targets !== null) bad(field, 'needs nodes the harness started (not --targets)');
    if (!(at >= 0 && at < o.warmupS + o.durationS + o.cooldownS)) {
      bad(field, `must fall within the load (0 to ${o.warmupS + o.durationS + o.cooldownS} s)`);
    }
  }
  if (o.crashPrimaryAtS !== null && o.crashBackupAtS !== null && o.nodes < 7) {
    bad(
      'crash',
      `crashing two of ${o.nodes} validators stops a PBFT chain (f = ${Math.floor((o.nodes - 1) / 3)})`,
    );
  }
  if ((o.crashPrimaryAtS !== null || o.crashBackupAtS !== null) && o.nodes < 4) {
    bad('crash', `${o.nodes} validators tolerate no crash (need at least 4)`);
  }
  if (o.targets !== null && o.cpuProf) bad('cpu-prof', 'needs nodes the harness started');
  if (o.floor && o.workload !== 'record.register') {
    bad('floor', `measures record.register transactions, not the ${o.workload} workload`);
  }
  if (o.targets !== null && o.keysFrom === null && signerRoleOf(o.workload) !== null) {
    bad(
      'targets',
      `the ${o.workload} workload needs the institutions' keys: pass --keys-from <devnet dir>, or use --workload rejected`,
    );
  }
  if (o.generators < 1 || o.generators > 16) bad('generators', 'must be 1 to 16');
  if (o.pipeline !== null && o.pipeline % BENCH_CHECKPOINT_INTERVAL !== 0) {
    bad(
      'pipeline',
      `must be a multiple of the bench chain's checkpoint interval (${BENCH_CHECKPOINT_INTERVAL}), got ${o.pipeline}`,
    );
  }
}

// ---------------------------------------------------------------------------
// nodes

async function startNodes(
  o: BenchOptions,
  dir: string,
  log: Logger,
  progress: ProgressLine,
  profileDir: string,
): Promise<{ manifest: DevnetManifest; processes: DevnetProcesses; dir: string }> {
  progress.phase(
    `creating a devnet of ${o.nodes} validators${o.observers > 0 ? ` + ${o.observers} observers` : ''} (suite ${o.suite}) in ${dir} …`,
  );
  const policy: Record<string, number> = {
    checkpointInterval: BENCH_CHECKPOINT_INTERVAL,
    viewChangeTimeoutMs: o.viewChangeTimeoutMs,
  };
  if (o.maxBlockTxs !== null) policy.maxBlockTxs = o.maxBlockTxs;
  if (o.blockIntervalMs !== null) policy.blockIntervalMs = o.blockIntervalMs;
  const manifest = await initDevnet({
    dir,
    validators: o.nodes,
    observers: o.observers,
    suite: o.suite,
    basePort: o.basePort,
    scrypt: BENCH_SCRYPT,
    policy,
    // note: initDevnet merges nodeConfig shallowly, so `consensus` is given whole
    nodeConfig: {
      consensus: {
        viewChangeTimeoutMaxMs: 4000,
        retransmitIntervalMs: 200,
        ...(o.pipeline === null ? {} : { watermarkWindowHeights: o.pipeline }),
      },
      log: { level: LOG_LEVEL_FOR_NODES },
    },
    reset: true,
  });
  if (o.cpuProf) await mkdir(profileDir, { recursive: true });
  const processes = new DevnetProcesses(manifest, {
    nodeArgs: o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  progress.phase('starting the nodes …');
  try {
    await processes.startAll();
    const exited = Promise.race(
      manifest.nodes.map((n) =>
        processes.exited(n.id).then((code): never => {
          throw new BenchError(
            'BENCH_NODE_FAILED',
            `node ${n.id} exited during start-up (code ${String(code)}); see ${n.logFile}`,
          );
        }),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForApis(manifest.nodes, START_TIMEOUT_MS, 200), exited]);
  } catch (err) {
    await Promise.race([processes.stopAll('SIGTERM'), delay(STOP_TIMEOUT_MS)]);
    progress.phase(`the devnet is kept for inspection in ${dir}`);
    throw err;
  }
  log.info({ dir, nodes: manifest.nodes.length }, 'devnet started');
  return { manifest, processes, dir };
}

function subscribe(run: Running, node: NodeHandle, attempt = 0): void {
  if (run.stopping || node.crashedAtMs !== null) return;
  const sub = node.client.subscribe(
    (event: BlockEventJson) => {
      const at = nowMs();
      run.collector.onBlock(node.index, event, at);
      if (run.watched.size > 0) {
        for (const r of event.receipts)
          if (run.watched.has(r.txHash)) run.watched.set(r.txHash, r.code);
      }
    },
    {
      onClose: (info) => {
        if (run.stopping || node.crashedAtMs !== null) return;
        run.log.warn({ node: node.id, code: info.code }, 'event stream closed; resubscribing');
        if (attempt < 20)
          setTimeout(() => {
            subscribe(run, node, attempt + 1);
          }, 250);
      },
    },
  );
  node.subscription = sub;
}

async function waitSubscribed(run: Running): Promise<void> {
  await Promise.all(
    run.nodes.map(async (n) => {
      await waitFor(
        `the event stream of ${n.id}`,
        async () => {
          try {
            await n.subscription?.ready;
            return true;
          } catch {
            await delay(200);
            subscribe(run, n);
            return false;
          }
        },
        START_TIMEOUT_MS,
        50,
      );
    }),
  );
}

// ---------------------------------------------------------------------------
// setup: signers

async function makeSigners(run: Running): Promise<WorkloadSigner[]> {
  const { options: o, suite, manifest } = run;
  const role = signerRoleOf(o.workload);
  const signers: WorkloadSigner[] = [];
  const certifications: { node: NodeHandle; txs: Uint8Array[] }[] = [];
  for (const node of run.nodes) {
    let institutionKey: KeyPair | null = null;
    if (manifest !== null && node.devnet !== null)
      institutionKey = await loadInstitutionKey(manifest, node.devnet);
    const ownerKey = institutionKey?.publicKey ?? suite.generateKeyPair().publicKey;
    const status = await node.client.status();
    const txs: Uint8Array[] = [];
    for (let k = 0; k < o.signersPerNode; k++) {
      const key = suite.generateKeyPair();
      signers.push({
        privateKey: key.privateKey,
        publicKey: key.publicKey,
        institution: node.id,
        institutionKey: ownerKey,
        target: node.index,
        firstNonce: 1,
      });
      if (role === null || institutionKey === null) continue;
      const body = buildMemberCertify(suite, {
        memberId: `bench-${role}-${toHex(suite.randomBytes(6))}`,
        publicKey: key.publicKey,
        role,
        institution: node.id,
        notBefore: 0,
        notAfter: status.height + CERTIFICATE_HEIGHTS,
        patient: null,
      });
      const tx = signTransaction(
        suite,
        unsignedTransaction({
          chainId: run.chainId,
          body,
          signer: institutionKey.publicKey,
          nonce: nextClientNonce(),
          validUntilHeight: status.height + 1000,
        }),
        institutionKey.privateKey,
      );
      txs.push(encodeTransaction(tx));
    }
    if (txs.length > 0) certifications.push({ node, txs });
  }
  if (certifications.length > 0) {
    run.progress.phase(`certifying ${signers.length} ${role ?? ''} signers …`);
    for (const { node, txs } of certifications) {
      const reply = await node.client.submitBatch(txs);
      for (const item of reply.results) {
        if (item.status === 'rejected') {
          throw new BenchError(
            'BENCH_SETUP_FAILED',
            `a certification was rejected by ${node.id}: ${item.error.code} ${item.error.message}`,
          );
        }
        run.watched.set(item.hash, null);
      }
    }
    await waitFor(
      'every signer certificate to commit',
      () => [...run.watched.values()].every((code) => code !== null),
      SETUP_TIMEOUT_MS,
      50,
    );
    const failed = [...run.watched.values()].filter((code) => code !== 'OK');
    run.watched.clear();
    if (failed.length > 0) {
      throw new BenchError(
        'BENCH_SETUP_FAILED',
        `${failed.length} signer certificates failed (${failed[0] ?? '?'})`,
      );
    }
  }
  return signers;
}

// ---------------------------------------------------------------------------
// probes

async function scrapeAll(run: Running): Promise<(NodeCounters | null)[]> {
  return Promise.all(
    run.nodes.map(async (n) => {
      if (n.crashedAtMs !== null) return null;
      try {
        return countersFromMetrics(await n.client.metrics({ timeoutMs: 3000 }));
      } catch {
        return null;
      }
    }),
  );
}

function startSampler(run: Running): () => void {
  if (run.processes === null) return () => undefined;
  const processes = run.processes;
  let stopped = false;
  const tick = async (): Promise<void> => {
    for (let i = 0; !stopped && i < 1_000_000; i++) {
      const at = nowMs();
      await Promise.all(
        run.nodes.map(async (n) => {
          const pid = n.devnet === null ? undefined : processes.pid(n.devnet.id);
          if (pid === undefined || n.crashedAtMs !== null) return;
          const sample = await sampleProcess(pid, at);
          if (sample !== null) n.samples.push(sample);
        }),
      );
      await delay(SAMPLE_INTERVAL_MS - (nowMs() - at));
    }
  };
  void tick();
  return () => {
    stopped = true;
  };
}

/** CPU (cores) per second bucket and RSS (MiB) from a node's samples. */
function resourceSeries(
  samples: readonly ProcSample[],
  originMs: number,
  buckets: number,
): { cpu: (number | null)[]; rss: (number | null)[] } {
  const cpu = new Array<number | null>(buckets).fill(null);
  const rss = new Array<number | null>(buckets).fill(null);
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a === undefined || b === undefined) continue;
    const bucket = Math.floor((b.atMs - originMs) / 1000 - 0.5);
    if (bucket < 0 || bucket >= buckets) continue;
    cpu[bucket] = round(coresBetween(a, b), 3);
    rss[bucket] = round(b.rssBytes / 2 ** 20, 1);
  }
  return { cpu, rss };
}

function windowResources(
  samples: readonly ProcSample[],
  window: TimeWindow,
): { mean: number | null; max: number | null; rssMax: number | null } {
  const inside = samples.filter(
    (s) => s.atMs >= window.startMs - 600 && s.atMs <= window.endMs + 600,
  );
  if (inside.length < 2) return { mean: null, max: null, rssMax: null };
  const first = inside[0];
  const last = inside[inside.length - 1];
  let max = 0;
  for (let i = 1; i < inside.length; i++) {
    const a = inside[i - 1];
    const b = inside[i];
    if (a !== undefined && b !== undefined) max = Math.max(max, coresBetween(a, b));
  }
  return {
    mean: first !== undefined && last !== undefined ? round(coresBetween(first, last), 3) : null,
    max: round(max, 3),
    rssMax: round(Math.max(...inside.map((s) => s.rssBytes)) / 2 ** 20, 1),
  };
}

// ---------------------------------------------------------------------------
// faults

async function crashNode(
  run: Running,
  kind: 'crash-primary' | 'crash-backup',
): Promise<{ node: NodeHandle; atMs: number; viewAtCrash: number } | null> {
  const live = run.nodes.filter((n) => n.crashedAtMs === null);
  const statuses = await Promise.all(
    live.map((n) => n.client.status({ timeoutMs: 2000 }).catch(() => null)),
  );
  const primaryId = statuses.find((s) => s !== null)?.primary.institutionId;
  const victim =
    kind === 'crash-primary'
      ? live.find((n) => n.id === primaryId)
      : [...live].reverse().find((n) => n.id !== primaryId);
  if (victim === undefined || victim.devnet === null || run.processes === null) return null;
  const atMs = nowMs();
  const viewAtCrash = run.collector.viewBefore(atMs);
  victim.crashedAtMs = atMs;
  run.collector.markCrashed(victim.index, atMs);
  const heir = live.find((n) => n !== victim);
  if (heir !== undefined) for (const g of run.generators) g.retarget(victim.index, heir.index);
  await run.processes.kill(victim.devnet.id);
  run.progress.phase(`${kind}: killed ${victim.id} (-9) in view ${viewAtCrash}`);
  run.log.info({ node: victim.id, kind, viewAtCrash }, 'crashed a node');
  return { node: victim, atMs, viewAtCrash };
}

/**
 * Waits (bounded) until no live node holds pending transactions, so a step
 * does not start on the previous step's backlog.
 */
async function settle(run: Running, label: string): Promise<void> {
  const sizes = async (): Promise<number> => {
    const live = run.nodes.filter((n) => n.crashedAtMs === null);
    const statuses = await Promise.all(
      live.map((n) => n.client.status({ timeoutMs: 3000 }).catch(() => null)),
    );
    return statuses.reduce((sum, s) => sum + (s?.mempool.size ?? 0), 0);
  };
  if ((await sizes()) === 0) return;
  run.progress.phase(`${label}: waiting for the nodes' mempools to empty …`);
  await waitFor(
    'the mempools to empty',
    async () => (await sizes()) === 0,
    SETTLE_TIMEOUT_MS,
    250,
  ).catch(async () => {
    run.progress.phase(
      `warning: ${await sizes()} transactions still pending; ${label} starts anyway`,
    );
  });
}

// ---------------------------------------------------------------------------
// one step

interface StepPlan {
  readonly step: number;
  readonly label: string;
  readonly rate: number;
}

async function runStep(run: Running, plan: StepPlan, boundTps: number | null): Promise<StepReport> {
  const { options: o, collector } = run;
  const G = run.generators.length;
  const loadSeconds = o.warmupS + o.durationS + o.cooldownS;
  const perGeneratorRate = plan.rate / G;
  const count = transactionsFor(perGeneratorRate, loadSeconds);
  await settle(run, plan.label);
  const head = collector.maxHeight;
  run.progress.phase(
    `${plan.label}: pre-signing ${(count * G).toLocaleString('en-US')} transactions …`,
  );
  const prepareStarted = nowMs();
  const prepared: GeneratorPrepared[] = await Promise.all(
    run.generators.map((g) =>
      g.prepare(count, head + TX_LIFETIME_HEIGHTS, 60_000 + (count / MIN_PREPARE_RATE) * 1000),
    ),
  );
  const prepareMs = nowMs() - prepareStarted;
  checkAborted(o.signal);

  const startAtMs = nowMs() + 500;
  const phases = {
    loadStartMs: startAtMs,
    warmupMs: o.warmupS * 1000,
    durationMs: o.durationS * 1000,
    cooldownMs: o.cooldownS * 1000,
  };
  const window = measurementWindow(phases);
  run.windows.set(plan.step, window);
  const loadEnd = startAtMs + loadSeconds * 1000;
  run.loadSpan = {
    fromMs: Math.min(run.loadSpan?.fromMs ?? startAtMs, startAtMs),
    toMs: Math.max(run.loadSpan?.toMs ?? loadEnd, loadEnd),
  };
  prepared.forEach((p, g) => {
    collector.addStepTxs({
      step: plan.step,
      generator: g,
      startAtMs,
      ratePerSec: perGeneratorRate,
      hashes: p.hashes,
      hashLength: p.hashLength,
      targets: p.targets,
    });
  });

  const timers: NodeJS.Timeout[] = [];
  let before: (NodeCounters | null)[] = [];
  let after: (NodeCounters | null)[] = [];
  const scrapes: Promise<void>[] = [];
  const at = (ms: number, fn: () => void): void => {
    timers.push(setTimeout(fn, Math.max(0, ms - nowMs())));
  };
  at(window.startMs, () => scrapes.push(scrapeAll(run).then((c) => void (before = c))));
  at(window.endMs, () => scrapes.push(scrapeAll(run).then((c) => void (after = c))));
  const crashes: Promise<{
    kind: 'crash-primary' | 'crash-backup';
    result: Awaited<ReturnType<typeof crashNode>>;
  }>[] = [];
  if (plan.step === 0) {
    for (const [kind, s] of [
      ['crash-primary', o.crashPrimaryAtS],
      ['crash-backup', o.crashBackupAtS],
    ] as const) {
      if (s === null) continue;
      const promise = new Promise<{
        kind: typeof kind;
        result: Awaited<ReturnType<typeof crashNode>>;
      }>((resolve, reject) => {
        at(startAtMs + s * 1000, () => {
          crashNode(run, kind).then((result) => {
            resolve({ kind, result });
          }, reject);
        });
      });
      crashes.push(promise);
    }
  }
  const progressTimer = setInterval(() => {
    const elapsed = (nowMs() - startAtMs) / 1000;
    const recent = collector.sightings.filter((s) => s.atMs > nowMs() - 1000);
    const perNode = new Map<number, number>();
    for (const s of recent) perNode.set(s.node, (perNode.get(s.node) ?? 0) + s.txCount);
    const committed = Math.max(0, ...perNode.values());
    run.progress.update(
      elapsed / loadSeconds,
      `${plan.label}: ${elapsed.toFixed(0)}/${loadSeconds} s, ~${committed} tx/s committed, height ${collector.maxHeight}`,
    );
  }, 500);

  let stats: GeneratorRunStats[];
  const harnessCpuBefore = process.cpuUsage();
  const harnessWallBefore = nowMs();
  try {
    stats = await Promise.all(
      run.generators.map((g) =>
        g.run(
          startAtMs,
          perGeneratorRate,
          (p) => {
            collector.onSent(g.index, plan.step, p);
          },
          loadSeconds * 1000 + 180_000,
        ),
      ),
    );
    // drain: everything accepted committed at a quorum of live nodes, or the deadline
    const drainMs = Math.max(MIN_DRAIN_MS, o.cooldownS * 2000);
    run.progress.update(1, `${plan.label}: draining`);
    await waitFor(
      `the transactions of ${plan.label} to commit`,
      () => collector.pending(plan.step) === 0,
      drainMs,
      50,
    ).catch(() => {
      run.log.warn({ pending: collector.pending(plan.step) }, 'drain deadline passed');
    });
    await Promise.all(scrapes);
  } finally {
    clearInterval(progressTimer);
    for (const t of timers) clearTimeout(t);
    run.progress.clear();
  }
  const crashed = await Promise.all(crashes);
  const drainedAtMs = nowMs();
  const harnessCpu = process.cpuUsage(harnessCpuBefore);
  const harnessCpuCores = round(
    (harnessCpu.user + harnessCpu.system) / 1000 / Math.max(1, drainedAtMs - harnessWallBefore),
    3,
  );

  const measurement = collector.measure(plan.step, window);
  const seriesSeconds = Math.ceil((drainedAtMs - startAtMs) / 1000);
  const points = collector.series(plan.step, startAtMs, seriesSeconds, window);
  const resources = run.nodes.map((n) => resourceSeries(n.samples, startAtMs, seriesSeconds));
  const series: SeriesRow[] = points.map((p, b) => ({
    ...p,
    cpuCores: resources.map((r) => r.cpu[b] ?? null),
    rssMiB: resources.map((r) => r.rss[b] ?? null),
  }));

  const deltas = run.nodes.map((_, i) => {
    const b = before[i];
    const a = after[i];
    return b === null || b === undefined || a === null || a === undefined
      ? null
      : counterDelta(b, a);
  });
  const windowS = measurement.windowSeconds;
  const submittedInWindow = measurement.submittedTps * windowS;
  const nodeReports: NodeReport[] = run.nodes.map((n, i) => {
    const d = deltas[i] ?? null;
    const committedTxs = (measurement.committedTpsPerNode[i] ?? 0) * windowS;
    const perTx = (v: number | null | undefined): number | null =>
      v === null || v === undefined || committedTxs <= 0 ? null : round(v / committedTxs, 3);
    const res = windowResources(n.samples, window);
    const metricsCpu =
      d?.cpuSeconds === null || d?.cpuSeconds === undefined
        ? null
        : round(d.cpuSeconds / windowS, 3);
    return {
      id: n.id,
      apiUrl: n.apiUrl,
      cpuCores: res.mean ?? metricsCpu,
      cpuCoresMax: res.max,
      rssMiBMax:
        res.rssMax ??
        (d?.rssBytes === null || d?.rssBytes === undefined ? null : round(d.rssBytes / 2 ** 20, 1)),
      committedTps: measurement.committedTpsPerNode[i] ?? 0,
      viewChanges: d?.viewChanges ?? null,
      p2pMessagesOutPerTx: perTx(d?.p2pMessagesOut),
      p2pBytesOutPerTx: perTx(d?.p2pBytesOut),
      // every node should verify each submitted transaction once (through the API or gossip)
      signatureChecksPerTx:
        d?.signatureChecks === null || d?.signatureChecks === undefined || submittedInWindow <= 0
          ? null
          : round(d.signatureChecks / submittedInWindow, 3),
      crashedAtS: n.crashedAtMs === null ? null : round((n.crashedAtMs - startAtMs) / 1000, 2),
    };
  });
  const committedInWindow = measurement.committedTps * windowS;
  const sumKnown = (values: (number | null | undefined)[]): number | null => {
    const known = values.filter((v): v is number => v !== null && v !== undefined);
    return known.length === 0 ? null : known.reduce((x, y) => x + y, 0);
  };
  const messages = sumKnown(deltas.map((d) => d?.p2pMessagesOut));
  const bytes = sumKnown(deltas.map((d) => d?.p2pBytesOut));
  const viewChangeCounts = deltas
    .map((d) => d?.viewChanges)
    .filter((v): v is number => v !== null && v !== undefined);
  const faults: FaultReport[] = crashed
    .filter((c) => c.result !== null)
    .map(({ kind, result }) => {
      const r = result as NonNullable<typeof result>;
      const recovery = crashRecovery(r.atMs, r.node.index, r.viewAtCrash, collector.sightings);
      const crashSecond = Math.floor((r.atMs - startAtMs) / 1000);
      const timeline = series
        .filter((p) => p.t >= crashSecond - 5 && p.t <= crashSecond + 15)
        .map((p) => [p.t - crashSecond, p.committed] as const);
      return {
        kind,
        node: r.node.id,
        atS: round((r.atMs - startAtMs) / 1000, 2),
        viewAtCrash: recovery.viewAtCrash,
        firstCommitAfterMs: recovery.firstCommitAfterMs,
        firstCommitInNewViewMs: recovery.firstCommitInNewViewMs,
        newView: recovery.newView,
        timeline,
      };
    });
  const { window: _window, ...rest } = measurement;
  return {
    step: plan.step,
    label: plan.label,
    targetRate: plan.rate,
    ...rest,
    fractionOfBound: roundOrNull(fractionOf(measurement.committedTps, boundTps), 3),
    saturated: isSaturated(measurement.offeredTps, measurement.committedTps),
    viewChanges: viewChangeCounts.length === 0 ? null : Math.max(...viewChangeCounts),
    messagesPerTx:
      messages === null || committedInWindow <= 0 ? null : round(messages / committedInWindow, 2),
    bytesPerTx:
      bytes === null || committedInWindow <= 0 ? null : round(bytes / committedInWindow, 1),
    generator: mergeGeneratorStats(stats, prepareMs),
    harnessCpuCores,
    nodes: nodeReports,
    faults,
    series,
  };
}

// ---------------------------------------------------------------------------
// the whole run

/** Size of the message a node verifies for this workload (for calibration). */
function sampleMessageBytes(o: BenchOptions): number {
  const suite = getSuite(o.suite);
  const key = suite.generateKeyPair();
  const builder = new WorkloadBuilder(
    {
      suite,
      chainId: 'medchain-devnet',
      workload: o.workload,
      payloadBytes: o.payloadBytes,
      certificateNotAfter: 1_000_000,
    },
    [
      {
        privateKey: key.privateKey,
        publicKey: key.publicKey,
        institution: 'sample',
        institutionKey: suite.generateKeyPair().publicKey,
        target: 0,
        firstNonce: 1,
      },
    ],
  );
  const [tx] = builder.prepare(1, 1000);
  return Math.max(1, (tx?.bytes.length ?? 700) - suite.signatureLength);
}

/**
 * Summaries of the nodes' profiles, restricted to the loaded time
 * (`loadSpan`, wall clock) when the node's exit time is known: start-up,
 * setup and shutdown are left out.
 */
async function collectProfiles(shared: SharedState): Promise<ProfileSummary[]> {
  const dir = shared.profileDir;
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  } catch {
    return [];
  }
  const out: ProfileSummary[] = [];
  for (const f of files) {
    const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1] ?? Number.NaN);
    const exitAt = shared.exitedAtMs.get(pid);
    const loadSpan = shared.loadSpans.get(pid) ?? null;
    try {
      const profile = parseCpuProfile(await readFile(path.join(dir, f), 'utf8'));
      const range =
        exitAt === undefined || loadSpan === null
          ? undefined
          : {
              fromUs: profileTimeOf(profile, exitAt, loadSpan.fromMs),
              toUs: profileTimeOf(profile, exitAt, loadSpan.toMs),
            };
      const label = `${shared.pidToNode.get(pid) ?? 'process'}${range === undefined ? ' (whole run)' : ' (under load)'} — ${path.join(dir, f)}`;
      out.push(summarizeCpuProfile(profile, label, 15, range));
    } catch {
      // a truncated profile (a killed node) is skipped
    }
  }
  return out;
}

interface SharedState {
  readonly log: Logger;
  readonly progress: ProgressLine;
  readonly profileDir: string;
  /** Node id of every node process, by pid (all sessions). */
  readonly pidToNode: Map<number, string>;
  /** When each node process exited, by pid. */
  readonly exitedAtMs: Map<number, number>;
  /** Loaded wall-clock span of the session each pid belonged to (profiles are cut to it). */
  readonly loadSpans: Map<number, { fromMs: number; toMs: number }>;
}

/**
 * A session: nodes (started here, or targets), their event streams, the
 * certified signers and the generator processes. A sweep's last step (80 %
 * of saturation) gets a fresh session in devnet mode: an overloaded chain
 * may not have recovered.
 */
async function openSession(o: BenchOptions, index: number, shared: SharedState): Promise<Running> {
  const { log, progress } = shared;
  let manifest: DevnetManifest | null = null;
  let processes: DevnetProcesses | null = null;
  let devnetDir: string | null = null;
  let handles: NodeHandle[];
  const generators: GeneratorHandle[] = [];
  let run: Running | null = null;
  try {
    if (o.targets === null) {
      const base =
        o.devnetDir ?? path.join(tmpdir(), `medchain-bench-${process.pid}-${Date.now()}`);
      const started = await startNodes(
        o,
        index === 0 ? base : `${base}-${index}`,
        log,
        progress,
        shared.profileDir,
      );
      manifest = started.manifest;
      processes = started.processes;
      devnetDir = started.dir;
      handles = manifest.nodes
        .filter((n) => n.voting)
        .map((n, i) => ({
          index: i,
          id: n.id,
          apiUrl: n.apiUrl,
          client: new MedchainClient(n.apiUrl),
          devnet: n,
          crashedAtMs: null,
          subscription: null,
          samples: [],
        }));
      for (const n of manifest.nodes) {
        const pid = processes.pid(n.id);
        if (pid !== undefined) shared.pidToNode.set(pid, n.id);
      }
    } else {
      manifest = o.keysFrom === null ? null : await readDevnetManifest(o.keysFrom);
      handles = await Promise.all(
        o.targets.map(async (url, i) => {
          const client = new MedchainClient(url);
          const status = await client.status();
          const devnet = manifest?.nodes.find((n) => n.id === status.institutionId) ?? null;
          return {
            index: i,
            id: status.institutionId,
            apiUrl: client.baseUrl,
            client,
            devnet,
            crashedAtMs: null,
            subscription: null,
            samples: [],
          };
        }),
      );
    }
    const first = await handles[0]?.client.status();
    if (first === undefined) throw new BenchError('BENCH_NO_NODES', 'no nodes to benchmark');
    if (first.suite !== o.suite) {
      throw new BenchError('INVALID_INPUT', `suite: the nodes run ${first.suite}, not ${o.suite}`, {
        field: 'suite',
      });
    }
    const validators = o.targets === null ? o.nodes : handles.length;
    run = {
      options: o,
      log,
      progress,
      suite: getSuite(o.suite),
      chainId: first.chainId,
      manifest,
      processes,
      devnetDir,
      nodes: handles,
      validators,
      collector: new BenchCollector(handles.length, commitQuorum(validators)),
      generators,
      signerCount: 0,
      watched: new Map(),
      windows: new Map(),
      stepIndexes: [],
      loadSpan: null,
      stopSampler: () => undefined,
      stopping: false,
      closed: false,
    };
    const session = run;
    for (const n of handles) subscribe(session, n);
    await waitSubscribed(session);
    checkAborted(o.signal);
    const signers = await makeSigners(session);
    session.signerCount = signers.length;
    checkAborted(o.signal);

    progress.phase(`starting ${o.generators} load generator process(es) …`);
    for (let g = 0; g < o.generators; g++) generators.push(GeneratorHandle.start(g));
    await Promise.all(
      generators.map((g) =>
        g.init({
          generator: g.index,
          suite: o.suite,
          chainId: session.chainId,
          workload: o.workload,
          payloadBytes: o.payloadBytes,
          certificateNotAfter: first.height + CERTIFICATE_HEIGHTS,
          targets: handles.map((h) => h.apiUrl),
          signers: signers.filter((_, k) => k % o.generators === g.index),
          lanesPerNode: o.lanesPerNode,
          tickMs: BENCH_DEFAULTS.tickMs,
          maxBatchTxs: BENCH_DEFAULTS.maxBatchTxs,
        }),
      ),
    );
    session.stopSampler = startSampler(session);
    if (processes !== null) {
      const watched = processes;
      for (const h of handles) {
        const node = h.devnet;
        if (node === null) continue;
        void watched.exited(node.id).then((code) => {
          if (session.stopping || h.crashedAtMs !== null) return;
          h.crashedAtMs = nowMs();
          session.collector.markCrashed(h.index, h.crashedAtMs);
          progress.phase(
            `warning: node ${node.id} exited unexpectedly (code ${String(code)}); see ${node.logFile}`,
          );
          log.warn({ node: node.id, code }, 'node exited during the run');
        });
      }
    }
    return session;
  } catch (err) {
    if (run !== null) await closeQuietly(run);
    else {
      await Promise.all(generators.map((g) => g.stop().catch(() => undefined)));
      if (processes !== null)
        await Promise.race([processes.stopAll('SIGTERM'), delay(STOP_TIMEOUT_MS)]);
      if (devnetDir !== null) progress.phase(`the devnet is kept for inspection in ${devnetDir}`);
    }
    throw err;
  }
}

/** Last drain of a session's steps, then their final counts (what committed late still counts). */
async function finalTally(run: Running, steps: StepReport[]): Promise<void> {
  const collector = run.collector;
  const mine = run.stepIndexes
    .map((i) => steps[i])
    .filter((st): st is StepReport => st !== undefined);
  const pendingTotal = (): number => mine.reduce((sum, st) => sum + collector.pending(st.step), 0);
  if (pendingTotal() > 0) {
    run.progress.phase(`waiting for ${pendingTotal()} late transactions …`);
    await waitFor(
      'late transactions to commit',
      () => pendingTotal() === 0,
      FINAL_DRAIN_MS,
      100,
    ).catch(() => undefined);
  }
  for (const i of run.stepIndexes) {
    const st = steps[i];
    const window = st === undefined ? undefined : run.windows.get(st.step);
    if (st === undefined || window === undefined) continue;
    const final = collector.measure(st.step, window);
    steps[i] = { ...st, counts: final.counts, receiptCodes: final.receiptCodes };
  }
}

/** Stops a session in order: streams, generators, nodes (SIGTERM, exit times noted), then its directory. */
async function closeSession(run: Running, o: BenchOptions, shared: SharedState): Promise<void> {
  if (run.closed) return;
  run.closed = true;
  run.stopping = true;
  run.stopSampler();
  await Promise.all(
    run.nodes.map((h) => h.subscription?.close().catch(() => undefined) ?? Promise.resolve()),
  );
  await Promise.all(run.generators.map((g) => g.stop().catch(() => undefined)));
  const processes = run.processes;
  if (processes !== null) {
    shared.progress.phase('stopping the nodes …');
    const pids = new Map<string, number>();
    for (const n of run.manifest?.nodes ?? []) {
      const pid = processes.pid(n.id);
      if (pid === undefined) continue;
      pids.set(n.id, pid);
      if (run.loadSpan !== null) shared.loadSpans.set(pid, run.loadSpan);
      void processes.exited(n.id).then(() => shared.exitedAtMs.set(pid, nowMs()));
    }
    const stopStarted = nowMs();
    await Promise.race([processes.stopAll('SIGTERM'), delay(STOP_TIMEOUT_MS)]);
    for (const [id, pid] of pids) {
      const at = shared.exitedAtMs.get(pid);
      if (at === undefined) continue;
      const ms = Math.round(at - stopStarted);
      run.log.info({ node: id, ms }, 'node stopped');
      if (ms > SLOW_STOP_MS)
        shared.progress.phase(`note: ${id} took ${ms} ms to stop after SIGTERM`);
    }
  }
  if (run.devnetDir !== null && !o.keep && o.devnetDir === null) {
    await rm(run.devnetDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The failure path: stops everything, keeps the devnet directory. */
async function closeQuietly(run: Running): Promise<void> {
  if (run.closed) return;
  run.closed = true;
  run.stopping = true;
  run.stopSampler();
  await Promise.all(
    run.nodes.map((h) => h.subscription?.close().catch(() => undefined) ?? Promise.resolve()),
  );
  await Promise.all(run.generators.map((g) => g.stop().catch(() => undefined)));
  if (run.processes !== null)
    await Promise.race([run.processes.stopAll('SIGTERM'), delay(STOP_TIMEOUT_MS)]);
  // a failed run keeps its devnet: the node logs say why
  if (run.devnetDir !== null)
    run.progress.phase(`the devnet is kept for inspection in ${run.devnetDir}`);
}

async function step(
  run: Running,
  steps: StepReport[],
  plan: StepPlan,
  boundTps: number | null,
): Promise<StepReport> {
  const report = await runStep(run, plan, boundTps);
  run.stepIndexes.push(steps.length);
  steps.push(report);
  return report;
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  validate(o);
  const log = o.logger ?? silentLogger();
  const progress = o.progress ?? new ProgressLine({ write: () => undefined }, { quiet: true });
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const shared: SharedState = {
    log,
    progress,
    profileDir: path.resolve(o.outDir, 'profiles'),
    pidToNode: new Map(),
    exitedAtMs: new Map(),
    loadSpans: new Map(),
  };

  let calibration: Calibration | null = null;
  if (o.calibrate) {
    const messageBytes = sampleMessageBytes(o);
    progress.phase(
      `calibrating: ${o.suite} signature verification on ${machine.availableParallelism} cores (${messageBytes}-byte messages) …`,
    );
    calibration = await calibrate({ suite: o.suite, seconds: o.calibrateSeconds, messageBytes });
  }
  checkAborted(o.signal);
  let floor: FloorBenchResult | null = null;
  if (o.floor) {
    progress.phase(`measuring the ${o.suite} floor per transaction (bench:floor) …`);
    floor = await runFloorBench({
      suite: o.suite,
      blocks: FLOOR_BLOCKS,
      txs: FLOOR_TXS_PER_BLOCK,
      seconds: FLOOR_SECONDS,
      transport: true,
    });
  }
  checkAborted(o.signal);
  const nodeCount = o.targets === null ? o.nodes + o.observers : o.targets.length;
  // Certified signers are verified with the nodes' known-key tables.
  const boundBasis: BoundBasis = signerRoleOf(o.workload) === null ? 'plain' : 'known-key';
  const boundTps = calibration === null ? null : boundOf(calibration, nodeCount, boundBasis);

  const sessions: Running[] = [];
  try {
    let session = await openSession(o, 0, shared);
    sessions.push(session);
    const validators = session.validators;
    const signerCount = session.signerCount;
    const steps: StepReport[] = [];
    if (o.sweep === null) {
      await step(session, steps, { step: 0, label: `rate ${o.rate}`, rate: o.rate }, boundTps);
    } else {
      const rates = sweepRates(o.sweep, boundTps);
      for (const [i, rate] of rates.entries()) {
        checkAborted(o.signal);
        const report = await step(
          session,
          steps,
          { step: i, label: `sweep ${i + 1}/${rates.length}: ${rate} tx/s`, rate },
          boundTps,
        );
        if (report.saturated) break;
      }
      const saturation = Math.max(0, ...steps.map((st) => st.committedTps));
      if (saturation > 0) {
        checkAborted(o.signal);
        const rate = Math.max(1, Math.round(LATENCY_TARGET_SHARE_OF_SATURATION * saturation));
        if (o.targets === null) {
          // a fresh alliance: the saturated one may not have recovered
          await finalTally(session, steps);
          await closeSession(session, o, shared);
          progress.phase(`a fresh devnet for the step at 80% of saturation (${rate} tx/s) …`);
          session = await openSession(o, 1, shared);
          sessions.push(session);
        }
        await step(
          session,
          steps,
          { step: steps.length, label: LATENCY_STEP_LABEL, rate },
          boundTps,
        );
      }
    }
    await finalTally(session, steps);
    // stop everything before reading profiles (a node writes its profile at exit)
    for (const s of sessions) await closeSession(s, o, shared);

    const config: BenchConfig = {
      mode: o.targets === null ? 'devnet' : 'targets',
      nodes: validators,
      observers: o.targets === null ? o.observers : 0,
      suite: o.suite,
      workload: o.workload,
      payloadBytes: o.payloadBytes,
      maxBlockTxs: o.maxBlockTxs,
      blockIntervalMs: o.blockIntervalMs,
      pipeline: o.pipeline,
      viewChangeTimeoutMs: o.targets === null ? o.viewChangeTimeoutMs : null,
      rate: o.sweep === null ? o.rate : null,
      sweep: o.sweepText,
      durationS: o.durationS,
      warmupS: o.warmupS,
      cooldownS: o.cooldownS,
      generators: o.generators,
      lanesPerNode: o.lanesPerNode,
      signers: signerCount,
      calibrate: o.calibrate,
      floor: o.floor,
      cpuProf: o.cpuProf,
      crashPrimaryAtS: o.crashPrimaryAtS,
      crashBackupAtS: o.crashBackupAtS,
      targets: o.targets,
    };
    const profiles = o.cpuProf ? await collectProfiles(shared) : [];
    const description = describeSetup(config, machine);
    const outDir = path.resolve(o.outDir);
    const files = {
      json: path.join(outDir, 'report.json'),
      csv: path.join(outDir, 'timeseries.csv'),
      stepsCsv: path.join(outDir, 'steps.csv'),
      html: path.join(outDir, 'report.html'),
    };
    const report: BenchReport = {
      format: REPORT_FORMAT,
      version: REPORT_VERSION,
      startedAt,
      finishedAt: new Date().toISOString(),
      config,
      git: gitInfo(),
      versions: versions(),
      machine,
      calibration,
      boundTps,
      boundBasis: calibration === null ? null : boundBasis,
      floor,
      summary: summarize(
        description,
        steps,
        boundTps,
        o.sweep !== null,
        floor?.ceilingOfBound ?? null,
      ),
      steps,
      profiles,
      files,
    };
    await mkdir(outDir, { recursive: true });
    await writeFile(files.json, JSON.stringify(report, null, 2) + '\n');
    await writeFile(files.csv, timeSeriesCsv(report));
    await writeFile(files.stepsCsv, stepsCsv(report));
    await writeFile(files.html, renderHtml(report));
    return report;
  } finally {
    for (const s of sessions) await closeQuietly(s);
  }
}
