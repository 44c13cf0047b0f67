/**
 * The open-loop schedule: transaction `i` of a run at `rate` tx/s is due at
 * `start + i / rate`, whatever the system under test does — the generator
 * never waits for a response before sending what is due (no coordinated
 * omission). Latency is measured from the *scheduled* time, so a generator or
 * node that falls behind shows up as latency, and the generator reports how
 * far behind its sends were (`lag`) so a late generator is visible too.
 *
 * Also the sweep's steps and the verdict whether the generator kept the rate.
 */
import { InvalidInputError } from '../errors.js';

/** When transaction `index` (0-based) is due. */
export function scheduledAtMs(startMs: number, ratePerSec: number, index: number): number {
  return startMs + (index * 1000) / ratePerSec;
}

/** How many of `total` transactions are due at `nowMs` (those with scheduled time ≤ now). */
export function dueCount(
  startMs: number,
  ratePerSec: number,
  nowMs: number,
  total: number,
): number {
  if (nowMs < startMs) return 0;
  return Math.min(total, Math.floor(((nowMs - startMs) * ratePerSec) / 1000) + 1);
}

/** Transactions a run of `seconds` at `ratePerSec` sends. */
export function transactionsFor(ratePerSec: number, seconds: number): number {
  return Math.max(1, Math.ceil(ratePerSec * seconds));
}

/** Largest send lag (behind schedule) that still counts as "on time". */
export const ON_TIME_LAG_MS = 100;
/** The generator kept the rate if this share of sends were on time… */
export const KEPT_RATE_ON_TIME_SHARE = 0.99;

export interface SendRecord {
  /** Transactions the schedule asked for. */
  readonly scheduled: number;
  /** Transactions actually handed to a node (accepted, duplicate, rejected or failed). */
  readonly sent: number;
  /** Of those, sent within `ON_TIME_LAG_MS` of their scheduled time. */
  readonly onTime: number;
}

/** Whether the generator kept the offered rate: everything sent, 99 % within 100 ms of schedule. */
export function keptRate(record: SendRecord): boolean {
  if (record.scheduled === 0) return true;
  return (
    record.sent >= record.scheduled &&
    record.onTime >= Math.ceil(KEPT_RATE_ON_TIME_SHARE * record.scheduled)
  );
}

// ---------------------------------------------------------------------------
// sweep

/** Fractions of the calibrated bound an `auto` sweep steps through. */
export const AUTO_SWEEP_FRACTIONS: readonly number[] = [0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2];
/** A step is saturated once the quorum commit rate falls below this share of the offered rate. */
export const SATURATION_SHARE = 0.9;

export type SweepSpec =
  { readonly kind: 'auto' } | { readonly kind: 'list'; readonly rates: readonly number[] };

/** `auto` or a comma-separated list of rates (`500,1000,2000`), strictly increasing. */
export function parseSweep(text: string): SweepSpec {
  const trimmed = text.trim();
  if (trimmed === 'auto') return { kind: 'auto' };
  const parts = trimmed.split(',').map((s) => s.trim());
  const rates = parts.map((part) => {
    if (!/^\d+(\.\d+)?$/.test(part) || !(Number(part) > 0)) {
      throw new InvalidInputError('sweep', `"${part}" is not a positive rate`);
    }
    return Number(part);
  });
  if (rates.length < 2) throw new InvalidInputError('sweep', 'give at least two rates, or auto');
  for (let i = 1; i < rates.length; i++) {
    if ((rates[i] ?? 0) <= (rates[i - 1] ?? 0)) {
      throw new InvalidInputError('sweep', 'rates must increase');
    }
  }
  return { kind: 'list', rates };
}

/** The offered rates of a sweep; `auto` needs the calibrated bound. */
export function sweepRates(spec: SweepSpec, boundTps: number | null): number[] {
  if (spec.kind === 'list') return [...spec.rates];
  if (boundTps === null || !(boundTps > 0)) {
    throw new InvalidInputError(
      'sweep',
      'auto needs --calibrate (it steps through fractions of the bound)',
    );
  }
  return AUTO_SWEEP_FRACTIONS.map((f) => Math.max(1, Math.round(f * boundTps)));
}

/** Whether a step's committed rate fell behind its offered rate. */
export function isSaturated(offeredTps: number, committedTps: number): boolean {
  return committedTps < SATURATION_SHARE * offeredTps;
}

/**
 * The saturation throughput of a sweep: the highest committed rate any step
 * reached. The sweep then runs one more step at 80 % of it, where the latency
 * target is quoted.
 */
export function saturationTps(steps: readonly { readonly committedTps: number }[]): number | null {
  if (steps.length === 0) return null;
  return Math.max(...steps.map((s) => s.committedTps));
}

export const LATENCY_TARGET_SHARE_OF_SATURATION = 0.8;
