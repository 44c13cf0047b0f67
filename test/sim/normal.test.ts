import { describe, expect, it } from 'vitest';
import { expectOk, sim, total } from './helpers.js';

describe('simulator: normal case', () => {
  for (const n of [4, 7, 10]) {
    it(`n=${n} commits with certificates, no view change`, () => {
      const r = sim({ seed: 100 + n, validators: n, livenessHeights: 20 });
      expectOk(r);
      expect(r.minHonestHeight).toBeGreaterThanOrEqual(20);
      expect(r.viewChanges).toBe(0);
      expect(total(r, 'droppedBadSignature')).toBe(0);
      expect(total(r, 'viewChangesStarted')).toBe(0);
      // pre-prepare (n−1) + prepares (n−1)² + commits n(n−1), plus checkpoints and the odd retransmission.
      const core = n - 1 + (n - 1) ** 2 + n * (n - 1);
      expect(r.messagesPerBlock).toBeGreaterThanOrEqual(core * 0.9);
      expect(r.messagesPerBlock).toBeLessThan(core * 1.5);
      // Every committed block came with a certificate the ledger accepts: the simulator checks each
      // one with validateCommitCertificate and would have failed the run (class safety).
      expect(total(r, 'committedHeights')).toBeGreaterThanOrEqual(20 * n);
    });
  }

  it('pipelines several heights within the window, cutting blocks on maxBlockTxs', () => {
    // A 1 s block interval: only full blocks (maxBlockTxs) can be cut this fast.
    const run = (window: { watermarkWindowHeights: number; checkpointIntervalHeights: number }) =>
      sim({
        seed: 7,
        validators: 4,
        livenessHeights: 40,
        txsPerInterval: 20,
        replica: { maxBlockTxs: 5, blockIntervalMs: 1000, ...window },
      });
    const pipelined = run({ watermarkWindowHeights: 16, checkpointIntervalHeights: 8 });
    const oneAtATime = run({ watermarkWindowHeights: 1, checkpointIntervalHeights: 1 });
    expectOk(pipelined);
    expectOk(oneAtATime);
    expect(pipelined.minHonestHeight).toBeGreaterThanOrEqual(40);
    expect(pipelined.virtualTimeMs).toBeLessThan(1000);
    expect(pipelined.virtualTimeMs * 2).toBeLessThan(oneAtATime.virtualTimeMs);
  });

  it('replays a seed exactly', () => {
    const opts = {
      seed: 4242,
      validators: 4,
      network: { lossRate: 0.1, duplicateRate: 0.2, maxDelayMs: 30 },
      randomFaults: { crashes: 2, partitions: 1 },
      faultsEndMs: 1500,
    } as const;
    const a = sim(opts);
    const b = sim(opts);
    expect(a.messagesSent).toBe(b.messagesSent);
    expect(a.bytesSent).toBe(b.bytesSent);
    expect(a.heights).toEqual(b.heights);
    expect(a.metrics).toEqual(b.metrics);
    expect(a.events).toBe(b.events);
  });
});
