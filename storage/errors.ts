/**
 * Storage errors. Every failure the storage layer reports is a `StorageError`
 * with one of the codes below; callers switch on `code`, never on the message.
 *
 * Environmental codes (`DB_LOCKED`, `PERMISSION_DENIED`, `DISK_FULL`,
 * `CORRUPT_DATABASE`, `IO_ERROR`, `NOT_FOUND`) are fatal for a node: the
 * composition root exits with a message that says what to do. The others are
 * expected errors returned to the caller.
 */
import { MedchainError } from '../src/errors.js';
import type { ErrorDetails } from '../src/errors.js';

export const StorageErrorCode = {
  /** The LevelDB directory is held by another process (or already open in this one). */
  dbLocked: 'DB_LOCKED',
  /** The operating system refused access to the data directory. */
  permissionDenied: 'PERMISSION_DENIED',
  /** No space left on the device holding the data directory. */
  diskFull: 'DISK_FULL',
  /** LevelDB reported corruption of its own files. */
  corruptDatabase: 'CORRUPT_DATABASE',
  /** The data directory does not exist and creating it was not allowed. */
  notFound: 'NOT_FOUND',
  /** Any other I/O failure reported by the database. */
  ioError: 'IO_ERROR',
  /** The store was used after `close()` (or before it was opened). */
  closed: 'CLOSED',
  /** A stored value could not be decoded or does not have the expected shape. */
  corruptValue: 'CORRUPT_VALUE',
  /** A key or value passed to the store is malformed (empty key, not bytes, bad height). */
  invalidArgument: 'INVALID_ARGUMENT',
  /** `commitBlock` was called with a height other than last committed + 1. */
  heightMismatch: 'HEIGHT_MISMATCH',
  /** `commitBlock` was called with parts that do not belong together. */
  invalidCommit: 'INVALID_COMMIT',
  /** The data directory belongs to another chain (chain id or genesis hash differ). */
  chainMismatch: 'CHAIN_MISMATCH',
  /** The data directory was written by an incompatible storage schema version. */
  schemaMismatch: 'SCHEMA_MISMATCH',
  /** An iteration was aborted through its `AbortSignal`. */
  aborted: 'ABORTED',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export class StorageError extends MedchainError {
  declare readonly code: StorageErrorCode;

  constructor(
    code: StorageErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}
