import { describe, expect, it } from 'vitest';
import { expectOk, sim, total } from './helpers.js';

const FAST = {
  viewChangeTimeoutMs: 400,
  viewChangeTimeoutMaxMs: 3200,
  retransmitIntervalMs: 100,
} as const;

describe('simulator: faults', () => {
  it('primary crash → view change → progress', () => {
    const r = sim({
      seed: 11,
      validators: 4,
      crashes: [{ instance: 0, atMs: 600, restartAtMs: 5000 }],
      faultsEndMs: 5000,
      livenessHeights: 5,
      replica: FAST,
    });
    expectOk(r);
    expect(r.viewChanges).toBeGreaterThanOrEqual(1);
    // Progress while the primary was down: the others kept committing before faults ended.
    expect(r.minHonestHeight).toBeGreaterThan(20);
  });

  for (const n of [4, 7, 10]) {
    it(`n=${n}: f silent replicas (including the first primary)`, () => {
      const f = Math.floor((n - 1) / 3);
      const byzantine = Array.from({ length: f }, (_, i) => ({
        validator: i,
        behaviour: 'silent' as const,
      }));
      const r = sim({ seed: 20 + n, validators: n, byzantine, livenessHeights: 10, replica: FAST });
      expectOk(r);
      expect(r.viewChanges).toBeGreaterThanOrEqual(1);
    });
  }

  it('equivocating primary is voted out', () => {
    const r = sim({
      seed: 31,
      validators: 7,
      byzantine: [{ validator: 0, behaviour: 'equivocate' }],
      livenessHeights: 10,
      replica: FAST,
    });
    expectOk(r);
    expect(r.viewChanges).toBeGreaterThanOrEqual(1);
    // Nothing from view 0 could be prepared by both halves; the new primary leads.
    expect(r.minHonestHeight).toBeGreaterThanOrEqual(10);
  });

  it('primary proposing invalid blocks is voted out', () => {
    const r = sim({
      seed: 32,
      validators: 4,
      byzantine: [{ validator: 0, behaviour: 'invalid-block' }],
      livenessHeights: 10,
      replica: FAST,
    });
    expectOk(r);
    expect(total(r, 'invalidProposals')).toBeGreaterThan(0);
    expect(r.viewChanges).toBeGreaterThanOrEqual(1);
  });

  it('partition then heal (minority cut off, majority continues)', () => {
    const r = sim({
      seed: 41,
      validators: 7,
      partitions: [{ fromMs: 300, toMs: 3000, groups: [[0, 1]] }],
      faultsEndMs: 3000,
      livenessHeights: 10,
      replica: FAST,
    });
    expectOk(r);
    expect(total(r, 'syncedHeights')).toBeGreaterThan(0);
  });

  it('partition with no quorum anywhere, then heal', () => {
    const r = sim({
      seed: 42,
      validators: 4,
      partitions: [{ fromMs: 300, toMs: 3000, groups: [[0, 1]] }],
      faultsEndMs: 3000,
      livenessHeights: 10,
      replica: FAST,
    });
    expectOk(r);
  });

  it('asymmetric partition: the primary can send but not receive', () => {
    const r = sim({
      seed: 43,
      validators: 4,
      partitions: [
        {
          fromMs: 200,
          toMs: 3000,
          cuts: [
            [1, 0],
            [2, 0],
            [3, 0],
          ],
        },
      ],
      faultsEndMs: 3000,
      livenessHeights: 10,
      replica: FAST,
    });
    expectOk(r);
    expect(r.viewChanges).toBeGreaterThanOrEqual(1);
  });

  it('20% loss + 30% duplication', () => {
    const r = sim({
      seed: 51,
      validators: 7,
      network: { lossRate: 0.2, duplicateRate: 0.3, maxDelayMs: 30 },
      faultsEndMs: 3000,
      livenessHeights: 10,
      replica: FAST,
    });
    expectOk(r);
    expect(r.minHonestHeight).toBeGreaterThan(10);
    expect(total(r, 'droppedDuplicate')).toBeGreaterThan(0);
    expect(total(r, 'retransmissions')).toBeGreaterThan(0);
  });

  it('crash + restart mid-view from the WAL never double-signs', () => {
    // Crashes land part-way through effect lists (after a persist, before its send).
    const crashes = [];
    for (let i = 0; i < 12; i++) {
      crashes.push({
        instance: i % 4,
        atMs: 150 + i * 170,
        restartAtMs: 150 + i * 170 + 90,
        midEffects: true,
      });
    }
    const r = sim({
      seed: 61,
      validators: 4,
      crashes,
      faultsEndMs: 2500,
      livenessHeights: 5,
      replica: FAST,
    });
    // The simulator fails the run (class safety) on any second signature for one (kind, height, view)
    // and on any signed message sent before it was persisted.
    expectOk(r);
    expect(r.restarts).toBe(12);
    expect(r.minHonestHeight).toBeGreaterThan(5);
  });

  it('primary crashing between persisting a pre-prepare and sending it re-sends the same one', () => {
    const r = sim({
      seed: 62,
      validators: 4,
      crashes: [
        { instance: 0, atMs: 300, restartAtMs: 320, afterPersisting: 'pre-prepare' },
        { instance: 1, atMs: 500, restartAtMs: 510, afterPersisting: 'prepare' },
        { instance: 2, atMs: 700, restartAtMs: 710, afterPersisting: 'commit' },
        { instance: 3, atMs: 300, restartAtMs: 1500, afterPersisting: 'checkpoint' },
      ],
      faultsEndMs: 2000,
      livenessHeights: 5,
      replica: FAST,
    });
    expectOk(r);
    expect(r.restarts).toBe(4);
  });

  it('lagging replica catches up by state transfer', () => {
    const r = sim({
      seed: 71,
      validators: 4,
      crashes: [{ instance: 3, atMs: 100, restartAtMs: 4000 }],
      faultsEndMs: 4000,
      livenessHeights: 5,
      replica: FAST,
    });
    expectOk(r);
    const m = r.metrics[3];
    expect(m?.syncedHeights).toBeGreaterThan(30);
    expect(r.heights[3]).toBe(r.maxHonestHeight);
  });

  it('bad signatures and replayed messages are dropped and counted', () => {
    const r = sim({
      seed: 81,
      validators: 7,
      byzantine: [
        { validator: 2, behaviour: 'bad-signature' },
        { validator: 3, behaviour: 'replay' },
      ],
      livenessHeights: 20,
      replica: FAST,
    });
    expectOk(r);
    expect(total(r, 'droppedBadSignature')).toBeGreaterThan(0);
    expect(
      total(r, 'droppedDuplicate') + total(r, 'droppedStaleView') + total(r, 'droppedOutOfWindow'),
    ).toBeGreaterThan(0);
  });

  it('twins within f (one validator run twice) stay safe', () => {
    const r = sim({
      seed: 91,
      validators: 4,
      byzantine: [{ validator: 0, behaviour: 'twins' }],
      partitions: [{ fromMs: 0, toMs: 2000, groups: [[0, 2, 3]] }],
      faultsEndMs: 2000,
      livenessHeights: 5,
      replica: FAST,
    });
    expectOk(r);
  });
});
