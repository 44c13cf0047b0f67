/**
 * The OpenAPI 3.1 description served at `/openapi.json`: hand-written path
 * items from each route group (beside the routes they describe, in
 * ./routes/*.ts) plus the shared component schemas (./schemas.ts). A unit test
 * checks that every registered route is described here and nothing else is.
 */
import { InvariantError } from '../errors.js';
import type { HttpMethodLower, OpenApiPathItem, RouteGroup } from './route-group.js';
import { componentSchemas } from './schemas.js';

export const OPENAPI_VERSION = '3.1.0';

export interface OpenApiInfo {
  /** Version of the node software serving the document. */
  readonly version: string;
}

/** `/v1/txs/:hash` → `/v1/txs/{hash}`. */
export function toOpenApiPath(fastifyUrl: string): string {
  return fastifyUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const METHODS: readonly HttpMethodLower[] = ['get', 'post', 'put', 'patch', 'delete'];

export function buildOpenApiDocument(
  groups: readonly RouteGroup[],
  info: OpenApiInfo,
): Readonly<Record<string, unknown>> {
  const paths: Record<string, Partial<Record<HttpMethodLower, unknown>>> = {};
  for (const group of groups) {
    for (const [path, item] of Object.entries<OpenApiPathItem>(group.paths)) {
      const target = (paths[path] ??= {});
      for (const method of METHODS) {
        const operation = item[method];
        if (operation === undefined) continue;
        if (target[method] !== undefined) {
          throw new InvariantError(`OpenAPI: ${method.toUpperCase()} ${path} is described twice`, {
            group: group.name,
          });
        }
        target[method] = operation;
      }
    }
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'medchain node API',
      version: info.version,
      description:
        'HTTP API of a medchain node (permissioned PBFT chain for a regional medical alliance). ' +
        'Bytes are lower-case hex; every error is `{"error": {"code", "message", "details"?}}`.',
    },
    tags: [
      { name: 'transactions' },
      { name: 'blocks' },
      { name: 'node' },
      { name: 'events' },
      { name: 'operations' },
    ],
    paths,
    components: { schemas: componentSchemas },
  };
}
