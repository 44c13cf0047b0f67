import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';

export const MempoolErrorCode = {
  /** The pool holds its maximum number of transactions or bytes: retry later. */
  full: 'MEMPOOL_FULL',
  /** This signer has its maximum number of pending transactions. */
  senderLimit: 'MEMPOOL_SENDER_LIMIT',
  /** Already committed on chain. */
  committed: 'MEMPOOL_ALREADY_COMMITTED',
  /** `validUntilHeight` is further ahead than the pool keeps transactions. */
  lifetimeTooLong: 'MEMPOOL_LIFETIME_TOO_LONG',
} as const;
export type MempoolErrorCode = (typeof MempoolErrorCode)[keyof typeof MempoolErrorCode];

export class MempoolError extends MedchainError {
  declare readonly code: MempoolErrorCode;

  constructor(code: MempoolErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}
