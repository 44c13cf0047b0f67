/** Shared set-up for simulator tests: the real intl suite, and a readable failure message. */
import { expect } from 'vitest';
import { getSuite } from '../../src/crypto/index.js';
import { runSimulation } from '../../consensus/sim/index.js';
import type { SimulationOptions, SimulationResult } from '../../consensus/sim/index.js';

export const suite = getSuite('intl');

export function sim(options: Omit<SimulationOptions, 'suite'>): SimulationResult {
  return runSimulation({ suite, ...options });
}

/** Fails with the replayable SEED line when the run broke an invariant. */
export function expectOk(r: SimulationResult): void {
  expect(r.failureLine, r.failureLine ?? '').toBeNull();
  expect(r.ok).toBe(true);
}

export function total(r: SimulationResult, key: keyof SimulationResult['metrics'][number]): number {
  return r.metrics.reduce((sum, m) => sum + m[key], 0);
}
