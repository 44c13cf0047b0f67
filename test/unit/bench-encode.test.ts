import { describe, expect, it } from 'vitest';
import { runEncodeBench } from '../../src/bench/encode-bench.js';

describe('bench:encode', () => {
  it('times the three block encodes both ways after checking they agree, against one verification', () => {
    const r = runEncodeBench({ seconds: 0.01, txs: 5 });
    expect(r.txsPerBlock).toBe(5);
    expect(r.txBytes).toBeGreaterThan(500);
    expect(r.rows.map((row) => row.what)).toEqual([
      'WAL record',
      'stored block',
      'certified block',
    ]);
    for (const row of r.rows) {
      expect(row.plainUs).toBeGreaterThan(0);
      expect(row.splicedUs).toBeGreaterThan(0);
    }
    const total = (f: (row: (typeof r.rows)[number]) => number): number =>
      r.rows.reduce((a, row) => a + f(row), 0);
    expect(r.plainInVerifies).toBeCloseTo(total((row) => row.plainUs) / r.verifyUs, 9);
    expect(r.splicedInVerifies).toBeCloseTo(total((row) => row.splicedUs) / r.verifyUs, 9);
  });
});
