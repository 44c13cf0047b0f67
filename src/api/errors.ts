/**
 * API error codes and the one table that maps a `MedchainError` code to an
 * HTTP status. Every error response has the body
 * `{ "error": { "code", "message", "details"? } }`; a code that is not in the
 * table (and matches no family below) is answered 500 `INTERNAL` with a
 * generic message, and logged.
 */
import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';

export const ApiErrorCode = {
  /** Malformed request: bad JSON, bad hex, a field out of range, schema violation. */
  invalidInput: 'INVALID_INPUT',
  notFound: 'NOT_FOUND',
  txNotFound: 'TX_NOT_FOUND',
  blockNotFound: 'BLOCK_NOT_FOUND',
  bodyTooLarge: 'BODY_TOO_LARGE',
  unsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  /** `GET /v1/events` without a WebSocket upgrade. */
  upgradeRequired: 'UPGRADE_REQUIRED',
  tooManyClients: 'TOO_MANY_CLIENTS',
  internal: 'INTERNAL',
  // codes a NodeApi implementation throws (besides LEDGER_* and CODEC_*)
  txInvalid: 'TX_INVALID',
  txTooLarge: 'TX_TOO_LARGE',
  mempoolFull: 'MEMPOOL_FULL',
  nodeNotReady: 'NODE_NOT_READY',
  // client-side only
  unreachable: 'API_UNREACHABLE',
  timeout: 'API_TIMEOUT',
  /** The caller's own AbortSignal fired. */
  aborted: 'API_ABORTED',
  badResponse: 'API_BAD_RESPONSE',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** Exact codes → HTTP status. Checked before the families in `httpStatusFor`. */
export const API_ERROR_STATUS: Readonly<Record<string, number>> = {
  INVALID_INPUT: 400,
  TX_INVALID: 400,
  NOT_FOUND: 404,
  TX_NOT_FOUND: 404,
  BLOCK_NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  TX_TOO_LARGE: 413,
  LEDGER_TX_TOO_LARGE: 413,
  LEDGER_TOO_LARGE: 413,
  LEDGER_BLOCK_TOO_LARGE: 413,
  CODEC_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UPGRADE_REQUIRED: 426,
  // src/mempool codes (a node may pass them through unchanged)
  MEMPOOL_LIFETIME_TOO_LONG: 400,
  MEMPOOL_ALREADY_COMMITTED: 409,
  MEMPOOL_SENDER_LIMIT: 429,
  MEMPOOL_FULL: 503,
  NODE_NOT_READY: 503,
  TOO_MANY_CLIENTS: 503,
};

/** Code families: every other `LEDGER_*` or `CODEC_*` rejection is the sender's fault. */
const FAMILY_STATUS: readonly (readonly [prefix: string, status: number])[] = [
  ['LEDGER_', 400],
  ['CODEC_', 400],
];

/** Statuses that carry a `Retry-After` header (seconds; `details.retryAfterSeconds` or 1). */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * HTTP status for an error code, or `undefined` when the code is unknown
 * (the server then answers 500 `INTERNAL`). `extra` (from the server options)
 * overrides the built-in table, for codes of route groups added later.
 */
export function httpStatusFor(
  code: string,
  extra: Readonly<Record<string, number>> = {},
): number | undefined {
  const exact = extra[code] ?? API_ERROR_STATUS[code];
  if (exact !== undefined) return exact;
  for (const [prefix, status] of FAMILY_STATUS) if (code.startsWith(prefix)) return status;
  return undefined;
}

/** An error the API layer itself raises, with its HTTP status. */
export class ApiError extends MedchainError {
  readonly status: number;

  constructor(code: ApiErrorCode, status: number, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
    this.status = status;
  }
}

/**
 * An error the typed client returns: the server's code, message and details,
 * and the HTTP status (0 when no response arrived).
 */
export class ApiClientError extends MedchainError {
  readonly status: number;

  constructor(
    code: string,
    message: string,
    status: number,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
    this.status = status;
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: ErrorDetails;
  };
}
