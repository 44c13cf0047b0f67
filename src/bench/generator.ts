/**
 * The load-generator process (forked by the harness from
 * `dist/src/bench/generator.js`; see ./generator-protocol.ts for the
 * messages). It pre-signs its share of the workload while the nodes are
 * idle, then sends it open-loop on the schedule (./open-loop.ts) through
 * `POST /v1/txs/batch` as CBOR, streams what it sent back to the harness and
 * reports its own CPU and whether it kept the offered rate.
 */
import '../polyfill.js';
import { MedchainClient } from '../api/client.js';
import { ApiClientError } from '../api/errors.js';
import { getSuite } from '../crypto/index.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { MedchainError } from '../errors.js';
import { nowMs } from './clock.js';
import { SEND_OUTCOME } from './generator-protocol.js';
import type {
  FromGenerator,
  GeneratorInit,
  GeneratorRunStats,
  SendOutcome,
  ToGenerator,
} from './generator-protocol.js';
import { OpenLoopSender } from './open-loop.js';
import type { BatchResult, SentRecord } from './open-loop.js';
import { median } from './stats.js';
import { WorkloadBuilder } from './workload.js';
import type { PreparedTx } from './workload.js';

const PROGRESS_FLUSH_MS = 100;
const REQUEST_TIMEOUT_MS = 30_000;

class GeneratorProcessError extends MedchainError {}

function send(message: FromGenerator): void {
  process.send?.(message);
}

/** `MEDCHAIN_BENCH_DEBUG=1`: phase timings of this generator on stderr. */
const DEBUG = process.env.MEDCHAIN_BENCH_DEBUG === '1';
function debug(text: string): void {
  if (DEBUG)
    process.stderr.write(`[generator ${process.pid}] ${new Date().toISOString()} ${text}\n`);
}

/** The signed part's length: the encoded transaction minus its signature (close enough for calibration). */
function signedLength(suite: CryptoSuite, tx: PreparedTx): number {
  return Math.max(1, tx.bytes.length - suite.signatureLength);
}

class Generator {
  readonly #init: GeneratorInit;
  readonly #suite: CryptoSuite;
  readonly #builder: WorkloadBuilder;
  readonly #clients: MedchainClient[];
  #prepared: PreparedTx[] = [];
  #sender: OpenLoopSender | null = null;
  readonly #signerNode: number[];

  constructor(init: GeneratorInit) {
    this.#init = init;
    this.#suite = getSuite(init.suite);
    this.#builder = new WorkloadBuilder(
      {
        suite: this.#suite,
        chainId: init.chainId,
        workload: init.workload,
        payloadBytes: init.payloadBytes,
        certificateNotAfter: init.certificateNotAfter,
      },
      init.signers,
    );
    this.#clients = init.targets.map(
      (url) => new MedchainClient(url, { timeoutMs: REQUEST_TIMEOUT_MS }),
    );
    this.#signerNode = init.signers.map((s) => s.target);
  }

  prepare(count: number, validUntilHeight: number): void {
    debug(`prepare ${count}`);
    const started = nowMs();
    this.#prepared = this.#builder.prepare(count, validUntilHeight);
    const hashLength = this.#suite.hashLength;
    const hashes = new Uint8Array(count * hashLength);
    const targets = new Uint16Array(count);
    let encodedBytes = 0;
    this.#prepared.forEach((tx, i) => {
      hashes.set(tx.hash, i * hashLength);
      targets[i] = this.#signerNode[tx.signer] ?? 0;
      encodedBytes += tx.bytes.length;
    });
    const sample = this.#prepared.slice(0, 256).map((tx) => signedLength(this.#suite, tx));
    debug(`prepared ${count} in ${Math.round(nowMs() - started)} ms`);
    send({
      type: 'prepared',
      count,
      hashes,
      hashLength,
      targets,
      encodedBytes,
      medianTxBytes: Math.round(median(sample) ?? 0),
      prepareMs: nowMs() - started,
    });
  }

  async #submit(node: number, txs: readonly Uint8Array[]): Promise<BatchResult> {
    const client = this.#clients[node];
    if (client === undefined) {
      return { outcomes: txs.map(() => SEND_OUTCOME.failed), errorCodes: txs.map(() => 'NO_NODE') };
    }
    try {
      const reply = await client.submitBatch(txs);
      const outcomes: SendOutcome[] = new Array<SendOutcome>(txs.length).fill(SEND_OUTCOME.failed);
      const errorCodes: string[] = [];
      for (const item of reply.results) {
        if (item.status === 'rejected') {
          outcomes[item.index] = SEND_OUTCOME.rejected;
          errorCodes.push(item.error.code);
        } else {
          outcomes[item.index] =
            item.status === 'accepted' ? SEND_OUTCOME.accepted : SEND_OUTCOME.duplicate;
        }
      }
      return { outcomes, errorCodes };
    } catch (err) {
      const code = err instanceof ApiClientError ? err.code : 'SUBMIT_FAILED';
      return { outcomes: txs.map(() => SEND_OUTCOME.failed), errorCodes: txs.map(() => code) };
    }
  }

  async run(startAtMs: number, ratePerSec: number): Promise<void> {
    if (this.#prepared.length === 0) {
      throw new GeneratorProcessError('BENCH_NOTHING_PREPARED', 'run before prepare');
    }
    const prepared = this.#prepared;
    let buffer: SentRecord[] = [];
    const flush = (): void => {
      if (buffer.length === 0) return;
      const n = buffer.length;
      const indexes = new Uint32Array(n);
      const outcomes = new Uint8Array(n);
      const sentAtMs = new Float64Array(n);
      const nodes = new Uint16Array(n);
      buffer.forEach((r, i) => {
        indexes[i] = r.index;
        outcomes[i] = r.outcome;
        sentAtMs[i] = r.sentAtMs;
        nodes[i] = r.node;
      });
      buffer = [];
      send({ type: 'progress', indexes, outcomes, sentAtMs, nodes });
    };
    const timer = setInterval(flush, PROGRESS_FLUSH_MS);
    const cpuBefore = process.cpuUsage();
    try {
      this.#sender = new OpenLoopSender({
        txs: prepared.map((tx) => tx.bytes),
        signerOf: prepared.map((tx) => tx.signer),
        signerNode: this.#signerNode,
        nodes: this.#init.targets.length,
        lanesPerNode: this.#init.lanesPerNode,
        ratePerSec,
        startAtMs,
        tickMs: this.#init.tickMs,
        maxBatchTxs: this.#init.maxBatchTxs,
        submit: (node, txs) => this.#submit(node, txs),
        now: nowMs,
        onSent: (record) => buffer.push(record),
      });
      debug(`run ${prepared.length} at ${ratePerSec}/s`);
      const result = await this.#sender.run();
      debug(`ran: sent ${result.sent} in ${Math.round(result.wallMs)} ms`);
      const cpu = process.cpuUsage(cpuBefore);
      const stats: GeneratorRunStats = {
        ...result,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
      };
      flush();
      send({ type: 'done', stats });
    } finally {
      clearInterval(timer);
      this.#sender = null;
      this.#prepared = [];
    }
  }

  retarget(fromNode: number, toNode: number): void {
    for (let s = 0; s < this.#signerNode.length; s++) {
      if (this.#signerNode[s] === fromNode) this.#signerNode[s] = toNode;
    }
    this.#sender?.retarget(fromNode, toNode);
  }
}

function fail(err: unknown): never {
  const code = err instanceof MedchainError ? err.code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  send({ type: 'error', code, message });
  process.exit(1);
}

let generator: Generator | null = null;

process.on('message', (raw: unknown) => {
  const message = raw as ToGenerator;
  debug(`message ${message.type}`);
  try {
    switch (message.type) {
      case 'init':
        generator = new Generator(message);
        send({ type: 'ready' });
        return;
      case 'prepare':
        if (generator === null)
          throw new GeneratorProcessError('BENCH_NOT_INITIALISED', 'prepare before init');
        generator.prepare(message.count, message.validUntilHeight);
        return;
      case 'run':
        if (generator === null)
          throw new GeneratorProcessError('BENCH_NOT_INITIALISED', 'run before init');
        generator.run(message.startAtMs, message.ratePerSec).catch(fail);
        return;
      case 'retarget':
        generator?.retarget(message.fromNode, message.toNode);
        return;
      case 'exit':
        process.disconnect();
        return;
    }
  } catch (err) {
    fail(err);
  }
});

process.on('disconnect', () => {
  process.exit(0);
});
