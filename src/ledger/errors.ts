/**
 * Typed ledger errors (STYLE.md §8). Every rejection of a transaction, block,
 * certificate or receipt carries one of these codes and names the offending
 * field in `details.field` where there is one.
 */
import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';

export const LedgerErrorCode = {
  /** Not the canonical encoding, or a field is missing, unknown or of the wrong shape. */
  malformed: 'LEDGER_MALFORMED',
  txTooLarge: 'LEDGER_TX_TOO_LARGE',
  blockTooLarge: 'LEDGER_BLOCK_TOO_LARGE',
  /** A certificate, header or receipt exceeds its decoding bound. */
  tooLarge: 'LEDGER_TOO_LARGE',
  wrongChain: 'LEDGER_WRONG_CHAIN',
  unknownTxType: 'LEDGER_UNKNOWN_TX_TYPE',
  /** The signer is not a public key of the chain's suite. */
  badSigner: 'LEDGER_BAD_SIGNER',
  badSignature: 'LEDGER_BAD_SIGNATURE',
  txExpired: 'LEDGER_TX_EXPIRED',
  wrongHeight: 'LEDGER_WRONG_HEIGHT',
  wrongPrevHash: 'LEDGER_WRONG_PREV_HASH',
  wrongTxRoot: 'LEDGER_WRONG_TX_ROOT',
  wrongStateRoot: 'LEDGER_WRONG_STATE_ROOT',
  wrongValidatorSet: 'LEDGER_WRONG_VALIDATOR_SET',
  badProposer: 'LEDGER_BAD_PROPOSER',
  badTimestamp: 'LEDGER_BAD_TIMESTAMP',
  tooManyTxs: 'LEDGER_TOO_MANY_TXS',
  duplicateTx: 'LEDGER_DUPLICATE_TX',
  /** The certificate is for another chain, height or block hash. */
  certWrongBlock: 'LEDGER_CERT_WRONG_BLOCK',
  certNoQuorum: 'LEDGER_CERT_NO_QUORUM',
  certDuplicateSigner: 'LEDGER_CERT_DUPLICATE_SIGNER',
  certUnknownSigner: 'LEDGER_CERT_UNKNOWN_SIGNER',
  certUnsorted: 'LEDGER_CERT_UNSORTED',
  certBadSignature: 'LEDGER_CERT_BAD_SIGNATURE',
} as const;
export type LedgerErrorCode = (typeof LedgerErrorCode)[keyof typeof LedgerErrorCode];

export class LedgerError extends MedchainError {
  declare readonly code: LedgerErrorCode;

  constructor(
    code: LedgerErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}

/** Outcome of a pure validity check: expected failures are returned, not thrown. */
export type LedgerVerdict<T extends object = object> =
  ({ readonly ok: true } & T) | { readonly ok: false; readonly error: LedgerError };

/** A failed verdict whose message starts with the field path, which also goes into `details.field`. */
export function reject(
  code: LedgerErrorCode,
  field: string,
  problem: string,
  details: ErrorDetails = {},
): { readonly ok: false; readonly error: LedgerError } {
  const message = field === '' ? problem : `${field}: ${problem}`;
  const withField = field === '' ? details : { field, ...details };
  return { ok: false, error: new LedgerError(code, message, withField) };
}
