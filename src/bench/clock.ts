/**
 * The benchmark's one clock: milliseconds since the epoch with sub-millisecond
 * resolution, `performance.timeOrigin + performance.now()`. The harness and
 * the generator processes on the same machine read the same system clock, so
 * a time taken in one is comparable with a time taken in the other.
 */
import { performance } from 'node:perf_hooks';

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms` (for pacing loops; never used to wait for a condition). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
