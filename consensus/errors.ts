/**
 * Typed consensus errors (STYLE.md §8). Expected failures (a malformed peer
 * message, a bad configuration) are `ConsensusError`s with a stable code; a
 * broken internal invariant uses `InvariantError` from src/errors.ts.
 */
import { MedchainError } from '../src/errors.js';
import type { ErrorDetails } from '../src/errors.js';

export const ConsensusErrorCode = {
  malformedMessage: 'CONSENSUS_MALFORMED_MESSAGE',
  invalidConfig: 'CONSENSUS_INVALID_CONFIG',
  invalidWal: 'CONSENSUS_INVALID_WAL',
  simulation: 'CONSENSUS_SIMULATION',
} as const;
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode];

export class ConsensusError extends MedchainError {
  constructor(code: ConsensusErrorCode, message: string, details: ErrorDetails = {}) {
    super(code, message, details);
  }
}
