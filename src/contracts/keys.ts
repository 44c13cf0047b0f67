/**
 * World-state key layout. Every key starts with a readable prefix naming its
 * concern; string components are UTF-8 and never contain '/' (ids and
 * institution ids exclude it), raw byte components (public keys,
 * pseudonyms) are fixed-length for a chain or come last, so no key of one
 * kind is a prefix of another kind's. docs/contracts.md lists them.
 */
import type { Grantee } from './model.js';

const textEncoder = new TextEncoder();

function join(parts: readonly (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) => (typeof part === 'string' ? textEncoder.encode(part) : part));
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

export const stateKey = {
  /** `nonce/‖signer` → last nonce used by that signer (integer). */
  nonce: (signer: Uint8Array): Uint8Array => join(['nonce/', signer]),
  /** `member/‖publicKey` → MemberCertificate. */
  member: (publicKey: Uint8Array): Uint8Array => join(['member/', publicKey]),
  /** `member-id/<institution>/<memberId>` → MemberIdEntry (the key holding that id). */
  memberId: (institution: string, memberId: string): Uint8Array =>
    join([`member-id/${institution}/${memberId}`]),
  /** `patient-key/‖pseudonym` → PatientKeyEntry (the live patient key bound to the pseudonym). */
  patientKey: (pseudonym: Uint8Array): Uint8Array => join(['patient-key/', pseudonym]),
  /** `record/<recordId>` → RecordEntry. */
  record: (recordId: string): Uint8Array => join([`record/${recordId}`]),
  /** `grant/<grantId>` → Grant. */
  grant: (grantId: string): Uint8Array => join([`grant/${grantId}`]),
  /** `referral/<referralId>` → Referral. */
  referral: (referralId: string): Uint8Array => join([`referral/${referralId}`]),
  /** `access/record/<recordId>/<grantee>` → AccessSlot: live grants naming the record for that grantee. */
  recordAccess: (recordId: string, grantee: Grantee): Uint8Array =>
    join([`access/record/${recordId}/`, ...granteeParts(grantee)]),
  /** `access/patient/‖pseudonym‖/<grantee>` → AccessSlot: live patient-scope grants for that grantee. */
  patientAccess: (pseudonym: Uint8Array, grantee: Grantee): Uint8Array =>
    join(['access/patient/', pseudonym, '/', ...granteeParts(grantee)]),
} as const;

function granteeParts(grantee: Grantee): (string | Uint8Array)[] {
  return grantee.kind === 'institution'
    ? [`inst/${grantee.institution}`]
    : ['member/', grantee.member];
}

/** Lexicographic order of byte strings (a proper prefix sorts first). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export { join as joinKeyParts };
