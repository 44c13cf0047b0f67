/**
 * Receipt codes of the contracts and the error that carries a rule failure
 * from a contract to the executor. A rule failure never leaves
 * `executeBlock` as an exception: the executor turns it into a failed
 * receipt (`code` + `reason`). Anything else thrown is a bug.
 */
import { MedchainError } from '../errors.js';

/** Every receipt code a contract can return (`OK` on success). docs/contracts.md explains each. */
export const ContractCode = {
  ok: 'OK',
  /** The payload is malformed: the reason names the field. */
  invalidPayload: 'INVALID_PAYLOAD',
  /** The signer is neither a genesis institution key nor a certified member key. */
  unknownSigner: 'UNKNOWN_SIGNER',
  certRevoked: 'CERT_REVOKED',
  certNotYetValid: 'CERT_NOT_YET_VALID',
  certExpired: 'CERT_EXPIRED',
  /** The nonce is not above the signer's last used nonce (a replay or a reordering). */
  nonceReused: 'NONCE_REUSED',
  /** The signer's role may not do this (policy data levels, or the role a transaction type needs). */
  roleForbidden: 'ROLE_FORBIDDEN',
  /** The signer acts for an institution that does not own the record or is not a party. */
  notAuthorised: 'NOT_AUTHORISED',
  unknownInstitution: 'UNKNOWN_INSTITUTION',
  unknownMember: 'UNKNOWN_MEMBER',
  memberExists: 'MEMBER_EXISTS',
  memberIdTaken: 'MEMBER_ID_TAKEN',
  patientKeyExists: 'PATIENT_KEY_EXISTS',
  alreadyRevoked: 'ALREADY_REVOKED',
  recordExists: 'RECORD_EXISTS',
  unknownRecord: 'UNKNOWN_RECORD',
  patientMismatch: 'PATIENT_MISMATCH',
  wrapMissing: 'WRAP_MISSING',
  wrapInvalid: 'WRAP_INVALID',
  grantExists: 'GRANT_EXISTS',
  unknownGrant: 'UNKNOWN_GRANT',
  grantNotActive: 'GRANT_NOT_ACTIVE',
  tooManyGrants: 'TOO_MANY_GRANTS',
  consentEvidenceRequired: 'CONSENT_EVIDENCE_REQUIRED',
  l4ConsentRequired: 'L4_CONSENT_REQUIRED',
  expiryInPast: 'EXPIRY_IN_PAST',
  referralExists: 'REFERRAL_EXISTS',
  unknownReferral: 'UNKNOWN_REFERRAL',
  referralBadStatus: 'REFERRAL_BAD_STATUS',
  referralExpired: 'REFERRAL_EXPIRED',
  accessDenied: 'ACCESS_DENIED',
  /** Governance transactions are not enabled yet. */
  notEnabled: 'NOT_ENABLED',
} as const;
export type ContractCode = (typeof ContractCode)[keyof typeof ContractCode];
export type ContractFailureCode = Exclude<ContractCode, 'OK'>;

/**
 * A transaction broke a contract rule. Thrown inside a contract and caught by
 * the executor, which records it as a failed receipt; never escapes
 * `executeBlock`. The reason must not contain a patient identifier or locator
 * (contracts never see either in plain text).
 */
export class ContractRuleError extends MedchainError {
  declare readonly code: ContractFailureCode;
  /** The receipt's reason (the message). */
  readonly reason: string;

  constructor(code: ContractFailureCode, reason: string) {
    super(code, reason);
    this.reason = reason;
  }
}

export function fail(code: ContractFailureCode, reason: string): never {
  throw new ContractRuleError(code, reason);
}

/** A malformed payload field: `INVALID_PAYLOAD` with the field path first. */
export function invalidPayload(path: string, problem: string): never {
  const field = path === '' ? 'payload' : `payload.${path}`;
  throw new ContractRuleError(ContractCode.invalidPayload, `${field}: ${problem}`);
}
