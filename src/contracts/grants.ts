/**
 * Grants: reading and writing them, whether one is live, what it covers, and
 * the access slots that let a reader's grants be found with a few point reads
 * (no range scans over state): `access/record/<id>/<grantee>` for grants
 * naming records, `access/patient/‖pseudonym‖/<grantee>` for patient-scope
 * grants. Dead grants are pruned whenever a slot is written.
 */
import { bytesEqual } from '../codec/index.js';
import type { Genesis } from '../identity/types.js';
import { levelRank } from './actors.js';
import { ContractCode, fail } from './errors.js';
import { stateKey } from './keys.js';
import { CONTRACT_LIMITS } from './limits.js';
import { decodeAccessSlot, decodeGrant, encodeAccessSlot, encodeGrant } from './model.js';
import type { Grant, Grantee, RecordEntry } from './model.js';
import type { Overlay, StateReader } from './overlay.js';

export function readGrant(state: StateReader, grantId: string): Grant | undefined {
  const bytes = state.get(stateKey.grant(grantId));
  return bytes === undefined ? undefined : decodeGrant(bytes);
}

export function writeGrant(state: Overlay, grant: Grant): void {
  state.put(stateKey.grant(grant.id), encodeGrant(grant));
}

/** Live at `height`: active (not revoked or ended), created at or before it, not past its expiry. */
export function isGrantLive(grant: Grant, height: number): boolean {
  return grant.status === 'active' && grant.createdAt <= height && height <= grant.expiresAt;
}

/** Why a grant is not live, for receipts. */
export function grantDeadReason(grant: Grant, height: number): string {
  if (grant.status === 'revoked')
    return `grant ${grant.id} was revoked at height ${grant.closedAt ?? 0}`;
  if (grant.status === 'ended') return `grant ${grant.id} ended at height ${grant.closedAt ?? 0}`;
  if (height > grant.expiresAt) return `grant ${grant.id} expired after height ${grant.expiresAt}`;
  return `grant ${grant.id} is not live at height ${height}`;
}

/**
 * Whether a grant's scope covers a record. L4 records are covered only by a
 * patient-signed grant naming the record id.
 */
export function grantCovers(grant: Grant, record: RecordEntry): boolean {
  if (!bytesEqual(grant.patient, record.patient)) return false;
  if (grant.scope.kind === 'records') {
    if (!grant.scope.records.includes(record.id)) return false;
    return record.level !== 'L4' || grant.patientSigned;
  }
  if (record.level === 'L4') return false;
  if (!bytesEqual(grant.scope.patient, record.patient)) return false;
  if (!grant.scope.recordTypes.includes(record.recordType)) return false;
  if (levelRank(record.level) > levelRank(grant.scope.maxLevel)) return false;
  // an institution grants only its own records; a patient any record about them
  return grant.patientSigned || record.owner === grant.grantorInstitution;
}

export function granteeMatches(
  grantee: Grantee,
  readerKey: Uint8Array,
  readerInstitution: string,
): boolean {
  return grantee.kind === 'institution'
    ? grantee.institution === readerInstitution
    : bytesEqual(grantee.member, readerKey);
}

/** The signing key wraps for a grantee must name. */
export function granteeKey(genesis: Genesis, grantee: Grantee): Uint8Array | undefined {
  if (grantee.kind === 'member') return grantee.member;
  return genesis.institutions.find((i) => i.id === grantee.institution)?.signingKey;
}

/** The access slots a grant sits in. */
export function slotKeysOf(grant: Grant): Uint8Array[] {
  if (grant.scope.kind === 'patient')
    return [stateKey.patientAccess(grant.scope.patient, grant.grantee)];
  return grant.scope.records.map((recordId) => stateKey.recordAccess(recordId, grant.grantee));
}

export function readSlot(state: StateReader, key: Uint8Array): readonly string[] {
  const bytes = state.get(key);
  return bytes === undefined ? [] : decodeAccessSlot(bytes).grants;
}

function writeSlot(state: Overlay, key: Uint8Array, grants: readonly string[]): void {
  if (grants.length === 0) state.delete(key);
  else state.put(key, encodeAccessSlot({ grants: [...grants].sort() }));
}

function liveIds(state: StateReader, ids: readonly string[], height: number): string[] {
  return ids.filter((id) => {
    const grant = readGrant(state, id);
    return grant !== undefined && isGrantLive(grant, height);
  });
}

/** Adds a (new, live) grant to its slots, pruning dead grants; TOO_MANY_GRANTS if a slot is full. */
export function addToSlots(state: Overlay, grant: Grant, height: number): void {
  for (const key of slotKeysOf(grant)) {
    const live = liveIds(state, readSlot(state, key), height).filter((id) => id !== grant.id);
    if (live.length >= CONTRACT_LIMITS.maxGrantsPerSlot) {
      fail(
        ContractCode.tooManyGrants,
        `the grantee already holds ${live.length} live grants for one record or patient (limit ${CONTRACT_LIMITS.maxGrantsPerSlot}); revoke some first`,
      );
    }
    writeSlot(state, key, [...live, grant.id]);
  }
}

/** Removes a grant from its slots (after revocation or end), pruning dead grants. */
export function removeFromSlots(state: Overlay, grant: Grant, height: number): void {
  for (const key of slotKeysOf(grant)) {
    const live = liveIds(state, readSlot(state, key), height).filter((id) => id !== grant.id);
    writeSlot(state, key, live);
  }
}

/** Marks a grant closed (revoked or ended) at `height` and takes it out of its slots. */
export function closeGrant(
  state: Overlay,
  grant: Grant,
  status: 'revoked' | 'ended',
  height: number,
  by: Uint8Array,
  reason: string,
): Grant {
  const closed: Grant = { ...grant, status, closedAt: height, closedBy: by, closeReason: reason };
  writeGrant(state, closed);
  removeFromSlots(state, closed, height);
  return closed;
}
