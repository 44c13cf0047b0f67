/**
 * The README's first command: `medchain devnet` brings up four hospitals and a
 * regulator as separate processes, commits blocks, writes devnet.json, and
 * stops every node on SIGTERM. Run with the gm suite, so both suites run on
 * real processes in the suite (the cluster tests use intl).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DevnetManifest } from '../../src/devnet/layout.js';
import { CLI_MAIN, fetchStatus, waitFor } from '../../src/devnet/processes.js';

let dir = '';
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('medchain devnet', () => {
  it('starts the alliance, commits blocks, writes devnet.json and stops every node on SIGTERM', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-devnet-'));
    const child = spawn(
      process.execPath,
      [
        CLI_MAIN,
        'devnet',
        '--suite',
        'gm',
        '--data-dir',
        dir,
        '--base-port',
        '18100',
        '--scrypt-log-n',
        '12',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(
        'the devnet to report it is up',
        () => stdout.includes('Ctrl-C stops every node'),
        120_000,
        200,
      );
      const manifest = JSON.parse(
        await readFile(path.join(dir, 'devnet.json'), 'utf8'),
      ) as DevnetManifest;
      expect(manifest.suite).toBe('gm');
      expect(manifest.nodes.map((n) => [n.id, n.voting])).toEqual([
        ['community-centre', true],
        ['district-hospital', true],
        ['city-hospital', true],
        ['county-hospital', true],
        ['health-commission', false],
      ]);
      for (const n of manifest.nodes) expect(stdout).toContain(n.apiUrl);
      const statuses = await Promise.all(manifest.nodes.map((n) => fetchStatus(n.apiUrl)));
      const heights = statuses.map((s) => s?.height ?? 0);
      expect(Math.min(...heights)).toBeGreaterThanOrEqual(1);
      expect(statuses[4]?.role).toBe('observer');

      const pids = (
        await Promise.all(
          manifest.nodes.map(async (n) => {
            const log = await readFile(n.logFile, 'utf8');
            return Number(/"pid":(\d+)/.exec(log)?.[1]);
          }),
        )
      ).filter((pid) => Number.isSafeInteger(pid));
      expect(pids).toHaveLength(5);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);
});
