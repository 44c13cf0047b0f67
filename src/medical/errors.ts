/**
 * Error codes of the medical workflows (API, vault, client helpers) and the
 * HTTP status of each. The node's API server takes `MEDICAL_ERROR_STATUS`
 * through the extension hook, so every code below reaches a client as JSON
 * `{error: {code, message, details?}}` with that status, never a stack trace.
 * Messages and details name ids, heights and codes — never a patient
 * identifier, a locator or document content.
 */
import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';

export const MedicalErrorCode = {
  /** A request that reads patient data carries no `x-medchain-signature` header. */
  signatureMissing: 'MEDICAL_SIGNATURE_MISSING',
  /** The signature header is not a well-formed signature envelope. */
  signatureMalformed: 'MEDICAL_SIGNATURE_MALFORMED',
  /** The signature does not verify for the signer over this method, path, time and body. */
  signatureInvalid: 'MEDICAL_SIGNATURE_INVALID',
  /** The signed timestamp is outside the accepted window (±5 min by default). */
  signatureExpired: 'MEDICAL_SIGNATURE_EXPIRED',
  /** The signer is neither an institution key nor a certified member key. */
  unknownSigner: 'MEDICAL_UNKNOWN_SIGNER',
  /** The signer's certificate is revoked, expired or not yet valid. */
  certificateInvalid: 'MEDICAL_CERT_INVALID',
  /** The signer is authenticated but its role or grants do not allow this read. */
  forbidden: 'MEDICAL_FORBIDDEN',
  /** No live grant (or owner/patient right) lets the reader open the record now. */
  accessDenied: 'MEDICAL_ACCESS_DENIED',
  /** The chain refused the access.log transaction (its receipt code is in `details.receiptCode`). */
  accessRefused: 'MEDICAL_ACCESS_REFUSED',
  /** The access.log transaction is not the one this fetch needs (type, record, signer, signature). */
  badAccessTx: 'MEDICAL_BAD_ACCESS_TX',
  /** The access.log transaction was already used (committed): sign a new one per fetch. */
  accessTxUsed: 'MEDICAL_ACCESS_TX_USED',
  /** The access.log transaction did not commit in time; the document was not served. */
  accessLogTimeout: 'MEDICAL_ACCESS_LOG_TIMEOUT',
  recordNotFound: 'MEDICAL_RECORD_NOT_FOUND',
  grantNotFound: 'MEDICAL_GRANT_NOT_FOUND',
  referralNotFound: 'MEDICAL_REFERRAL_NOT_FOUND',
  memberNotFound: 'MEDICAL_MEMBER_NOT_FOUND',
  institutionNotFound: 'MEDICAL_INSTITUTION_NOT_FOUND',
  /** The owner's vault holds no document for this record. */
  documentNotFound: 'MEDICAL_DOCUMENT_NOT_FOUND',
  /** The record is registered with an external locator: open the locator, nothing is fetched. */
  notInVault: 'MEDICAL_NOT_IN_VAULT',
  /** A different document is already stored under this record id. */
  documentExists: 'MEDICAL_DOCUMENT_EXISTS',
  /** The document is larger than the vault accepts. */
  documentTooLarge: 'MEDICAL_DOCUMENT_TOO_LARGE',
  /** This node does not hold the record's documents (another institution owns it). */
  notOwner: 'MEDICAL_NOT_OWNER',
  /** The owner institution's node could not be asked (not connected, timed out, failed). */
  ownerUnreachable: 'MEDICAL_OWNER_UNREACHABLE',
  /** A `/vault/1` request from a peer is malformed. */
  vaultRequestInvalid: 'MEDICAL_VAULT_REQUEST_INVALID',
  /** Too many referral event stream clients. */
  tooManyClients: 'MEDICAL_TOO_MANY_CLIENTS',

  // client side
  /** The opened document's hash is not the record's content hash on chain: it was tampered with. */
  contentHashMismatch: 'MEDICAL_CONTENT_HASH_MISMATCH',
  /** The sealed document does not open with the record's data key (tampered, or another record's). */
  documentOpenFailed: 'MEDICAL_DOCUMENT_OPEN_FAILED',
  /** A transaction committed with a failed receipt (`details.receiptCode`, `details.reason`). */
  txFailed: 'MEDICAL_TX_FAILED',
  /** A transaction did not commit within the deadline. */
  txTimeout: 'MEDICAL_TX_TIMEOUT',
  /** The node answered with something that is not the expected JSON. */
  badResponse: 'MEDICAL_BAD_RESPONSE',
} as const;
export type MedicalErrorCode = (typeof MedicalErrorCode)[keyof typeof MedicalErrorCode];

/** HTTP status of every code a route can raise (client-side codes are never sent). */
export const MEDICAL_ERROR_STATUS: Readonly<Record<string, number>> = {
  MEDICAL_SIGNATURE_MISSING: 401,
  MEDICAL_SIGNATURE_MALFORMED: 401,
  MEDICAL_SIGNATURE_INVALID: 401,
  MEDICAL_SIGNATURE_EXPIRED: 401,
  MEDICAL_UNKNOWN_SIGNER: 401,
  MEDICAL_CERT_INVALID: 403,
  MEDICAL_FORBIDDEN: 403,
  MEDICAL_ACCESS_DENIED: 403,
  MEDICAL_ACCESS_REFUSED: 403,
  MEDICAL_BAD_ACCESS_TX: 400,
  MEDICAL_ACCESS_TX_USED: 409,
  MEDICAL_ACCESS_LOG_TIMEOUT: 504,
  MEDICAL_RECORD_NOT_FOUND: 404,
  MEDICAL_GRANT_NOT_FOUND: 404,
  MEDICAL_REFERRAL_NOT_FOUND: 404,
  MEDICAL_MEMBER_NOT_FOUND: 404,
  MEDICAL_INSTITUTION_NOT_FOUND: 404,
  MEDICAL_DOCUMENT_NOT_FOUND: 404,
  MEDICAL_NOT_IN_VAULT: 409,
  MEDICAL_DOCUMENT_EXISTS: 409,
  MEDICAL_DOCUMENT_TOO_LARGE: 413,
  MEDICAL_NOT_OWNER: 409,
  MEDICAL_OWNER_UNREACHABLE: 502,
  MEDICAL_VAULT_REQUEST_INVALID: 400,
  MEDICAL_TOO_MANY_CLIENTS: 503,
};

export class MedicalError extends MedchainError {
  constructor(code: string, message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(code, message, details, options);
  }
}

/** Whether `code` is one a node answers with (and may relay from another node). */
export function isMedicalServerCode(code: string): boolean {
  return Object.hasOwn(MEDICAL_ERROR_STATUS, code);
}
