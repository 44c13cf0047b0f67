import { describe, expect, it } from 'vitest';
import { runHttpBench, summarizeHttpBench } from '../../src/bench/http-bench.js';
import type { HttpBenchRow } from '../../src/bench/http-bench.js';

const row = (transport: HttpBenchRow['transport'], round: number, cpuUs: number): HttpBenchRow => ({
  transport,
  round,
  cpuUs,
  wallUs: cpuUs * 2,
});

describe('bench:http', () => {
  it('summarises each transport by its median round and gives their ratio', () => {
    const s = summarizeHttpBench([
      row('node:http', 0, 300),
      row('fetch', 0, 900),
      row('node:http', 1, 100),
      row('fetch', 1, 200),
      row('node:http', 2, 120),
      row('fetch', 2, 360),
    ]);
    expect(s.nodeHttpCpuUs).toBe(120);
    expect(s.fetchCpuUs).toBe(360);
    expect(s.fetchOverNodeHttp).toBe(3);
    expect(
      summarizeHttpBench([
        row('node:http', 0, 100),
        row('node:http', 1, 300),
        row('fetch', 0, 400),
      ]),
    ).toEqual({ nodeHttpCpuUs: 200, fetchCpuUs: 400, fetchOverNodeHttp: 2 });
  });

  it('times both transports against a server in another process, every answer checked', async () => {
    const r = await runHttpBench({ requests: 20, rounds: 2, txs: 3 });
    expect(r.txsPerBatch).toBe(3);
    expect(r.rows.map((x) => `${x.round}:${x.transport}`)).toEqual([
      '0:node:http',
      '0:fetch',
      '1:node:http',
      '1:fetch',
    ]);
    for (const x of r.rows) {
      expect(x.cpuUs).toBeGreaterThan(0);
      expect(x.wallUs).toBeGreaterThan(0);
    }
    expect(r.fetchOverNodeHttp).toBeCloseTo(r.fetchCpuUs / r.nodeHttpCpuUs, 9);
  });
});
