/** Typed errors of the client-side record helpers. */
import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';

export const RecordsErrorCode = {
  /** None of the wraps is addressed to the given key. */
  noWrapForKey: 'RECORDS_NO_WRAP_FOR_KEY',
  /** A wrap addressed to the key did not unwrap (tampered, or the wrong private key). */
  unwrapFailed: 'RECORDS_UNWRAP_FAILED',
  /** The sealed locator or metadata did not open with the data key (tampered, or another record's). */
  openFailed: 'RECORDS_OPEN_FAILED',
} as const;
export type RecordsErrorCode = (typeof RecordsErrorCode)[keyof typeof RecordsErrorCode];

export class RecordsError extends MedchainError {
  declare readonly code: RecordsErrorCode;

  constructor(
    code: RecordsErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}
