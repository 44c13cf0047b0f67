/** The node's HTTP + WebSocket API: server, interface the node implements, JSON mapping, metrics, typed client. */
export * from './types.js';
export * from './errors.js';
export * from './json.js';
export { NodeMetrics, METRIC_PREFIX, COMMIT_LATENCY_BUCKETS_SECONDS } from './metrics.js';
export type { NodeMetricsOptions, WsDropReason } from './metrics.js';
export {
  createApiServer,
  resolveApiLimits,
  CORE_ROUTE_GROUPS,
  DEFAULT_API_HOST,
  DEFAULT_API_LIMITS,
} from './server.js';
export type { ApiServer, ApiServerOptions, RegisteredRoute } from './server.js';
export type { ApiLimits, RouteContext, RouteGroup, OpenApiPaths } from './route-group.js';
export { buildOpenApiDocument, toOpenApiPath } from './openapi.js';
export { MedchainClient, DEFAULT_CLIENT_TIMEOUT_MS } from './client.js';
export type {
  BlockEventJson,
  EventSubscription,
  HelloEventJson,
  MedchainClientOptions,
  RequestOptions,
  SubscribeOptions,
} from './client.js';
