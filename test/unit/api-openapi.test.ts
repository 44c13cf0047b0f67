/**
 * The served OpenAPI document describes exactly the registered routes, every
 * `$ref` resolves, and operation ids are unique.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvariantError } from '../../src/errors.js';
import { buildOpenApiDocument, toOpenApiPath } from '../../src/api/openapi.js';
import type { RouteGroup } from '../../src/api/route-group.js';
import { CORE_ROUTE_GROUPS } from '../../src/api/server.js';
import { FakeNode, testServer } from './api-fake-node.js';
import type { TestServer } from './api-fake-node.js';

let current: TestServer | undefined;
afterEach(async () => {
  await current?.server.close();
  current = undefined;
});

interface Doc {
  openapi: string;
  info: { version: string };
  paths: Record<
    string,
    Record<string, { operationId: string; responses: Record<string, unknown> }>
  >;
  components: { schemas: Record<string, unknown> };
}

async function servedDocument(
  groups: readonly RouteGroup[] = [],
): Promise<{ doc: Doc; routes: Set<string> }> {
  current = testServer(new FakeNode(), { routeGroups: groups });
  const res = await current.server.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  const routes = new Set(current.server.routes.map((r) => `${r.method} ${toOpenApiPath(r.url)}`));
  return { doc: JSON.parse(res.body) as Doc, routes };
}

function documented(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') out.push(inner);
      else refsIn(inner, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('describes every registered route and nothing else', async () => {
    const { doc, routes } = await servedDocument();
    expect(routes.size).toBeGreaterThanOrEqual(12);
    expect([...documented(doc)].sort()).toEqual([...routes].sort());
    for (const expected of [
      'POST /v1/txs',
      'POST /v1/txs/batch',
      'GET /v1/txs/{hash}',
      'GET /v1/blocks/latest',
      'GET /v1/blocks/{height}',
      'GET /v1/status',
      'GET /v1/peers',
      'GET /v1/events',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /openapi.json',
    ]) {
      expect(routes.has(expected), expected).toBe(true);
    }
  });

  it('is OpenAPI 3.1 with unique operation ids, responses everywhere and resolvable $refs', async () => {
    const { doc } = await servedDocument();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('0.1.0-test');
    const ids = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).map((op) => op.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item)) {
        expect(typeof op.operationId).toBe('string');
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
    }
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = /^#\/components\/schemas\/([A-Za-z]+)$/.exec(ref)?.[1];
      expect(name, ref).toBeDefined();
      expect(doc.components.schemas[name ?? ''], ref).toBeDefined();
    }
  });

  it('includes the routes and path items of an added route group', async () => {
    const extra: RouteGroup = {
      name: 'records',
      paths: {
        '/v1/records/{id}': {
          get: { operationId: 'getRecord', responses: { '200': { description: 'ok' } } },
        },
      },
      register(app) {
        app.get('/v1/records/:id', () => ({ ok: true }));
      },
    };
    const { doc, routes } = await servedDocument([extra]);
    expect(routes.has('GET /v1/records/{id}')).toBe(true);
    expect([...documented(doc)].sort()).toEqual([...routes].sort());
  });

  it('refuses two groups describing one operation', () => {
    const twin: RouteGroup = {
      name: 'twin',
      paths: { '/v1/status': { get: { operationId: 'x' } } },
      register: () => undefined,
    };
    expect(() => buildOpenApiDocument([...CORE_ROUTE_GROUPS, twin], { version: '1' })).toThrow(
      InvariantError,
    );
  });

  it('converts fastify parameters to OpenAPI templates', () => {
    expect(toOpenApiPath('/v1/txs/:hash')).toBe('/v1/txs/{hash}');
    expect(toOpenApiPath('/a/:b/c/:d_e')).toBe('/a/{b}/c/{d_e}');
    expect(toOpenApiPath('/healthz')).toBe('/healthz');
  });
});
