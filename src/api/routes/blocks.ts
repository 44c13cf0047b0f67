/**
 * Committed blocks: `GET /v1/blocks/latest` and `GET /v1/blocks/:height`,
 * each with its hash, header, transaction hashes, receipts, commit
 * certificate and canonical bytes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, ApiErrorCode } from '../errors.js';
import { blockLookupToJson } from '../json.js';
import type { BlockJson } from '../json.js';
import { errorResponses, jsonResponse } from '../route-group.js';
import type { RouteContext, RouteGroup } from '../route-group.js';
import { heightParamsSchema, HEIGHT_PATTERN } from '../schemas.js';

async function blockAt(context: RouteContext, height: number): Promise<BlockJson> {
  const lookup = await context.api.getBlock(height);
  if (lookup === undefined) {
    throw new ApiError(ApiErrorCode.blockNotFound, 404, `no block at height ${height}`, {
      height,
      latestHeight: context.api.latestHeight(),
    });
  }
  return blockLookupToJson(lookup);
}

function register(app: FastifyInstance, context: RouteContext): void {
  app.get('/v1/blocks/latest', async () => {
    const height = context.api.latestHeight();
    if (height === 0) {
      throw new ApiError(ApiErrorCode.blockNotFound, 404, 'no block has been committed yet', {
        latestHeight: 0,
      });
    }
    return blockAt(context, height);
  });

  app.get(
    '/v1/blocks/:height',
    { schema: { params: heightParamsSchema } },
    async (request: FastifyRequest<{ Params: { height: string } }>) => {
      const height = Number(request.params.height);
      if (!Number.isSafeInteger(height)) {
        throw new ApiError(ApiErrorCode.invalidInput, 400, 'height: not a safe integer', {
          field: 'height',
        });
      }
      return blockAt(context, height);
    },
  );
}

const block = jsonResponse('The block', 'Block');

export const blockRoutes: RouteGroup = {
  name: 'blocks',
  register,
  paths: {
    '/v1/blocks/latest': {
      get: {
        operationId: 'getLatestBlock',
        summary: 'The latest committed block',
        tags: ['blocks'],
        responses: {
          '200': block,
          ...errorResponses({ 404: 'No block committed yet (BLOCK_NOT_FOUND)' }),
        },
      },
    },
    '/v1/blocks/{height}': {
      get: {
        operationId: 'getBlock',
        summary: 'The committed block at a height',
        tags: ['blocks'],
        parameters: [
          {
            name: 'height',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: HEIGHT_PATTERN },
          },
        ],
        responses: {
          '200': block,
          ...errorResponses({
            400: 'Not a positive integer height',
            404: 'Above the latest height (BLOCK_NOT_FOUND)',
          }),
        },
      },
    },
  },
};
