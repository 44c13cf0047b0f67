import { describe, expect, it } from 'vitest';
import {
  coresBetween,
  counterDelta,
  countersFromMetrics,
  parseProcStat,
  parseProcStatusRss,
  parsePrometheusText,
  sampleProcess,
  sumSeries,
} from '../../src/bench/node-probe.js';

const METRICS = `# HELP medchain_consensus_view_changes_total View changes
# TYPE medchain_consensus_view_changes_total counter
medchain_consensus_view_changes_total 2
medchain_committed_txs_total 1500
medchain_committed_blocks_total 30
medchain_p2p_messages{protocol="consensus",direction="out"} 1200
medchain_p2p_messages{protocol="txs",direction="out"} 300
medchain_p2p_messages{protocol="txs",direction="in"} 999
medchain_p2p_bytes{protocol="consensus",direction="out"} 120000
medchain_p2p_bytes{protocol="txs",direction="out"} 600000
medchain_mempool_signature_checks 1500
process_cpu_seconds_total 12.5
process_resident_memory_bytes 2.5e+08
medchain_commit_latency_seconds_bucket{le="+Inf"} 30
weird line without value
medchain_api_requests_total{method="GET",route="/v1/status",status="200",note="a \\"quoted\\" value"} 7
`;

describe('Prometheus text', () => {
  it('parses names, labels (with escapes) and values', () => {
    const samples = parsePrometheusText(METRICS);
    expect(samples.find((s) => s.name === 'medchain_api_requests_total')?.labels).toEqual({
      method: 'GET',
      route: '/v1/status',
      status: '200',
      note: 'a "quoted" value',
    });
    expect(sumSeries(samples, 'medchain_p2p_messages', { direction: 'out' })).toBe(1500);
    expect(sumSeries(samples, 'medchain_p2p_messages')).toBe(2499);
    expect(sumSeries(samples, 'missing_series')).toBeNull();
    expect(samples.find((s) => s.name === 'process_resident_memory_bytes')?.value).toBe(2.5e8);
  });

  it('reads the counters the report uses; absent series are null', () => {
    const c = countersFromMetrics(METRICS);
    expect(c).toEqual({
      viewChanges: 2,
      committedTxs: 1500,
      committedBlocks: 30,
      p2pMessagesOut: 1500,
      p2pBytesOut: 720_000,
      signatureChecks: 1500,
      cpuSeconds: 12.5,
      rssBytes: 2.5e8,
    });
    const bare = countersFromMetrics('medchain_committed_txs_total 5\n');
    expect(bare.p2pMessagesOut).toBeNull();
    expect(bare.viewChanges).toBeNull();
  });

  it('accepts the _total spelling of the p2p series too', () => {
    const c = countersFromMetrics(
      'medchain_p2p_messages_total{protocol="txs",direction="out"} 4\n',
    );
    expect(c.p2pMessagesOut).toBe(4);
  });

  it('deltas between two scrapes', () => {
    const before = countersFromMetrics(METRICS);
    const after = countersFromMetrics(
      METRICS.replace(
        'medchain_committed_txs_total 1500',
        'medchain_committed_txs_total 4500',
      ).replace('process_cpu_seconds_total 12.5', 'process_cpu_seconds_total 20'),
    );
    const d = counterDelta(before, after);
    expect(d.committedTxs).toBe(3000);
    expect(d.cpuSeconds).toBe(7.5);
    expect(d.viewChanges).toBe(0);
    expect(counterDelta(countersFromMetrics(''), after).committedTxs).toBeNull();
  });
});

describe('/proc', () => {
  it('reads utime + stime even when the command has spaces and parentheses', () => {
    const stat =
      '4242 (node (medchain) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 1000 100000 5000 18446744073709551615';
    expect(parseProcStat(stat, 100)).toBe(3);
    expect(() => parseProcStat('garbage', 100)).toThrow(/stat/);
  });

  it('reads VmRSS', () => {
    expect(parseProcStatusRss('Name:\tnode\nVmRSS:\t  204800 kB\nThreads: 11\n')).toBe(
      204_800 * 1024,
    );
    expect(parseProcStatusRss('Name: zombie\n')).toBe(0);
  });

  it('CPU in cores between two samples', () => {
    expect(
      coresBetween(
        { atMs: 0, cpuSeconds: 1, rssBytes: 0 },
        { atMs: 2000, cpuSeconds: 4, rssBytes: 0 },
      ),
    ).toBe(1.5);
    expect(
      coresBetween(
        { atMs: 0, cpuSeconds: 1, rssBytes: 0 },
        { atMs: 0, cpuSeconds: 4, rssBytes: 0 },
      ),
    ).toBe(0);
  });

  it('samples this very process (Linux) and gives null for a pid that does not exist', async () => {
    const sample = await sampleProcess(process.pid, 1);
    if (process.platform === 'linux') {
      expect(sample?.cpuSeconds).toBeGreaterThan(0);
      expect(sample?.rssBytes).toBeGreaterThan(1024 * 1024);
    }
    expect(await sampleProcess(2 ** 30, 1)).toBeNull();
  });
});
