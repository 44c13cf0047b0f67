/** Typed identity errors: every genesis problem names the field path (`institutions[2].signingKey`). */
import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';

export const IdentityErrorCode = {
  /** The genesis document is malformed or inconsistent. */
  invalidGenesis: 'GENESIS_INVALID',
  /** A suite was passed that is not the one the genesis names. */
  suiteMismatch: 'GENESIS_SUITE_MISMATCH',
  /** A validator set is empty, repeats a key, or holds a key of another suite. */
  invalidValidatorSet: 'VALIDATOR_SET_INVALID',
} as const;
export type IdentityErrorCode = (typeof IdentityErrorCode)[keyof typeof IdentityErrorCode];

export class IdentityError extends MedchainError {
  declare readonly code: IdentityErrorCode;

  constructor(
    code: IdentityErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}

/** A genesis field is wrong: the message starts with its path, which is also `details.path`. */
export class GenesisError extends IdentityError {
  readonly path: string;

  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(IdentityErrorCode.invalidGenesis, `${path}: ${problem}`, { path }, options);
    this.path = path;
  }
}
