/**
 * Operations: `/healthz` (the process can serve), `/readyz` (store open, p2p
 * started and synced), `/metrics` (Prometheus text) and `/openapi.json`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { HealthJson, ReadyJson } from '../json.js';
import { jsonResponse } from '../route-group.js';
import type { RouteContext, RouteGroup } from '../route-group.js';

function register(app: FastifyInstance, context: RouteContext): void {
  const { api, metrics } = context;

  app.get('/healthz', (_request, reply: FastifyReply) => {
    const report = api.health();
    const body: HealthJson =
      report.ok || report.reason === undefined
        ? { ok: report.ok }
        : { ok: false, reason: report.reason };
    return reply.code(report.ok ? 200 : 503).send(body);
  });

  app.get('/readyz', (_request, reply: FastifyReply) => {
    const checks = api.readiness();
    const ready = checks.storeOpen && checks.p2pStarted && checks.synced;
    const body: ReadyJson = {
      ready,
      checks: { storeOpen: checks.storeOpen, p2pStarted: checks.p2pStarted, synced: checks.synced },
    };
    return reply.code(ready ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply: FastifyReply) => {
    metrics.observeStatus(api.status());
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });

  app.get('/openapi.json', () => context.openapiDocument());
}

export const opsRoutes: RouteGroup = {
  name: 'ops',
  register,
  paths: {
    '/healthz': {
      get: {
        operationId: 'getHealth',
        summary: 'Liveness: 200 while the process can serve, 503 once it has halted',
        tags: ['operations'],
        responses: {
          '200': jsonResponse('Alive', 'Health'),
          '503': jsonResponse('Halted', 'Health'),
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        summary: 'Readiness: 200 when the store is open, p2p started and the node synced',
        tags: ['operations'],
        responses: {
          '200': jsonResponse('Ready', 'Ready'),
          '503': jsonResponse('Not ready; `checks` says which part is not', 'Ready'),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['operations'],
        responses: {
          '200': {
            description: 'Metrics',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApi',
        summary: 'This OpenAPI 3.1 document',
        tags: ['operations'],
        responses: {
          '200': {
            description: 'The OpenAPI document',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
  },
};
