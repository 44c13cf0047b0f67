/**
 * Smoke run of the built `medchain bench`: four real node processes on
 * 127.0.0.1, a load-generator process, a few seconds of open-loop load with
 * calibration and the floor. Checks the shape of the summary and the report files, and
 * that every transaction the nodes accepted was committed with an OK receipt.
 * It asserts no speed: figures on a shared test machine mean nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const BASE_PORT = 18500;
const RATE = 40;
const LOAD_SECONDS = 5; // 1 warm-up + 3 measured + 1 cool-down

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function medchain(args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('medchain bench (built CLI)', () => {
  it('a short run on 4 nodes: summary, report files, committed == submitted', async () => {
    expect(existsSync(CLI), 'npm run build first').toBe(true);
    const out = await mkdtemp(path.join(tmpdir(), 'medchain-bench-smoke-'));
    dirs.push(out);
    const run = await medchain(
      [
        'bench',
        '--json',
        '--rate',
        String(RATE),
        '--warmup',
        '1',
        '--duration',
        '3',
        '--cooldown',
        '1',
        '--signers-per-node',
        '4',
        '--calibrate',
        '--calibrate-seconds',
        '0.2',
        '--floor',
        '--base-port',
        String(BASE_PORT),
        '--out',
        out,
        // inside the test's directory, so a failed run's kept devnet is removed with it
        '--devnet-dir',
        path.join(out, 'devnet'),
      ],
      150_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Record<string, unknown> & {
      latencyMs: Record<string, number | null>;
      steps: { counts: Record<string, number>; receiptCodes: Record<string, number> }[];
      files: Record<string, string>;
      config: Record<string, unknown>;
    };

    // the fields the issue names
    expect(typeof summary.committedTps).toBe('number');
    expect(summary.committedTps as number).toBeGreaterThan(0);
    expect(summary.offeredTps).toBeCloseTo(RATE, -1);
    expect(summary.boundTps as number).toBeGreaterThan(0);
    expect(summary.fractionOfBound as number).toBeGreaterThan(0);
    // --floor: a ceiling below the bound, in tx/s against the same bound
    const ceiling = summary.ceilingOfBound as number;
    expect(ceiling).toBeGreaterThan(0);
    expect(ceiling).toBeLessThan(1);
    expect(summary.ceilingTps as number).toBeCloseTo(ceiling * (summary.boundTps as number), -1);
    expect(summary.fractionOfCeiling as number).toBeGreaterThan(summary.fractionOfBound as number);
    expect(summary.floor).toMatchObject({ suite: 'intl', transportMeasured: true });
    expect(summary.latencyMs.p50).toBeGreaterThan(0);
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50 ?? 0);
    expect(typeof summary.viewChanges).toBe('number');
    expect(summary.config).toMatchObject({ nodes: 4, suite: 'intl', workload: 'record.register' });

    // every scheduled transaction was accepted and committed with an OK receipt
    const [step] = summary.steps;
    const scheduled = RATE * LOAD_SECONDS;
    expect(step?.counts.scheduled).toBe(scheduled);
    expect(summary.submitted).toBe(scheduled);
    expect(summary.committed).toBe(summary.submitted);
    expect(summary.lost).toBe(0);
    expect(step?.receiptCodes).toEqual({ OK: scheduled });

    // the files
    const report = JSON.parse(await readFile(summary.files.json ?? '', 'utf8')) as {
      format: string;
      git: { commit: string | null };
      machine: { cpus: number };
      versions: { node: string };
      calibration: {
        verifyPerSecPerCore: number;
        knownKeyVerifyPerSecPerCore: number;
        cores: number;
      } | null;
      boundTps: number | null;
      boundBasis: string | null;
      steps: {
        series: {
          t: number;
          committed: number;
          committedPerNode: number[];
          cpuCores: (number | null)[];
        }[];
        nodes: unknown[];
      }[];
    };
    expect(report.format).toBe('medchain-bench');
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.versions.node).toBe(process.versions.node);
    expect(report.calibration?.verifyPerSecPerCore).toBeGreaterThan(0);
    // record.register signers are certified members: the nodes verify them with known-key tables
    expect(report.boundBasis).toBe('known-key');
    const c = report.calibration;
    expect(report.boundTps).toBeCloseTo(
      ((c?.knownKeyVerifyPerSecPerCore ?? 0) * (c?.cores ?? 0)) / 4,
      0,
    );
    const series = report.steps[0]?.series ?? [];
    expect(series.length).toBeGreaterThanOrEqual(LOAD_SECONDS);
    // every transaction appears in the per-second commits of at least a quorum (3) of nodes
    const perNode = [0, 1, 2, 3].map((i) =>
      series.reduce((sum, p) => sum + (p.committedPerNode[i] ?? 0), 0),
    );
    expect(perNode.filter((n) => n === scheduled).length, perNode.join(',')).toBeGreaterThanOrEqual(
      3,
    );
    expect(series.some((p) => p.cpuCores.some((c) => c !== null && c > 0))).toBe(true);
    expect(report.steps[0]?.nodes).toHaveLength(4);

    const csv = (await readFile(summary.files.csv ?? '', 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toMatch(/^step,label,t_s,in_window,offered_tx,submitted_tx,committed_tx/);
    expect(csv).toHaveLength(1 + series.length);
    const stepsCsv = (await readFile(summary.files.stepsCsv ?? '', 'utf8')).trimEnd().split('\n');
    expect(stepsCsv).toHaveLength(2);
    const html = await readFile(summary.files.html ?? '', 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).not.toContain('<script');

    expect(run.stderr).not.toMatch(/INTERNAL|Error:/);
  }, 180_000);

  it('bad flags fail fast with one line and exit code 2', async () => {
    const sweep = await medchain(['bench', '--sweep', '500'], 20_000);
    expect(sweep.code).toBe(2);
    expect(sweep.stderr.trim().split('\n')).toHaveLength(1);
    expect(sweep.stderr).toMatch(/--sweep: give at least two rates/);

    const auto = await medchain(['bench', '--sweep', 'auto'], 20_000);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(/--sweep auto needs --calibrate/);

    const targets = await medchain(['bench', '--json', '--targets', 'http://127.0.0.1:1'], 20_000);
    expect(targets.code).toBe(2);
    expect(JSON.parse(targets.stdout)).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect(targets.stderr).toMatch(/--keys-from/);

    const floor = await medchain(['bench', '--floor', '--workload', 'member.certify'], 20_000);
    expect(floor.code).toBe(2);
    expect(floor.stderr).toMatch(/floor.*record\.register/);

    const crash = await medchain(['bench', '--nodes', '3', '--crash-primary-at', '2'], 20_000);
    expect(crash.code).toBe(2);
    expect(crash.stderr).toMatch(/tolerate no crash/);
  }, 60_000);
});
