/** `/metrics`: the named series exist and move with the node and the API. */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeTransaction } from '../../src/ledger/index.js';
import { NodeMetrics } from '../../src/api/metrics.js';
import { FakeNode, newTx, testServer } from './api-fake-node.js';
import type { TestServer } from './api-fake-node.js';

let current: TestServer | undefined;
afterEach(async () => {
  await current?.server.close();
  current = undefined;
});

/** Value of one series line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('metrics', () => {
  it('exposes height, view, mempool, peers, view changes, commits, latency and API requests', async () => {
    const node = new FakeNode();
    current = testServer(node);
    const { server, metrics } = current;
    await node.submitTransaction(encodeTransaction(newTx()));
    node.commitBlock();
    metrics.blockCommitted(1, 0.04);
    node.commitBlock();
    metrics.blockCommitted(0, 0.2);
    await node.submitTransaction(encodeTransaction(newTx()));
    node.view = 3;
    metrics.viewChanged();
    metrics.viewChanged();
    await server.app.inject({ method: 'GET', url: '/v1/status' });
    await server.app.inject({ method: 'GET', url: '/v1/status' });
    await server.app.inject({ method: 'GET', url: `/v1/txs/${'00'.repeat(32)}` });
    await server.app.inject({ method: 'GET', url: '/no/such/route' });

    const res = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(sample(text, 'medchain_chain_height')).toBe(2);
    expect(sample(text, 'medchain_consensus_view')).toBe(3);
    expect(sample(text, 'medchain_mempool_txs')).toBe(1);
    expect(sample(text, 'medchain_mempool_bytes')).toBeGreaterThan(100);
    expect(sample(text, 'medchain_peers')).toBe(4);
    expect(sample(text, 'medchain_validators_connected')).toBe(3);
    expect(sample(text, 'medchain_consensus_view_changes_total')).toBe(2);
    expect(sample(text, 'medchain_committed_blocks_total')).toBe(2);
    expect(sample(text, 'medchain_committed_txs_total')).toBe(1);
    expect(sample(text, 'medchain_commit_latency_seconds_count')).toBe(2);
    expect(sample(text, 'medchain_commit_latency_seconds_bucket{le="0.05"}')).toBe(1);
    expect(sample(text, 'medchain_commit_latency_seconds_bucket{le="0.25"}')).toBe(2);
    expect(
      sample(text, 'medchain_api_requests_total{method="GET",route="/v1/status",status="200"}'),
    ).toBe(2);
    expect(
      sample(text, 'medchain_api_requests_total{method="GET",route="/v1/txs/:hash",status="404"}'),
    ).toBe(1);
    expect(
      sample(text, 'medchain_api_requests_total{method="GET",route="unmatched",status="404"}'),
    ).toBe(1);
    expect(text).toContain('medchain_api_request_duration_seconds_bucket');
    expect(sample(text, 'medchain_ws_clients')).toBe(0);
    expect(text).toContain('# TYPE medchain_ws_clients_dropped_total counter');
    // the URL of an unknown route is never a label (bounded cardinality, nothing echoed)
    expect(text).not.toContain('/no/such/route');
  });

  it('includes the default process metrics and constant labels when asked', async () => {
    const metrics = new NodeMetrics({ labels: { institution: 'hospital-a' } });
    metrics.blockCommitted(5, 0.01);
    const text = await metrics.render();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('medchain_committed_txs_total{institution="hospital-a"} 5');
  });

  it('ignores a negative or non-finite latency instead of corrupting the histogram', async () => {
    const metrics = new NodeMetrics({ defaultMetrics: false });
    metrics.blockCommitted(1, -1);
    metrics.blockCommitted(1, Number.NaN);
    const text = await metrics.render();
    expect(sample(text, 'medchain_committed_blocks_total')).toBe(2);
    expect(sample(text, 'medchain_commit_latency_seconds_count')).toBe(0);
  });
});
