/**
 * Runs devnet nodes as separate processes (`medchain start --config …`), one
 * per institution, with logs appended to `<node>/node.log`. Used by
 * `medchain devnet`, the integration tests and the benchmark harness.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MedchainError } from '../errors.js';
import type { DevnetManifest, DevnetNode } from './layout.js';

/** The built CLI entry point (dist/cli/main.js), also when this module runs from source (tests). */
export const CLI_MAIN = ((): string => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return path.basename(root) === 'dist'
    ? path.join(root, 'cli', 'main.js')
    : path.join(root, 'dist', 'cli', 'main.js');
})();

export interface NodeStatusSummary {
  readonly height: number;
  readonly view: number;
  readonly role: string;
  readonly stateRoot: string | null;
  readonly latestBlockHash: string | null;
}

export class DevnetProcessError extends MedchainError {}

interface Running {
  readonly child: ChildProcess;
  readonly log: FileHandle;
  readonly exited: Promise<number | null>;
}

export interface StartNodeOptions {
  /** Extra environment for the node (e.g. MEDCHAIN_LOG_LEVEL). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node arguments (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
}

export class DevnetProcesses {
  readonly manifest: DevnetManifest;
  readonly #running = new Map<string, Running>();
  readonly #options: StartNodeOptions;

  constructor(manifest: DevnetManifest, options: StartNodeOptions = {}) {
    this.manifest = manifest;
    this.#options = options;
  }

  node(id: string): DevnetNode {
    const node = this.manifest.nodes.find((n) => n.id === id);
    if (!node) throw new DevnetProcessError('DEVNET_NO_NODE', `no node "${id}" in this devnet`);
    return node;
  }

  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  pid(id: string): number | undefined {
    return this.#running.get(id)?.child.pid;
  }

  async startAll(): Promise<void> {
    for (const node of this.manifest.nodes) await this.start(node.id);
  }

  /**
   * Starts node `id`. Rejects with `DEVNET_PORT_IN_USE` if its p2p or HTTP port
   * on 127.0.0.1 is taken: whatever listens there (often another devnet or
   * bench) would otherwise answer in this node's place.
   */
  async start(id: string): Promise<void> {
    if (this.#running.has(id)) return;
    const node = this.node(id);
    for (const [port, what] of [
      [node.p2pPort, 'p2p'],
      [node.apiPort, 'HTTP'],
    ] as const) {
      if (await portInUse(port)) {
        throw new DevnetProcessError(
          'DEVNET_PORT_IN_USE',
          `port ${port} on 127.0.0.1 (${what} of ${id}) is in use: another devnet or bench may be running there; stop it or choose another --base-port`,
          { port, node: id },
        );
      }
    }
    const log = await open(node.logFile, 'a');
    const child = spawn(
      process.execPath,
      [...(this.#options.nodeArgs ?? []), CLI_MAIN, 'start', '--config', node.configFile],
      {
        cwd: node.dir,
        env: { ...process.env, ...this.#options.env },
        stdio: ['ignore', log.fd, log.fd],
      },
    );
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#running.delete(id);
        void log.close();
        resolve(code ?? (signal ? -1 : null));
      });
    });
    this.#running.set(id, { child, log, exited });
  }

  /** Sends `signal` and waits for the process to exit (SIGKILL after `timeoutMs`). */
  async stop(
    id: string,
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 15_000,
  ): Promise<number | null> {
    const r = this.#running.get(id);
    if (!r) return null;
    r.child.kill(signal);
    const timer = setTimeout(() => r.child.kill('SIGKILL'), timeoutMs);
    try {
      return await r.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `kill -9`: no clean shutdown. */
  kill(id: string): Promise<number | null> {
    return this.stop(id, 'SIGKILL');
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.stop(id, signal)));
  }

  /** Exit of a node's process (resolves immediately if it is not running). */
  exited(id: string): Promise<number | null> {
    return this.#running.get(id)?.exited ?? Promise.resolve(null);
  }
}

/** `GET /v1/status` of a node, or null if it does not answer (yet). */
/** Whether something listens on `port` of 127.0.0.1 (other errors are left to the node to report). */
async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'EADDRINUSE');
    });
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.close(() => {
        resolve(false);
      });
    });
  });
}

export async function fetchStatus(
  apiUrl: string,
  timeoutMs = 2000,
): Promise<NodeStatusSummary | null> {
  try {
    const res = await fetch(`${apiUrl}/v1/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    return (await res.json()) as NodeStatusSummary;
  } catch {
    return null;
  }
}

/**
 * Polls until `check` holds, or throws after `timeoutMs` with `what` in the
 * message. The one way tests and the devnet wait: a condition with a deadline.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      throw new DevnetProcessError(
        'TIMEOUT',
        `timed out after ${timeoutMs} ms waiting for ${what}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until every listed node answers `/v1/status`. */
export async function waitForApis(
  nodes: readonly Pick<DevnetNode, 'id' | 'apiUrl'>[],
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  await waitFor(
    `${nodes.map((n) => n.id).join(', ')} to answer on their APIs`,
    async () =>
      (await Promise.all(nodes.map((n) => fetchStatus(n.apiUrl)))).every((s) => s !== null),
    timeoutMs,
    intervalMs,
  );
}

/** Waits until every listed node reports at least `height`. */
export async function waitForHeight(
  nodes: readonly DevnetNode[],
  height: number,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `${nodes.map((n) => n.id).join(', ')} to reach height ${height}`,
    async () => {
      const statuses = await Promise.all(nodes.map((n) => fetchStatus(n.apiUrl)));
      return statuses.every((s) => s !== null && s.height >= height);
    },
    timeoutMs,
  );
}
