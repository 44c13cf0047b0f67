/** A seed sweep split across test files so vitest runs the halves on both cores. */
import { expect } from 'vitest';
import { BYZANTINE_BEHAVIOURS, runSweep } from '../../consensus/sim/index.js';
import { suite } from './helpers.js';

export function sweep(firstSeed: number, count: number): void {
  const seeds = Array.from({ length: count }, (_, i) => firstSeed + i);
  const { runs, failures } = runSweep(seeds, suite);
  expect(runs).toHaveLength(count);
  // Every failing seed prints its replay line (class safety / liveness / crash).
  expect(failures.map((f) => f.failureLine)).toEqual([]);
  const sizes = new Set(runs.map((r) => r.validators));
  expect([...sizes].sort((a, b) => a - b)).toEqual([4, 7, 10]);
  expect(runs.every((r) => r.minHonestHeight > 0)).toBe(true);
  expect(BYZANTINE_BEHAVIOURS.length).toBe(6);
}
