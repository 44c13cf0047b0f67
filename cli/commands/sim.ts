/**
 * `medchain sim`: run the deterministic PBFT simulator (consensus/sim) over a
 * range of seeds and report, per seed, the outcome, heights, view changes and
 * the cost per committed block. Exit code 3 if any seed broke an invariant.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { maxFaulty } from '../../consensus/quorum.js';
import { BYZANTINE_BEHAVIOURS, runSimulation } from '../../consensus/sim/index.js';
import type { ByzantineBehaviour, SimulationResult } from '../../consensus/sim/index.js';
import { getSuite, SUITE_IDS } from '../../src/crypto/index.js';
import type { SuiteId } from '../../src/crypto/index.js';
import { defineCommand, EXIT_CODES, integerOption, setAction, usageError } from '../common.js';
import type { JsonValue } from '../common.js';
import {
  defaultBehaviour,
  FAULT_PROFILE_DESCRIPTIONS,
  FAULT_PROFILES,
  scenarioFor,
} from '../sim-profiles.js';
import type { FaultProfile, SimRequest } from '../sim-profiles.js';

/** Largest `--nodes`: beyond this one seed takes minutes (messages grow as n²). */
export const MAX_SIM_NODES = 64;
const MAX_SEED = 2 ** 32 - 1;
const MAX_SEEDS = 100_000;
const MAX_BLOCKS = 10_000;

interface SimOptions {
  readonly nodes: number;
  readonly byzantine: number;
  readonly behaviour?: ByzantineBehaviour;
  readonly seed: number;
  readonly seeds: number;
  readonly faults: FaultProfile;
  readonly blocks: number;
  readonly suite: SuiteId;
  readonly insecureFakeSignatures?: boolean;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function outcomeOf(result: SimulationResult): string {
  return result.violations[0]?.class ?? 'ok';
}

/** The flags that replay one seed exactly. */
function replayCommand(options: SimOptions, behaviour: ByzantineBehaviour, seed: number): string {
  return [
    'medchain sim',
    `--nodes ${options.nodes}`,
    `--byzantine ${options.byzantine}`,
    ...(options.byzantine > 0 ? [`--behaviour ${behaviour}`] : []),
    `--faults ${options.faults}`,
    `--blocks ${options.blocks}`,
    `--suite ${options.suite}`,
    ...(options.insecureFakeSignatures === true ? ['--insecure-fake-signatures'] : []),
    `--seed ${seed}`,
    '--seeds 1',
  ].join(' ');
}

const COLUMNS = [
  ['seed', 10],
  ['outcome', 8],
  ['heights', 9],
  ['views', 5],
  ['msgs/block', 10],
  ['bytes/block', 11],
  ['virtual s', 9],
  ['wall ms', 7],
] as const;

function row(cells: readonly string[]): string {
  return COLUMNS.map(([, width], i) => {
    const cell = cells[i] ?? '';
    return i === 1 ? cell.padEnd(width) : cell.padStart(width);
  })
    .join('  ')
    .trimEnd();
}

export function register(program: Command): void {
  const profiles = FAULT_PROFILES.map(
    (name) => `  ${name.padEnd(10)} ${FAULT_PROFILE_DESCRIPTIONS[name]}`,
  ).join('\n');
  const sim = defineCommand(program, {
    name: 'sim',
    description:
      'run the deterministic PBFT simulator over consecutive seeds and check safety and liveness',
    examples: [
      'medchain sim --nodes 7 --byzantine 2 --seeds 100 --json',
      'medchain sim --nodes 4 --byzantine 2    # twins negative control: must report a safety violation',
      'medchain sim --nodes 10 --faults none --blocks 50',
    ],
    notes:
      `Fault profiles (--faults):\n${profiles}\n\n` +
      'Byzantine validators (--byzantine B) are chosen from each seed. --behaviour defaults to\n' +
      'silent while B <= f and to twins (two copies of each validator, split across a network\n' +
      'partition) when B > f: that is the NEGATIVE CONTROL — it must report a safety violation,\n' +
      'and the exit code still signals it (3).\n\n' +
      '--blocks M: every honest replica must commit M heights after the faults end.\n\n' +
      'Exit codes: 0 every seed ok; 3 at least one seed broke an invariant (the SEED=… line and\n' +
      'a replay command are printed); 2 bad flags.',
  })
    .option('--nodes <n>', 'validators', integerOption(1, MAX_SIM_NODES), 4)
    .option('--byzantine <b>', 'Byzantine validators', integerOption(0, MAX_SIM_NODES), 0)
    .addOption(
      new Option(
        '--behaviour <name>',
        'what the Byzantine validators do (default: silent if B <= f, else twins)',
      ).choices(BYZANTINE_BEHAVIOURS),
    )
    .option('--seed <s>', 'first seed', integerOption(0, MAX_SEED), 1)
    .option('--seeds <k>', 'how many consecutive seeds to run', integerOption(1, MAX_SEEDS), 1)
    .addOption(
      new Option('--faults <profile>', 'fault profile (see below)')
        .choices(FAULT_PROFILES)
        .default('mixed'),
    )
    .option(
      '--blocks <m>',
      'heights to commit after the faults end',
      integerOption(1, MAX_BLOCKS),
      10,
    )
    .addOption(
      new Option('--suite <suite>', 'crypto suite of the real signatures')
        .choices(SUITE_IDS)
        .default('intl'),
    )
    .option(
      '--insecure-fake-signatures',
      'INSECURE: replace signatures by a checksum (hashes still real), for huge sweeps only',
    );

  setAction<SimOptions>(sim, async (ctx) => {
    const { options } = ctx;
    if (options.byzantine >= options.nodes) {
      throw usageError(
        `--byzantine: ${options.byzantine} leaves no honest validator among --nodes ${options.nodes}`,
      );
    }
    if (options.seed + options.seeds - 1 > MAX_SEED) {
      throw usageError(`--seeds: --seed ${options.seed} + ${options.seeds} seeds passes 2^32 − 1`);
    }
    const f = maxFaulty(options.nodes);
    const behaviour = options.behaviour ?? defaultBehaviour(options.nodes, options.byzantine);
    const negativeControl = options.byzantine > f;
    const insecure = options.insecureFakeSignatures === true;
    if (insecure) {
      ctx.warn(
        'INSECURE: --insecure-fake-signatures replaces every signature by a checksum; these runs do not exercise signature checks',
      );
    }
    const request: SimRequest = {
      nodes: options.nodes,
      byzantine: options.byzantine,
      behaviour,
      faults: options.faults,
      blocks: options.blocks,
      suite: getSuite(options.suite),
      insecureFakeSignatures: insecure,
    };
    const byzantineText =
      options.byzantine === 0 ? 'no byzantine' : `${options.byzantine} byzantine (${behaviour})`;
    const setup =
      `${options.nodes} nodes (f=${f}), ${byzantineText}, faults ${options.faults}, ` +
      `${options.blocks} blocks after faults, suite ${options.suite}${insecure ? ' (INSECURE fake signatures)' : ''}`;
    ctx.progress(`medchain sim: ${setup}`);
    if (negativeControl) {
      ctx.progress(
        `negative control: byzantine ${options.byzantine} > f ${f}, so a violation is the expected result (exit code 3 still signals it)`,
      );
    }
    ctx.progress(row(COLUMNS.map(([name]) => name)));

    const runs: { [key: string]: JsonValue }[] = [];
    const failures: { line: string; replay: string }[] = [];
    const byClass = { safety: 0, liveness: 0, crash: 0 };
    let messagesPerBlockSum = 0;
    let bytesPerBlockSum = 0;
    const started = performance.now();
    for (let i = 0; i < options.seeds; i++) {
      const seed = options.seed + i;
      const scenario = scenarioFor(request, seed);
      const t0 = performance.now();
      const result = runSimulation(scenario);
      const wallMs = Math.round(performance.now() - t0);
      const outcome = outcomeOf(result);
      const first = result.violations[0];
      if (first !== undefined) byClass[first.class]++;
      messagesPerBlockSum += result.messagesPerBlock;
      bytesPerBlockSum += result.bytesPerBlock;
      const replay = replayCommand(options, behaviour, seed);
      if (result.failureLine !== null) failures.push({ line: result.failureLine, replay });
      runs.push({
        seed,
        outcome,
        ok: result.ok,
        byzantine: (scenario.byzantine ?? []).map((b) => b.validator),
        minHonestHeight: result.minHonestHeight,
        maxHonestHeight: result.maxHonestHeight,
        viewChanges: result.viewChanges,
        messagesSent: result.messagesSent,
        bytesSent: result.bytesSent,
        messagesPerBlock: round(result.messagesPerBlock, 2),
        bytesPerBlock: round(result.bytesPerBlock, 1),
        virtualTimeMs: result.virtualTimeMs,
        events: result.events,
        restarts: result.restarts,
        wallMs,
        violations: result.violations.map((v) => ({
          class: v.class,
          message: v.message,
          atMs: v.atMs,
        })),
        failureLine: result.failureLine,
        ...(result.ok ? {} : { replay }),
      });
      ctx.progress(
        row([
          String(seed),
          outcome,
          `${result.minHonestHeight}-${result.maxHonestHeight}`,
          String(result.viewChanges),
          result.messagesPerBlock.toFixed(1),
          result.bytesPerBlock.toFixed(0),
          (result.virtualTimeMs / 1000).toFixed(1),
          String(wallMs),
        ]),
      );
      // let signals and stdout through between seeds
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const wallMs = Math.round(performance.now() - started);
    const violations = failures.length;
    const ok = options.seeds - violations;
    const summary = {
      seeds: options.seeds,
      ok,
      violations,
      byClass,
      negativeControl,
      failedSeeds: runs.filter((r) => r.ok !== true).map((r) => r.seed ?? null),
      meanMessagesPerBlock: round(messagesPerBlockSum / options.seeds, 2),
      meanBytesPerBlock: round(bytesPerBlockSum / options.seeds, 1),
      wallMs,
    };
    if (negativeControl && violations === 0) {
      ctx.warn(
        `negative control found no violation in ${options.seeds} seed(s): with byzantine > f the checker should have flagged one`,
      );
    }
    ctx.result(
      {
        options: {
          nodes: options.nodes,
          maxFaulty: f,
          byzantine: options.byzantine,
          behaviour,
          faults: options.faults,
          firstSeed: options.seed,
          seeds: options.seeds,
          blocks: options.blocks,
          suite: options.suite,
          insecureFakeSignatures: insecure,
        },
        runs,
        summary,
      },
      () => {
        const classes = Object.entries(byClass)
          .filter(([, count]) => count > 0)
          .map(([name, count]) => `${count} ${name}`)
          .join(', ');
        const lines = [
          `summary: ${options.seeds} seed(s) from ${options.seed}: ${ok} ok, ${violations} violation(s)` +
            `${classes === '' ? '' : ` (${classes})`}; mean ${summary.meanMessagesPerBlock.toFixed(1)} messages and ` +
            `${(summary.meanBytesPerBlock / 1024).toFixed(1)} KiB per committed block; ${(wallMs / 1000).toFixed(1)} s`,
        ];
        for (const failure of failures.slice(0, 20)) {
          lines.push(failure.line, `  replay: ${failure.replay}`);
        }
        if (failures.length > 20) lines.push(`… and ${failures.length - 20} more failing seeds`);
        return lines.join('\n');
      },
    );
    return violations > 0 ? EXIT_CODES.violation : EXIT_CODES.ok;
  });
}
