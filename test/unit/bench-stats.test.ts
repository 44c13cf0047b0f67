import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketCounts,
  bucketOf,
  commitQuorum,
  crashRecovery,
  fractionOf,
  LatencyHistogram,
  loadEndMs,
  measurementWindow,
  median,
  percentileOfSorted,
  quorumRate,
  ratePerSecond,
  summarizeLatencies,
  verificationBoundTps,
} from '../../src/bench/stats.js';

describe('latency percentiles', () => {
  it('nearest-rank percentiles of 1..1000 ms', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    const s = summarizeLatencies(values);
    expect(s.count).toBe(1000);
    // HDR buckets report the highest value equivalent to the recorded one (3 significant digits)
    expect(s.min).toBeCloseTo(1, 2);
    expect(Math.abs((s.max ?? 0) - 1000)).toBeLessThanOrEqual(1);
    expect(s.p50).toBeCloseTo(500, -0.5);
    expect(s.p90).toBeCloseTo(900, -0.5);
    expect(s.p99).toBeCloseTo(990, -0.5);
    expect(s.p999).toBeCloseTo(999, -0.5);
    expect(s.mean).toBeCloseTo(500.5, 0);
  });

  it('the histogram agrees with exact percentiles within 0.1 % (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 60_000, noNaN: true }), {
          minLength: 1,
          maxLength: 400,
        }),
        (values) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const s = h.summary();
          const sorted = [...values].sort((a, b) => a - b);
          for (const [p, got] of [
            [50, s.p50],
            [90, s.p90],
            [99, s.p99],
            [99.9, s.p999],
          ] as const) {
            // rank conventions differ by at most one element between HDR and nearest-rank
            const rank = Math.ceil((p / 100) * sorted.length);
            const candidates = [rank - 2, rank - 1, rank]
              .map((k) => sorted[k])
              .filter((v) => v !== undefined);
            const close = candidates.some(
              (exact) => Math.abs((got ?? 0) - exact) <= exact * 0.002 + 0.011,
            );
            expect(close, `p${p}: ${got} vs ${candidates.join(', ')}`).toBe(true);
            expect(percentileOfSorted(sorted, p)).toBe(sorted[rank - 1]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a tail shows in p99 and max but not in p50', () => {
    const values = [...new Array<number>(990).fill(10), ...new Array<number>(10).fill(2000)];
    const s = summarizeLatencies(values);
    expect(s.p50).toBeCloseTo(10, 1);
    expect(s.p99).toBeCloseTo(10, 1);
    expect(s.p999).toBeCloseTo(2000, -1);
    expect(s.max).toBeCloseTo(2000, -1);
  });

  it('empty is all null; NaN is refused; negatives count as ~0', () => {
    expect(summarizeLatencies([])).toMatchObject({ count: 0, p50: null, max: null });
    expect(() => {
      new LatencyHistogram().record(Number.NaN);
    }).toThrow(/latencyMs/);
    const s = summarizeLatencies([-5]);
    expect(s.max).toBeLessThan(0.01);
  });

  it('percentileOfSorted rejects p outside (0, 100]', () => {
    expect(() => percentileOfSorted([1], 0)).toThrow(/p: must be in/);
    expect(() => percentileOfSorted([1], 101)).toThrow();
    expect(percentileOfSorted([], 50)).toBeNull();
    expect(percentileOfSorted([1, 2, 3, 4], 50)).toBe(2);
    expect(percentileOfSorted([1, 2, 3, 4], 100)).toBe(4);
  });
});

describe('windows and rates', () => {
  it('excludes the warm-up and the cool-down', () => {
    const phases = { loadStartMs: 10_000, warmupMs: 3000, durationMs: 20_000, cooldownMs: 2000 };
    expect(measurementWindow(phases)).toEqual({ startMs: 13_000, endMs: 33_000 });
    expect(loadEndMs(phases)).toBe(35_000);
  });

  it('refuses a zero duration or negative phases, naming the field', () => {
    expect(() =>
      measurementWindow({ loadStartMs: 0, warmupMs: 0, durationMs: 0, cooldownMs: 0 }),
    ).toThrow(/durationMs/);
    expect(() =>
      measurementWindow({ loadStartMs: 0, warmupMs: -1, durationMs: 5, cooldownMs: 0 }),
    ).toThrow(/warmupMs/);
  });

  it('rates are per second of the window', () => {
    expect(ratePerSecond(3000, { startMs: 0, endMs: 2000 })).toBe(1500);
    expect(() => ratePerSecond(1, { startMs: 5, endMs: 5 })).toThrow(/window/);
  });

  it('the quorum rate ignores the slowest f nodes', () => {
    expect(commitQuorum(4)).toBe(3);
    expect(commitQuorum(7)).toBe(5);
    expect(commitQuorum(1)).toBe(1);
    expect(quorumRate([1000, 990, 0, 1010], 3)).toBe(990);
    expect(quorumRate([1000, 0, 0, 1010], 3)).toBe(0);
    expect(quorumRate([5], 3)).toBe(0);
  });
});

describe('the verification bound', () => {
  it('is verifies/s per core × cores ÷ nodes', () => {
    expect(verificationBoundTps(6000, 2, 4)).toBe(3000);
    expect(verificationBoundTps(1300, 2, 4)).toBe(650);
    expect(fractionOf(1800, 3000)).toBeCloseTo(0.6);
    expect(fractionOf(1800, null)).toBeNull();
  });

  it('refuses nonsense', () => {
    expect(() => verificationBoundTps(0, 2, 4)).toThrow(/verifiesPerSecPerCore/);
    expect(() => verificationBoundTps(100, 0, 4)).toThrow(/cores/);
    expect(() => verificationBoundTps(100, 2, 1.5)).toThrow(/nodes/);
  });
});

describe('time series', () => {
  it('buckets by whole seconds from the origin and drops what is outside', () => {
    expect(bucketOf(1999, 1000)).toBe(0);
    expect(bucketOf(2000, 1000)).toBe(1);
    expect(bucketOf(999, 1000)).toBe(-1);
    const counts = bucketCounts(
      [
        [1000, 1],
        [1500, 2],
        [2000, 4],
        [4999, 8],
        [5000, 16],
        [500, 32],
      ],
      1000,
      4,
    );
    expect(counts).toEqual([3, 4, 0, 8]);
  });

  it('median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe('crash recovery', () => {
  const sighting = (atMs: number, node: number, view: number, height: number) => ({
    atMs,
    node,
    view,
    height,
    txCount: 10,
  });

  it('measures crash → first commit and crash → first commit in a new view', () => {
    const r = crashRecovery(10_000, 0, 0, [
      sighting(9_900, 1, 0, 5), // before the crash
      sighting(10_050, 0, 0, 6), // from the crashed node: ignored
      sighting(10_100, 2, 0, 6), // in flight, still view 0
      sighting(12_400, 3, 1, 7),
      sighting(12_350, 1, 1, 7),
    ]);
    expect(r.firstCommitAfterMs).toBe(100);
    expect(r.firstCommitInNewViewMs).toBe(2350);
    expect(r.newView).toBe(1);
    expect(r.viewAtCrash).toBe(0);
  });

  it('a backup crash without a view change has no new-view time', () => {
    const r = crashRecovery(5000, 3, 2, [sighting(5200, 0, 2, 9)]);
    expect(r.firstCommitAfterMs).toBe(200);
    expect(r.firstCommitInNewViewMs).toBeNull();
    expect(r.newView).toBeNull();
  });
});
