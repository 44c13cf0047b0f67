import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLICA_TIMING } from '../../consensus/types.js';
import { expectOk, sim, total } from './helpers.js';

describe('simulator: checkpoints bound memory', () => {
  it('10,000 heights: message log, WAL and caches stay bounded', () => {
    const W = DEFAULT_REPLICA_TIMING.watermarkWindowHeights;
    const K = DEFAULT_REPLICA_TIMING.checkpointIntervalHeights;
    const n = 4;
    const r = sim({
      seed: 10_000,
      validators: n,
      // A long run: the INSECURE checksum stands in for signatures so it takes seconds, not minutes.
      insecureFakeSignatures: true,
      targetHeight: 10_000,
      livenessWindowMs: 10_000_000,
      tickMs: 5,
      txIntervalMs: 5,
      txsPerInterval: 1,
      replica: { blockIntervalMs: 5 },
      trackLogSizes: true,
    });
    expectOk(r);
    expect(r.minHonestHeight).toBeGreaterThanOrEqual(10_000);
    // Stable checkpoints kept coming (each replica adopts about one per K heights)...
    expect(total(r, 'stableCheckpoints')).toBeGreaterThan((n * 10_000) / K / 2);
    // ...and garbage collection kept every log within a few windows.
    const s = r.maxLogSizes;
    // Slots live between the stable checkpoint and the top of the window above the low watermark.
    expect(s['slots']).toBeLessThanOrEqual(2 * W);
    expect(s['signed']).toBeLessThanOrEqual(4 * W);
    expect(s['checkpointVotes']).toBeLessThanOrEqual(n * ((2 * W) / K + 1));
    expect(s['committedHashes']).toBeLessThanOrEqual(2 * W + 1);
    expect(s['ownStateRoots']).toBeLessThanOrEqual(2 * W + 1);
    expect(s['future'] ?? 0).toBeLessThanOrEqual(DEFAULT_REPLICA_TIMING.maxFutureMessages);
    expect(r.maxWalRecords).toBeLessThanOrEqual(8 * W);
  });
});
