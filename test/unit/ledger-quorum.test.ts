import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { maxFaulty, quorum } from '../../src/ledger/index.js';

describe('quorum arithmetic', () => {
  it('matches the table for 1..10 validators', () => {
    const n = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(n.map(maxFaulty)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
    expect(n.map(quorum)).toEqual([1, 2, 2, 3, 4, 4, 5, 6, 6, 7]);
  });

  it('is 2f+1 exactly when n = 3f+1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), (f) => {
        expect(maxFaulty(3 * f + 1)).toBe(f);
        expect(quorum(3 * f + 1)).toBe(2 * f + 1);
      }),
    );
  });

  it('any two quorums share at least f+1 validators, the honest ones alone form a quorum, and no smaller quorum is safe', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (n) => {
        const f = maxFaulty(n);
        const q = quorum(n);
        expect(3 * f + 1).toBeLessThanOrEqual(n); // f is the most PBFT tolerates
        expect(3 * (f + 1) + 1).toBeGreaterThan(n);
        expect(2 * q - n).toBeGreaterThanOrEqual(f + 1); // safety: overlap holds an honest validator
        expect(q).toBeLessThanOrEqual(n - f); // liveness: f silent validators cannot block
        expect(2 * (q - 1) - n).toBeLessThan(f + 1); // minimality
      }),
      { numRuns: 2000 },
    );
  });

  it('holds by exhaustion over every pair of quorums for n ≤ 9', () => {
    for (let n = 1; n <= 9; n++) {
      const f = maxFaulty(n);
      const q = quorum(n);
      const quorums: number[] = [];
      for (let set = 0; set < 1 << n; set++) if (popcount(set) === q) quorums.push(set);
      let minOverlap = n;
      for (const a of quorums)
        for (const b of quorums) minOverlap = Math.min(minOverlap, popcount(a & b));
      expect(minOverlap, `n=${n}`).toBeGreaterThanOrEqual(f + 1);
    }
  });

  it('shows why 2f+1 is not enough when n is not 3f+1', () => {
    // six validators, f = 1: two disjoint sets of 2f+1 = 3 would both "decide"
    expect(maxFaulty(6)).toBe(1);
    expect(2 * (2 * 1 + 1) - 6).toBe(0);
    expect(quorum(6)).toBe(4);
  });

  it('rejects a validator count that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => quorum(n)).toThrow(InvalidInputError);
      expect(() => maxFaulty(n)).toThrow(InvalidInputError);
    }
  });
});

function popcount(x: number): number {
  let count = 0;
  for (let v = x; v !== 0; v &= v - 1) count++;
  return count;
}
