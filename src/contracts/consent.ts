/**
 * `consent.grant` / `consent.revoke`.
 *
 * A grant is signed by the patient's own key, or by the owner institution
 * (its key, or a member whose role policy lets grant the levels) with a hash
 * of the signed consent as evidence. It names a grantee (an institution or a
 * member key), a scope (record ids, or patient + record types + max level),
 * a purpose and an expiry height, and carries the data-key wraps for the
 * grantee. L4 records: only a patient-signed grant naming the record id.
 * Revocation takes effect from the next transaction on.
 */
import { bytesEqual, toHex } from '../codec/index.js';
import { invariant } from '../errors.js';
import type { DataLevel } from '../identity/types.js';
import {
  certificateValidity,
  institutionById,
  levelsUpTo,
  readMember,
  requirePolicy,
} from './actors.js';
import type { Actor } from './actors.js';
import type { TxContext } from './context.js';
import { ContractCode, fail } from './errors.js';
import {
  addToSlots,
  closeGrant,
  grantCovers,
  grantDeadReason,
  isGrantLive,
  readGrant,
  writeGrant,
} from './grants.js';
import type { Grant, Grantee, RecordEntry } from './model.js';
import { parseConsentGrant, parseConsentRevoke } from './payloads.js';
import { requireRecord } from './records.js';

/** Fails unless the grantee exists and (for a member) holds a valid certificate; returns its wrap key. */
export function requireGrantee(ctx: TxContext, grantee: Grantee): Uint8Array {
  if (grantee.kind === 'institution') {
    const institution = institutionById(ctx.env.genesis, grantee.institution);
    if (institution === undefined) {
      fail(ContractCode.unknownInstitution, `no institution ${grantee.institution} in the genesis`);
    }
    return institution.signingKey;
  }
  const cert = readMember(ctx.state, grantee.member);
  if (cert === undefined) {
    fail(
      ContractCode.unknownMember,
      `grantee ${toHex(grantee.member).slice(0, 16)}… is not a certified member`,
    );
  }
  const validity = certificateValidity(cert, ctx.height);
  if (!validity.ok) fail(validity.code, `grantee: ${validity.reason}`);
  return grantee.member;
}

/**
 * Whether `actor` may grant (or revoke) access to these levels of this
 * patient's records (owned by `owners`): the patient's own key, or the owner
 * institution with policy's grant role (and, for a new grant, evidence).
 */
function requireGrantAuthority(
  ctx: TxContext,
  actor: Actor,
  patient: Uint8Array,
  owners: readonly string[],
  levels: readonly DataLevel[],
): void {
  if (actor.role === 'patient') {
    if (actor.certificate?.patient == null || !bytesEqual(actor.certificate.patient, patient)) {
      fail(
        ContractCode.patientMismatch,
        "a patient key may grant access only to the patient's own records",
      );
    }
  } else {
    const foreign = owners.find((owner) => owner !== actor.institution.id);
    if (foreign !== undefined) {
      fail(
        ContractCode.notAuthorised,
        `${actor.institution.id} may not grant access to records owned by ${foreign}`,
      );
    }
    if (levels.includes('L4')) {
      fail(
        ContractCode.l4ConsentRequired,
        'access to L4 records can be granted only by the patient, per record',
      );
    }
  }
  for (const level of levels) requirePolicy(ctx.env.genesis, actor, 'grant', level);
}

function distinctLevels(records: readonly RecordEntry[]): DataLevel[] {
  return [...new Set(records.map((r) => r.level))].sort();
}

export function consentGrant(ctx: TxContext, rawPayload: unknown): void {
  const p = parseConsentGrant(ctx.rules, rawPayload);
  const { state, actor, height } = ctx;
  if (readGrant(state, p.grantId) !== undefined)
    fail(ContractCode.grantExists, `grant ${p.grantId} exists`);
  if (p.expiresAt < height) {
    fail(
      ContractCode.expiryInPast,
      `payload.expiresAt ${p.expiresAt} is before this height ${height}`,
    );
  }
  const wrapKey = requireGrantee(ctx, p.grantee);
  const patientSigned = actor.role === 'patient';

  let patient: Uint8Array;
  if (p.scope.kind === 'records') {
    const scopeIds = p.scope.records;
    const records = scopeIds.map((id) => requireRecord(state, id));
    const first = records[0];
    invariant(first !== undefined, 'a records scope is never empty (the payload reader checks it)');
    patient = first.patient;
    const other = records.find((r) => !bytesEqual(r.patient, patient));
    if (other !== undefined) {
      fail(
        ContractCode.patientMismatch,
        `record ${other.id} belongs to another patient than ${first.id}`,
      );
    }
    requireGrantAuthority(
      ctx,
      actor,
      patient,
      records.map((r) => r.owner),
      distinctLevels(records),
    );
    const wrapFor = new Set(p.wraps.map((w) => w.recordId));
    const missing = scopeIds.find((id) => !wrapFor.has(id));
    if (missing !== undefined) fail(ContractCode.wrapMissing, `no key wrap for record ${missing}`);
    const extra = p.wraps.find((w) => !scopeIds.includes(w.recordId));
    if (extra !== undefined) {
      fail(
        ContractCode.wrapInvalid,
        `wrap for record ${extra.recordId}, which is not in the scope`,
      );
    }
  } else {
    patient = p.scope.patient;
    if (p.scope.maxLevel === 'L4') {
      fail(
        ContractCode.l4ConsentRequired,
        'a patient-scope grant covers at most L3; L4 records need a patient-signed grant naming each record',
      );
    }
    requireGrantAuthority(ctx, actor, patient, [], levelsUpTo(p.scope.maxLevel));
  }
  if (!patientSigned && p.evidence === null) {
    fail(
      ContractCode.consentEvidenceRequired,
      'an institution grants access only with payload.evidence, the hash of the signed consent',
    );
  }

  const grant: Grant = {
    id: p.grantId,
    kind: 'consent',
    grantor: actor.publicKey,
    grantorRole: actor.role,
    grantorInstitution: actor.institution.id,
    patient,
    patientSigned,
    grantee: p.grantee,
    scope: p.scope,
    purpose: p.purpose,
    expiresAt: p.expiresAt,
    evidence: p.evidence,
    wraps: p.wraps,
    referralId: null,
    createdAt: height,
    createdTx: ctx.txHash,
    status: 'active',
    closedAt: null,
    closedBy: null,
    closeReason: null,
  };
  p.wraps.forEach((wrap, i) => {
    if (!bytesEqual(wrap.recipient, wrapKey)) {
      fail(ContractCode.wrapInvalid, `payload.wraps[${i}].recipient is not the grantee's key`);
    }
    if (p.scope.kind === 'patient') {
      const record = requireRecord(state, wrap.recordId);
      if (!grantCovers(grant, record)) {
        fail(
          ContractCode.wrapInvalid,
          `payload.wraps[${i}]: record ${wrap.recordId} is not covered by the scope`,
        );
      }
    }
  });
  writeGrant(state, grant);
  addToSlots(state, grant, height);
  ctx.emit({
    type: 'consent.granted',
    grantId: grant.id,
    patient,
    grantee: grant.grantee,
    scope: grant.scope,
    purpose: grant.purpose,
    expiresAt: grant.expiresAt,
    patientSigned,
    evidence: grant.evidence,
  });
}

/** Levels a grant reaches: its records' levels, or L1..maxLevel. */
function grantLevels(ctx: TxContext, grant: Grant): { levels: DataLevel[]; owners: string[] } {
  if (grant.scope.kind === 'patient') {
    return { levels: levelsUpTo(grant.scope.maxLevel), owners: [grant.grantorInstitution] };
  }
  const records = grant.scope.records.map((id) => requireRecord(ctx.state, id));
  return { levels: distinctLevels(records), owners: records.map((r) => r.owner) };
}

export function consentRevoke(ctx: TxContext, rawPayload: unknown): void {
  const p = parseConsentRevoke(ctx.rules, rawPayload);
  const { state, actor, height } = ctx;
  const grant =
    readGrant(state, p.grantId) ?? fail(ContractCode.unknownGrant, `no grant ${p.grantId}`);
  if (!isGrantLive(grant, height))
    fail(ContractCode.grantNotActive, grantDeadReason(grant, height));
  // whoever may grant it: the grantor itself, the patient, or the grantor institution with grant rights
  const isGrantor = bytesEqual(grant.grantor, actor.publicKey);
  if (!isGrantor) {
    if (actor.role !== 'patient' && actor.institution.id !== grant.grantorInstitution) {
      fail(
        ContractCode.notAuthorised,
        `only the patient or ${grant.grantorInstitution} may revoke grant ${grant.id}`,
      );
    }
    const { levels, owners } = grantLevels(ctx, grant);
    requireGrantAuthority(
      ctx,
      actor,
      grant.patient,
      actor.role === 'patient' ? [] : owners,
      levels,
    );
  }
  closeGrant(state, grant, 'revoked', height, actor.publicKey, p.reason);
  ctx.emit({
    type: 'consent.revoked',
    grantId: grant.id,
    grantKind: grant.kind,
    patient: grant.patient,
    grantee: grant.grantee,
    scope: grant.scope,
    reason: p.reason,
    referralId: grant.referralId,
  });
}
