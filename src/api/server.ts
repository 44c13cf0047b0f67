/**
 * `createApiServer`: the node's HTTP API (fastify) — route groups from
 * ./routes, one error handler, explicit body limits, request metrics, and the
 * `/v1/events` WebSocket. Listens on 127.0.0.1 unless told otherwise.
 */
import { fastifyWebsocket } from '@fastify/websocket';
import { fastify, LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import { ApiErrorCode } from './errors.js';
import { toErrorResponse } from './error-response.js';
import type { ErrorResponse } from './error-response.js';
import type { NodeMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import type { ApiLimits, RouteContext, RouteGroup } from './route-group.js';
import { blockRoutes } from './routes/blocks.js';
import { eventRoutes } from './routes/events.js';
import { nodeRoutes } from './routes/node.js';
import { opsRoutes } from './routes/ops.js';
import { txRoutes } from './routes/txs.js';
import { MEDIA_CBOR } from './schemas.js';
import type { NodeApi } from './types.js';

export const DEFAULT_API_HOST = '127.0.0.1';

export const DEFAULT_API_LIMITS: ApiLimits = {
  // a 64 KiB transaction is 128 KiB of hex
  bodyLimitBytes: 256 * 1024,
  batchBodyLimitBytes: 16 * 1024 * 1024,
  maxBatchTxs: 2000,
  maxWsClients: 64,
  wsMaxBufferedBytes: 1024 * 1024,
  wsPingIntervalMs: 30_000,
};

/** The built-in route groups, in registration order. */
export const CORE_ROUTE_GROUPS: readonly RouteGroup[] = [
  txRoutes,
  blockRoutes,
  nodeRoutes,
  eventRoutes,
  opsRoutes,
];

/** Largest WebSocket message a client may send (clients send nothing). */
const WS_MAX_INBOUND_BYTES = 4096;
/** Socket inactivity / whole-request bounds. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface ApiServerOptions extends Partial<ApiLimits> {
  readonly api: NodeApi;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port; `url` tells which). */
  readonly port?: number;
  /** Extra error code → HTTP status entries (over the built-in table in ./errors.ts). */
  readonly errorStatus?: Readonly<Record<string, number>>;
  /** Route groups beyond the core ones (e.g. the medical endpoints). */
  readonly routeGroups?: readonly RouteGroup[];
}

export interface RegisteredRoute {
  readonly method: string;
  /** fastify form, e.g. `/v1/txs/:hash`. */
  readonly url: string;
}

export interface ApiServer {
  /** The fastify instance (`inject` in tests). */
  readonly app: FastifyInstance;
  /** Every route registered, as fastify saw it (filled once the app is ready). */
  readonly routes: readonly RegisteredRoute[];
  /** Base URL, e.g. `http://127.0.0.1:39417`; throws before `listen()`. */
  readonly url: string;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidInputError(field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function resolveApiLimits(options: Partial<ApiLimits> = {}): ApiLimits {
  const limits = { ...DEFAULT_API_LIMITS };
  for (const key of Object.keys(DEFAULT_API_LIMITS) as (keyof ApiLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  for (const key of Object.keys(limits) as (keyof ApiLimits)[]) {
    if (key === 'wsPingIntervalMs' && limits[key] === 0) continue;
    positiveInteger(limits[key], key);
  }
  return limits;
}

function formatUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export function createApiServer(options: ApiServerOptions): ApiServer {
  const { api, metrics } = options;
  const logger = options.logger.child({ module: 'api' });
  const limits = resolveApiLimits(options);
  const host = options.host ?? DEFAULT_API_HOST;
  const port = options.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new InvalidInputError('port', `must be an integer in 0..65535, got ${String(port)}`);
  }
  const errorStatus = options.errorStatus ?? {};
  const groups = [...CORE_ROUTE_GROUPS, ...(options.routeGroups ?? [])];
  const errorResponse = (err: unknown): ErrorResponse => toErrorResponse(err, errorStatus, logger);

  const baseLogger: FastifyBaseLogger = logger;
  const app = fastify({
    loggerInstance: baseLogger,
    // request lines are logged below, by route pattern: URLs and bodies may carry identifiers
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimitBytes,
    exposeHeadRoutes: false,
    requestTimeout: REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
    frameworkErrors: (err, _request, reply) => {
      sendError(reply, errorResponse(err));
    },
  });

  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method: String(method), url: route.url });
  });

  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(MEDIA_CBOR, { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((err, request, reply) => {
    const response = errorResponse(err);
    if (response.status < 500) {
      request.log.debug(
        { code: response.body.error.code, status: response.status },
        'request rejected',
      );
    }
    sendError(reply, response);
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, {
      status: 404,
      body: {
        error: {
          code: ApiErrorCode.notFound,
          message: `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}`,
        },
      },
    });
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const seconds = reply.elapsedTime / 1000;
    metrics.apiRequest(request.method, route, reply.statusCode, seconds);
    request.log.debug(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });

  void app.register(fastifyWebsocket, {
    options: { maxPayload: WS_MAX_INBOUND_BYTES },
    // the event hub closes its own clients (routes/events.ts)
    preClose: (done) => {
      done();
    },
  });

  let openapi: Readonly<Record<string, unknown>> | undefined;
  const context: RouteContext = {
    api,
    metrics,
    logger,
    limits,
    errorResponse,
    openapiDocument: () =>
      (openapi ??= buildOpenApiDocument(groups, { version: api.status().version })),
  };
  // one plugin, registered after the WebSocket plugin so its route hook sees them
  void app.register((instance, _opts, done) => {
    for (const group of groups) group.register(instance, context);
    done();
  });

  let url: string | undefined;
  return {
    app,
    routes,
    get url(): string {
      if (url === undefined) {
        throw new InvalidInputError('url', 'the API server is not listening yet');
      }
      return url;
    },
    async listen(): Promise<string> {
      await app.listen({ host, port });
      url = formatUrl(app.server.address() as AddressInfo);
      logger.info({ url }, 'API listening');
      return url;
    },
    close(): Promise<void> {
      return app.close();
    },
  };
}

function sendError(reply: FastifyReply, response: ErrorResponse): void {
  if (response.retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(response.retryAfterSeconds));
  }
  void reply.code(response.status).type('application/json; charset=utf-8').send(response.body);
}
