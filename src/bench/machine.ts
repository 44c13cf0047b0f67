/**
 * Where a benchmark ran: machine, versions and the git commit, for the
 * report's header (a figure without its setup is not a result).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly availableParallelism: number;
  readonly totalMemoryMiB: number;
  readonly platform: string;
  readonly kernel: string;
  readonly arch: string;
  readonly loadAverage1m: number;
}

export interface Versions {
  readonly medchain: string | null;
  readonly node: string;
  readonly v8: string;
  readonly openssl: string;
  readonly libp2p: string | null;
  readonly level: string | null;
  readonly fastify: string | null;
}

export interface GitInfo {
  readonly commit: string | null;
  /** Uncommitted changes in the working tree (null if git is unavailable). */
  readonly dirty: boolean | null;
}

/** The repository root: three levels above src/bench (source) or dist/src/bench (built). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
      };
      if (pkg.name === 'medchain') return dir;
    } catch {
      // keep climbing
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

function packageVersion(root: string, name: string): string | null {
  const file =
    name === 'medchain'
      ? path.join(root, 'package.json')
      : path.join(root, 'node_modules', name, 'package.json');
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    availableParallelism: availableParallelism(),
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
    platform: platform(),
    kernel: release(),
    arch: arch(),
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export function versions(root = repoRoot()): Versions {
  return {
    medchain: packageVersion(root, 'medchain'),
    node: process.versions.node,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    libp2p: packageVersion(root, 'libp2p'),
    level: packageVersion(root, 'level'),
    fastify: packageVersion(root, 'fastify'),
  };
}

export function gitInfo(root = repoRoot()): GitInfo {
  const git = (args: string[]): string | null => {
    try {
      return execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        timeout: 5000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return null;
    }
  };
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit === null ? null : git(['status', '--porcelain', '--untracked-files=no']);
  return { commit, dirty: status === null ? null : status.length > 0 };
}
