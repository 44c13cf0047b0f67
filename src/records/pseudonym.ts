/**
 * Patient pseudonyms: the only way a patient appears on chain. A pseudonym is
 * HMAC(institutionSecret, "medchain/patient-pseudonym/v1" ‖ 0x00 ‖ NFC(localPatientId))
 * with the suite's hash (HMAC-SHA-256 for intl, HMAC-SM3 for gm): 32 bytes.
 * The secret never leaves the institution, so nobody else can link a
 * pseudonym to a local patient id, or test guesses against it.
 */
import { createHmac } from 'node:crypto';
import { toHex } from '../codec/index.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { InvalidInputError } from '../errors.js';

export const PSEUDONYM_TAG = 'medchain/patient-pseudonym/v1';
export const MIN_INSTITUTION_SECRET_BYTES = 16;
export const MAX_LOCAL_PATIENT_ID_LENGTH = 256;

export function patientPseudonym(
  suite: CryptoSuite,
  institutionSecret: Uint8Array,
  localPatientId: string,
): Uint8Array {
  if (
    !(institutionSecret instanceof Uint8Array) ||
    institutionSecret.length < MIN_INSTITUTION_SECRET_BYTES
  ) {
    throw new InvalidInputError(
      'institutionSecret',
      `expected at least ${MIN_INSTITUTION_SECRET_BYTES} random bytes`,
    );
  }
  if (typeof localPatientId !== 'string' || localPatientId.length === 0) {
    throw new InvalidInputError('localPatientId', 'must be a non-empty string');
  }
  if (localPatientId.length > MAX_LOCAL_PATIENT_ID_LENGTH || !localPatientId.isWellFormed()) {
    // the message never echoes the id
    throw new InvalidInputError(
      'localPatientId',
      `must be well-formed text of at most ${MAX_LOCAL_PATIENT_ID_LENGTH} characters`,
    );
  }
  const algorithm = suite.id === 'gm' ? 'sm3' : 'sha256';
  const hmac = createHmac(algorithm, institutionSecret);
  hmac.update(PSEUDONYM_TAG, 'utf8');
  hmac.update(new Uint8Array([0]));
  hmac.update(localPatientId.normalize('NFC'), 'utf8');
  return new Uint8Array(hmac.digest());
}

/** An opaque member id for a patient key: derived from the pseudonym, never from the local id. */
export function patientMemberId(pseudonym: Uint8Array): string {
  return `patient-${toHex(pseudonym).slice(0, 32)}`;
}
