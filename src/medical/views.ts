/**
 * Read models for the medical API: lists come from the contracts' secondary
 * indexes (docs/contracts.md §9), current status from world state by id
 * (index values are never updated in place). Everything returned is JSON with
 * bytes as lower-case hex; nothing here decides who may see what
 * (./routes.ts does).
 */
import { toHex } from '../codec/index.js';
import type { CodecValue } from '../codec/index.js';
import {
  getGrant,
  getMember,
  getRecord,
  getReferral,
  grantToJson,
  INDEX,
  memberToJson,
  recordToJson,
  referralToJson,
  statsKey,
  utcDay,
} from '../contracts/index.js';
import type {
  Grant,
  Json,
  MemberCertificate,
  RecordEntry,
  Referral,
  StateReader,
} from '../contracts/index.js';
import type { Genesis } from '../identity/types.js';

/** What views read from storage: `IndexRepository.scan`. */
export interface IndexReader {
  scan(
    index: string,
    key: Uint8Array,
    options?: { readonly limit?: number; readonly reverse?: boolean },
  ): AsyncIterable<{ readonly suffix: Uint8Array; readonly value: CodecValue }>;
}

export interface ListOptions {
  readonly limit: number;
  /** Newest first. */
  readonly reverse: boolean;
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function field(value: CodecValue, name: string): CodecValue | undefined {
  if (
    value === null ||
    typeof value !== 'object' ||
    value instanceof Uint8Array ||
    Array.isArray(value)
  ) {
    return undefined;
  }
  return (value as { readonly [k: string]: CodecValue })[name];
}

function stringField(value: CodecValue, name: string): string | undefined {
  const v = field(value, name);
  return typeof v === 'string' ? v : undefined;
}

/** A codec value as JSON: bytes → hex, bigints → decimal strings. */
export function codecToJson(value: CodecValue): Json {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return (value as readonly CodecValue[]).map((v) => codecToJson(v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value as { readonly [k: string]: CodecValue }))
      out[k] = codecToJson(v);
    return out;
  }
  return value;
}

async function collect(
  indexes: IndexReader,
  index: string,
  key: Uint8Array,
  options: ListOptions,
): Promise<{ suffix: Uint8Array; value: CodecValue }[]> {
  const out: { suffix: Uint8Array; value: CodecValue }[] = [];
  for await (const hit of indexes.scan(index, key, {
    limit: options.limit,
    reverse: options.reverse,
  })) {
    out.push({ suffix: hit.suffix, value: hit.value });
    if (out.length >= options.limit) break;
  }
  return out;
}

/** Ids named by an index's values (`grantId`, `referralId`, `recordId`), deduplicated in order. */
async function idsFrom(
  indexes: IndexReader,
  index: string,
  key: Uint8Array,
  idField: string,
  options: ListOptions,
): Promise<string[]> {
  const ids: string[] = [];
  for (const hit of await collect(indexes, index, key, options)) {
    const id = stringField(hit.value, idField);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

export async function grantsFromIndex(
  indexes: IndexReader,
  state: StateReader,
  index: typeof INDEX.grantByRecord | typeof INDEX.grantByPatient | typeof INDEX.grantByGrantee,
  key: Uint8Array,
  options: ListOptions,
): Promise<Grant[]> {
  const ids = await idsFrom(indexes, index, key, 'grantId', options);
  return ids.map((id) => getGrant(state, id)).filter((g): g is Grant => g !== undefined);
}

export async function referralsFromIndex(
  indexes: IndexReader,
  state: StateReader,
  index:
    | typeof INDEX.referralByTo
    | typeof INDEX.referralByFrom
    | typeof INDEX.referralOpenByTo
    | typeof INDEX.referralOpenByFrom,
  institutionId: string,
  options: ListOptions,
): Promise<Referral[]> {
  const ids = await idsFrom(indexes, index, utf8(institutionId), 'referralId', options);
  return ids.map((id) => getReferral(state, id)).filter((r): r is Referral => r !== undefined);
}

export async function recordsFromIndex(
  indexes: IndexReader,
  state: StateReader,
  index: typeof INDEX.recordByPatient | typeof INDEX.recordByOwner,
  key: Uint8Array,
  options: ListOptions,
): Promise<RecordEntry[]> {
  const ids = await idsFrom(indexes, index, key, 'recordId', options);
  return ids.map((id) => getRecord(state, id)).filter((r): r is RecordEntry => r !== undefined);
}

export async function membersOf(
  indexes: IndexReader,
  state: StateReader,
  institutionId: string,
  options: ListOptions,
): Promise<MemberCertificate[]> {
  const out: MemberCertificate[] = [];
  for (const hit of await collect(
    indexes,
    INDEX.memberByInstitution,
    utf8(institutionId),
    options,
  )) {
    const cert = getMember(state, hit.suffix);
    if (cert !== undefined) out.push(cert);
  }
  return out;
}

/** A record without its sealed parts, for lists. */
export function recordSummaryJson(record: RecordEntry): Json {
  return {
    id: record.id,
    owner: record.owner,
    patient: toHex(record.patient),
    recordType: record.recordType,
    level: record.level,
    storage: record.storage,
    contentHash: toHex(record.contentHash),
    registeredAt: record.registeredAt,
    referralId: record.referralId,
  };
}

export { grantToJson, memberToJson, recordToJson, referralToJson };

/**
 * One audit entry: the stored event (`eventToCodec`) as JSON, plus the
 * block time as ISO 8601 and the acting member's id when the actor is a
 * member key (`institution` when it is an institution key).
 */
export function auditEntryJson(value: CodecValue, state: StateReader, genesis: Genesis): Json {
  const json = codecToJson(value) as { readonly [k: string]: Json };
  const timestamp = field(value, 'timestamp');
  const actor = field(value, 'actor');
  let actorMemberId: string | null = null;
  if (actor instanceof Uint8Array) {
    if (genesis.institutions.some((i) => toHex(i.signingKey) === toHex(actor)))
      actorMemberId = null;
    else actorMemberId = getMember(state, actor)?.memberId ?? null;
  }
  return {
    ...json,
    time: typeof timestamp === 'number' ? new Date(timestamp).toISOString() : null,
    actorMemberId,
  };
}

export async function auditTrail(
  indexes: IndexReader,
  state: StateReader,
  genesis: Genesis,
  index: typeof INDEX.auditByRecord | typeof INDEX.auditByPatient | typeof INDEX.auditByInstitution,
  key: Uint8Array,
  options: ListOptions,
): Promise<Json[]> {
  return (await collect(indexes, index, key, options)).map((hit) =>
    auditEntryJson(hit.value, state, genesis),
  );
}

// ---------------------------------------------------------------------------
// statistics

/** Every statistic the contracts count per institution and UTC day (docs/contracts.md §9). */
export const STATISTICS = [
  'record.registered',
  'consent.granted',
  'consent.revoked',
  'consent.received',
  'referral.sent',
  'referral.received',
  'referral.accepted',
  'referral.rejected',
  'referral.completed',
  'access.made',
  'access.served',
  'member.certified',
  'member.revoked',
] as const;
export type Statistic = (typeof STATISTICS)[number];

export type StatisticsGranularity = 'total' | 'month' | 'day';
export const MAX_STATISTICS_DAYS = 366;
const DAY_MS = 86_400_000;

export interface StatisticsQuery {
  /** First and last UTC day, `YYYY-MM-DD`, inclusive. */
  readonly from: string;
  readonly to: string;
  readonly institutions: readonly string[];
  readonly statistics: readonly Statistic[];
  readonly by: StatisticsGranularity;
}

export interface StatisticsRow {
  readonly institution: string;
  readonly statistic: Statistic;
  /** `YYYY-MM-DD`, `YYYY-MM`, or `from..to` for totals. */
  readonly period: string;
  readonly count: number;
}

export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** Every UTC day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const start = dayStartMs(from);
  const end = dayStartMs(to);
  const days: string[] = [];
  for (let t = start; t <= end && days.length <= MAX_STATISTICS_DAYS; t += DAY_MS)
    days.push(utcDay(t));
  return days;
}

/** Counts of each statistic per institution and period, from the `stats.daily` index. Rows with 0 are left out. */
export async function statistics(
  indexes: IndexReader,
  query: StatisticsQuery,
): Promise<StatisticsRow[]> {
  const rows = new Map<string, StatisticsRow>();
  const days = daysBetween(query.from, query.to);
  for (const institution of query.institutions) {
    for (const statistic of query.statistics) {
      for (const day of days) {
        let count = 0;
        for await (const _hit of indexes.scan(
          INDEX.statsDaily,
          statsKey(institution, statistic, day),
        ))
          count++;
        if (count === 0) continue;
        const period =
          query.by === 'day'
            ? day
            : query.by === 'month'
              ? day.slice(0, 7)
              : `${query.from}..${query.to}`;
        const id = `${institution}\u0000${statistic}\u0000${period}`;
        const previous = rows.get(id)?.count ?? 0;
        rows.set(id, { institution, statistic, period, count: previous + count });
      }
    }
  }
  return [...rows.values()];
}
