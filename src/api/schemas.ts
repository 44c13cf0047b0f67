/**
 * JSON Schemas shared by the routes (fastify validates requests with them)
 * and the OpenAPI document (which describes the same requests and every
 * response). Patterns and limits live here once.
 */
import { HASH_BYTES } from '../ledger/encoding.js';

/** A 32-byte hash as hex, either case (responses always use lower case). */
export const HASH_HEX_PATTERN = `^[0-9a-fA-F]{${2 * HASH_BYTES}}$`;
/** Non-empty even-length hex. */
export const BYTES_HEX_PATTERN = '^(?:[0-9a-fA-F]{2})+$';
/** A block height: a positive decimal integer without leading zeros (at most 16 digits). */
export const HEIGHT_PATTERN = '^[1-9][0-9]{0,15}$';

export const MEDIA_CBOR = 'application/cbor';
export const MEDIA_JSON = 'application/json';

export const hashParamsSchema = {
  type: 'object',
  required: ['hash'],
  properties: { hash: { type: 'string', pattern: HASH_HEX_PATTERN } },
} as const;

export const heightParamsSchema = {
  type: 'object',
  required: ['height'],
  properties: { height: { type: 'string', pattern: HEIGHT_PATTERN } },
} as const;

/**
 * The JSON body of `POST /v1/txs`. Without `maxHexLength` (the OpenAPI
 * document, which cannot know a node's configured limits) the bound is left out.
 */
export function submitBodySchema(maxHexLength?: number): object {
  return {
    type: 'object',
    required: ['tx'],
    additionalProperties: false,
    properties: {
      tx: {
        type: 'string',
        pattern: BYTES_HEX_PATTERN,
        ...(maxHexLength === undefined ? {} : { maxLength: maxHexLength }),
        description: 'Hex of the canonical CBOR bytes of a signed transaction',
      },
    },
  };
}

/** The JSON body of `POST /v1/txs/batch`; bounds left out when not given (see above). */
export function batchBodySchema(maxTxs?: number, maxHexLength?: number): object {
  return {
    type: 'object',
    required: ['txs'],
    additionalProperties: false,
    properties: {
      txs: {
        type: 'array',
        minItems: 1,
        ...(maxTxs === undefined ? {} : { maxItems: maxTxs }),
        items: {
          type: 'string',
          pattern: BYTES_HEX_PATTERN,
          ...(maxHexLength === undefined ? {} : { maxLength: maxHexLength }),
        },
        description:
          "Hex of the canonical CBOR bytes of each signed transaction (at most the node's maxBatchTxs, default 2000)",
      },
    },
  };
}

// ---------------------------------------------------------------------------
// response schemas (OpenAPI components only: responses are not re-serialised
// through them, so a field can never be silently dropped)

const hex = { type: 'string', pattern: '^(?:[0-9a-f]{2})*$' } as const;
const hash = { type: 'string', pattern: `^[0-9a-f]{${2 * HASH_BYTES}}$` } as const;
const uint = { type: 'integer', minimum: 0 } as const;
const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

export const componentSchemas: Readonly<Record<string, object>> = {
  ErrorInfo: {
    type: 'object',
    required: ['code', 'message'],
    properties: {
      code: { type: 'string', examples: ['INVALID_INPUT', 'MEMPOOL_FULL'] },
      message: { type: 'string' },
      details: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
      },
    },
  },
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: ref('ErrorInfo') },
  },
  Hash: hash,
  Hex: hex,
  PayloadValue: {
    description:
      'A transaction payload value: integer, string, boolean, null, array, map, {"$bytes": hex}, ' +
      '{"$bigint": decimal} or {"$map": map} (a one-key map whose key starts with "$")',
  },
  Transaction: {
    type: 'object',
    required: ['chainId', 'type', 'payload', 'signer', 'nonce', 'validUntilHeight', 'signature'],
    properties: {
      chainId: { type: 'string' },
      type: { type: 'string' },
      payload: { type: 'object', additionalProperties: ref('PayloadValue') },
      signer: hex,
      nonce: uint,
      validUntilHeight: uint,
      signature: hex,
    },
  },
  Receipt: {
    type: 'object',
    required: ['txHash', 'height', 'index', 'code', 'reason'],
    properties: {
      txHash: hash,
      height: uint,
      index: uint,
      code: { type: 'string', description: 'OK or a contract error code' },
      reason: { type: 'string' },
    },
  },
  TxRecord: {
    type: 'object',
    required: ['hash', 'status', 'height', 'index', 'tx', 'receipt', 'raw'],
    properties: {
      hash,
      status: { enum: ['pending', 'committed'] },
      height: { type: ['integer', 'null'] },
      index: { type: ['integer', 'null'] },
      tx: ref('Transaction'),
      receipt: { oneOf: [ref('Receipt'), { type: 'null' }] },
      raw: { ...hex, description: 'Canonical transaction bytes; H(raw) = hash' },
    },
  },
  BlockHeader: {
    type: 'object',
    required: [
      'chainId',
      'height',
      'prevHash',
      'txRoot',
      'stateRoot',
      'proposer',
      'view',
      'timestamp',
      'validatorSetHash',
    ],
    properties: {
      chainId: { type: 'string' },
      height: uint,
      prevHash: hash,
      txRoot: hash,
      stateRoot: hash,
      proposer: uint,
      view: uint,
      timestamp: { ...uint, description: 'Milliseconds since the epoch' },
      validatorSetHash: hash,
    },
  },
  Certificate: {
    type: 'object',
    required: ['chainId', 'height', 'view', 'blockHash', 'signers', 'signatures', 'raw'],
    properties: {
      chainId: { type: 'string' },
      height: uint,
      view: uint,
      blockHash: hash,
      signers: { type: 'array', items: uint },
      signatures: {
        type: 'array',
        items: {
          type: 'object',
          required: ['validator', 'signature'],
          properties: { validator: uint, signature: hex },
        },
      },
      raw: hex,
    },
  },
  Block: {
    type: 'object',
    required: ['height', 'hash', 'header', 'txCount', 'txHashes', 'receipts', 'certificate', 'raw'],
    properties: {
      height: uint,
      hash: { ...hash, description: 'H(canonical header bytes)' },
      header: ref('BlockHeader'),
      txCount: uint,
      txHashes: { type: 'array', items: hash },
      receipts: { type: 'array', items: ref('Receipt') },
      certificate: ref('Certificate'),
      raw: { ...hex, description: 'Canonical block bytes (header and transactions)' },
    },
  },
  Status: {
    type: 'object',
    required: [
      'chainId',
      'institutionId',
      'role',
      'suite',
      'genesisHash',
      'height',
      'latestBlockHash',
      'stateRoot',
      'view',
      'primary',
      'validators',
      'sync',
      'mempool',
      'peers',
      'version',
    ],
    properties: {
      chainId: { type: 'string' },
      institutionId: { type: 'string' },
      role: { enum: ['validator', 'observer'] },
      suite: { enum: ['intl', 'gm'] },
      genesisHash: hash,
      height: uint,
      latestBlockHash: { oneOf: [hash, { type: 'null' }] },
      stateRoot: { oneOf: [hash, { type: 'null' }] },
      view: uint,
      primary: {
        type: 'object',
        required: ['index', 'institutionId'],
        properties: { index: uint, institutionId: { type: 'string' } },
      },
      validators: {
        type: 'object',
        required: ['total', 'connected'],
        properties: { total: uint, connected: uint },
      },
      sync: {
        type: 'object',
        required: ['state', 'targetHeight'],
        properties: { state: { enum: ['synced', 'syncing'] }, targetHeight: uint },
      },
      mempool: {
        type: 'object',
        required: ['size', 'bytes'],
        properties: { size: uint, bytes: uint },
      },
      peers: uint,
      version: { type: 'string' },
    },
  },
  Peers: {
    type: 'object',
    required: ['peers'],
    properties: {
      peers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['peerId', 'institutionId', 'role', 'addresses', 'direction'],
          properties: {
            peerId: { type: 'string' },
            institutionId: { type: ['string', 'null'] },
            role: { enum: ['validator', 'observer', null] },
            addresses: { type: 'array', items: { type: 'string' } },
            direction: { enum: ['inbound', 'outbound'] },
          },
        },
      },
    },
  },
  SubmitResult: {
    type: 'object',
    required: ['hash', 'duplicate'],
    properties: { hash, duplicate: { type: 'boolean' } },
  },
  BatchResult: {
    type: 'object',
    required: ['accepted', 'duplicates', 'rejected', 'results'],
    properties: {
      accepted: uint,
      duplicates: uint,
      rejected: uint,
      results: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'status'],
          properties: {
            index: uint,
            status: { enum: ['accepted', 'duplicate', 'rejected'] },
            hash,
            error: ref('ErrorInfo'),
          },
        },
      },
    },
  },
  Event: {
    oneOf: [
      {
        type: 'object',
        required: ['type', 'chainId', 'height'],
        properties: { type: { const: 'hello' }, chainId: { type: 'string' }, height: uint },
      },
      {
        type: 'object',
        required: ['type', 'height', 'hash', 'view', 'timestamp', 'txCount', 'receipts'],
        properties: {
          type: { const: 'block' },
          height: uint,
          hash,
          view: uint,
          timestamp: uint,
          txCount: uint,
          receipts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['txHash', 'code'],
              properties: { txHash: hash, code: { type: 'string' } },
            },
          },
        },
      },
    ],
  },
  Health: {
    type: 'object',
    required: ['ok'],
    properties: { ok: { type: 'boolean' }, reason: { type: 'string' } },
  },
  Ready: {
    type: 'object',
    required: ['ready', 'checks'],
    properties: {
      ready: { type: 'boolean' },
      checks: {
        type: 'object',
        required: ['storeOpen', 'p2pStarted', 'synced'],
        properties: {
          storeOpen: { type: 'boolean' },
          p2pStarted: { type: 'boolean' },
          synced: { type: 'boolean' },
        },
      },
    },
  },
};
