/**
 * The report and its views on a synthetic run: the summary picks the right
 * step, --json carries the fields the issue names, CSV rows match the series,
 * the HTML is self-contained with SVG charts, the text table names the steps.
 */
import { describe, expect, it } from 'vitest';
import {
  describeSetup,
  jsonSummary,
  LATENCY_STEP_LABEL,
  mergeGeneratorStats,
  REPORT_FORMAT,
  summarize,
} from '../../src/bench/report.js';
import type { BenchConfig, BenchReport, StepReport } from '../../src/bench/report.js';
import { csvCell, stepsCsv, timeSeriesCsv } from '../../src/bench/report-csv.js';
import { renderHtml } from '../../src/bench/report-html.js';
import { renderSummary } from '../../src/bench/report-text.js';
import { escapeXml, lineChart, niceTicks } from '../../src/bench/svg-chart.js';
import type { GeneratorRunStats } from '../../src/bench/generator-protocol.js';
import { floorArithmetic } from '../../src/bench/floor-bench.js';
import type { FloorBenchResult } from '../../src/bench/floor-bench.js';

const CONFIG: BenchConfig = {
  mode: 'devnet',
  nodes: 4,
  observers: 0,
  suite: 'intl',
  workload: 'record.register',
  payloadBytes: 256,
  maxBlockTxs: null,
  blockIntervalMs: 50,
  pipeline: null,
  viewChangeTimeoutMs: 2000,
  rate: null,
  sweep: '500,1000,2000',
  durationS: 10,
  warmupS: 2,
  cooldownS: 1,
  generators: 1,
  lanesPerNode: 2,
  signers: 64,
  calibrate: true,
  floor: false,
  cpuProf: false,
  crashPrimaryAtS: null,
  crashBackupAtS: null,
  targets: null,
};

const MACHINE = {
  cpuModel: 'Synthetic CPU',
  cpus: 2,
  availableParallelism: 2,
  totalMemoryMiB: 4096,
  platform: 'linux',
  kernel: '6.0',
  arch: 'x64',
  loadAverage1m: 0.5,
};

const GEN: GeneratorRunStats = {
  scheduled: 1000,
  sent: 1000,
  accepted: 1000,
  duplicates: 0,
  rejected: 0,
  failed: 0,
  errorCodes: {},
  requests: 200,
  onTime: 1000,
  lagP50Ms: 1,
  lagP99Ms: 5,
  lagMaxMs: 9,
  requestP50Ms: 2,
  requestP99Ms: 8,
  wallMs: 13_000,
  cpuUserMs: 1300,
  cpuSystemMs: 0,
  sentPerSec: 500,
  keptRate: true,
};

function step(
  index: number,
  label: string,
  offered: number,
  committed: number,
  p99: number,
): StepReport {
  const series = Array.from({ length: 3 }, (_, t) => ({
    t,
    inWindow: t === 1,
    offered,
    submitted: offered,
    committed,
    committedPerNode: [committed, committed, committed, committed],
    blocks: 10,
    latencyP50Ms: p99 / 3,
    latencyP99Ms: p99,
    view: 0,
    cpuCores: [0.5, 0.4, 0.45, null],
    rssMiB: [200, 210, 190, null],
  }));
  return {
    step: index,
    label,
    targetRate: offered,
    windowSeconds: 10,
    offeredTps: offered,
    submittedTps: offered,
    committedTps: committed,
    committedTpsPerNode: [committed, committed, committed, committed],
    latencyMs: {
      count: 100,
      min: 5,
      mean: p99 / 3,
      p50: p99 / 3,
      p90: p99 / 2,
      p99,
      p999: p99 * 1.2,
      max: p99 * 1.5,
    },
    blocksPerSec: 10,
    txsPerBlock: committed / 10,
    viewsCommitted: { min: 0, max: 0 },
    counts: {
      scheduled: 100,
      sent: 100,
      accepted: 100,
      duplicates: 0,
      rejected: 0,
      failed: 0,
      committed: 100,
      uncommitted: 0,
    },
    receiptCodes: { OK: 100 },
    fractionOfBound: committed / 3000,
    saturated: committed < 0.9 * offered,
    viewChanges: 0,
    messagesPerTx: 0.8,
    bytesPerTx: 900,
    generator: mergeGeneratorStats([GEN], 1234),
    harnessCpuCores: 0.05,
    nodes: ['a', 'b', 'c', 'd'].map((id) => ({
      id,
      apiUrl: `http://127.0.0.1/${id}`,
      cpuCores: 0.5,
      cpuCoresMax: 0.7,
      rssMiBMax: 210,
      committedTps: committed,
      viewChanges: 0,
      p2pMessagesOutPerTx: 0.2,
      p2pBytesOutPerTx: 225,
      signatureChecksPerTx: 1,
      crashedAtS: null,
    })),
    faults: [],
    series,
  };
}

/** A floor of 2 verifications (ceiling 0.5 of the bound). */
const FLOOR: FloorBenchResult = {
  suite: 'intl',
  txBytes: 940,
  txsPerBlock: 30,
  blocks: 1000,
  transportMeasured: true,
  ...floorArithmetic(
    { transport: 5, 'decode + hash': 15, verify: 50, 'store block + record': 30 },
    5,
  ),
  auditIndexUs: 5,
  decodeUncheckedUs: 5,
  ceilingUncheckedDecodeOfBound: 50 / 90,
};

function report(
  steps: StepReport[],
  isSweep: boolean,
  floor: FloorBenchResult | null = null,
): BenchReport {
  return {
    format: REPORT_FORMAT,
    version: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    config: CONFIG,
    git: { commit: 'abcdef0123456789', dirty: false },
    versions: {
      medchain: '0.1.0',
      node: '20',
      v8: '11',
      openssl: '3',
      libp2p: '3.3.11',
      level: '10',
      fastify: '5',
    },
    machine: MACHINE,
    calibration: {
      suite: 'intl',
      cores: 2,
      messageBytes: 700,
      seconds: 1,
      verifyPerSecAlone: 7000,
      verifyPerSecAllCores: 12_000,
      verifyPerSecPerCore: 6000,
      knownKeyVerifyPerSecPerCore: 6100,
    },
    boundTps: 3000,
    boundBasis: 'known-key',
    floor,
    summary: summarize(
      describeSetup(CONFIG, MACHINE),
      steps,
      3000,
      isSweep,
      floor?.ceilingOfBound ?? null,
    ),
    steps,
    profiles: [],
    files: {
      json: '/out/report.json',
      csv: '/out/timeseries.csv',
      stepsCsv: '/out/steps.csv',
      html: '/out/report.html',
    },
  };
}

const SWEEP = [
  step(0, 'sweep 1/3: 500 tx/s', 500, 500, 80),
  step(1, 'sweep 2/3: 1000 tx/s', 1000, 990, 150),
  step(2, 'sweep 3/3: 2000 tx/s', 2000, 1500, 2500),
  step(3, LATENCY_STEP_LABEL, 1200, 1200, 400),
];

describe('summary', () => {
  it('a sweep: the best step, saturation and the latency at 80 % of it', () => {
    const s = summarize('x', SWEEP, 3000, true);
    expect(s.committedTps).toBe(1500);
    expect(s.offeredTps).toBe(2000);
    expect(s.saturationTps).toBe(1500);
    expect(s.fractionOfBound).toBe(0.5);
    expect(s.latencyAt80PercentOfSaturationMs?.p99).toBe(400);
    expect(s.submitted).toBe(400);
    expect(s.committed).toBe(400);
    expect(s.lost).toBe(0);
    expect(s.generatorKeptRate).toBe(true);
  });

  it('a single run: its step; no bound → null fraction', () => {
    const s = summarize('x', [step(0, 'rate 500', 500, 480, 90)], null, false);
    expect(s.committedTps).toBe(480);
    expect(s.boundTps).toBeNull();
    expect(s.fractionOfBound).toBeNull();
    expect(s.ceilingOfBound).toBeNull();
    expect(s.ceilingTps).toBeNull();
    expect(s.fractionOfCeiling).toBeNull();
    expect(s.saturationTps).toBeNull();
    expect(s.latencyAt80PercentOfSaturationMs).toBeNull();
  });

  it('with --floor: the ceiling in tx/s and the committed rate as a fraction of it', () => {
    const s = summarize('x', SWEEP, 3000, true, 0.5);
    expect(s.ceilingOfBound).toBe(0.5);
    expect(s.ceilingTps).toBe(1500);
    expect(s.fractionOfCeiling).toBe(1);
    const noBound = summarize('x', SWEEP, null, true, 0.5);
    expect(noBound.ceilingOfBound).toBe(0.5);
    expect(noBound.ceilingTps).toBeNull();
    expect(noBound.fractionOfCeiling).toBeNull();
    expect(jsonSummary(report(SWEEP, true, FLOOR))).toMatchObject({
      ceilingOfBound: 0.5,
      ceilingTps: 1500,
      floor: { floorInVerifications: 2 },
    });
  });

  it('merges generator stats: CPU in cores over the longest wall time', () => {
    const g = mergeGeneratorStats([GEN, { ...GEN, keptRate: false, errorCodes: { X: 2 } }], 10);
    expect(g.processes).toBe(2);
    expect(g.cpuCores).toBe(0.2);
    expect(g.keptRate).toBe(false);
    expect(g.sentPerSec).toBe(1000);
    expect(g.errorCodes).toEqual({ X: 2 });
  });

  it('--json carries the fields the issue names and no time series', () => {
    const json = jsonSummary(report(SWEEP, true));
    for (const key of [
      'committedTps',
      'offeredTps',
      'boundTps',
      'latencyMs',
      'viewChanges',
      'config',
      'machine',
      'git',
      'files',
    ]) {
      expect(json, key).toHaveProperty(key);
    }
    expect(json.latencyMs).toMatchObject({ p50: 2500 / 3, p99: 2500 });
    const steps = json.steps as Record<string, unknown>[];
    expect(steps).toHaveLength(4);
    expect(steps[0]).not.toHaveProperty('series');
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('the setup line says what ran', () => {
    expect(describeSetup(CONFIG, MACHINE)).toBe(
      '4 validators, suite intl, record.register, sweep 500,1000,2000, 10 s measured (2 s warm-up, 1 s cool-down), 50 ms interval, local processes on Synthetic CPU ×2',
    );
  });
});

describe('CSV', () => {
  it('one time-series row per step and second, node columns named', () => {
    const csv = timeSeriesCsv(report(SWEEP, true)).trimEnd().split('\n');
    expect(csv).toHaveLength(1 + 4 * 3);
    const header = csv[0]?.split(',') ?? [];
    expect(header.slice(0, 4)).toEqual(['step', 'label', 't_s', 'in_window']);
    expect(header).toContain('cpu_cores_a');
    expect(header).toContain('rss_mib_d');
    const row = csv[2]?.split(',') ?? [];
    expect(row[0]).toBe('0');
    expect(row[2]).toBe('1');
    expect(row[3]).toBe('true');
    expect(row[header.indexOf('cpu_cores_d')]).toBe('');
    expect(row.length).toBe(header.length);
  });

  it('one row per step', () => {
    const lines = stepsCsv(report(SWEEP, true)).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[3]).toContain('sweep 3/3: 2000 tx/s');
    expect(lines[3]?.split(',').at(-1)).toBe('true'); // saturated
  });

  it('quotes cells that need it', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "x"')).toBe('"say ""x"""');
    expect(csvCell(null)).toBe('');
    expect(csvCell(1.5)).toBe('1.5');
  });
});

describe('HTML and text', () => {
  it('the HTML is self-contained, with a throughput–latency chart and a time series per step', () => {
    const html = renderHtml(report(SWEEP, true));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain('throughput–latency');
    expect((html.match(/<svg /g) ?? []).length).toBe(1 + 3 * SWEEP.length);
    expect(html).toContain(LATENCY_STEP_LABEL);
    expect(html).toContain('abcdef0123456789');
  });

  it('escapes text that reaches the HTML', () => {
    const bad = step(0, '<img src=x onerror=alert(1)>', 1, 1, 1);
    const html = renderHtml(report([bad], false));
    expect(html).not.toContain('<img');
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  });

  it('the text summary has one row per step and the saturation line', () => {
    const text = renderSummary(report(SWEEP, true));
    for (const s of SWEEP) expect(text).toContain(s.label);
    expect(text).toMatch(/saturation: 1,500 tx\/s committed; at 80%: p50 133\.3 ms, p99 400\.0 ms/);
    expect(text).toContain('bound: 6,100 verifies/s/core (intl, known-key,');
    expect(text).toContain('/out/report.html');
    expect(text).not.toContain('WARNING');
    expect(text).not.toContain('floor:');
  });

  it('with --floor the text and the HTML show the floor and its ceiling', () => {
    const r = report(SWEEP, true, FLOOR);
    const text = renderSummary(r);
    expect(text).toContain(
      'floor: transport 5.0, decode + hash 15.0, verify 50.0, store block + record 30.0 µs CPU per transaction = 2.00 verifications → ceiling 0.50 of the bound = 1,500 tx/s (0.56 if decoding skipped its canonical check)',
    );
    expect(text).toContain("committed 1,500 tx/s = 100% of the floor's ceiling (1,500 tx/s)");
    expect(renderHtml(r)).toContain('2.00 verifications → ceiling 0.50 of the bound');
  });

  it('the text summary warns of a step whose generator left transactions unsent', () => {
    const [first, ...rest] = SWEEP;
    if (!first) expect.fail('no step');
    const short = { ...first, counts: { ...first.counts, sent: 60 } };
    const text = renderSummary(report([short, ...rest], true));
    expect(text).toContain(
      'WARNING sweep 1/3: 500 tx/s: 40 of 100 scheduled transactions were never sent',
    );
  });
});

describe('svg charts', () => {
  it('nice ticks cover the range with round steps', () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.5, 1]);
    expect(niceTicks(5, 5)).toEqual([5, 5.2, 5.4, 5.6, 5.8, 6]);
  });

  it('gaps (null) break a line; one point still shows', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 'a',
          color: '#000',
          points: [
            [0, 1],
            [1, 2],
            [2, null],
            [3, 4],
            [4, 5],
          ],
        },
        { name: 'b', color: '#111', points: [[0, 3]] },
      ],
    });
    expect((svg.match(/<polyline/g) ?? []).length).toBe(2);
    expect((svg.match(/<circle/g) ?? []).length).toBe(1);
  });
});
