import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../consensus/sim/index.js';
import {
  chooseByzantine,
  defaultBehaviour,
  FAULT_PROFILES,
  scenarioFor,
  twinsSplitSide,
} from '../../cli/sim-profiles.js';
import type { SimRequest } from '../../cli/sim-profiles.js';
import { getSuite } from '../../src/crypto/index.js';
import { cli, jsonOf } from './cli-harness.js';

const suite = getSuite('intl');
const request = (overrides: Partial<SimRequest> = {}): SimRequest => ({
  nodes: 7,
  byzantine: 2,
  behaviour: 'silent',
  faults: 'mixed',
  blocks: 5,
  suite,
  insecureFakeSignatures: false,
  ...overrides,
});

interface RunJson {
  seed: number;
  outcome: string;
  ok: boolean;
  byzantine: number[];
  minHonestHeight: number;
  maxHonestHeight: number;
  viewChanges: number;
  messagesPerBlock: number;
  bytesPerBlock: number;
  virtualTimeMs: number;
  failureLine: string | null;
  replay?: string;
}
interface SimJson {
  options: Record<string, unknown>;
  runs: RunJson[];
  summary: {
    seeds: number;
    ok: number;
    violations: number;
    byClass: Record<string, number>;
    negativeControl: boolean;
    failedSeeds: number[];
  };
}

describe('sim scenarios', () => {
  it('default behaviour: silent up to f, twins (negative control) beyond', () => {
    expect(defaultBehaviour(4, 0)).toBe('silent');
    expect(defaultBehaviour(4, 1)).toBe('silent');
    expect(defaultBehaviour(4, 2)).toBe('twins');
    expect(defaultBehaviour(7, 2)).toBe('silent');
    expect(defaultBehaviour(7, 3)).toBe('twins');
  });

  it('Byzantine validators: distinct, in range, a function of the seed alone', () => {
    const picks = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const chosen = chooseByzantine(seed, 10, 3);
      expect(chosen).toHaveLength(3);
      expect(new Set(chosen).size).toBe(3);
      expect(chosen.every((v) => v >= 0 && v < 10)).toBe(true);
      expect(chosen).toEqual([...chosen].sort((a, b) => a - b));
      expect(chooseByzantine(seed, 10, 3)).toEqual(chosen);
      picks.add(chosen.join(','));
    }
    // not always the same validators
    expect(picks.size).toBeGreaterThan(50);
    expect(chooseByzantine(5, 4, 0)).toEqual([]);
  });

  it('twins split: one copy of each twin and every other honest replica on one side', () => {
    // the hand-built negative control of test/sim/negative.test.ts: twins 0 and 1 of 4 → instances 0,1 | 2,3 | 4 | 5
    expect(twinsSplitSide(4, [0, 1])).toEqual([0, 2, 4]);
    // n=7, twins 2 and 5: instance ids 0 1 (2,3) 4 5 (6,7) 8; honest 0,1,4,5,8 alternate sides
    expect(twinsSplitSide(7, [2, 5])).toEqual([0, 2, 4, 6, 8]);
  });

  it('every profile yields a deterministic scenario with the chosen Byzantine validators', () => {
    for (const faults of FAULT_PROFILES) {
      const a = scenarioFor(request({ faults }), 42);
      const b = scenarioFor(request({ faults }), 42);
      expect(JSON.stringify(a, (k, v: unknown) => (k === 'suite' ? undefined : v))).toBe(
        JSON.stringify(b, (k, v: unknown) => (k === 'suite' ? undefined : v)),
      );
      expect(a.byzantine).toEqual(
        chooseByzantine(42, 7, 2).map((validator) => ({ validator, behaviour: 'silent' })),
      );
      expect(a.livenessHeights).toBe(5);
      expect(a.validators).toBe(7);
    }
    expect(scenarioFor(request({ faults: 'none' }), 1).faultsEndMs).toBe(0);
    expect(scenarioFor(request({ faults: 'loss' }), 1).network).toMatchObject({
      lossRate: 0.2,
      duplicateRate: 0.3,
    });
    const twins = scenarioFor(
      request({ nodes: 4, byzantine: 2, behaviour: 'twins', faults: 'none' }),
      1,
    );
    expect(twins.partitions).toEqual([
      { fromMs: 0, toMs: 3000, groups: [twinsSplitSide(4, chooseByzantine(1, 4, 2))] },
    ]);
    expect(twins.faultsEndMs).toBe(3000);
  });

  it('the twins scenario makes the simulator report a safety violation; the same count of silent replicas does not', () => {
    const twins = runSimulation(
      scenarioFor(request({ nodes: 4, byzantine: 2, behaviour: 'twins', faults: 'none' }), 7),
    );
    expect(twins.ok).toBe(false);
    expect(twins.violations[0]?.class).toBe('safety');
    const withinF = runSimulation(
      scenarioFor(request({ nodes: 4, byzantine: 1, behaviour: 'twins', faults: 'none' }), 7),
    );
    expect(withinF.failureLine).toBeNull();
  });
});

describe('medchain sim', () => {
  it('--json: one document with runs and summary; exit 0 when every seed is ok', async () => {
    const r = await cli([
      'sim',
      '--nodes',
      '4',
      '--byzantine',
      '1',
      '--seed',
      '10',
      '--seeds',
      '2',
      '--faults',
      'none',
      '--blocks',
      '4',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const body = jsonOf(r) as unknown as SimJson;
    expect(Object.keys(body)).toEqual(['options', 'runs', 'summary']);
    expect(body.options).toMatchObject({
      nodes: 4,
      maxFaulty: 1,
      byzantine: 1,
      behaviour: 'silent',
      faults: 'none',
      firstSeed: 10,
      seeds: 2,
      blocks: 4,
      suite: 'intl',
    });
    expect(body.runs.map((run) => run.seed)).toEqual([10, 11]);
    for (const run of body.runs) {
      expect(run).toMatchObject({ outcome: 'ok', ok: true, failureLine: null });
      expect(run.byzantine).toEqual(chooseByzantine(run.seed, 4, 1));
      expect(run.minHonestHeight).toBeGreaterThanOrEqual(4);
      expect(run.maxHonestHeight).toBeGreaterThanOrEqual(run.minHonestHeight);
      expect(run.messagesPerBlock).toBeGreaterThan(0);
      expect(run.bytesPerBlock).toBeGreaterThan(0);
      expect(run.virtualTimeMs).toBeGreaterThan(0);
    }
    expect(body.summary).toMatchObject({
      seeds: 2,
      ok: 2,
      violations: 0,
      negativeControl: false,
      failedSeeds: [],
    });
  });

  it('the twins negative control exits 3 and prints the SEED line and a replay command that reproduces it', async () => {
    const human = await cli([
      'sim',
      '--nodes',
      '4',
      '--byzantine',
      '2',
      '--faults',
      'none',
      '--seed',
      '3',
      '--seeds',
      '2',
    ]);
    expect(human.code).toBe(3);
    expect(human.stdout).toContain('negative control: byzantine 2 > f 1');
    expect(human.stdout).toMatch(/^SEED=3 n=4 class=safety /m);
    expect(human.stdout).toContain(
      'replay: medchain sim --nodes 4 --byzantine 2 --behaviour twins --faults none --blocks 10 --suite intl --seed 3 --seeds 1',
    );
    expect(human.stdout).toMatch(
      /summary: 2 seed\(s\) from 3: 0 ok, 2 violation\(s\) \(2 safety\)/,
    );

    const json = await cli([
      '--json',
      'sim',
      '--nodes',
      '4',
      '--byzantine',
      '2',
      '--faults',
      'none',
      '--seed',
      '3',
      '--seeds',
      '2',
    ]);
    expect(json.code).toBe(3);
    const body = jsonOf(json) as unknown as SimJson;
    expect(body.summary).toMatchObject({
      violations: 2,
      byClass: { safety: 2, liveness: 0, crash: 0 },
      negativeControl: true,
      failedSeeds: [3, 4],
    });
    const first = body.runs[0];
    expect(first?.outcome).toBe('safety');
    const replay = (first?.replay ?? '').split(' ').slice(1);
    const again = jsonOf(await cli(['--json', ...replay])) as unknown as SimJson;
    expect(again.runs[0]?.failureLine).toBe(first?.failureLine);
  });

  it('more than f silent replicas is a liveness violation (exit 3)', async () => {
    const r = await cli([
      '--json',
      'sim',
      '--nodes',
      '4',
      '--byzantine',
      '2',
      '--behaviour',
      'silent',
      '--faults',
      'none',
      '--blocks',
      '2',
    ]);
    expect(r.code).toBe(3);
    expect((jsonOf(r) as unknown as SimJson).runs[0]?.outcome).toBe('liveness');
  });

  it('--insecure-fake-signatures says INSECURE on stderr and in the output', async () => {
    const r = await cli(['sim', '--faults', 'none', '--blocks', '2', '--insecure-fake-signatures']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^medchain: warning: INSECURE/);
    expect(r.stdout).toContain('INSECURE fake signatures');
  });

  it('bad flags exit 2 with one line', async () => {
    const cases: [readonly string[], RegExp][] = [
      [['sim', '--nodes', '0'], /--nodes/],
      [['sim', '--nodes', '65'], /from 1 to 64/],
      [['sim', '--nodes', '4', '--byzantine', '4'], /leaves no honest validator/],
      [
        ['sim', '--faults', 'storm'],
        /--faults.*Allowed choices are none, delay, loss, partition, crash, mixed/,
      ],
      [['sim', '--behaviour', 'evil'], /--behaviour/],
      [['sim', '--seeds', '0'], /--seeds/],
      [['sim', '--seed', '-1'], /--seed/],
      [['sim', '--seed', '4294967295', '--seeds', '2'], /passes 2\^32/],
      [['sim', '--blocks', 'many'], /expected an integer/],
      [['sim', '--suite', 'rsa'], /--suite/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli([...argv, '--json']);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderrLines, argv.join(' ')).toHaveLength(1);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(jsonOf(r).error, argv.join(' ')).toMatchObject({ code: 'USAGE' });
    }
  });
});
