/**
 * Negative controls: runs the checker must flag. If one of these passes, the
 * invariant checks have gone blind and every green sweep means nothing.
 */
import { describe, expect, it } from 'vitest';
import { sim } from './helpers.js';

describe('simulator: negative controls', () => {
  it('twins of two validators out of four (byzantine > f) → safety violation', () => {
    // Instance ids: validator 0 → 0,1; validator 1 → 2,3; validator 2 → 4; validator 3 → 5.
    // Each side holds one copy of each twin and one honest replica: a quorum of 3 on both sides.
    const r = sim({
      seed: 3,
      validators: 4,
      byzantine: [
        { validator: 0, behaviour: 'twins' },
        { validator: 1, behaviour: 'twins' },
      ],
      partitions: [{ fromMs: 0, toMs: 5000, groups: [[0, 2, 4]] }],
      faultsEndMs: 5000,
      livenessWindowMs: 5000,
    });
    expect(r.ok).toBe(false);
    expect(r.violations[0]?.class).toBe('safety');
    expect(r.failureLine).toMatch(/^SEED=3 n=4 class=safety .*conflicting commits/);
  });

  it('more than f silent replicas → liveness violation', () => {
    const r = sim({
      seed: 5,
      validators: 4,
      byzantine: [
        { validator: 1, behaviour: 'silent' },
        { validator: 2, behaviour: 'silent' },
      ],
      livenessWindowMs: 5000,
    });
    expect(r.ok).toBe(false);
    expect(r.violations[0]?.class).toBe('liveness');
    expect(r.failureLine).toMatch(/^SEED=5 n=4 class=liveness/);
  });

  it('a host that loses the WAL on restart → the replica double-signs and is flagged', () => {
    const r = sim({
      seed: 9,
      validators: 4,
      crashes: [{ instance: 0, atMs: 400, restartAtMs: 420, afterPersisting: 'pre-prepare' }],
      faultsEndMs: 1000,
      livenessHeights: 5,
      negativeControlLoseWalOnRestart: true,
      replica: { blockIntervalMs: 10 },
    });
    expect(r.ok).toBe(false);
    expect(r.violations[0]?.class).toBe('safety');
    expect(r.violations[0]?.message).toMatch(/signed two different messages/);
  });
});
