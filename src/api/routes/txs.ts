/**
 * Transactions: submit one (`POST /v1/txs`), submit many (`POST /v1/txs/batch`),
 * look one up by hash (`GET /v1/txs/:hash`).
 *
 * Bodies are the canonical CBOR bytes of signed transactions, sent either raw
 * (`Content-Type: application/cbor`; for a batch, a CBOR array of byte
 * strings) or as hex in JSON (`{"tx": hex}`, `{"txs": [hex, …]}`). The node
 * decodes and validates; this layer only moves bytes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decode, fromHex, toHex } from '../../codec/index.js';
import { ApiError, ApiErrorCode } from '../errors.js';
import { submitResultToJson, txLookupToJson } from '../json.js';
import type { BatchItemJson, BatchJson } from '../json.js';
import { errorResponses, jsonResponse } from '../route-group.js';
import type { RouteContext, RouteGroup } from '../route-group.js';
import {
  batchBodySchema,
  hashParamsSchema,
  HASH_HEX_PATTERN,
  MEDIA_CBOR,
  MEDIA_JSON,
  submitBodySchema,
} from '../schemas.js';

function copyBytes(buffer: Buffer): Uint8Array {
  // a copy: fastify's buffer may be a slice of a shared pool the node should not pin
  return new Uint8Array(buffer);
}

function missingBody(what: string): ApiError {
  return new ApiError(
    ApiErrorCode.invalidInput,
    400,
    `body: expected ${what} as ${MEDIA_CBOR}, or JSON with hex`,
    { field: 'body' },
  );
}

/** The one transaction of a `POST /v1/txs` body. */
function singleTxBytes(body: unknown): Uint8Array {
  if (Buffer.isBuffer(body)) {
    if (body.length === 0) throw missingBody('the canonical transaction bytes');
    return copyBytes(body);
  }
  if (
    body !== null &&
    typeof body === 'object' &&
    typeof (body as { tx?: unknown }).tx === 'string'
  ) {
    return fromHex((body as { tx: string }).tx, 'tx');
  }
  throw missingBody('the canonical transaction bytes');
}

/** The transactions of a `POST /v1/txs/batch` body. */
function batchTxBytes(body: unknown, context: RouteContext): Uint8Array[] {
  const { maxBatchTxs, batchBodyLimitBytes } = context.limits;
  if (Buffer.isBuffer(body)) {
    if (body.length === 0) throw missingBody('a CBOR array of transaction byte strings');
    const value = decode(body, { maxBytes: batchBodyLimitBytes });
    if (!Array.isArray(value)) {
      throw new ApiError(ApiErrorCode.invalidInput, 400, 'body: expected a CBOR array', {
        field: 'body',
      });
    }
    const items = value as readonly unknown[];
    if (items.length === 0 || items.length > maxBatchTxs) {
      throw new ApiError(
        ApiErrorCode.invalidInput,
        400,
        `body: expected 1 to ${maxBatchTxs} transactions, got ${items.length}`,
        { field: 'body', count: items.length, maxBatchTxs },
      );
    }
    return items.map((item, i) => {
      if (!(item instanceof Uint8Array) || item.length === 0) {
        throw new ApiError(ApiErrorCode.invalidInput, 400, `body[${i}]: expected a byte string`, {
          field: `body[${i}]`,
        });
      }
      return item;
    });
  }
  if (body !== null && typeof body === 'object' && Array.isArray((body as { txs?: unknown }).txs)) {
    // the JSON schema has checked count and hex already
    return (body as { txs: string[] }).txs.map((hex, i) => fromHex(hex, `txs[${i}]`));
  }
  throw missingBody('the transactions');
}

function register(app: FastifyInstance, context: RouteContext): void {
  const { api, limits } = context;

  app.post(
    '/v1/txs',
    {
      bodyLimit: limits.bodyLimitBytes,
      schema: {
        body: {
          content: { [MEDIA_JSON]: { schema: submitBodySchema(limits.bodyLimitBytes) } },
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await api.submitTransaction(singleTxBytes(request.body));
      return reply.code(result.duplicate ? 200 : 202).send(submitResultToJson(result));
    },
  );

  app.post(
    '/v1/txs/batch',
    {
      bodyLimit: limits.batchBodyLimitBytes,
      schema: {
        body: {
          content: {
            [MEDIA_JSON]: {
              schema: batchBodySchema(limits.maxBatchTxs, limits.batchBodyLimitBytes),
            },
          },
        },
      },
    },
    async (request: FastifyRequest): Promise<BatchJson> => {
      const txs = batchTxBytes(request.body, context);
      // concurrent: the node may admit (and verify) them together
      const settled = await Promise.allSettled(txs.map((bytes) => api.submitTransaction(bytes)));
      let accepted = 0;
      let duplicates = 0;
      const results = settled.map((outcome, index): BatchItemJson => {
        if (outcome.status === 'fulfilled') {
          const { duplicate, hash } = outcome.value;
          if (duplicate) duplicates++;
          else accepted++;
          return { index, status: duplicate ? 'duplicate' : 'accepted', hash: toHex(hash) };
        }
        return {
          index,
          status: 'rejected',
          error: context.errorResponse(outcome.reason).body.error,
        };
      });
      return { accepted, duplicates, rejected: txs.length - accepted - duplicates, results };
    },
  );

  app.get(
    '/v1/txs/:hash',
    { schema: { params: hashParamsSchema } },
    async (request: FastifyRequest<{ Params: { hash: string } }>) => {
      const hash = fromHex(request.params.hash, 'hash');
      const lookup = await api.getTransaction(hash);
      if (lookup === undefined) {
        throw new ApiError(ApiErrorCode.txNotFound, 404, 'no transaction with this hash', {
          hash: toHex(hash),
        });
      }
      return txLookupToJson(hash, lookup);
    },
  );
}

const txBody = (single: boolean): Readonly<Record<string, unknown>> => ({
  required: true,
  content: {
    [MEDIA_CBOR]: {
      schema: single
        ? {
            type: 'string',
            contentMediaType: MEDIA_CBOR,
            description: 'Canonical transaction bytes',
          }
        : {
            type: 'string',
            contentMediaType: MEDIA_CBOR,
            description: 'A canonical CBOR array of transaction byte strings',
          },
    },
    [MEDIA_JSON]: { schema: single ? submitBodySchema() : batchBodySchema() },
  },
});

export const txRoutes: RouteGroup = {
  name: 'txs',
  register,
  paths: {
    '/v1/txs': {
      post: {
        operationId: 'submitTransaction',
        summary: 'Submit one signed transaction',
        description:
          'The node decodes and validates it and admits it to its mempool. Submitting is idempotent: ' +
          'a transaction the node already holds (pending or committed) is answered 200 with `duplicate: true`.',
        tags: ['transactions'],
        requestBody: txBody(true),
        responses: {
          '202': jsonResponse('Accepted into the mempool', 'SubmitResult'),
          '200': jsonResponse('Already known (duplicate)', 'SubmitResult'),
          ...errorResponses({
            400: 'Malformed, wrongly signed or otherwise invalid transaction (LEDGER_*, CODEC_*, TX_INVALID, INVALID_INPUT)',
            413: 'Body or transaction too large (BODY_TOO_LARGE, LEDGER_TX_TOO_LARGE)',
            415: 'Content-Type is neither application/cbor nor application/json',
            503: 'Mempool full or node not ready (MEMPOOL_FULL, NODE_NOT_READY); see Retry-After',
          }),
        },
      },
    },
    '/v1/txs/batch': {
      post: {
        operationId: 'submitTransactions',
        summary: 'Submit many signed transactions in one request',
        description:
          'Each transaction is submitted as by POST /v1/txs; the response reports each outcome in order. ' +
          'The request fails as a whole only when the body itself is malformed.',
        tags: ['transactions'],
        requestBody: txBody(false),
        responses: {
          '200': jsonResponse('Per-transaction results', 'BatchResult'),
          ...errorResponses({
            400: 'Malformed body, or no or too many transactions',
            413: 'Body too large',
            415: 'Unsupported Content-Type',
          }),
        },
      },
    },
    '/v1/txs/{hash}': {
      get: {
        operationId: 'getTransaction',
        summary: 'A transaction with its receipt and height, or pending status',
        tags: ['transactions'],
        parameters: [
          {
            name: 'hash',
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: HASH_HEX_PATTERN },
          },
        ],
        responses: {
          '200': jsonResponse('The transaction', 'TxRecord'),
          ...errorResponses({
            400: 'Not a 32-byte hex hash',
            404: 'Unknown transaction (TX_NOT_FOUND)',
          }),
        },
      },
    },
  },
};
