/**
 * `medchain bench`: the benchmark harness (src/bench). Starts a devnet of real
 * node processes on 127.0.0.1 (or targets running nodes), drives it open-loop
 * from separate generator processes, and writes report.json, CSVs and an HTML
 * report; prints a summary table (or, with --json, the summary as JSON).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { SUITE_IDS } from '../../src/crypto/suite.js';
import type { SuiteId } from '../../src/crypto/suite.js';
import { ProgressLine } from '../../src/bench/progress.js';
import type { ProgressSink } from '../../src/bench/progress.js';
import { jsonSummary } from '../../src/bench/report.js';
import { renderSummary } from '../../src/bench/report-text.js';
import { BENCH_DEFAULTS, runBench } from '../../src/bench/run.js';
import { parseSweep } from '../../src/bench/schedule.js';
import { WORKLOAD_DESCRIPTIONS, WORKLOADS } from '../../src/bench/workload.js';
import type { Workload } from '../../src/bench/workload.js';
import { MAX_PAYLOAD_BYTES } from '../../src/bench/workload.js';
import { MedchainError } from '../../src/errors.js';
import { defineCommand, EXIT_CODES, integerOption, setAction, usageError } from '../common.js';
import type { JsonValue } from '../common.js';
import { waitForStopSignal } from '../signals.js';

interface BenchCliOptions {
  readonly nodes: number;
  readonly observers: number;
  readonly suite: SuiteId;
  readonly workload: Workload;
  readonly payloadBytes: number;
  readonly maxBlockTxs?: number;
  readonly blockIntervalMs?: number;
  readonly pipeline?: number;
  readonly viewChangeTimeoutMs: number;
  readonly rate: number;
  readonly sweep?: string;
  readonly duration: number;
  readonly warmup: number;
  readonly cooldown: number;
  readonly generators: number;
  readonly lanes: number;
  readonly signersPerNode: number;
  readonly calibrate?: boolean;
  readonly calibrateSeconds: number;
  readonly floor?: boolean;
  readonly cpuProf?: boolean;
  readonly crashPrimaryAt?: number;
  readonly crashBackupAt?: number;
  readonly targets?: string;
  readonly keysFrom?: string;
  readonly devnetDir?: string;
  readonly keep?: boolean;
  readonly basePort: number;
  readonly out?: string;
}

/** A decimal number option in [min, max]. */
function numberOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const text = value.trim();
    if (!/^\d+(\.\d+)?$/.test(text)) throw new InvalidArgumentError('expected a number');
    const n = Number(text);
    if (!(n >= min && n <= max))
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return n;
  };
}

function defaultOutDir(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return `bench-results/${stamp}`;
}

export function register(program: Command): void {
  const workloads = WORKLOADS.map((w) => `  ${w.padEnd(16)} ${WORKLOAD_DESCRIPTIONS[w]}`).join(
    '\n',
  );
  const command = defineCommand(program, {
    name: 'bench',
    description:
      'benchmark a local alliance of real node processes (or running nodes): open-loop load, throughput, latency, faults',
    examples: [
      'medchain bench --duration 30 --rate 1500 --calibrate',
      'medchain bench --sweep auto --calibrate --duration 10 --json > summary.json',
      'medchain bench --suite gm --rate 300 --calibrate',
      'medchain bench --rate 1000 --duration 20 --crash-primary-at 8',
      'medchain bench --rate 1500 --cpu-prof --out bench-results/profile',
      'medchain bench --targets http://127.0.0.1:7101,http://127.0.0.1:7103 --keys-from .devnet --rate 200',
    ],
    notes:
      `Workloads (--workload):\n${workloads}\n\n` +
      'The load is open loop: transaction i is due at start + i/rate whatever the nodes do; it is\n' +
      'pre-signed by the generator process(es) before the step starts. Latency is measured from the\n' +
      'scheduled time to the block being seen committed at the node the transaction was sent to.\n' +
      '--warmup and --cooldown seconds around the --duration window are loaded but not measured.\n' +
      '--sweep auto|r1,r2,…: one step per rate (auto: fractions of the --calibrate bound) until the\n' +
      'committed rate falls below 90 % of the offered one, then a step at 80 % of the saturation rate.\n' +
      '--calibrate: verifies/s per core for the suite × cores ÷ nodes = the bound results are compared with.\n' +
      '--floor: transport + decode + verify + durable store per transaction ÷ one verification; 1 ÷ that\n' +
      'is the most of the bound a node doing only those steps could reach (record.register only).\n' +
      '--crash-primary-at / --crash-backup-at S: kill -9 that validator S seconds after the load starts.\n' +
      '--cpu-prof: nodes run with node --cpu-prof; the report lists where their time went.\n' +
      'Output: a summary table (or --json), and report.json, timeseries.csv, steps.csv and\n' +
      'report.html in --out. Exit codes: 0 ok, 1 the run failed, 2 bad flags.',
  })
    .addOption(
      new Option('--nodes <n>', 'validators to start')
        .argParser(integerOption(1, 64))
        .default(BENCH_DEFAULTS.nodes),
    )
    .addOption(
      new Option('--observers <n>', 'non-voting observer nodes to start as well')
        .argParser(integerOption(0, 8))
        .default(BENCH_DEFAULTS.observers),
    )
    .addOption(
      new Option('--suite <suite>', 'crypto suite of the chain').choices(SUITE_IDS).default('intl'),
    )
    .addOption(
      new Option('--workload <name>', 'what the transactions do (see below)')
        .choices(WORKLOADS)
        .default('record.register'),
    )
    .addOption(
      new Option('--payload-bytes <n>', 'synthetic metadata bytes sealed into each record pointer')
        .argParser(integerOption(0, MAX_PAYLOAD_BYTES))
        .default(BENCH_DEFAULTS.payloadBytes),
    )
    .addOption(
      new Option('--max-block-txs <n>', 'genesis policy: transactions per block at most').argParser(
        integerOption(1, 100_000),
      ),
    )
    .addOption(
      new Option(
        '--block-interval-ms <ms>',
        'genesis policy: cut a block after this long',
      ).argParser(integerOption(1, 60_000)),
    )
    .addOption(
      new Option(
        '--pipeline <heights>',
        'heights in flight above the stable checkpoint (consensus.watermarkWindowHeights; a multiple of 16)',
      ).argParser(integerOption(1, 10_000)),
    )
    .addOption(
      new Option('--view-change-timeout-ms <ms>', 'genesis policy: initial view-change timeout')
        .argParser(integerOption(10, 600_000))
        .default(BENCH_DEFAULTS.viewChangeTimeoutMs),
    )
    .addOption(
      new Option('--rate <tx/s>', 'offered load of a single run')
        .argParser(numberOption(0.1, 1_000_000))
        .default(BENCH_DEFAULTS.rate),
    )
    .option('--sweep <rates>', 'stepped sweep to saturation: auto (needs --calibrate) or r1,r2,…')
    .addOption(
      new Option('--duration <s>', 'measured seconds (per step)')
        .argParser(numberOption(0.5, 86_400))
        .default(BENCH_DEFAULTS.durationS),
    )
    .addOption(
      new Option('--warmup <s>', 'loaded, unmeasured seconds before the window')
        .argParser(numberOption(0, 3600))
        .default(BENCH_DEFAULTS.warmupS),
    )
    .addOption(
      new Option('--cooldown <s>', 'loaded, unmeasured seconds after the window')
        .argParser(numberOption(0, 3600))
        .default(BENCH_DEFAULTS.cooldownS),
    )
    .addOption(
      new Option('--generators <n>', 'load-generator processes')
        .argParser(integerOption(1, 16))
        .default(BENCH_DEFAULTS.generators),
    )
    .addOption(
      new Option(
        '--lanes <n>',
        'requests in flight per node and generator (each signer uses one lane)',
      )
        .argParser(integerOption(1, 64))
        .default(BENCH_DEFAULTS.lanesPerNode),
    )
    .addOption(
      new Option('--signers-per-node <n>', 'signing members per institution')
        .argParser(integerOption(1, 4096))
        .default(BENCH_DEFAULTS.signersPerNode),
    )
    .option('--calibrate', "measure this machine's signature-verification bound first")
    .addOption(
      new Option('--calibrate-seconds <s>', 'seconds per calibration measurement')
        .argParser(numberOption(0.1, 60))
        .default(BENCH_DEFAULTS.calibrateSeconds),
    )
    .option(
      '--floor',
      "measure what a validator cannot avoid per transaction (bench:floor) and the bound's ceiling it implies",
    )
    .option('--cpu-prof', 'run the nodes under node --cpu-prof and summarise the profiles')
    .addOption(
      new Option(
        '--crash-primary-at <s>',
        'kill -9 the primary this many seconds into the load',
      ).argParser(numberOption(0, 86_400)),
    )
    .addOption(
      new Option(
        '--crash-backup-at <s>',
        'kill -9 a backup this many seconds into the load',
      ).argParser(numberOption(0, 86_400)),
    )
    .option(
      '--targets <urls>',
      'comma-separated API URLs of running validators (no devnet is started)',
    )
    .option(
      '--keys-from <dir>',
      'with --targets: devnet directory with the institutions’ keystores',
    )
    .option(
      '--devnet-dir <dir>',
      'where the devnet goes (default: a fresh temporary directory, removed after)',
    )
    .option('--keep', 'keep the devnet directory (databases, node logs) after the run')
    .addOption(
      new Option('--base-port <port>', 'first port of the devnet')
        .argParser(integerOption(1024, 65_000))
        .default(BENCH_DEFAULTS.basePort),
    )
    .option(
      '--out <dir>',
      'directory for report.json, CSVs and report.html (default bench-results/<time>)',
    );

  setAction<BenchCliOptions>(command, async (ctx) => {
    const o = ctx.options;
    let sweep = null;
    if (o.sweep !== undefined) {
      try {
        sweep = parseSweep(o.sweep);
      } catch (err) {
        if (err instanceof MedchainError)
          throw usageError(`--sweep: ${err.message.replace(/^sweep: /, '')}`);
        throw err;
      }
      if (sweep.kind === 'auto' && o.calibrate !== true)
        throw usageError('--sweep auto needs --calibrate');
    }
    const targets =
      o.targets === undefined
        ? null
        : o.targets
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
    if (targets !== null && targets.length === 0)
      throw usageError('--targets: give at least one URL');
    const stderr = ctx.io.stderr as ProgressSink;
    const progress = new ProgressLine(stderr, { quiet: ctx.json && stderr.isTTY !== true });
    const logger = pino(
      { name: 'medchain-bench', level: ctx.global.verbose ? 'info' : 'warn' },
      pino.destination(2),
    );
    const stop = waitForStopSignal();
    const abort = new AbortController();
    void stop.signal.then(() => {
      progress.phase('interrupted: stopping after the current phase …');
      abort.abort();
    });
    try {
      const report = await runBench({
        nodes: o.nodes,
        observers: o.observers,
        suite: o.suite,
        workload: o.workload,
        payloadBytes: o.payloadBytes,
        maxBlockTxs: o.maxBlockTxs ?? null,
        blockIntervalMs: o.blockIntervalMs ?? null,
        pipeline: o.pipeline ?? null,
        viewChangeTimeoutMs: o.viewChangeTimeoutMs,
        rate: o.rate,
        sweep,
        sweepText: o.sweep ?? null,
        durationS: o.duration,
        warmupS: o.warmup,
        cooldownS: o.cooldown,
        generators: o.generators,
        lanesPerNode: o.lanes,
        signersPerNode: o.signersPerNode,
        calibrate: o.calibrate === true,
        calibrateSeconds: o.calibrateSeconds,
        floor: o.floor === true,
        cpuProf: o.cpuProf === true,
        crashPrimaryAtS: o.crashPrimaryAt ?? null,
        crashBackupAtS: o.crashBackupAt ?? null,
        targets,
        keysFrom: o.keysFrom ?? null,
        devnetDir: o.devnetDir ?? null,
        basePort: o.basePort,
        keep: o.keep === true,
        outDir: o.out ?? defaultOutDir(),
        logger,
        progress,
        signal: abort.signal,
      });
      ctx.result(JSON.parse(JSON.stringify(jsonSummary(report))) as JsonValue, () =>
        renderSummary(report),
      );
      return EXIT_CODES.ok;
    } finally {
      stop.dispose();
    }
  });
}
