/**
 * Member certificates: `member.certify` and `member.revoke`.
 *
 * A certificate `{memberId, publicKey, role, institution, notBefore,
 * notAfter}` (heights; a `patient` certificate also binds the key to a
 * pseudonym) is issued by the institution's genesis key or by an admin member
 * of that institution. Certifying a key that already holds a certificate of
 * the same member (same institution, member id, role and patient) renews it;
 * a revoked key stays revoked. A member id is held by one unrevoked key at a
 * time; a pseudonym by one live patient key. Revocation is by the
 * institution key, an admin of the institution, or the member itself.
 */
import { bytesEqual } from '../codec/index.js';
import { certificateValidity, institutionById, institutionByKey, readMember } from './actors.js';
import type { Actor } from './actors.js';
import type { TxContext } from './context.js';
import { ContractCode, fail } from './errors.js';
import { stateKey } from './keys.js';
import {
  decodeMemberIdEntry,
  decodePatientKeyEntry,
  encodeMember,
  encodeMemberIdEntry,
  encodePatientKeyEntry,
} from './model.js';
import type { MemberCertificate } from './model.js';
import { parseMemberCertify, parseMemberRevoke } from './payloads.js';

/** The institution key, or an admin member, of `institution`. */
function isInstitutionAuthority(actor: Actor, institution: string): boolean {
  if (actor.institution.id !== institution) return false;
  return actor.kind === 'institution' || actor.role === 'admin';
}

export function memberCertify(ctx: TxContext, rawPayload: unknown): void {
  const p = parseMemberCertify(ctx.rules, rawPayload);
  const { state, actor, height, env } = ctx;
  const institution = institutionById(env.genesis, p.institution);
  if (institution === undefined)
    fail(ContractCode.unknownInstitution, `no institution ${p.institution} in the genesis`);
  if (!isInstitutionAuthority(actor, institution.id)) {
    fail(
      ContractCode.notAuthorised,
      `only the key or an admin of ${institution.id} may certify its members`,
    );
  }
  if (institutionByKey(env.genesis, p.publicKey) !== undefined) {
    fail(ContractCode.memberExists, 'payload.publicKey is an institution key, not a member key');
  }
  if (p.notAfter < height) {
    fail(
      ContractCode.expiryInPast,
      `payload.notAfter ${p.notAfter} is before this height ${height}`,
    );
  }

  const existing = readMember(state, p.publicKey);
  let renewed = false;
  if (existing !== undefined) {
    if (existing.revokedAt !== null) {
      fail(
        ContractCode.certRevoked,
        `this key was revoked at height ${existing.revokedAt}: certify a new key`,
      );
    }
    const sameMember =
      existing.institution === p.institution &&
      existing.memberId === p.memberId &&
      existing.role === p.role &&
      bytesEqual(existing.patient ?? new Uint8Array(), p.patient ?? new Uint8Array());
    if (!sameMember) {
      fail(
        ContractCode.memberExists,
        `this key is already certified as member ${existing.memberId} of ${existing.institution}; a renewal keeps institution, member id, role and patient`,
      );
    }
    renewed = true;
  }

  const idKey = stateKey.memberId(p.institution, p.memberId);
  const idBytes = state.get(idKey);
  if (idBytes !== undefined) {
    const holder = decodeMemberIdEntry(idBytes).publicKey;
    const holderCert = readMember(state, holder);
    if (
      !bytesEqual(holder, p.publicKey) &&
      holderCert !== undefined &&
      holderCert.revokedAt === null
    ) {
      fail(
        ContractCode.memberIdTaken,
        `member id ${p.memberId} of ${p.institution} is held by another key; revoke it first`,
      );
    }
  }

  if (p.patient !== null) {
    const bindingKey = stateKey.patientKey(p.patient);
    const bound = state.get(bindingKey);
    if (bound !== undefined) {
      const holder = decodePatientKeyEntry(bound).publicKey;
      const holderCert = readMember(state, holder);
      const live = holderCert !== undefined && certificateValidity(holderCert, height).ok;
      if (!bytesEqual(holder, p.publicKey) && live) {
        fail(
          ContractCode.patientKeyExists,
          'this pseudonym already has a live patient key; revoke it first',
        );
      }
    }
    state.put(bindingKey, encodePatientKeyEntry({ publicKey: p.publicKey }));
  }

  const cert: MemberCertificate = {
    memberId: p.memberId,
    publicKey: p.publicKey,
    role: p.role,
    institution: p.institution,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    patient: p.patient,
    issuer: actor.publicKey,
    issuedAt: height,
    issuedTx: ctx.txHash,
    revokedAt: null,
    revokedBy: null,
    revocationReason: null,
  };
  state.put(stateKey.member(p.publicKey), encodeMember(cert));
  state.put(idKey, encodeMemberIdEntry({ publicKey: p.publicKey }));
  ctx.emit({
    type: 'member.certified',
    member: p.publicKey,
    memberId: p.memberId,
    role: p.role,
    institution: p.institution,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    patient: p.patient,
    renewed,
  });
}

export function memberRevoke(ctx: TxContext, rawPayload: unknown): void {
  const p = parseMemberRevoke(ctx.rules, rawPayload);
  const { state, actor, height } = ctx;
  const cert =
    readMember(state, p.publicKey) ??
    fail(ContractCode.unknownMember, 'payload.publicKey is not a certified member key');
  if (cert.revokedAt !== null) {
    fail(
      ContractCode.alreadyRevoked,
      `the certificate of ${cert.memberId} was revoked at height ${cert.revokedAt}`,
    );
  }
  const self = bytesEqual(actor.publicKey, cert.publicKey);
  if (!self && !isInstitutionAuthority(actor, cert.institution)) {
    fail(
      ContractCode.notAuthorised,
      `only the key or an admin of ${cert.institution}, or the member itself, may revoke it`,
    );
  }
  state.put(
    stateKey.member(cert.publicKey),
    encodeMember({
      ...cert,
      revokedAt: height,
      revokedBy: actor.publicKey,
      revocationReason: p.reason,
    }),
  );
  if (cert.patient !== null) {
    const bindingKey = stateKey.patientKey(cert.patient);
    const bound = state.get(bindingKey);
    if (bound !== undefined && bytesEqual(decodePatientKeyEntry(bound).publicKey, cert.publicKey)) {
      state.delete(bindingKey);
    }
  }
  ctx.emit({
    type: 'member.revoked',
    member: cert.publicKey,
    memberId: cert.memberId,
    role: cert.role,
    institution: cert.institution,
    patient: cert.patient,
    reason: p.reason,
  });
}
