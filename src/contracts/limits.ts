/**
 * Bounds on everything a transaction can put into state (TigerBeetle: "put a
 * limit on everything"). Payload readers enforce them and name the field.
 */
export const CONTRACT_LIMITS = {
  /** Client-chosen ids (records, grants, referrals, member ids). */
  maxIdLength: 64,
  /** Tokens: record types, purposes, reasons. */
  maxTokenLength: 64,
  maxRecordsPerGrant: 64,
  maxRecordsPerReferral: 32,
  maxRecordTypesPerScope: 16,
  /** Key wraps on one record registration (owner, patient, a few members). */
  maxWrapsPerRecord: 8,
  maxWrappedKeyBytes: 256,
  maxSealedLocatorBytes: 4096,
  maxSealedMetadataBytes: 8192,
  /**
   * Live grants per (record or patient, grantee) slot. Dead grants are pruned
   * whenever a slot is written, so the bound is on live grants only.
   */
  maxGrantsPerSlot: 32,
  /** Length of a patient pseudonym (a keyed hash; both suites hash to 32 bytes). */
  pseudonymBytes: 32,
} as const;

/** Client-chosen ids: letters, digits, '.', '_' and '-'; never ':' (reserved for derived ids). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const ID_HINT = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

/** Tokens from a controlled vocabulary (no free text on chain: free text could leak patient data). */
export const TOKEN_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
export const TOKEN_HINT = "1-64 lower-case letters, digits or '-', starting with a letter";

/** A reference to any grant: a client-chosen id, or a derived `referral:<id>` / `return:<id>`. */
export const GRANT_REF_PATTERN = /^(?:(?:referral|return):)?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const GRANT_REF_HINT = `a grant id (${ID_HINT}), optionally prefixed "referral:" or "return:"`;
