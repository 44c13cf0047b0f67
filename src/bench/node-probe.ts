/**
 * Resource use and counters of the nodes under test.
 *
 * - CPU and RSS of a local node process: `/proc/<pid>/stat` (utime + stime in
 *   clock ticks) and `/proc/<pid>/status` (VmRSS), sampled every second at no
 *   cost to the node. For nodes the harness did not start (`--targets`), the
 *   prom-client series `process_cpu_seconds_total` and
 *   `process_resident_memory_bytes` of `/metrics` instead.
 * - Counters from `/metrics` (Prometheus text) at the edges of the window:
 *   view changes, committed transactions, p2p messages and bytes, signature
 *   checks. Parsing is tolerant: a series the node does not export is null.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';

// ---------------------------------------------------------------------------
// Prometheus text

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (comments skipped, bad lines ignored). */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const value =
      valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(LABEL)) {
      labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name, labels, value });
  }
  return samples;
}

/** Sum of every sample of `name` whose labels include `match` (null if there is none). */
export function sumSeries(
  samples: readonly PromSample[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number | null {
  let found = false;
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : null;
}

/** The first series name of `names` that is present, summed with `match`. */
function firstSeries(
  samples: readonly PromSample[],
  names: readonly string[],
  match: Readonly<Record<string, string>> = {},
): number | null {
  for (const name of names) {
    const v = sumSeries(samples, name, match);
    if (v !== null) return v;
  }
  return null;
}

/** The counters of one node the report uses, read from one scrape. */
export interface NodeCounters {
  readonly viewChanges: number | null;
  readonly committedTxs: number | null;
  readonly committedBlocks: number | null;
  readonly p2pMessagesOut: number | null;
  readonly p2pBytesOut: number | null;
  readonly signatureChecks: number | null;
  readonly cpuSeconds: number | null;
  readonly rssBytes: number | null;
}

/** p2p traffic series: the node's `medchain_p2p_messages{protocol,direction}` (also accepted with `_total`). */
const P2P_MESSAGES = ['medchain_p2p_messages', 'medchain_p2p_messages_total'];
const P2P_BYTES = ['medchain_p2p_bytes', 'medchain_p2p_bytes_total'];

export function countersFromMetrics(text: string): NodeCounters {
  const samples = parsePrometheusText(text);
  return {
    viewChanges: sumSeries(samples, 'medchain_consensus_view_changes_total'),
    committedTxs: sumSeries(samples, 'medchain_committed_txs_total'),
    committedBlocks: sumSeries(samples, 'medchain_committed_blocks_total'),
    p2pMessagesOut: firstSeries(samples, P2P_MESSAGES, { direction: 'out' }),
    p2pBytesOut: firstSeries(samples, P2P_BYTES, { direction: 'out' }),
    signatureChecks: sumSeries(samples, 'medchain_mempool_signature_checks'),
    cpuSeconds: sumSeries(samples, 'process_cpu_seconds_total'),
    rssBytes: sumSeries(samples, 'process_resident_memory_bytes'),
  };
}

/** `after − before` per field (null where either is missing). */
export function counterDelta(before: NodeCounters, after: NodeCounters): NodeCounters {
  const d = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : b - a;
  return {
    viewChanges: d(before.viewChanges, after.viewChanges),
    committedTxs: d(before.committedTxs, after.committedTxs),
    committedBlocks: d(before.committedBlocks, after.committedBlocks),
    p2pMessagesOut: d(before.p2pMessagesOut, after.p2pMessagesOut),
    p2pBytesOut: d(before.p2pBytesOut, after.p2pBytesOut),
    signatureChecks: d(before.signatureChecks, after.signatureChecks),
    cpuSeconds: d(before.cpuSeconds, after.cpuSeconds),
    rssBytes: after.rssBytes,
  };
}

// ---------------------------------------------------------------------------
// /proc

export interface ProcSample {
  readonly atMs: number;
  /** utime + stime in seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

let clockTicks: number | null = null;

/** `getconf CLK_TCK` (100 on Linux almost everywhere; asked once). */
export function clockTicksPerSecond(): number {
  if (clockTicks !== null) return clockTicks;
  try {
    const value = Number(
      execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim(),
    );
    clockTicks = Number.isSafeInteger(value) && value > 0 ? value : 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** utime + stime (seconds) from the text of `/proc/<pid>/stat`; the command may contain spaces and parentheses. */
export function parseProcStat(text: string, ticksPerSecond: number): number {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new InvalidInputError('stat', 'not a /proc/<pid>/stat line');
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state); utime is field 14, stime 15
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new InvalidInputError('stat', 'utime/stime missing');
  }
  return (utime + stime) / ticksPerSecond;
}

/** VmRSS in bytes from the text of `/proc/<pid>/status` (0 if absent, e.g. a zombie). */
export function parseProcStatusRss(text: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

/** One sample of a process, or null if it is gone or /proc is unavailable. */
export async function sampleProcess(pid: number, atMs: number): Promise<ProcSample | null> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    return {
      atMs,
      cpuSeconds: parseProcStat(stat, clockTicksPerSecond()),
      rssBytes: parseProcStatusRss(status),
    };
  } catch {
    return null;
  }
}

/** CPU use in cores (1.0 = one core busy) between two samples. */
export function coresBetween(a: ProcSample, b: ProcSample): number {
  const seconds = (b.atMs - a.atMs) / 1000;
  return seconds > 0 ? Math.max(0, (b.cpuSeconds - a.cpuSeconds) / seconds) : 0;
}
