/**
 * The harness's side of a load-generator process: forks
 * `dist/src/bench/generator.js` and turns the IPC protocol
 * (./generator-protocol.ts) into awaited calls with deadlines.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { MedchainError } from '../errors.js';
import { builtBenchModule } from './built-module.js';
import { sampleProcess } from './node-probe.js';
import type {
  FromGenerator,
  GeneratorInit,
  GeneratorPrepared,
  GeneratorProgress,
  GeneratorRunStats,
  ToGenerator,
} from './generator-protocol.js';

export class GeneratorError extends MedchainError {}

/** `, state S (sleeping) in ep_poll` from /proc on Linux; '' where it cannot be read. */
async function processState(pid: number): Promise<string> {
  try {
    const [status, wchan] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8'),
      readFile(`/proc/${pid}/wchan`, 'utf8').catch(() => ''),
    ]);
    const state = /^State:\s*(.+)$/m.exec(status)?.[1]?.trim() ?? '?';
    return `, state ${state}${wchan !== '' && wchan !== '0' ? ` in ${wchan}` : ''}`;
  } catch {
    return '';
  }
}

type Waiter = {
  readonly type: FromGenerator['type'];
  readonly resolve: (message: FromGenerator) => void;
  readonly reject: (error: Error) => void;
};

export class GeneratorHandle {
  readonly index: number;
  readonly #child: ChildProcess;
  readonly #waiters: Waiter[] = [];
  readonly #exited: Promise<number | null>;
  #onProgress: ((p: GeneratorProgress) => void) | null = null;
  #failure: GeneratorError | null = null;

  private constructor(index: number, child: ChildProcess) {
    this.index = index;
    this.#child = child;
    child.on('message', (raw: unknown) => {
      this.#dispatch(raw as FromGenerator);
    });
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.#failure ??= new GeneratorError(
          'BENCH_GENERATOR_EXITED',
          `load generator ${index} exited (code ${String(code)})`,
        );
        for (const w of this.#waiters.splice(0)) w.reject(this.#failure);
        resolve(code);
      });
    });
  }

  /** Forks generator `index` with `nodeArgs` (e.g. `--cpu-prof`). */
  static start(index: number, nodeArgs: readonly string[] = []): GeneratorHandle {
    const child = fork(builtBenchModule('generator'), [], {
      serialization: 'advanced',
      execArgv: [...nodeArgs],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new GeneratorHandle(index, child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #dispatch(message: FromGenerator): void {
    if (message.type === 'progress') {
      this.#onProgress?.(message);
      return;
    }
    if (message.type === 'error') {
      this.#failure = new GeneratorError(
        'BENCH_GENERATOR_FAILED',
        `load generator ${this.index}: ${message.code}: ${message.message}`,
      );
      for (const w of this.#waiters.splice(0)) w.reject(this.#failure);
      return;
    }
    const at = this.#waiters.findIndex((w) => w.type === message.type);
    if (at >= 0) {
      const [waiter] = this.#waiters.splice(at, 1);
      waiter?.resolve(message);
    }
  }

  #send(message: ToGenerator): void {
    if (this.#failure !== null) throw this.#failure;
    this.#child.send(message);
  }

  #await<T extends FromGenerator>(type: T['type'], timeoutMs: number, what: string): Promise<T> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        const pid = this.#child.pid;
        const cpu = pid === undefined ? Promise.resolve(null) : sampleProcess(pid, 0);
        const where = pid === undefined ? Promise.resolve('') : processState(pid);
        void Promise.all([cpu, where]).then(([sample, state_]) => {
          const state =
            sample === null
              ? 'its process is gone'
              : `its process (pid ${pid ?? '?'}${state_}) has used ${sample.cpuSeconds.toFixed(1)} s of CPU; rerun with MEDCHAIN_BENCH_DEBUG=1 for its phase log`;
          reject(
            new GeneratorError(
              'BENCH_GENERATOR_TIMEOUT',
              `load generator ${this.index}: no answer to ${what} within ${timeoutMs} ms (${state})`,
            ),
          );
        });
      }, timeoutMs);
      const waiter: Waiter = {
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  async init(init: Omit<GeneratorInit, 'type'>, timeoutMs = 30_000): Promise<void> {
    const ready = this.#await('ready', timeoutMs, 'init');
    this.#send({ type: 'init', ...init });
    await ready;
  }

  async prepare(
    count: number,
    validUntilHeight: number,
    timeoutMs: number,
  ): Promise<GeneratorPrepared> {
    const prepared = this.#await<GeneratorPrepared>('prepared', timeoutMs, 'prepare');
    this.#send({ type: 'prepare', count, validUntilHeight });
    return prepared;
  }

  /** Starts the schedule; `onProgress` gets every batch of completed sends. Resolves with the run's stats. */
  async run(
    startAtMs: number,
    ratePerSec: number,
    onProgress: (p: GeneratorProgress) => void,
    timeoutMs: number,
  ): Promise<GeneratorRunStats> {
    this.#onProgress = onProgress;
    const done = this.#await<Extract<FromGenerator, { type: 'done' }>>('done', timeoutMs, 'run');
    this.#send({ type: 'run', startAtMs, ratePerSec });
    try {
      return (await done).stats;
    } finally {
      this.#onProgress = null;
    }
  }

  retarget(fromNode: number, toNode: number): void {
    if (this.#failure === null) this.#send({ type: 'retarget', fromNode, toNode });
  }

  /** Asks the process to exit; kills it after `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    try {
      if (this.#child.connected) this.#child.send({ type: 'exit' } satisfies ToGenerator);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
