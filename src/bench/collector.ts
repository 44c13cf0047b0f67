/**
 * What the harness saw, and the measurements it derives. Time is pushed in
 * (every method takes the time of the event), so the arithmetic is tested on
 * synthetic events without processes or sockets.
 *
 * In: the pre-signed transactions of each step (hash, generator, schedule),
 * the generators' send reports (outcome, send time, node) and the committed
 * blocks every node streamed (`/v1/events`), plus crashes.
 *
 * A transaction's latency is scheduled send → its block seen committed at
 * the node it was sent to (or, if that node crashed, at the first node that
 * committed it). Committed throughput is per node, from that node's block
 * events; the run's figure is the rate a commit quorum reaches
 * (`quorumRate`).
 */
import { toHex } from '../codec/index.js';
import { InvalidInputError } from '../errors.js';
import { SEND_OUTCOME } from './generator-protocol.js';
import type { SendOutcome } from './generator-protocol.js';
import { scheduledAtMs } from './schedule.js';
import {
  bucketOf,
  inWindow,
  LatencyHistogram,
  median,
  quorumRate,
  ratePerSecond,
  round,
  windowSeconds,
} from './stats.js';
import type { CommitSighting, LatencySummary, TimeWindow } from './stats.js';

/** A committed block as `/v1/events` reports it. */
export interface BlockEventLike {
  readonly height: number;
  readonly view: number;
  readonly txCount: number;
  readonly receipts: readonly { readonly txHash: string; readonly code: string }[];
}

interface TxEntry {
  readonly step: number;
  readonly scheduledAtMs: number;
  node: number;
  outcome: SendOutcome | -1;
  sentAtMs: number;
  committedAtTargetMs: number;
  firstCommitMs: number;
  commits: number;
  code: string | null;
}

export interface StepTxs {
  readonly step: number;
  readonly generator: number;
  readonly startAtMs: number;
  /** This generator's share of the step's rate. */
  readonly ratePerSec: number;
  readonly hashes: Uint8Array;
  readonly hashLength: number;
  readonly targets: Uint16Array;
}

export interface SendReport {
  readonly indexes: Uint32Array;
  readonly outcomes: Uint8Array;
  readonly sentAtMs: Float64Array;
  readonly nodes: Uint16Array;
}

/** One second (bucket) of a step's time series. */
export interface SeriesPoint {
  /** Seconds since the step's load started. */
  readonly t: number;
  readonly inWindow: boolean;
  readonly offered: number;
  readonly submitted: number;
  /** Transactions a commit quorum of nodes committed in this second. */
  readonly committed: number;
  readonly committedPerNode: readonly number[];
  readonly blocks: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  /** Highest view of a block committed in this second. */
  readonly view: number | null;
}

export interface StepMeasurement {
  readonly window: TimeWindow;
  readonly windowSeconds: number;
  readonly offeredTps: number;
  /** Accepted by the nodes, per second of the window (by send time). */
  readonly submittedTps: number;
  readonly committedTps: number;
  readonly committedTpsPerNode: readonly number[];
  readonly latencyMs: LatencySummary;
  readonly blocksPerSec: number;
  readonly txsPerBlock: number | null;
  readonly viewsCommitted: { readonly min: number | null; readonly max: number | null };
  readonly counts: {
    readonly scheduled: number;
    readonly sent: number;
    readonly accepted: number;
    readonly duplicates: number;
    readonly rejected: number;
    readonly failed: number;
    /** Accepted at some point and committed at a quorum of nodes (whole step, not only the window). */
    readonly committed: number;
    /** Accepted but committed nowhere. */
    readonly uncommitted: number;
  };
  /** Receipt codes of the step's committed transactions. */
  readonly receiptCodes: Readonly<Record<string, number>>;
}

export class BenchCollector {
  readonly nodes: number;
  readonly quorum: number;
  readonly #byHash = new Map<string, TxEntry>();
  readonly #byStep = new Map<string, TxEntry[]>();
  readonly #steps = new Map<number, TxEntry[]>();
  readonly #lastHeight: number[];
  readonly #sightings: CommitSighting[] = [];
  readonly #crashedAt = new Map<number, number>();
  #otherTxs = 0;

  constructor(nodes: number, quorum: number) {
    if (!Number.isSafeInteger(nodes) || nodes < 1) {
      throw new InvalidInputError('nodes', 'must be a positive integer');
    }
    this.nodes = nodes;
    this.quorum = quorum;
    this.#lastHeight = new Array<number>(nodes).fill(0);
  }

  /** Registers the pre-signed transactions one generator will send in a step. */
  addStepTxs(txs: StepTxs): void {
    const count = txs.targets.length;
    if (txs.hashes.length !== count * txs.hashLength) {
      throw new InvalidInputError('hashes', `expected ${count} hashes of ${txs.hashLength} bytes`);
    }
    const list: TxEntry[] = [];
    const all = this.#steps.get(txs.step) ?? [];
    for (let i = 0; i < count; i++) {
      const entry: TxEntry = {
        step: txs.step,
        scheduledAtMs: scheduledAtMs(txs.startAtMs, txs.ratePerSec, i),
        node: txs.targets[i] ?? 0,
        outcome: -1,
        sentAtMs: Number.NaN,
        committedAtTargetMs: Number.NaN,
        firstCommitMs: Number.NaN,
        commits: 0,
        code: null,
      };
      list.push(entry);
      all.push(entry);
      this.#byHash.set(
        toHex(txs.hashes.subarray(i * txs.hashLength, (i + 1) * txs.hashLength)),
        entry,
      );
    }
    this.#byStep.set(`${txs.generator}/${txs.step}`, list);
    this.#steps.set(txs.step, all);
  }

  onSent(generator: number, step: number, report: SendReport): void {
    const list = this.#byStep.get(`${generator}/${step}`);
    if (list === undefined) return;
    for (let i = 0; i < report.indexes.length; i++) {
      const entry = list[report.indexes[i] ?? -1];
      if (entry === undefined) continue;
      entry.outcome = (report.outcomes[i] ?? SEND_OUTCOME.failed) as SendOutcome;
      entry.sentAtMs = report.sentAtMs[i] ?? Number.NaN;
      entry.node = report.nodes[i] ?? entry.node;
    }
  }

  /** A block committed at `node`, seen at `atMs`. Repeats (heights already seen) are ignored. */
  onBlock(node: number, event: BlockEventLike, atMs: number): void {
    if (node < 0 || node >= this.nodes) return;
    if (event.height <= (this.#lastHeight[node] ?? 0)) return;
    this.#lastHeight[node] = event.height;
    this.#sightings.push({
      atMs,
      node,
      height: event.height,
      view: event.view,
      txCount: event.txCount,
    });
    for (const receipt of event.receipts) {
      const entry = this.#byHash.get(receipt.txHash);
      if (entry === undefined) {
        this.#otherTxs++;
        continue;
      }
      entry.commits++;
      entry.code ??= receipt.code;
      if (Number.isNaN(entry.firstCommitMs) || atMs < entry.firstCommitMs)
        entry.firstCommitMs = atMs;
      if (node === entry.node && Number.isNaN(entry.committedAtTargetMs)) {
        entry.committedAtTargetMs = atMs;
      }
    }
  }

  markCrashed(node: number, atMs: number): void {
    if (!this.#crashedAt.has(node)) this.#crashedAt.set(node, atMs);
  }

  get sightings(): readonly CommitSighting[] {
    return this.#sightings;
  }

  /** Highest height seen committed at any node. */
  get maxHeight(): number {
    return Math.max(0, ...this.#lastHeight);
  }

  heightAt(node: number): number {
    return this.#lastHeight[node] ?? 0;
  }

  /** Highest view of any block seen before `atMs`. */
  viewBefore(atMs: number): number {
    let view = 0;
    for (const s of this.#sightings) if (s.atMs < atMs && s.view > view) view = s.view;
    return view;
  }

  /** Transactions in blocks that the bench did not send (setup, other clients). */
  get otherTxs(): number {
    return this.#otherTxs;
  }

  /** Accepted transactions of `step` not yet committed at a quorum of live nodes. */
  pending(step: number): number {
    const need = Math.min(this.quorum, this.nodes - this.#crashedAt.size);
    let n = 0;
    for (const e of this.#steps.get(step) ?? []) {
      if (e.outcome === SEND_OUTCOME.accepted && e.commits < need) n++;
    }
    return n;
  }

  #endOf(e: TxEntry): number {
    if (!Number.isNaN(e.committedAtTargetMs)) return e.committedAtTargetMs;
    return this.#crashedAt.has(e.node) ? e.firstCommitMs : Number.NaN;
  }

  /** The measurements of `step` over `window`. */
  measure(step: number, window: TimeWindow): StepMeasurement {
    const entries = this.#steps.get(step) ?? [];
    const latency = new LatencyHistogram();
    const counts = {
      scheduled: 0,
      sent: 0,
      accepted: 0,
      duplicates: 0,
      rejected: 0,
      failed: 0,
      committed: 0,
      uncommitted: 0,
    };
    let offered = 0;
    let submitted = 0;
    const receiptCodes: Record<string, number> = {};
    for (const e of entries) {
      counts.scheduled++;
      if (e.outcome !== -1) counts.sent++;
      if (e.outcome === SEND_OUTCOME.accepted) {
        counts.accepted++;
        if (e.commits >= Math.min(this.quorum, this.nodes - this.#crashedAt.size))
          counts.committed++;
        if (e.commits === 0) counts.uncommitted++;
        if (inWindow(window, e.sentAtMs)) submitted++;
      } else if (e.outcome === SEND_OUTCOME.duplicate) counts.duplicates++;
      else if (e.outcome === SEND_OUTCOME.rejected) counts.rejected++;
      else if (e.outcome === SEND_OUTCOME.failed) counts.failed++;
      if (e.code !== null) receiptCodes[e.code] = (receiptCodes[e.code] ?? 0) + 1;
      if (inWindow(window, e.scheduledAtMs)) {
        offered++;
        const end = this.#endOf(e);
        if (!Number.isNaN(end)) latency.record(end - e.scheduledAtMs);
      }
    }
    const perNodeTxs = new Array<number>(this.nodes).fill(0);
    const perNodeBlocks = new Array<number>(this.nodes).fill(0);
    let minView: number | null = null;
    let maxView: number | null = null;
    for (const s of this.#sightings) {
      if (!inWindow(window, s.atMs)) continue;
      perNodeTxs[s.node] = (perNodeTxs[s.node] ?? 0) + s.txCount;
      perNodeBlocks[s.node] = (perNodeBlocks[s.node] ?? 0) + 1;
      minView = minView === null ? s.view : Math.min(minView, s.view);
      maxView = maxView === null ? s.view : Math.max(maxView, s.view);
    }
    const perNodeTps = perNodeTxs.map((n) => ratePerSecond(n, window));
    const seconds = windowSeconds(window);
    const live = perNodeBlocks.filter(
      (_, i) => !this.#crashedAt.has(i) || (this.#crashedAt.get(i) ?? 0) >= window.endMs,
    );
    const blocksPerSec = (median(live.length > 0 ? live : perNodeBlocks) ?? 0) / seconds;
    const txsPerBlock = perNodeTxs.map((t, i) =>
      (perNodeBlocks[i] ?? 0) > 0 ? t / (perNodeBlocks[i] ?? 1) : null,
    );
    const known = txsPerBlock.filter((v): v is number => v !== null);
    return {
      window,
      windowSeconds: seconds,
      offeredTps: round(offered / seconds, 2),
      submittedTps: round(submitted / seconds, 2),
      committedTps: round(quorumRate(perNodeTps, this.quorum), 2),
      committedTpsPerNode: perNodeTps.map((v) => round(v, 2)),
      latencyMs: latency.summary(),
      blocksPerSec: round(blocksPerSec, 2),
      txsPerBlock: known.length === 0 ? null : round(median(known) ?? 0, 1),
      viewsCommitted: { min: minView, max: maxView },
      counts,
      receiptCodes,
    };
  }

  /** Per-second series of `step` from `originMs` for `seconds` buckets; `window` marks the measured seconds. */
  series(step: number, originMs: number, seconds: number, window: TimeWindow): SeriesPoint[] {
    const n = Math.max(0, Math.ceil(seconds));
    const offered = new Array<number>(n).fill(0);
    const submitted = new Array<number>(n).fill(0);
    const perNode = Array.from({ length: n }, () => new Array<number>(this.nodes).fill(0));
    const blocksPerNode = Array.from({ length: n }, () => new Array<number>(this.nodes).fill(0));
    const views: (number | null)[] = new Array<number | null>(n).fill(null);
    const latencies = Array.from({ length: n }, () => new LatencyHistogram());
    const at = (t: number): number => bucketOf(t, originMs);
    for (const e of this.#steps.get(step) ?? []) {
      const b = at(e.scheduledAtMs);
      if (b >= 0 && b < n) offered[b] = (offered[b] ?? 0) + 1;
      if (e.outcome === SEND_OUTCOME.accepted) {
        const s = at(e.sentAtMs);
        if (s >= 0 && s < n) submitted[s] = (submitted[s] ?? 0) + 1;
      }
      const end = this.#endOf(e);
      if (!Number.isNaN(end)) {
        const c = at(end);
        if (c >= 0 && c < n) latencies[c]?.record(end - e.scheduledAtMs);
      }
    }
    for (const s of this.#sightings) {
      const b = at(s.atMs);
      if (b < 0 || b >= n) continue;
      const row = perNode[b];
      const blockRow = blocksPerNode[b];
      if (row !== undefined) row[s.node] = (row[s.node] ?? 0) + s.txCount;
      if (blockRow !== undefined) blockRow[s.node] = (blockRow[s.node] ?? 0) + 1;
      views[b] = Math.max(views[b] ?? s.view, s.view);
    }
    return offered.map((o, b) => {
      const summary = latencies[b]?.summary();
      const startMs = originMs + b * 1000;
      return {
        t: b,
        inWindow: startMs >= window.startMs && startMs + 1000 <= window.endMs,
        offered: o,
        submitted: submitted[b] ?? 0,
        committed: quorumRate(perNode[b] ?? [], this.quorum),
        committedPerNode: perNode[b] ?? [],
        blocks: median(blocksPerNode[b] ?? []) ?? 0,
        latencyP50Ms: summary?.p50 ?? null,
        latencyP99Ms: summary?.p99 ?? null,
        view: views[b] ?? null,
      };
    });
  }
}
