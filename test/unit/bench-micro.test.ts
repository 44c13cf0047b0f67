import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { microsPerCall, numberArg } from '../../src/bench/micro.js';

describe('micro-benchmark helpers', () => {
  it('reads --name=value numbers, clamped, with the fallback when absent or not a number', () => {
    const argv = ['--txs=50', '--seconds=0.001', '--rounds=abc', '--big=1e9'];
    expect(numberArg(argv, 'txs', 30, 1, 2000)).toBe(50);
    expect(numberArg(argv, 'seconds', 1, 0.01, 30)).toBe(0.01);
    expect(numberArg(argv, 'rounds', 3, 1, 20)).toBe(3);
    expect(numberArg(argv, 'big', 3, 1, 20)).toBe(20);
    expect(numberArg(argv, 'missing', 7, 1, 20)).toBe(7);
    expect(numberArg(['--tx=5'], 'txs', 30, 1, 2000)).toBe(30);
  });

  it.each(['wall', 'cpu'] as const)('times an operation per call on the %s clock', (clock) => {
    let calls = 0;
    // each call spins for 100 µs of wall time, burning CPU all along
    const us = microsPerCall(
      () => {
        calls++;
        const until = performance.now() + 0.1;
        while (performance.now() < until);
      },
      0.005,
      clock,
      7,
    );
    expect(calls).toBeGreaterThanOrEqual(17);
    expect((calls - 7) % 10).toBe(0);
    if (clock === 'wall') expect(us).toBeGreaterThanOrEqual(100);
    else expect(us).toBeGreaterThan(0);
    expect(us).toBeLessThan(1_000_000);
  });
});
