/**
 * A route group: one file under ./routes, registering related routes and
 * carrying the hand-written OpenAPI path items that describe them.
 * `createApiServer` registers every group and builds `/openapi.json` from
 * their path items, so a new group (issue 5: records, consent, referral, …)
 * is one new file plus one line in ./server.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ErrorResponse } from './error-response.js';
import type { NodeMetrics } from './metrics.js';
import type { NodeApi } from './types.js';

/** The limits the server enforces (all set explicitly; see `resolveApiLimits`). */
export interface ApiLimits {
  /** Largest request body of every route but the batch submit. */
  readonly bodyLimitBytes: number;
  /** Largest body of `POST /v1/txs/batch`. */
  readonly batchBodyLimitBytes: number;
  /** Most transactions in one batch. */
  readonly maxBatchTxs: number;
  /** Most open `/v1/events` WebSocket clients. */
  readonly maxWsClients: number;
  /** A client whose unsent data would exceed this is disconnected (counted as `slow`). */
  readonly wsMaxBufferedBytes: number;
  /** Interval of WebSocket pings; a client that missed the previous pong is disconnected. 0 disables. */
  readonly wsPingIntervalMs: number;
}

export type OpenApiOperation = Readonly<Record<string, unknown>>;
export type HttpMethodLower = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type OpenApiPathItem = Readonly<Partial<Record<HttpMethodLower, OpenApiOperation>>>;
/** OpenAPI `paths`, keyed by the OpenAPI form of the URL (`/v1/txs/{hash}`). */
export type OpenApiPaths = Readonly<Record<string, OpenApiPathItem>>;

export interface RouteContext {
  readonly api: NodeApi;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  readonly limits: ApiLimits;
  /** Map an error to its response, exactly as the server's error handler does. */
  readonly errorResponse: (err: unknown) => ErrorResponse;
  /** The complete OpenAPI document (built once from every group). */
  readonly openapiDocument: () => Readonly<Record<string, unknown>>;
}

export interface RouteGroup {
  readonly name: string;
  readonly paths: OpenApiPaths;
  register(app: FastifyInstance, context: RouteContext): void;
}

/** Shorthand for an OpenAPI response that returns a component schema as JSON. */
export function jsonResponse(
  description: string,
  schema: string,
): Readonly<Record<string, unknown>> {
  return {
    description,
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
  };
}

/** OpenAPI error responses keyed by status. */
export function errorResponses(
  statuses: Readonly<Record<number, string>>,
): Readonly<Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      jsonResponse(description, 'Error'),
    ]),
  );
}
