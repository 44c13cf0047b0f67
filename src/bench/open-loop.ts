/**
 * The open-loop sender: releases pre-signed transactions at their scheduled
 * times (./schedule.ts) into per-lane queues and keeps at most one request in
 * flight per lane. A signer always uses one lane, so its transactions reach
 * its node in nonce order; lanes of a node run side by side. When a request
 * returns and its lane has a backlog, the next batch (everything due, up to
 * `maxBatchTxs`) goes at once: a slow node makes batches larger and sends
 * later — visible as lag and as latency measured from the schedule — but
 * never slows the schedule itself.
 */
import { InvalidInputError } from '../errors.js';
import { SEND_OUTCOME } from './generator-protocol.js';
import type { SendOutcome } from './generator-protocol.js';
import { dueCount, keptRate, ON_TIME_LAG_MS, scheduledAtMs } from './schedule.js';
import { LatencyHistogram } from './stats.js';

export interface BatchResult {
  /** One outcome per transaction, in order. */
  readonly outcomes: readonly SendOutcome[];
  /** Error codes of rejected or failed transactions (one entry per such transaction). */
  readonly errorCodes: readonly string[];
}

/** Sends `txs` (canonical bytes) to node `node` in one request. Must not throw: failures are outcomes. */
export type SubmitBatch = (node: number, txs: readonly Uint8Array[]) => Promise<BatchResult>;

export interface SentRecord {
  readonly index: number;
  readonly node: number;
  readonly outcome: SendOutcome;
  readonly sentAtMs: number;
}

export interface OpenLoopOptions {
  readonly txs: readonly Uint8Array[];
  /** Lane (0 … nodes × lanesPerNode − 1) per transaction's signer: `signerOf[i]`. */
  readonly signerOf: readonly number[];
  /** Node each signer sends to. */
  readonly signerNode: readonly number[];
  readonly nodes: number;
  readonly lanesPerNode: number;
  readonly ratePerSec: number;
  readonly startAtMs: number;
  readonly tickMs: number;
  readonly maxBatchTxs: number;
  readonly submit: SubmitBatch;
  readonly now: () => number;
  /** Called with every completed send. */
  readonly onSent: (record: SentRecord) => void;
  /** Give up on what is left this long after the last scheduled time (default 120 s). */
  readonly overrunMs?: number;
}

export interface OpenLoopResult {
  readonly scheduled: number;
  readonly sent: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly failed: number;
  readonly errorCodes: Record<string, number>;
  readonly requests: number;
  readonly onTime: number;
  readonly lagP50Ms: number | null;
  readonly lagP99Ms: number | null;
  readonly lagMaxMs: number | null;
  /** Time from sending a batch to its answer. */
  readonly requestP50Ms: number | null;
  readonly requestP99Ms: number | null;
  readonly wallMs: number;
  readonly sentPerSec: number;
  readonly keptRate: boolean;
}

interface Lane {
  readonly queue: number[];
  head: number;
  inFlight: boolean;
}

const DEFAULT_OVERRUN_MS = 120_000;

export class OpenLoopSender {
  readonly #o: OpenLoopOptions;
  readonly #lanes: Lane[];
  /** Lane of each signer (changes when its node is retargeted). */
  readonly #signerLane: number[];
  readonly #lag = new LatencyHistogram();
  readonly #requestTime = new LatencyHistogram();
  #released = 0;
  #sent = 0;
  #inFlight = 0;
  #requests = 0;
  #onTime = 0;
  readonly #counts = { accepted: 0, duplicates: 0, rejected: 0, failed: 0 };
  readonly #errorCodes: Record<string, number> = {};
  #wake: (() => void) | null = null;

  constructor(options: OpenLoopOptions) {
    if (!(options.ratePerSec > 0)) throw new InvalidInputError('ratePerSec', 'must be positive');
    if (options.signerOf.length !== options.txs.length) {
      throw new InvalidInputError('signerOf', 'needs one signer per transaction');
    }
    if (!Number.isSafeInteger(options.lanesPerNode) || options.lanesPerNode < 1) {
      throw new InvalidInputError('lanesPerNode', 'must be a positive integer');
    }
    this.#o = options;
    this.#lanes = Array.from({ length: options.nodes * options.lanesPerNode }, () => ({
      queue: [],
      head: 0,
      inFlight: false,
    }));
    const perNode = new Array<number>(options.nodes).fill(0);
    this.#signerLane = options.signerNode.map((node) => {
      if (!Number.isSafeInteger(node) || node < 0 || node >= options.nodes) {
        throw new InvalidInputError('signerNode', `node ${node} is not one of ${options.nodes}`);
      }
      const k = perNode[node] ?? 0;
      perNode[node] = k + 1;
      return node * options.lanesPerNode + (k % options.lanesPerNode);
    });
  }

  /**
   * Moves every signer of node `from` (and what it has not sent yet) to node
   * `to`, keeping each signer's order.
   */
  retarget(from: number, to: number): void {
    const lanes = this.#o.lanesPerNode;
    if (from === to || to < 0 || to >= this.#o.nodes) return;
    for (let s = 0; s < this.#signerLane.length; s++) {
      const lane = this.#signerLane[s] ?? 0;
      if (Math.floor(lane / lanes) === from) this.#signerLane[s] = to * lanes + (lane % lanes);
    }
    for (let k = 0; k < lanes; k++) {
      const source = this.#lanes[from * lanes + k];
      const target = this.#lanes[to * lanes + k];
      if (source === undefined || target === undefined) continue;
      const moved = source.queue.slice(source.head);
      source.queue.length = 0;
      source.head = 0;
      const rest = target.queue.slice(target.head);
      target.queue.length = 0;
      target.head = 0;
      // both are in schedule order; merging keeps every signer's order
      let a = 0;
      let b = 0;
      while (a < rest.length || b < moved.length) {
        const x = rest[a];
        const y = moved[b];
        if (y === undefined || (x !== undefined && x < y)) {
          target.queue.push(x ?? 0);
          a++;
        } else {
          target.queue.push(y);
          b++;
        }
      }
    }
    this.#pump();
  }

  /** Runs the schedule to the end; resolves when every transaction is sent and answered (or the overrun passed). */
  async run(): Promise<OpenLoopResult> {
    const o = this.#o;
    const total = o.txs.length;
    const lastDueMs = scheduledAtMs(o.startAtMs, o.ratePerSec, Math.max(0, total - 1));
    const giveUpAtMs = lastDueMs + (o.overrunMs ?? DEFAULT_OVERRUN_MS);
    const started = o.now();
    // Bounded by the deadline; the count is a backstop. An iteration waits at
    // least 1 ms (transactions falling due, not the tick, usually end the wait)
    // unless a finished request wakes it, at most once per request.
    const maxTicks = Math.ceil(giveUpAtMs - started) + total + 10;
    for (let tick = 0; tick < maxTicks; tick++) {
      const now = o.now();
      this.#release(now);
      this.#pump();
      if (this.#released === total && this.#inFlight === 0 && this.#backlog() === 0) break;
      if (now > giveUpAtMs) break;
      const nextDue =
        this.#released < total
          ? scheduledAtMs(o.startAtMs, o.ratePerSec, this.#released)
          : Infinity;
      const wait = Math.min(o.tickMs, Math.max(0, nextDue - now));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            this.#wake = null;
            resolve();
          },
          Math.max(1, wait),
        );
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
    // whatever is left was never sent
    const wallMs = o.now() - started;
    const lag = this.#lag.summary();
    const request = this.#requestTime.summary();
    const scheduledSeconds = Math.max(1e-3, (lastDueMs - o.startAtMs) / 1000 + 1 / o.ratePerSec);
    return {
      scheduled: total,
      sent: this.#sent,
      ...this.#counts,
      errorCodes: { ...this.#errorCodes },
      requests: this.#requests,
      onTime: this.#onTime,
      lagP50Ms: lag.p50,
      lagP99Ms: lag.p99,
      lagMaxMs: lag.max,
      requestP50Ms: request.p50,
      requestP99Ms: request.p99,
      wallMs,
      sentPerSec: this.#sent / scheduledSeconds,
      keptRate: keptRate({ scheduled: total, sent: this.#sent, onTime: this.#onTime }),
    };
  }

  #backlog(): number {
    let n = 0;
    for (const lane of this.#lanes) n += lane.queue.length - lane.head;
    return n;
  }

  #release(now: number): void {
    const o = this.#o;
    const due = dueCount(o.startAtMs, o.ratePerSec, now, o.txs.length);
    for (let i = this.#released; i < due; i++) {
      const lane = this.#lanes[this.#signerLane[o.signerOf[i] ?? 0] ?? 0];
      lane?.queue.push(i);
    }
    if (due > this.#released) this.#released = due;
  }

  #pump(): void {
    const lanesPerNode = this.#o.lanesPerNode;
    this.#lanes.forEach((lane, laneIndex) => {
      if (lane.inFlight || lane.head >= lane.queue.length) return;
      const end = Math.min(lane.queue.length, lane.head + this.#o.maxBatchTxs);
      const indexes = lane.queue.slice(lane.head, end);
      lane.head = end;
      if (lane.head >= lane.queue.length) {
        lane.queue.length = 0;
        lane.head = 0;
      }
      lane.inFlight = true;
      this.#inFlight++;
      void this.#send(lane, Math.floor(laneIndex / lanesPerNode), indexes);
    });
  }

  async #send(lane: Lane, node: number, indexes: readonly number[]): Promise<void> {
    const o = this.#o;
    const sentAtMs = o.now();
    this.#requests++;
    const result = await o.submit(
      node,
      indexes.map((i) => o.txs[i] ?? new Uint8Array()),
    );
    this.#requestTime.record(o.now() - sentAtMs);
    indexes.forEach((index, k) => {
      const outcome = result.outcomes[k] ?? SEND_OUTCOME.failed;
      this.#sent++;
      const lagMs = sentAtMs - scheduledAtMs(o.startAtMs, o.ratePerSec, index);
      this.#lag.record(Math.max(0, lagMs));
      if (lagMs <= ON_TIME_LAG_MS) this.#onTime++;
      if (outcome === SEND_OUTCOME.accepted) this.#counts.accepted++;
      else if (outcome === SEND_OUTCOME.duplicate) this.#counts.duplicates++;
      else if (outcome === SEND_OUTCOME.rejected) this.#counts.rejected++;
      else this.#counts.failed++;
      o.onSent({ index, node, outcome, sentAtMs });
    });
    for (const code of result.errorCodes) {
      this.#errorCodes[code] = (this.#errorCodes[code] ?? 0) + 1;
    }
    lane.inFlight = false;
    this.#inFlight--;
    this.#pump();
    if (this.#inFlight === 0) this.#wake?.();
  }
}
