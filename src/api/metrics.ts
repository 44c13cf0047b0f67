/**
 * The node's Prometheus metrics: one prom-client `Registry` per node (so
 * several nodes in one process never share series), owned by `NodeMetrics`.
 * The node calls the event methods (`blockCommitted`, `viewChanged`); the
 * API server refreshes the gauges from `NodeApi.status()` at every scrape and
 * counts its own requests and WebSocket clients.
 *
 * Series (all prefixed `medchain_`):
 *   chain_height, consensus_view, mempool_txs, mempool_bytes, peers,
 *   validators_connected (gauges); consensus_view_changes_total,
 *   committed_blocks_total, committed_txs_total (counters);
 *   commit_latency_seconds (histogram); api_requests_total{method,route,status},
 *   api_request_duration_seconds{method,route}; ws_clients,
 *   ws_clients_dropped_total{reason}, ws_events_sent_total;
 *   plus prom-client's default process metrics (process_*, nodejs_*).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeStatus } from './types.js';

export const METRIC_PREFIX = 'medchain_';

/** Commit latency buckets in seconds: from a few ms (one box) to tens of seconds (view changes). */
export const COMMIT_LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const REQUEST_DURATION_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2];

export interface NodeMetricsOptions {
  /** Also collect prom-client's default process metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Constant labels on every series, e.g. `{ institution: 'hospital-a' }`. */
  readonly labels?: Readonly<Record<string, string>>;
}

export type WsDropReason = 'slow' | 'timeout';

export class NodeMetrics {
  readonly registry: Registry;

  private readonly height: Gauge;
  private readonly view: Gauge;
  private readonly mempoolTxs: Gauge;
  private readonly mempoolBytes: Gauge;
  private readonly peers: Gauge;
  private readonly validatorsConnected: Gauge;
  private readonly viewChanges: Counter;
  private readonly committedBlocks: Counter;
  private readonly committedTxs: Counter;
  private readonly commitLatency: Histogram;
  private readonly apiRequests: Counter<'method' | 'route' | 'status'>;
  private readonly apiRequestDuration: Histogram<'method' | 'route'>;
  private readonly wsClients: Gauge;
  private readonly wsDropped: Counter<'reason'>;
  private readonly wsEventsSent: Counter;

  constructor(options: NodeMetricsOptions = {}) {
    this.registry = new Registry();
    if (options.labels !== undefined) this.registry.setDefaultLabels({ ...options.labels });
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.height = new Gauge({
      name: `${p}chain_height`,
      help: 'Height of the latest committed block',
      registers,
    });
    this.view = new Gauge({ name: `${p}consensus_view`, help: 'Current PBFT view', registers });
    this.mempoolTxs = new Gauge({
      name: `${p}mempool_txs`,
      help: 'Transactions waiting in the mempool',
      registers,
    });
    this.mempoolBytes = new Gauge({
      name: `${p}mempool_bytes`,
      help: 'Encoded bytes of the transactions in the mempool',
      registers,
    });
    this.peers = new Gauge({ name: `${p}peers`, help: 'Connected libp2p peers', registers });
    this.validatorsConnected = new Gauge({
      name: `${p}validators_connected`,
      help: 'Validators of the current set this node is connected to',
      registers,
    });
    this.viewChanges = new Counter({
      name: `${p}consensus_view_changes_total`,
      help: 'View changes this node has gone through',
      registers,
    });
    this.committedBlocks = new Counter({
      name: `${p}committed_blocks_total`,
      help: 'Blocks committed by this node',
      registers,
    });
    this.committedTxs = new Counter({
      name: `${p}committed_txs_total`,
      help: 'Transactions in blocks committed by this node',
      registers,
    });
    this.commitLatency = new Histogram({
      name: `${p}commit_latency_seconds`,
      help: 'Seconds from a block being proposed to its local commit',
      buckets: [...COMMIT_LATENCY_BUCKETS_SECONDS],
      registers,
    });
    this.apiRequests = new Counter({
      name: `${p}api_requests_total`,
      help: 'HTTP API requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.apiRequestDuration = new Histogram({
      name: `${p}api_request_duration_seconds`,
      help: 'HTTP API request handling time by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: REQUEST_DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.wsClients = new Gauge({
      name: `${p}ws_clients`,
      help: 'Open /v1/events WebSocket clients',
      registers,
    });
    this.wsDropped = new Counter({
      name: `${p}ws_clients_dropped_total`,
      help: 'WebSocket clients disconnected by the server (slow: send buffer over its bound; timeout: no pong)',
      labelNames: ['reason'],
      registers,
    });
    this.wsEventsSent = new Counter({
      name: `${p}ws_events_sent_total`,
      help: 'Event messages queued to WebSocket clients',
      registers,
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Refresh the gauges from a status snapshot (the server does this at every scrape). */
  observeStatus(
    status: Pick<NodeStatus, 'height' | 'view' | 'mempool' | 'peers' | 'validators'>,
  ): void {
    this.height.set(status.height);
    this.view.set(status.view);
    this.mempoolTxs.set(status.mempool.size);
    this.mempoolBytes.set(status.mempool.bytes);
    this.peers.set(status.peers);
    this.validatorsConnected.set(status.validators.connected);
  }

  /** A block committed locally: `latencySeconds` from its proposal to this commit. */
  blockCommitted(txCount: number, latencySeconds: number): void {
    this.committedBlocks.inc();
    if (txCount > 0) this.committedTxs.inc(txCount);
    if (Number.isFinite(latencySeconds) && latencySeconds >= 0) {
      this.commitLatency.observe(latencySeconds);
    }
  }

  viewChanged(): void {
    this.viewChanges.inc();
  }

  apiRequest(method: string, route: string, status: number, durationSeconds: number): void {
    this.apiRequests.inc({ method, route, status: String(status) });
    this.apiRequestDuration.observe({ method, route }, durationSeconds);
  }

  wsClientsOpen(count: number): void {
    this.wsClients.set(count);
  }

  wsClientDropped(reason: WsDropReason): void {
    this.wsDropped.inc({ reason });
  }

  wsEventsQueued(count: number): void {
    if (count > 0) this.wsEventsSent.inc(count);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every series. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
