/**
 * Who may read a record now, and `access.log`, which records that a reader
 * actually opened one.
 *
 * A reader is a member key (or an institution key, with admin rights) whose
 * role policy lets read the record's level, and which either belongs to the
 * owner institution, is the record's own patient (if policy lets patients
 * read), or holds a live grant covering the record — addressed to the reader
 * itself or to the reader's institution. L4 records are covered only by a
 * live patient-signed grant naming the record. The vault uses `canAccess`
 * before it serves a document.
 */
import { bytesEqual } from '../codec/index.js';
import { policyAllows, policyRole, requireMemberRole, resolveActor } from './actors.js';
import type { Actor } from './actors.js';
import type { ContractEnv, TxContext } from './context.js';
import { ContractCode, fail } from './errors.js';
import type { ContractFailureCode } from './errors.js';
import {
  grantCovers,
  granteeMatches,
  grantDeadReason,
  isGrantLive,
  readGrant,
  readSlot,
} from './grants.js';
import { stateKey } from './keys.js';
import type { Grant, Grantee, RecordEntry } from './model.js';
import type { StateReader } from './overlay.js';
import { parseAccessLog } from './payloads.js';
import { readRecord } from './records.js';

export type AccessDecision =
  | {
      readonly ok: true;
      /** `owner`: the reader's institution owns the record; `patient`: the record's own patient; `grant`: a live grant. */
      readonly basis: 'owner' | 'patient' | 'grant';
      /** The grant relied on; `null` for owner and patient access. */
      readonly grantId: string | null;
    }
  | { readonly ok: false; readonly code: ContractFailureCode; readonly reason: string };

export interface CanAccessOptions {
  /** Check this grant only (the reader names the grant it relies on). */
  readonly grantId?: string | null;
}

function denied(code: ContractFailureCode, reason: string): AccessDecision {
  return { ok: false, code, reason };
}

/** Grant ids worth checking for (reader, record), most specific slot first, each slot sorted. */
function candidateGrantIds(state: StateReader, reader: Actor, record: RecordEntry): string[] {
  const self: Grantee = { kind: 'member', member: reader.publicKey };
  const institution: Grantee = { kind: 'institution', institution: reader.institution.id };
  const keys = [
    stateKey.recordAccess(record.id, self),
    stateKey.recordAccess(record.id, institution),
    stateKey.patientAccess(record.patient, self),
    stateKey.patientAccess(record.patient, institution),
  ];
  const ids: string[] = [];
  for (const key of keys)
    for (const id of readSlot(state, key)) if (!ids.includes(id)) ids.push(id);
  return ids;
}

function grantApplies(grant: Grant, reader: Actor, record: RecordEntry, height: number): boolean {
  return (
    isGrantLive(grant, height) &&
    granteeMatches(grant.grantee, reader.publicKey, reader.institution.id) &&
    grantCovers(grant, record)
  );
}

/** Decides whether `reader` (a public key) may read record `recordId` at `height`. */
export function decideAccess(
  env: ContractEnv,
  state: StateReader,
  height: number,
  reader: Uint8Array,
  recordId: string,
  options: CanAccessOptions = {},
): AccessDecision {
  const record = readRecord(state, recordId);
  if (record === undefined) return denied(ContractCode.unknownRecord, `no record ${recordId}`);
  const resolved = resolveActor(env.genesis, state, reader, height);
  if (!resolved.ok) return denied(resolved.code, resolved.reason);
  const actor = resolved.actor;
  const role = policyRole(actor);
  if (!policyAllows(env.genesis, 'read', role, record.level)) {
    return denied(
      ContractCode.roleForbidden,
      `policy does not let role ${role} read ${record.level} records`,
    );
  }
  const wanted = options.grantId ?? null;
  if (wanted === null) {
    if (actor.institution.id === record.owner && actor.role !== 'patient') {
      return { ok: true, basis: 'owner', grantId: null };
    }
    const own = actor.certificate?.patient ?? null;
    if (actor.role === 'patient' && own !== null && bytesEqual(own, record.patient)) {
      return { ok: true, basis: 'patient', grantId: null };
    }
    for (const id of candidateGrantIds(state, actor, record)) {
      const grant = readGrant(state, id);
      if (grant !== undefined && grantApplies(grant, actor, record, height)) {
        return { ok: true, basis: 'grant', grantId: grant.id };
      }
    }
    const hint =
      record.level === 'L4' ? ' (L4: needs a patient-signed grant naming the record)' : '';
    return denied(
      ContractCode.accessDenied,
      `no live grant lets this reader read record ${record.id}${hint}`,
    );
  }
  const grant = readGrant(state, wanted);
  if (grant === undefined) return denied(ContractCode.accessDenied, `no grant ${wanted}`);
  if (!isGrantLive(grant, height))
    return denied(ContractCode.accessDenied, grantDeadReason(grant, height));
  if (!granteeMatches(grant.grantee, actor.publicKey, actor.institution.id)) {
    return denied(
      ContractCode.accessDenied,
      `grant ${grant.id} is not addressed to this reader or its institution`,
    );
  }
  if (!grantCovers(grant, record)) {
    return denied(
      ContractCode.accessDenied,
      `grant ${grant.id} does not cover record ${record.id}`,
    );
  }
  return { ok: true, basis: 'grant', grantId: grant.id };
}

export function accessLog(ctx: TxContext, rawPayload: unknown): void {
  const p = parseAccessLog(ctx.rules, rawPayload);
  requireMemberRole(
    ctx.actor,
    ['doctor', 'department', 'admin', 'auditor', 'patient'],
    'access.log',
  );
  const decision = decideAccess(ctx.env, ctx.state, ctx.height, ctx.actor.publicKey, p.recordId, {
    grantId: p.grantId,
  });
  if (!decision.ok) fail(decision.code, decision.reason);
  const record = readRecord(ctx.state, p.recordId);
  if (record === undefined) fail(ContractCode.unknownRecord, `no record ${p.recordId}`);
  ctx.emit({
    type: 'access.logged',
    recordId: record.id,
    patient: record.patient,
    owner: record.owner,
    recordType: record.recordType,
    level: record.level,
    grantId: decision.grantId,
    purpose: p.purpose,
  });
}
