import { describe, expect, it } from 'vitest';
import { floorArithmetic, runFloorBench } from '../../src/bench/floor-bench.js';

describe('bench:floor', () => {
  it('adds the parts in verifications and turns the floor into a ceiling of the bound', () => {
    const r = floorArithmetic(
      { transport: 5, 'decode + hash': 10, verify: 50, 'store block + record': 35 },
      25,
    );
    expect(r.rows.map((row) => [row.part, row.ofVerification])).toEqual([
      ['transport', 0.1],
      ['decode + hash', 0.2],
      ['verify', 1],
      ['store block + record', 0.7],
    ]);
    expect(r.floorInVerifications).toBeCloseTo(2, 12);
    expect(r.ceilingOfBound).toBeCloseTo(0.5, 12);
    expect(r.ceilingWithAuditOfBound).toBeCloseTo(1 / 2.5, 12);
    expect(() =>
      floorArithmetic(
        { transport: 1, 'decode + hash': 1, verify: 0, 'store block + record': 1 },
        0,
      ),
    ).toThrow(/verify/);
  });

  it.each(['intl', 'gm'] as const)(
    'measures every part of the %s floor on real transactions and a real LevelDB',
    async (suite) => {
      const r = await runFloorBench({ suite, blocks: 4, txs: 3, seconds: 0.01, transport: false });
      expect(r.suite).toBe(suite);
      expect(r.txBytes).toBeGreaterThan(500);
      expect(r.transportMeasured).toBe(false);
      const of = (part: string): number => r.rows.find((row) => row.part === part)?.us ?? -1;
      expect(of('transport')).toBe(0);
      expect(of('decode + hash')).toBeGreaterThan(0);
      expect(of('verify')).toBeGreaterThan(0);
      expect(of('store block + record')).toBeGreaterThan(0);
      expect(r.ceilingWithAuditOfBound).toBeCloseTo(
        1 / (r.floorInVerifications + r.auditIndexUs / of('verify')),
        12,
      );
      expect(r.ceilingWithAuditOfBound).toBeLessThanOrEqual(r.ceilingOfBound);
      expect(r.ceilingOfBound).toBeCloseTo(1 / r.floorInVerifications, 12);
      expect(r.ceilingOfBound).toBeLessThan(1);
      expect(r.decodeUncheckedUs).toBeGreaterThan(0);
      const decodeRow = r.rows.find((row) => row.part === 'decode + hash');
      const verify = of('verify');
      expect(r.ceilingUncheckedDecodeOfBound).toBeCloseTo(
        1 /
          (r.floorInVerifications -
            (decodeRow?.ofVerification ?? 0) +
            r.decodeUncheckedUs / verify),
        12,
      );
    },
  );

  it('refuses an empty run', async () => {
    await expect(
      runFloorBench({ suite: 'intl', blocks: 0, txs: 3, seconds: 0.01, transport: false }),
    ).rejects.toThrow(/blocks/);
  });
});
