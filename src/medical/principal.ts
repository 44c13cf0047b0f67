/**
 * Who signed an API request, and the read rules built on it. A principal is
 * an institution's genesis key (acting as the institution) or a member key
 * whose certificate is valid at the node's current height. Rules:
 *
 * - **staff of X**: X's institution key, or a non-patient member of X;
 * - **oversight**: staff of a regulator institution (the regulator's observer
 *   node, its admins and auditors) — audit trails and statistics of everyone;
 * - **the patient**: a `patient` member whose certificate binds the pseudonym.
 *
 * A patient key is a member of the institution that certified it but never
 * counts as its staff.
 */
import { bytesEqual, toHex } from '../codec/index.js';
import { certificateValidity, getMember } from '../contracts/index.js';
import type { ActorRole, StateReader } from '../contracts/index.js';
import type { Genesis, Institution } from '../identity/types.js';
import { MedicalError, MedicalErrorCode } from './errors.js';

export interface Principal {
  readonly publicKey: Uint8Array;
  readonly kind: 'institution' | 'member';
  readonly institution: Institution;
  /** `institution` for an institution key, else the certificate's role. */
  readonly role: ActorRole;
  readonly memberId: string | null;
  /** The pseudonym of a `patient` key. */
  readonly patient: Uint8Array | null;
}

/** The principal behind `publicKey` at `height`; 401 `MEDICAL_UNKNOWN_SIGNER` / 403 `MEDICAL_CERT_INVALID`. */
export function resolvePrincipal(
  genesis: Genesis,
  state: StateReader,
  publicKey: Uint8Array,
  height: number,
): Principal {
  const institution = genesis.institutions.find((i) => bytesEqual(i.signingKey, publicKey));
  if (institution !== undefined) {
    return {
      publicKey,
      kind: 'institution',
      institution,
      role: 'institution',
      memberId: null,
      patient: null,
    };
  }
  const cert = getMember(state, publicKey);
  if (cert === undefined) {
    throw new MedicalError(
      MedicalErrorCode.unknownSigner,
      'the request is signed by a key that is neither an institution key nor a certified member',
      { signer: toHex(publicKey) },
    );
  }
  const validity = certificateValidity(cert, height);
  if (!validity.ok) {
    throw new MedicalError(MedicalErrorCode.certificateInvalid, validity.reason, {
      certificate: validity.code,
      memberId: cert.memberId,
    });
  }
  const home = genesis.institutions.find((i) => i.id === cert.institution);
  if (home === undefined) {
    throw new MedicalError(
      MedicalErrorCode.unknownSigner,
      `member of unknown institution ${cert.institution}`,
    );
  }
  return {
    publicKey,
    kind: 'member',
    institution: home,
    role: cert.role,
    memberId: cert.memberId,
    patient: cert.patient,
  };
}

export function isStaffOf(principal: Principal, institutionId: string): boolean {
  return principal.institution.id === institutionId && principal.role !== 'patient';
}

export function isOversight(principal: Principal): boolean {
  return principal.institution.role === 'regulator' && principal.role !== 'patient';
}

export function isPatient(principal: Principal, pseudonym: Uint8Array): boolean {
  return (
    principal.role === 'patient' &&
    principal.patient !== null &&
    bytesEqual(principal.patient, pseudonym)
  );
}

/** May see statistics of `institutionId`: oversight, or its admins, auditors and institution key. */
export function maySeeStatisticsOf(principal: Principal, institutionId: string): boolean {
  if (isOversight(principal)) return true;
  return (
    principal.institution.id === institutionId &&
    (principal.role === 'institution' || principal.role === 'admin' || principal.role === 'auditor')
  );
}

export function forbidden(message: string): MedicalError {
  return new MedicalError(MedicalErrorCode.forbidden, message);
}

export function describePrincipal(principal: Principal): string {
  return principal.kind === 'institution'
    ? `institution ${principal.institution.id}`
    : `${principal.role} ${principal.memberId ?? '?'} of ${principal.institution.id}`;
}
