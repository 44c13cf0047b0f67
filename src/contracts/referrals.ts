/**
 * The referral (转诊) workflow: `referral.create` by a doctor of the sending
 * institution; `referral.accept` / `.reject` / `.complete` by a doctor of the
 * receiving institution.
 *
 * Creating a referral grants the receiving institution the listed records
 * (automatic grant `referral:<id>`) until the referral's expiry; rejecting or
 * completing it ends that grant. Completing may register (or name) a summary
 * record owned by the receiving institution and grant it back to the sender
 * (grant `return:<id>`). L4 records may be listed only when the patient has
 * already granted the receiving institution that record; access to them still
 * rests on the patient's grant, which the patient can revoke.
 */
import { bytesEqual } from '../codec/index.js';
import { invariant } from '../errors.js';
import { institutionById, requireMemberRole } from './actors.js';
import type { TxContext } from './context.js';
import { ContractCode, fail } from './errors.js';
import { addToSlots, closeGrant, isGrantLive, readGrant, readSlot, writeGrant } from './grants.js';
import { stateKey } from './keys.js';
import { decodeReferral, encodeReferral } from './model.js';
import type { Grant, RecordEntry, Referral } from './model.js';
import type { StateReader } from './overlay.js';
import {
  parseReferralAccept,
  parseReferralComplete,
  parseReferralCreate,
  parseReferralReject,
} from './payloads.js';
import { registerRecord, requireRecord } from './records.js';

/** Derived grant ids contain ':', which client-chosen ids cannot, so they never collide. */
export const referralGrantId = (referralId: string): string => `referral:${referralId}`;
export const returnGrantId = (referralId: string): string => `return:${referralId}`;

export function readReferral(state: StateReader, referralId: string): Referral | undefined {
  const bytes = state.get(stateKey.referral(referralId));
  return bytes === undefined ? undefined : decodeReferral(bytes);
}

function writeReferral(ctx: TxContext, referral: Referral): void {
  ctx.state.put(stateKey.referral(referral.id), encodeReferral(referral));
}

/** Whether the patient has a live grant of this L4 record to the institution. */
function hasPatientConsent(
  state: StateReader,
  record: RecordEntry,
  institution: string,
  height: number,
): boolean {
  const slot = readSlot(
    state,
    stateKey.recordAccess(record.id, { kind: 'institution', institution }),
  );
  return slot.some((id) => {
    const grant = readGrant(state, id);
    return grant !== undefined && isGrantLive(grant, height) && grant.patientSigned;
  });
}

export function referralCreate(ctx: TxContext, rawPayload: unknown): void {
  const p = parseReferralCreate(ctx.rules, rawPayload);
  const { state, actor, height, env } = ctx;
  requireMemberRole(actor, ['doctor'], 'referral.create');
  const from = actor.institution;
  if (readReferral(state, p.referralId) !== undefined) {
    fail(ContractCode.referralExists, `referral ${p.referralId} exists`);
  }
  if (p.to === from.id)
    fail(ContractCode.invalidPayload, 'payload.to: cannot refer to the sending institution itself');
  const to = institutionById(env.genesis, p.to);
  if (to === undefined)
    fail(ContractCode.unknownInstitution, `no institution ${p.to} in the genesis`);
  if (p.expiresAt < height) {
    fail(
      ContractCode.expiryInPast,
      `payload.expiresAt ${p.expiresAt} is before this height ${height}`,
    );
  }
  for (const recordId of p.recordIds) {
    const record = requireRecord(state, recordId);
    if (record.owner !== from.id) {
      fail(
        ContractCode.notAuthorised,
        `record ${recordId} is owned by ${record.owner}, not ${from.id}`,
      );
    }
    if (!bytesEqual(record.patient, p.patient)) {
      fail(ContractCode.patientMismatch, `record ${recordId} belongs to another patient`);
    }
    if (record.level === 'L4' && !hasPatientConsent(state, record, to.id, height)) {
      fail(
        ContractCode.l4ConsentRequired,
        `record ${recordId} is L4: the patient must first grant ${to.id} access to it`,
      );
    }
  }
  const wrapFor = new Set(p.wraps.map((w) => w.recordId));
  const missing = p.recordIds.find((id) => !wrapFor.has(id));
  if (missing !== undefined) fail(ContractCode.wrapMissing, `no key wrap for record ${missing}`);
  p.wraps.forEach((wrap, i) => {
    if (!p.recordIds.includes(wrap.recordId)) {
      fail(
        ContractCode.wrapInvalid,
        `payload.wraps[${i}]: record ${wrap.recordId} is not referred`,
      );
    }
    if (!bytesEqual(wrap.recipient, to.signingKey)) {
      fail(ContractCode.wrapInvalid, `payload.wraps[${i}].recipient is not the key of ${to.id}`);
    }
  });

  const grantId = referralGrantId(p.referralId);
  invariant(
    readGrant(state, grantId) === undefined,
    `derived grant ${grantId} exists without its referral`,
  );
  const grant: Grant = {
    id: grantId,
    kind: 'referral',
    grantor: actor.publicKey,
    grantorRole: actor.role,
    grantorInstitution: from.id,
    patient: p.patient,
    patientSigned: false,
    grantee: { kind: 'institution', institution: to.id },
    scope: { kind: 'records', records: p.recordIds },
    purpose: 'referral',
    expiresAt: p.expiresAt,
    evidence: null,
    wraps: p.wraps,
    referralId: p.referralId,
    createdAt: height,
    createdTx: ctx.txHash,
    status: 'active',
    closedAt: null,
    closedBy: null,
    closeReason: null,
  };
  writeGrant(state, grant);
  addToSlots(state, grant, height);
  writeReferral(ctx, {
    id: p.referralId,
    from: from.id,
    to: to.id,
    patient: p.patient,
    recordIds: p.recordIds,
    reason: p.reason,
    expiresAt: p.expiresAt,
    status: 'open',
    grantId,
    createdBy: actor.publicKey,
    createdAt: height,
    createdTx: ctx.txHash,
    acceptedBy: null,
    acceptedAt: null,
    closedBy: null,
    closedAt: null,
    closeReason: null,
    summaryRecordId: null,
    returnGrantId: null,
  });
  ctx.emit({
    type: 'referral.created',
    referralId: p.referralId,
    from: from.id,
    to: to.id,
    patient: p.patient,
    recordIds: p.recordIds,
    reason: p.reason,
    expiresAt: p.expiresAt,
    grantId,
  });
}

/** The referral, if the signer is a doctor of its receiving institution. */
function requireReceiver(ctx: TxContext, referralId: string, what: string): Referral {
  requireMemberRole(ctx.actor, ['doctor'], what);
  const referral =
    readReferral(ctx.state, referralId) ??
    fail(ContractCode.unknownReferral, `no referral ${referralId}`);
  if (ctx.actor.institution.id !== referral.to) {
    fail(
      ContractCode.notAuthorised,
      `only doctors of ${referral.to} may act on referral ${referralId}`,
    );
  }
  return referral;
}

/** Ends the automatic grant of a referral if it is still active. */
function endReferralGrant(ctx: TxContext, referral: Referral, reason: string): void {
  const grant = readGrant(ctx.state, referral.grantId);
  invariant(grant !== undefined, `referral ${referral.id} has no grant ${referral.grantId}`);
  if (grant.status === 'active')
    closeGrant(ctx.state, grant, 'ended', ctx.height, ctx.actor.publicKey, reason);
}

export function referralAccept(ctx: TxContext, rawPayload: unknown): void {
  const p = parseReferralAccept(ctx.rules, rawPayload);
  const referral = requireReceiver(ctx, p.referralId, 'referral.accept');
  if (referral.status !== 'open') {
    fail(ContractCode.referralBadStatus, `referral ${referral.id} is ${referral.status}, not open`);
  }
  if (ctx.height > referral.expiresAt) {
    fail(
      ContractCode.referralExpired,
      `referral ${referral.id} expired after height ${referral.expiresAt}`,
    );
  }
  writeReferral(ctx, {
    ...referral,
    status: 'accepted',
    acceptedBy: ctx.actor.publicKey,
    acceptedAt: ctx.height,
  });
  ctx.emit({
    type: 'referral.accepted',
    referralId: referral.id,
    from: referral.from,
    to: referral.to,
    patient: referral.patient,
    recordIds: referral.recordIds,
  });
}

export function referralReject(ctx: TxContext, rawPayload: unknown): void {
  const p = parseReferralReject(ctx.rules, rawPayload);
  const referral = requireReceiver(ctx, p.referralId, 'referral.reject');
  if (referral.status !== 'open' && referral.status !== 'accepted') {
    fail(ContractCode.referralBadStatus, `referral ${referral.id} is already ${referral.status}`);
  }
  endReferralGrant(ctx, referral, 'referral-rejected');
  writeReferral(ctx, {
    ...referral,
    status: 'rejected',
    closedBy: ctx.actor.publicKey,
    closedAt: ctx.height,
    closeReason: p.reason,
  });
  ctx.emit({
    type: 'referral.rejected',
    referralId: referral.id,
    from: referral.from,
    to: referral.to,
    patient: referral.patient,
    recordIds: referral.recordIds,
    reason: p.reason,
    endedGrantId: referral.grantId,
  });
}

export function referralComplete(ctx: TxContext, rawPayload: unknown): void {
  const p = parseReferralComplete(ctx.rules, rawPayload);
  const { state, height, env } = ctx;
  const referral = requireReceiver(ctx, p.referralId, 'referral.complete');
  if (referral.status !== 'accepted') {
    fail(
      ContractCode.referralBadStatus,
      `referral ${referral.id} is ${referral.status}; only an accepted referral can be completed`,
    );
  }
  let summary: RecordEntry | null = null;
  if (p.summary !== null) {
    summary = registerRecord(ctx, p.summary, referral.id);
  } else if (p.summaryRecordId !== null) {
    summary = requireRecord(state, p.summaryRecordId);
    if (summary.owner !== referral.to) {
      fail(
        ContractCode.notAuthorised,
        `summary record ${summary.id} is owned by ${summary.owner}, not ${referral.to}`,
      );
    }
  }
  let returnId: string | null = null;
  if (summary !== null) {
    invariant(
      p.returnWrap !== null && p.returnExpiresAt !== null,
      'the payload reader requires both',
    );
    if (summary.level === 'L4') {
      fail(
        ContractCode.l4ConsentRequired,
        'an L4 summary cannot be granted back automatically: the patient must grant it',
      );
    }
    if (p.returnExpiresAt < height) {
      fail(
        ContractCode.expiryInPast,
        `payload.returnExpiresAt ${p.returnExpiresAt} is before this height ${height}`,
      );
    }
    const sender = institutionById(env.genesis, referral.from);
    invariant(
      sender !== undefined,
      `referral ${referral.id} names unknown institution ${referral.from}`,
    );
    if (!bytesEqual(p.returnWrap.recipient, sender.signingKey)) {
      fail(ContractCode.wrapInvalid, `payload.returnWrap.recipient is not the key of ${sender.id}`);
    }
    returnId = returnGrantId(referral.id);
    invariant(readGrant(state, returnId) === undefined, `derived grant ${returnId} exists already`);
    const grant: Grant = {
      id: returnId,
      kind: 'referral-return',
      grantor: ctx.actor.publicKey,
      grantorRole: ctx.actor.role,
      grantorInstitution: referral.to,
      patient: summary.patient,
      patientSigned: false,
      grantee: { kind: 'institution', institution: sender.id },
      scope: { kind: 'records', records: [summary.id] },
      purpose: 'referral-return',
      expiresAt: p.returnExpiresAt,
      evidence: null,
      wraps: [
        { recordId: summary.id, recipient: p.returnWrap.recipient, wrapped: p.returnWrap.wrapped },
      ],
      referralId: referral.id,
      createdAt: height,
      createdTx: ctx.txHash,
      status: 'active',
      closedAt: null,
      closedBy: null,
      closeReason: null,
    };
    writeGrant(state, grant);
    addToSlots(state, grant, height);
  }
  endReferralGrant(ctx, referral, 'referral-completed');
  writeReferral(ctx, {
    ...referral,
    status: 'completed',
    closedBy: ctx.actor.publicKey,
    closedAt: height,
    closeReason: 'completed',
    summaryRecordId: summary?.id ?? null,
    returnGrantId: returnId,
  });
  ctx.emit({
    type: 'referral.completed',
    referralId: referral.id,
    from: referral.from,
    to: referral.to,
    patient: referral.patient,
    recordIds: referral.recordIds,
    endedGrantId: referral.grantId,
    summaryRecordId: summary?.id ?? null,
    returnGrantId: returnId,
    returnExpiresAt: returnId === null ? null : p.returnExpiresAt,
  });
}
