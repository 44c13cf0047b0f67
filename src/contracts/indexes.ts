/**
 * The secondary index entries a block's events imply (written by the node
 * atomically with the block). Everything here is derived from events, so an
 * index can always be rebuilt by replaying blocks. Values hold pseudonyms, ids
 * and hashes only. docs/contracts.md documents each index: name, key, suffix
 * and value.
 */
import type { CodecValue } from '../codec/index.js';
import { toHex } from '../codec/index.js';
import { eventToCodec } from './events.js';
import type { ContractEvent } from './events.js';
import { granteeToCodec } from './model.js';
import type { Grantee, GrantKind } from './model.js';

/** An index entry as storage takes it (structurally `IndexEntry` of storage/repositories.ts). */
export interface ContractIndexEntry {
  readonly index: string;
  readonly key: Uint8Array;
  readonly suffix: Uint8Array;
  readonly value?: CodecValue;
}

export type ContractIndexRef = Omit<ContractIndexEntry, 'value'>;

export const INDEX = {
  /** key recordId → every event about the record. */
  auditByRecord: 'audit.by-record',
  /** key pseudonym → every event about the patient. */
  auditByPatient: 'audit.by-patient',
  /** key institution id → every event the institution did or was the counterpart of. */
  auditByInstitution: 'audit.by-institution',
  recordByPatient: 'record.by-patient',
  recordByOwner: 'record.by-owner',
  referralByTo: 'referral.by-to',
  referralByFrom: 'referral.by-from',
  /** Open (not rejected or completed) referrals; entries are removed when a referral closes. */
  referralOpenByTo: 'referral.open-by-to',
  referralOpenByFrom: 'referral.open-by-from',
  grantByRecord: 'grant.by-record',
  grantByPatient: 'grant.by-patient',
  grantByGrantee: 'grant.by-grantee',
  memberByInstitution: 'member.by-institution',
  /** key `<institution>/<statistic>/<YYYY-MM-DD>` (UTC day of the block time) → one entry per occurrence. */
  statsDaily: 'stats.daily',
} as const;

const textEncoder = new TextEncoder();
const utf8 = (text: string): Uint8Array => textEncoder.encode(text);

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(value / 2 ** 32));
  view.setUint32(4, value >>> 0);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** u64be(height) ‖ u32be(txIndex) ‖ u16be(eventIndex): chain order. */
export function eventPosition(
  event: Pick<ContractEvent, 'height' | 'txIndex' | 'eventIndex'>,
): Uint8Array {
  const out = new Uint8Array(14);
  out.set(u64(event.height), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, event.txIndex);
  view.setUint16(12, event.eventIndex);
  return out;
}

/** Index key of a grantee: `inst/<id>` or `member/‖publicKey`. */
export function granteeIndexKey(grantee: Grantee): Uint8Array {
  return grantee.kind === 'institution'
    ? utf8(`inst/${grantee.institution}`)
    : concat(utf8('member/'), grantee.member);
}

/** The proleptic Gregorian UTC date of a millisecond timestamp, `YYYY-MM-DD` (pure arithmetic). */
export function utcDay(timestampMs: number): string {
  const days = Math.floor(timestampMs / 86_400_000);
  // H. Hinnant, civil_from_days
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

export function statsKey(institution: string, statistic: string, day: string): Uint8Array {
  return utf8(`${institution}/${statistic}/${day}`);
}

export interface EventIndexes {
  readonly entries: ContractIndexEntry[];
  readonly removals: ContractIndexRef[];
}

function grantValue(
  event: ContractEvent,
  grantId: string,
  kind: GrantKind,
  grantee: Grantee,
  expiresAt: number,
): CodecValue {
  return {
    grantId,
    kind,
    grantorInstitution: event.actorInstitution,
    grantee: granteeToCodec(grantee),
    expiresAt,
    height: event.height,
    txHash: event.txHash,
  };
}

/** Index entries and removals for one event. */
export function indexesForEvent(event: ContractEvent): EventIndexes {
  const entries: ContractIndexEntry[] = [];
  const removals: ContractIndexRef[] = [];
  const position = eventPosition(event);
  const audit = eventToCodec(event);
  const institutions = new Set<string>([event.actorInstitution]);
  const recordIds = new Set<string>();
  let patient: Uint8Array | null = null;
  const stats: [institution: string, statistic: string, counterpart: string | null][] = [];
  const put = (index: string, key: Uint8Array, suffix: Uint8Array, value: CodecValue): void => {
    entries.push({ index, key, suffix, value });
  };

  switch (event.type) {
    case 'member.certified':
    case 'member.revoked': {
      institutions.add(event.institution);
      patient = event.patient;
      put(INDEX.memberByInstitution, utf8(event.institution), event.member, {
        memberId: event.memberId,
        role: event.role,
        lastEvent: event.type,
        height: event.height,
      });
      stats.push([event.institution, event.type, null]);
      break;
    }
    case 'record.registered': {
      institutions.add(event.owner);
      patient = event.patient;
      recordIds.add(event.recordId);
      const value = {
        recordId: event.recordId,
        owner: event.owner,
        recordType: event.recordType,
        level: event.level,
        height: event.height,
      };
      const suffix = concat(position, utf8(event.recordId));
      put(INDEX.recordByPatient, event.patient, suffix, value);
      put(INDEX.recordByOwner, utf8(event.owner), suffix, value);
      stats.push([event.owner, 'record.registered', null]);
      break;
    }
    case 'consent.granted':
    case 'consent.revoked': {
      patient = event.patient;
      if (event.scope.kind === 'records') for (const id of event.scope.records) recordIds.add(id);
      const counterpart = event.grantee.kind === 'institution' ? event.grantee.institution : null;
      if (counterpart !== null) institutions.add(counterpart);
      if (event.type === 'consent.granted') {
        const value = grantValue(event, event.grantId, 'consent', event.grantee, event.expiresAt);
        const suffix = concat(u64(event.height), utf8(event.grantId));
        for (const id of recordIds) put(INDEX.grantByRecord, utf8(id), suffix, value);
        put(INDEX.grantByPatient, event.patient, suffix, value);
        put(INDEX.grantByGrantee, granteeIndexKey(event.grantee), suffix, value);
        stats.push([event.actorInstitution, 'consent.granted', counterpart]);
        if (counterpart !== null)
          stats.push([counterpart, 'consent.received', event.actorInstitution]);
      } else {
        stats.push([event.actorInstitution, 'consent.revoked', counterpart]);
      }
      break;
    }
    case 'referral.created': {
      patient = event.patient;
      institutions.add(event.from).add(event.to);
      for (const id of event.recordIds) recordIds.add(id);
      const referralValue = {
        referralId: event.referralId,
        from: event.from,
        to: event.to,
        patient: event.patient,
        height: event.height,
      };
      const byHeight = concat(u64(event.height), utf8(event.referralId));
      put(INDEX.referralByTo, utf8(event.to), byHeight, referralValue);
      put(INDEX.referralByFrom, utf8(event.from), byHeight, referralValue);
      put(INDEX.referralOpenByTo, utf8(event.to), utf8(event.referralId), referralValue);
      put(INDEX.referralOpenByFrom, utf8(event.from), utf8(event.referralId), referralValue);
      const grantee: Grantee = { kind: 'institution', institution: event.to };
      const value = grantValue(event, event.grantId, 'referral', grantee, event.expiresAt);
      const suffix = concat(u64(event.height), utf8(event.grantId));
      for (const id of recordIds) put(INDEX.grantByRecord, utf8(id), suffix, value);
      put(INDEX.grantByPatient, event.patient, suffix, value);
      put(INDEX.grantByGrantee, granteeIndexKey(grantee), suffix, value);
      stats.push(
        [event.from, 'referral.sent', event.to],
        [event.to, 'referral.received', event.from],
      );
      break;
    }
    case 'referral.accepted':
    case 'referral.rejected':
    case 'referral.completed': {
      patient = event.patient;
      institutions.add(event.from).add(event.to);
      for (const id of event.recordIds) recordIds.add(id);
      if (event.type !== 'referral.accepted') {
        removals.push(
          { index: INDEX.referralOpenByTo, key: utf8(event.to), suffix: utf8(event.referralId) },
          {
            index: INDEX.referralOpenByFrom,
            key: utf8(event.from),
            suffix: utf8(event.referralId),
          },
        );
      }
      if (event.type === 'referral.completed' && event.summaryRecordId !== null) {
        recordIds.add(event.summaryRecordId);
        if (event.returnGrantId !== null && event.returnExpiresAt !== null) {
          const grantee: Grantee = { kind: 'institution', institution: event.from };
          const value = grantValue(
            event,
            event.returnGrantId,
            'referral-return',
            grantee,
            event.returnExpiresAt,
          );
          const suffix = concat(u64(event.height), utf8(event.returnGrantId));
          put(INDEX.grantByRecord, utf8(event.summaryRecordId), suffix, value);
          put(INDEX.grantByGrantee, granteeIndexKey(grantee), suffix, value);
        }
      }
      stats.push([event.to, event.type, event.from]);
      break;
    }
    case 'access.logged': {
      patient = event.patient;
      institutions.add(event.owner);
      recordIds.add(event.recordId);
      stats.push([event.actorInstitution, 'access.made', event.owner]);
      if (event.owner !== event.actorInstitution) {
        stats.push([event.owner, 'access.served', event.actorInstitution]);
      }
      break;
    }
  }

  for (const id of recordIds) put(INDEX.auditByRecord, utf8(id), position, audit);
  if (patient !== null) put(INDEX.auditByPatient, patient, position, audit);
  for (const institution of [...institutions].sort()) {
    put(INDEX.auditByInstitution, utf8(institution), position, audit);
  }
  const day = utcDay(event.timestamp);
  for (const [institution, statistic, counterpart] of stats) {
    put(
      INDEX.statsDaily,
      statsKey(institution, statistic, day),
      concat(u64(event.timestamp), position),
      {
        event: event.type,
        height: event.height,
        txHash: event.txHash,
        counterpart,
      },
    );
  }
  return { entries, removals };
}

/** Identity of an index entry (index, key, suffix) for net computation. */
export function indexEntryId(ref: ContractIndexRef): string {
  return `${ref.index}\u0000${toHex(ref.key)}\u0000${toHex(ref.suffix)}`;
}
