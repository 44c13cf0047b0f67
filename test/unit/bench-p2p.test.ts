/**
 * The transport benchmark (src/bench/p2p-bench.ts) on a real libp2p pair on
 * 127.0.0.1, with a tiny load: its arithmetic and report shape, not its speed.
 */
import { describe, expect, it } from 'vitest';
import { formatP2pBench, parseP2pBenchArgs, runP2pBench } from '../../src/bench/p2p-bench.js';

describe('p2p bench', () => {
  it('parses its flags within bounds', () => {
    expect(parseP2pBenchArgs([])).toEqual({ json: false, txs: 20_000, txBytes: 1000 });
    expect(parseP2pBenchArgs(['--json', '--txs=300', '--tx-bytes=0'])).toEqual({
      json: true,
      txs: 300,
      txBytes: 1,
    });
  });

  it('moves every bundle and reports CPU per message, per transaction and against one verification', async () => {
    const report = await runP2pBench({ json: true, txs: 200, txBytes: 100 });
    expect(report.rows.map((r) => r.txsPerBundle)).toEqual([1, 5, 20, 100]);
    expect(report.verifyMicros).toBeGreaterThan(0);
    for (const row of report.rows) {
      expect(row.cpuMicrosPerMessage).toBeGreaterThan(0);
      expect(row.cpuMicrosPerTx * row.txsPerBundle).toBeCloseTo(row.cpuMicrosPerMessage, 6);
      expect(row.ofVerification).toBeCloseTo(row.cpuMicrosPerTx / report.verifyMicros, 6);
    }
    const text = formatP2pBench(report);
    expect(text.split('\n')).toHaveLength(3 + report.rows.length);
    expect(text).toContain('200 transactions of 100 bytes per row');
  }, 60_000);
});
