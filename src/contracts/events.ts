/**
 * Typed contract events with namespaced names (STYLE.md §10). Every event a
 * successful transaction emits carries where it happened (height, tx, block
 * time) and who did it; the node publishes them (WebSocket) and the indexes
 * (./indexes.ts) store them as the audit trail. Events hold pseudonyms, ids
 * and hashes only — never a plain patient identifier or locator.
 */
import type { CodecValue } from '../codec/index.js';
import { toHex } from '../codec/index.js';
import type { DataLevel, MemberRole } from '../identity/types.js';
import { granteeToCodec, granteeToJson, scopeToCodec, scopeToJson } from './model.js';
import type { ActorRole, Grantee, GrantKind, GrantScope, Json, RecordStorage } from './model.js';

/** A type alias, not an interface, so events stay assignable to `{ [field: string]: unknown }`. */
export type EventBase = {
  readonly height: number;
  readonly txIndex: number;
  /** Position of the event among its transaction's events. */
  readonly eventIndex: number;
  readonly txHash: Uint8Array;
  /** The block's timestamp (ms since the epoch): the event's time. */
  readonly timestamp: number;
  readonly actor: Uint8Array;
  readonly actorRole: ActorRole;
  readonly actorInstitution: string;
};

export interface ContractEventData {
  'member.certified': {
    readonly member: Uint8Array;
    readonly memberId: string;
    readonly role: MemberRole;
    readonly institution: string;
    readonly notBefore: number;
    readonly notAfter: number;
    readonly patient: Uint8Array | null;
    /** True when an existing certificate of the same member was replaced (renewal). */
    readonly renewed: boolean;
  };
  'member.revoked': {
    readonly member: Uint8Array;
    readonly memberId: string;
    readonly role: MemberRole;
    readonly institution: string;
    readonly patient: Uint8Array | null;
    readonly reason: string;
  };
  'record.registered': {
    readonly recordId: string;
    readonly patient: Uint8Array;
    readonly owner: string;
    readonly recordType: string;
    readonly level: DataLevel;
    readonly storage: RecordStorage;
    readonly referralId: string | null;
  };
  'consent.granted': {
    readonly grantId: string;
    readonly patient: Uint8Array;
    readonly grantee: Grantee;
    readonly scope: GrantScope;
    readonly purpose: string;
    readonly expiresAt: number;
    readonly patientSigned: boolean;
    readonly evidence: Uint8Array | null;
  };
  'consent.revoked': {
    readonly grantId: string;
    readonly grantKind: GrantKind;
    readonly patient: Uint8Array;
    readonly grantee: Grantee;
    readonly scope: GrantScope;
    readonly reason: string;
    readonly referralId: string | null;
  };
  'referral.created': {
    readonly referralId: string;
    readonly from: string;
    readonly to: string;
    readonly patient: Uint8Array;
    readonly recordIds: readonly string[];
    readonly reason: string;
    readonly expiresAt: number;
    /** The automatic grant to the receiving institution. */
    readonly grantId: string;
  };
  'referral.accepted': {
    readonly referralId: string;
    readonly from: string;
    readonly to: string;
    readonly patient: Uint8Array;
    readonly recordIds: readonly string[];
  };
  'referral.rejected': {
    readonly referralId: string;
    readonly from: string;
    readonly to: string;
    readonly patient: Uint8Array;
    readonly recordIds: readonly string[];
    readonly reason: string;
    readonly endedGrantId: string;
  };
  'referral.completed': {
    readonly referralId: string;
    readonly from: string;
    readonly to: string;
    readonly patient: Uint8Array;
    readonly recordIds: readonly string[];
    readonly endedGrantId: string;
    readonly summaryRecordId: string | null;
    /** The grant of the summary to the sending institution. */
    readonly returnGrantId: string | null;
    readonly returnExpiresAt: number | null;
  };
  'access.logged': {
    readonly recordId: string;
    readonly patient: Uint8Array;
    readonly owner: string;
    readonly recordType: string;
    readonly level: DataLevel;
    /** The grant used; `null` when the reader belongs to the owner institution. */
    readonly grantId: string | null;
    readonly purpose: string;
  };
}

export type ContractEventType = keyof ContractEventData;

export const CONTRACT_EVENT_TYPES = [
  'member.certified',
  'member.revoked',
  'record.registered',
  'consent.granted',
  'consent.revoked',
  'referral.created',
  'referral.accepted',
  'referral.rejected',
  'referral.completed',
  'access.logged',
] as const satisfies readonly ContractEventType[];

export type ContractEventOf<N extends ContractEventType> = EventBase & {
  readonly type: N;
} & ContractEventData[N];

export type ContractEvent = { [N in ContractEventType]: ContractEventOf<N> }[ContractEventType];

/** An event's content without its position (what a contract hands to `emit`). */
export type EventBody = {
  [N in ContractEventType]: { readonly type: N } & ContractEventData[N];
}[ContractEventType];

/** The canonical codec form of an event (what audit index entries store). */
export function eventToCodec(event: ContractEvent): CodecValue {
  const out: Record<string, CodecValue> = {};
  for (const [field, value] of Object.entries(event)) {
    if (field === 'grantee') out[field] = granteeToCodec(value as Grantee);
    else if (field === 'scope') out[field] = scopeToCodec(value as GrantScope);
    else out[field] = value as CodecValue;
  }
  return out;
}

/** The JSON form of an event: bytes as hex. */
export function eventToJson(event: ContractEvent): Json {
  const out: Record<string, Json> = {};
  for (const [field, value] of Object.entries(event)) {
    if (field === 'grantee') out[field] = granteeToJson(value as Grantee);
    else if (field === 'scope') out[field] = scopeToJson(value as GrantScope);
    else if (value instanceof Uint8Array) out[field] = toHex(value);
    else out[field] = value as Json;
  }
  return out;
}
