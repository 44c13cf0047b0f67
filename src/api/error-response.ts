/**
 * Turns anything thrown inside a route into an HTTP status and the JSON error
 * body `{ error: { code, message, details? } }`. Only `MedchainError`s with a
 * mapped code and fastify's own request errors (validation, body parsing,
 * size) reach the client with their message; everything else becomes 500
 * `INTERNAL` with a generic message and is logged. No stack trace ever
 * leaves the server.
 */
import type { Logger } from 'pino';
import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';
import { ApiError, ApiErrorCode, httpStatusFor, RETRY_AFTER_STATUSES } from './errors.js';
import type { ErrorBody } from './errors.js';

export interface ErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  /** Seconds for a `Retry-After` header, when the status carries one. */
  readonly retryAfterSeconds?: number;
}

const MAX_MESSAGE_LENGTH = 500;
const INTERNAL_MESSAGE = 'internal error';

interface FrameworkError {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly validation?: unknown;
  readonly message: string;
}

function clip(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
}

function body(code: string, message: string, details?: ErrorDetails): ErrorBody {
  const hasDetails = details !== undefined && Object.keys(details).length > 0;
  return {
    error: hasDetails
      ? { code, message: clip(message), details }
      : { code, message: clip(message) },
  };
}

function withRetry(
  status: number,
  errorBody: ErrorBody,
  details: ErrorDetails = {},
): ErrorResponse {
  if (!RETRY_AFTER_STATUSES.has(status)) return { status, body: errorBody };
  const asked = details.retryAfterSeconds;
  const retryAfterSeconds =
    typeof asked === 'number' && Number.isSafeInteger(asked) && asked > 0 ? asked : 1;
  return { status, body: errorBody, retryAfterSeconds };
}

/** Fastify's request-level errors (FST_ERR_*): status and a code of ours. */
function frameworkResponse(err: FrameworkError): ErrorResponse | undefined {
  const code = typeof err.code === 'string' ? err.code : '';
  if (err.validation !== undefined) {
    return { status: 400, body: body(ApiErrorCode.invalidInput, err.message) };
  }
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: body(ApiErrorCode.bodyTooLarge, 'request body is too large') };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: body(ApiErrorCode.unsupportedMediaType, 'unsupported Content-Type'),
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: body(ApiErrorCode.invalidInput, `body: ${err.message}`) };
    default:
      break;
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 0;
  if (status >= 400 && status < 500) {
    const ours =
      status === 404
        ? ApiErrorCode.notFound
        : status === 413
          ? ApiErrorCode.bodyTooLarge
          : status === 415
            ? ApiErrorCode.unsupportedMediaType
            : ApiErrorCode.invalidInput;
    // fastify's own messages describe the request, never internals
    const message =
      status === 414
        ? 'URL too long'
        : code.startsWith('FST_') || err instanceof SyntaxError
          ? err.message
          : 'bad request';
    return { status, body: body(ours, message) };
  }
  return undefined;
}

export function toErrorResponse(
  err: unknown,
  errorStatus: Readonly<Record<string, number>>,
  logger: Logger,
): ErrorResponse {
  if (err instanceof ApiError) {
    return withRetry(err.status, body(err.code, err.message, err.details), err.details);
  }
  if (err instanceof MedchainError) {
    const status = httpStatusFor(err.code, errorStatus);
    // a mapped code is an explicit decision that its message and details are for the client
    if (status !== undefined) {
      return withRetry(status, body(err.code, err.message, err.details), err.details);
    }
    logger.error({ err, code: err.code }, 'unmapped error in API request');
    return { status: 500, body: body(ApiErrorCode.internal, INTERNAL_MESSAGE) };
  }
  if (err instanceof Error) {
    const framework = frameworkResponse(err);
    if (framework !== undefined) return framework;
  }
  logger.error({ err }, 'unexpected error in API request');
  return { status: 500, body: body(ApiErrorCode.internal, INTERNAL_MESSAGE) };
}
