/**
 * The values the contracts keep in world state: their TypeScript shapes, their
 * canonical codec form (CBOR maps whose keys are the field names; `null` for
 * an absent optional), strict decoders and JSON forms for the API. Bytes are
 * raw inside and lower-case hex in JSON. None of them holds a plain patient
 * identifier or a plain locator: patients appear as pseudonyms, locators and
 * metadata only sealed.
 */
import { decode, encode, toHex } from '../codec/index.js';
import type { CodecValue } from '../codec/index.js';
import { createFieldReader, fieldPath } from '../codec/fields.js';
import type { FieldRecord } from '../codec/fields.js';
import { InvariantError } from '../errors.js';
import { DATA_LEVELS, MEMBER_ROLES } from '../identity/types.js';
import type { DataLevel, MemberRole } from '../identity/types.js';
import { CONTRACT_LIMITS } from './limits.js';

/** Who acted: a member role, or `institution` for an institution's own genesis key. */
export const ACTOR_ROLES = [...MEMBER_ROLES, 'institution'] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export const RECORD_STORAGE = ['vault', 'external'] as const;
export type RecordStorage = (typeof RECORD_STORAGE)[number];

export const GRANT_KINDS = ['consent', 'referral', 'referral-return'] as const;
export type GrantKind = (typeof GRANT_KINDS)[number];

export const GRANT_STATUS = ['active', 'revoked', 'ended'] as const;
export type GrantStatus = (typeof GRANT_STATUS)[number];

export const REFERRAL_STATUS = ['open', 'accepted', 'rejected', 'completed'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUS)[number];

/** A data key wrapped to a recipient. `recipient` is the recipient's signing public key (see docs/contracts.md). */
export interface KeyWrap {
  readonly recipient: Uint8Array;
  readonly wrapped: Uint8Array;
}

export interface RecordKeyWrap extends KeyWrap {
  readonly recordId: string;
}

/** Codec form: `{institution: id}` or `{member: publicKey}`. */
export type Grantee =
  | { readonly kind: 'institution'; readonly institution: string }
  | { readonly kind: 'member'; readonly member: Uint8Array };

/** Codec form: `{records: [ids]}` or `{patient, recordTypes, maxLevel}`. */
export type GrantScope =
  | { readonly kind: 'records'; readonly records: readonly string[] }
  | {
      readonly kind: 'patient';
      readonly patient: Uint8Array;
      readonly recordTypes: readonly string[];
      readonly maxLevel: DataLevel;
    };

export interface MemberCertificate {
  readonly memberId: string;
  readonly publicKey: Uint8Array;
  readonly role: MemberRole;
  readonly institution: string;
  /** First height at which the certificate is valid. */
  readonly notBefore: number;
  /** Last height at which the certificate is valid. */
  readonly notAfter: number;
  /** The pseudonym a `patient` key is bound to; `null` for other roles. */
  readonly patient: Uint8Array | null;
  readonly issuer: Uint8Array;
  readonly issuedAt: number;
  readonly issuedTx: Uint8Array;
  readonly revokedAt: number | null;
  readonly revokedBy: Uint8Array | null;
  readonly revocationReason: string | null;
}

/** `member-id/<institution>/<memberId>`: which key holds a member id. */
export interface MemberIdEntry {
  readonly publicKey: Uint8Array;
}

/** `patient-key/‖pseudonym`: the patient key bound to a pseudonym. */
export interface PatientKeyEntry {
  readonly publicKey: Uint8Array;
}

export interface RecordEntry {
  readonly id: string;
  readonly owner: string;
  readonly patient: Uint8Array;
  readonly recordType: string;
  readonly level: DataLevel;
  readonly contentHash: Uint8Array;
  /** AEAD ciphertexts under the record's data key: opaque to the chain. */
  readonly sealedLocator: Uint8Array;
  readonly sealedMetadata: Uint8Array;
  readonly wraps: readonly KeyWrap[];
  readonly storage: RecordStorage;
  readonly registeredBy: Uint8Array;
  readonly registeredAt: number;
  readonly registeredTx: Uint8Array;
  /** The referral whose completion registered this record (a discharge summary), if any. */
  readonly referralId: string | null;
}

export interface Grant {
  readonly id: string;
  readonly kind: GrantKind;
  readonly grantor: Uint8Array;
  readonly grantorRole: ActorRole;
  readonly grantorInstitution: string;
  /** The patient every covered record belongs to. */
  readonly patient: Uint8Array;
  /** Signed by the patient's own key (required for L4). */
  readonly patientSigned: boolean;
  readonly grantee: Grantee;
  readonly scope: GrantScope;
  readonly purpose: string;
  /** Last height at which the grant is live. */
  readonly expiresAt: number;
  /** Hash of the signed consent an institution holds, when the institution grants. */
  readonly evidence: Uint8Array | null;
  readonly wraps: readonly RecordKeyWrap[];
  readonly referralId: string | null;
  readonly createdAt: number;
  readonly createdTx: Uint8Array;
  readonly status: GrantStatus;
  readonly closedAt: number | null;
  readonly closedBy: Uint8Array | null;
  readonly closeReason: string | null;
}

export interface Referral {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly patient: Uint8Array;
  readonly recordIds: readonly string[];
  readonly reason: string;
  /** Last height at which the referral (and its grant) is live unless it closes first. */
  readonly expiresAt: number;
  readonly status: ReferralStatus;
  readonly grantId: string;
  readonly createdBy: Uint8Array;
  readonly createdAt: number;
  readonly createdTx: Uint8Array;
  readonly acceptedBy: Uint8Array | null;
  readonly acceptedAt: number | null;
  readonly closedBy: Uint8Array | null;
  readonly closedAt: number | null;
  readonly closeReason: string | null;
  readonly summaryRecordId: string | null;
  readonly returnGrantId: string | null;
}

/** The live grants of one (record or patient, grantee) pair, sorted by id. */
export interface AccessSlot {
  readonly grants: readonly string[];
}

// ---------------------------------------------------------------------------
// codec form

export function granteeToCodec(grantee: Grantee): CodecValue {
  return grantee.kind === 'institution'
    ? { institution: grantee.institution }
    : { member: grantee.member };
}

export function scopeToCodec(scope: GrantScope): CodecValue {
  return scope.kind === 'records'
    ? { records: [...scope.records] }
    : { patient: scope.patient, recordTypes: [...scope.recordTypes], maxLevel: scope.maxLevel };
}

export function keyWrapToCodec(wrap: KeyWrap): CodecValue {
  return { recipient: wrap.recipient, wrapped: wrap.wrapped };
}

export function recordKeyWrapToCodec(wrap: RecordKeyWrap): CodecValue {
  return { recordId: wrap.recordId, recipient: wrap.recipient, wrapped: wrap.wrapped };
}

export function memberToCodec(m: MemberCertificate): CodecValue {
  return {
    memberId: m.memberId,
    publicKey: m.publicKey,
    role: m.role,
    institution: m.institution,
    notBefore: m.notBefore,
    notAfter: m.notAfter,
    patient: m.patient,
    issuer: m.issuer,
    issuedAt: m.issuedAt,
    issuedTx: m.issuedTx,
    revokedAt: m.revokedAt,
    revokedBy: m.revokedBy,
    revocationReason: m.revocationReason,
  };
}

export function recordToCodec(r: RecordEntry): CodecValue {
  return {
    id: r.id,
    owner: r.owner,
    patient: r.patient,
    recordType: r.recordType,
    level: r.level,
    contentHash: r.contentHash,
    sealedLocator: r.sealedLocator,
    sealedMetadata: r.sealedMetadata,
    wraps: r.wraps.map(keyWrapToCodec),
    storage: r.storage,
    registeredBy: r.registeredBy,
    registeredAt: r.registeredAt,
    registeredTx: r.registeredTx,
    referralId: r.referralId,
  };
}

export function grantToCodec(g: Grant): CodecValue {
  return {
    id: g.id,
    kind: g.kind,
    grantor: g.grantor,
    grantorRole: g.grantorRole,
    grantorInstitution: g.grantorInstitution,
    patient: g.patient,
    patientSigned: g.patientSigned,
    grantee: granteeToCodec(g.grantee),
    scope: scopeToCodec(g.scope),
    purpose: g.purpose,
    expiresAt: g.expiresAt,
    evidence: g.evidence,
    wraps: g.wraps.map(recordKeyWrapToCodec),
    referralId: g.referralId,
    createdAt: g.createdAt,
    createdTx: g.createdTx,
    status: g.status,
    closedAt: g.closedAt,
    closedBy: g.closedBy,
    closeReason: g.closeReason,
  };
}

export function referralToCodec(r: Referral): CodecValue {
  return {
    id: r.id,
    from: r.from,
    to: r.to,
    patient: r.patient,
    recordIds: [...r.recordIds],
    reason: r.reason,
    expiresAt: r.expiresAt,
    status: r.status,
    grantId: r.grantId,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    createdTx: r.createdTx,
    acceptedBy: r.acceptedBy,
    acceptedAt: r.acceptedAt,
    closedBy: r.closedBy,
    closedAt: r.closedAt,
    closeReason: r.closeReason,
    summaryRecordId: r.summaryRecordId,
    returnGrantId: r.returnGrantId,
  };
}

export const encodeMember = (m: MemberCertificate): Uint8Array => encode(memberToCodec(m));
export const encodeRecord = (r: RecordEntry): Uint8Array => encode(recordToCodec(r));
export const encodeGrant = (g: Grant): Uint8Array => encode(grantToCodec(g));
export const encodeReferral = (r: Referral): Uint8Array => encode(referralToCodec(r));
export const encodeMemberIdEntry = (e: MemberIdEntry): Uint8Array =>
  encode({ publicKey: e.publicKey });
export const encodePatientKeyEntry = (e: PatientKeyEntry): Uint8Array =>
  encode({ publicKey: e.publicKey });
export const encodeAccessSlot = (s: AccessSlot): Uint8Array => encode({ grants: [...s.grants] });
export const encodeNonce = (nonce: number): Uint8Array => encode(nonce);

// ---------------------------------------------------------------------------
// decoding (state is written only by the contracts: a bad value is a bug or corruption)

const read = createFieldReader((path, problem) => {
  throw new InvariantError(`corrupt contract state value: ${path}: ${problem}`, { field: path });
});

const MAX_KEY = { minLength: 1, maxLength: 128 } as const;
const HASH = { length: 32 } as const;
const ID = { minLength: 1, maxLength: 80 } as const;
const TOKEN = { minLength: 1, maxLength: CONTRACT_LIMITS.maxTokenLength } as const;
const PSEUDONYM = { length: CONTRACT_LIMITS.pseudonymBytes } as const;

/**
 * State values are bytes the contracts encoded themselves (and the state root
 * commits to those bytes): the canonical re-encode that guards bytes from the
 * network would only double the cost of every state read here.
 */
function decodeValue(bytes: Uint8Array, what: string): CodecValue {
  try {
    return decode(bytes, { canonical: false });
  } catch (err) {
    throw new InvariantError(`corrupt contract state value (${what}): ${(err as Error).message}`);
  }
}

function orNull<T>(value: unknown, readOne: (v: unknown) => T): T | null {
  return value === null ? null : readOne(value);
}

function readKeyWrap(value: unknown, path: string): KeyWrap {
  const r = read.record(value, path, ['recipient', 'wrapped']);
  return {
    recipient: read.bytes(r.recipient, fieldPath(path, 'recipient'), MAX_KEY),
    wrapped: read.bytes(r.wrapped, fieldPath(path, 'wrapped'), {
      minLength: 1,
      maxLength: CONTRACT_LIMITS.maxWrappedKeyBytes,
    }),
  };
}

function readRecordKeyWrap(value: unknown, path: string): RecordKeyWrap {
  const r = read.record(value, path, ['recordId', 'recipient', 'wrapped']);
  return {
    recordId: read.string(r.recordId, fieldPath(path, 'recordId'), ID),
    ...readKeyWrap({ recipient: r.recipient, wrapped: r.wrapped }, path),
  };
}

export function readGrantee(value: unknown, path: string): Grantee {
  const r = read.map(value, path);
  if (Object.hasOwn(r, 'institution')) {
    const g = read.record(r, path, ['institution']);
    return {
      kind: 'institution',
      institution: read.string(g.institution, fieldPath(path, 'institution'), ID),
    };
  }
  const g = read.record(r, path, ['member']);
  return { kind: 'member', member: read.bytes(g.member, fieldPath(path, 'member'), MAX_KEY) };
}

function readScope(value: unknown, path: string): GrantScope {
  const r = read.map(value, path);
  if (Object.hasOwn(r, 'records')) {
    const s = read.record(r, path, ['records']);
    const records = read.array(s.records, fieldPath(path, 'records'), { maxLength: 1024 });
    return {
      kind: 'records',
      records: records.map((id, i) =>
        read.string(id, fieldPath(fieldPath(path, 'records'), i), ID),
      ),
    };
  }
  const s = read.record(r, path, ['patient', 'recordTypes', 'maxLevel']);
  const types = read.array(s.recordTypes, fieldPath(path, 'recordTypes'), { maxLength: 64 });
  return {
    kind: 'patient',
    patient: read.bytes(s.patient, fieldPath(path, 'patient'), PSEUDONYM),
    recordTypes: types.map((t, i) =>
      read.string(t, fieldPath(fieldPath(path, 'recordTypes'), i), TOKEN),
    ),
    maxLevel: read.oneOf(s.maxLevel, fieldPath(path, 'maxLevel'), DATA_LEVELS),
  };
}

const MEMBER_FIELDS = [
  'memberId',
  'publicKey',
  'role',
  'institution',
  'notBefore',
  'notAfter',
  'patient',
  'issuer',
  'issuedAt',
  'issuedTx',
  'revokedAt',
  'revokedBy',
  'revocationReason',
] as const;

export function memberFromCodec(value: unknown): MemberCertificate {
  const r: FieldRecord = read.record(value, 'member', MEMBER_FIELDS);
  return {
    memberId: read.string(r.memberId, 'member.memberId', ID),
    publicKey: read.bytes(r.publicKey, 'member.publicKey', MAX_KEY),
    role: read.oneOf(r.role, 'member.role', MEMBER_ROLES),
    institution: read.string(r.institution, 'member.institution', ID),
    notBefore: read.integer(r.notBefore, 'member.notBefore'),
    notAfter: read.integer(r.notAfter, 'member.notAfter'),
    patient: orNull(r.patient, (v) => read.bytes(v, 'member.patient', PSEUDONYM)),
    issuer: read.bytes(r.issuer, 'member.issuer', MAX_KEY),
    issuedAt: read.integer(r.issuedAt, 'member.issuedAt'),
    issuedTx: read.bytes(r.issuedTx, 'member.issuedTx', HASH),
    revokedAt: orNull(r.revokedAt, (v) => read.integer(v, 'member.revokedAt')),
    revokedBy: orNull(r.revokedBy, (v) => read.bytes(v, 'member.revokedBy', MAX_KEY)),
    revocationReason: orNull(r.revocationReason, (v) =>
      read.string(v, 'member.revocationReason', TOKEN),
    ),
  };
}

const RECORD_FIELDS = [
  'id',
  'owner',
  'patient',
  'recordType',
  'level',
  'contentHash',
  'sealedLocator',
  'sealedMetadata',
  'wraps',
  'storage',
  'registeredBy',
  'registeredAt',
  'registeredTx',
  'referralId',
] as const;

export function recordFromCodec(value: unknown): RecordEntry {
  const r = read.record(value, 'record', RECORD_FIELDS);
  const wraps = read.array(r.wraps, 'record.wraps', {
    maxLength: CONTRACT_LIMITS.maxWrapsPerRecord,
  });
  return {
    id: read.string(r.id, 'record.id', ID),
    owner: read.string(r.owner, 'record.owner', ID),
    patient: read.bytes(r.patient, 'record.patient', PSEUDONYM),
    recordType: read.string(r.recordType, 'record.recordType', TOKEN),
    level: read.oneOf(r.level, 'record.level', DATA_LEVELS),
    contentHash: read.bytes(r.contentHash, 'record.contentHash', HASH),
    sealedLocator: read.bytes(r.sealedLocator, 'record.sealedLocator', {
      maxLength: CONTRACT_LIMITS.maxSealedLocatorBytes,
    }),
    sealedMetadata: read.bytes(r.sealedMetadata, 'record.sealedMetadata', {
      maxLength: CONTRACT_LIMITS.maxSealedMetadataBytes,
    }),
    wraps: wraps.map((w, i) => readKeyWrap(w, fieldPath('record.wraps', i))),
    storage: read.oneOf(r.storage, 'record.storage', RECORD_STORAGE),
    registeredBy: read.bytes(r.registeredBy, 'record.registeredBy', MAX_KEY),
    registeredAt: read.integer(r.registeredAt, 'record.registeredAt'),
    registeredTx: read.bytes(r.registeredTx, 'record.registeredTx', HASH),
    referralId: orNull(r.referralId, (v) => read.string(v, 'record.referralId', ID)),
  };
}

const GRANT_FIELDS = [
  'id',
  'kind',
  'grantor',
  'grantorRole',
  'grantorInstitution',
  'patient',
  'patientSigned',
  'grantee',
  'scope',
  'purpose',
  'expiresAt',
  'evidence',
  'wraps',
  'referralId',
  'createdAt',
  'createdTx',
  'status',
  'closedAt',
  'closedBy',
  'closeReason',
] as const;

export function grantFromCodec(value: unknown): Grant {
  const r = read.record(value, 'grant', GRANT_FIELDS);
  const wraps = read.array(r.wraps, 'grant.wraps', { maxLength: 1024 });
  return {
    id: read.string(r.id, 'grant.id', ID),
    kind: read.oneOf(r.kind, 'grant.kind', GRANT_KINDS),
    grantor: read.bytes(r.grantor, 'grant.grantor', MAX_KEY),
    grantorRole: read.oneOf(r.grantorRole, 'grant.grantorRole', ACTOR_ROLES),
    grantorInstitution: read.string(r.grantorInstitution, 'grant.grantorInstitution', ID),
    patient: read.bytes(r.patient, 'grant.patient', PSEUDONYM),
    patientSigned: read.boolean(r.patientSigned, 'grant.patientSigned'),
    grantee: readGrantee(r.grantee, 'grant.grantee'),
    scope: readScope(r.scope, 'grant.scope'),
    purpose: read.string(r.purpose, 'grant.purpose', TOKEN),
    expiresAt: read.integer(r.expiresAt, 'grant.expiresAt'),
    evidence: orNull(r.evidence, (v) => read.bytes(v, 'grant.evidence', HASH)),
    wraps: wraps.map((w, i) => readRecordKeyWrap(w, fieldPath('grant.wraps', i))),
    referralId: orNull(r.referralId, (v) => read.string(v, 'grant.referralId', ID)),
    createdAt: read.integer(r.createdAt, 'grant.createdAt'),
    createdTx: read.bytes(r.createdTx, 'grant.createdTx', HASH),
    status: read.oneOf(r.status, 'grant.status', GRANT_STATUS),
    closedAt: orNull(r.closedAt, (v) => read.integer(v, 'grant.closedAt')),
    closedBy: orNull(r.closedBy, (v) => read.bytes(v, 'grant.closedBy', MAX_KEY)),
    closeReason: orNull(r.closeReason, (v) => read.string(v, 'grant.closeReason', TOKEN)),
  };
}

const REFERRAL_FIELDS = [
  'id',
  'from',
  'to',
  'patient',
  'recordIds',
  'reason',
  'expiresAt',
  'status',
  'grantId',
  'createdBy',
  'createdAt',
  'createdTx',
  'acceptedBy',
  'acceptedAt',
  'closedBy',
  'closedAt',
  'closeReason',
  'summaryRecordId',
  'returnGrantId',
] as const;

export function referralFromCodec(value: unknown): Referral {
  const r = read.record(value, 'referral', REFERRAL_FIELDS);
  const ids = read.array(r.recordIds, 'referral.recordIds', {
    maxLength: CONTRACT_LIMITS.maxRecordsPerReferral,
  });
  return {
    id: read.string(r.id, 'referral.id', ID),
    from: read.string(r.from, 'referral.from', ID),
    to: read.string(r.to, 'referral.to', ID),
    patient: read.bytes(r.patient, 'referral.patient', PSEUDONYM),
    recordIds: ids.map((id, i) => read.string(id, fieldPath('referral.recordIds', i), ID)),
    reason: read.string(r.reason, 'referral.reason', TOKEN),
    expiresAt: read.integer(r.expiresAt, 'referral.expiresAt'),
    status: read.oneOf(r.status, 'referral.status', REFERRAL_STATUS),
    grantId: read.string(r.grantId, 'referral.grantId', ID),
    createdBy: read.bytes(r.createdBy, 'referral.createdBy', MAX_KEY),
    createdAt: read.integer(r.createdAt, 'referral.createdAt'),
    createdTx: read.bytes(r.createdTx, 'referral.createdTx', HASH),
    acceptedBy: orNull(r.acceptedBy, (v) => read.bytes(v, 'referral.acceptedBy', MAX_KEY)),
    acceptedAt: orNull(r.acceptedAt, (v) => read.integer(v, 'referral.acceptedAt')),
    closedBy: orNull(r.closedBy, (v) => read.bytes(v, 'referral.closedBy', MAX_KEY)),
    closedAt: orNull(r.closedAt, (v) => read.integer(v, 'referral.closedAt')),
    closeReason: orNull(r.closeReason, (v) => read.string(v, 'referral.closeReason', TOKEN)),
    summaryRecordId: orNull(r.summaryRecordId, (v) =>
      read.string(v, 'referral.summaryRecordId', ID),
    ),
    returnGrantId: orNull(r.returnGrantId, (v) => read.string(v, 'referral.returnGrantId', ID)),
  };
}

export const decodeMember = (bytes: Uint8Array): MemberCertificate =>
  memberFromCodec(decodeValue(bytes, 'member'));
export const decodeRecord = (bytes: Uint8Array): RecordEntry =>
  recordFromCodec(decodeValue(bytes, 'record'));
export const decodeGrant = (bytes: Uint8Array): Grant =>
  grantFromCodec(decodeValue(bytes, 'grant'));
export const decodeReferral = (bytes: Uint8Array): Referral =>
  referralFromCodec(decodeValue(bytes, 'referral'));

export function decodeMemberIdEntry(bytes: Uint8Array): MemberIdEntry {
  const r = read.record(decodeValue(bytes, 'member id'), 'memberIdEntry', ['publicKey']);
  return { publicKey: read.bytes(r.publicKey, 'memberIdEntry.publicKey', MAX_KEY) };
}

export function decodePatientKeyEntry(bytes: Uint8Array): PatientKeyEntry {
  const r = read.record(decodeValue(bytes, 'patient key'), 'patientKeyEntry', ['publicKey']);
  return { publicKey: read.bytes(r.publicKey, 'patientKeyEntry.publicKey', MAX_KEY) };
}

export function decodeAccessSlot(bytes: Uint8Array): AccessSlot {
  const r = read.record(decodeValue(bytes, 'access slot'), 'accessSlot', ['grants']);
  const grants = read.array(r.grants, 'accessSlot.grants', {
    maxLength: CONTRACT_LIMITS.maxGrantsPerSlot,
  });
  return { grants: grants.map((g, i) => read.string(g, fieldPath('accessSlot.grants', i), ID)) };
}

export function decodeNonce(bytes: Uint8Array): number {
  return read.integer(decodeValue(bytes, 'nonce'), 'nonce');
}

// ---------------------------------------------------------------------------
// JSON (API): bytes as lower-case hex, absent optionals as null

export type Json =
  string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json };

const hex = (bytes: Uint8Array): string => toHex(bytes);
const hexOrNull = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : toHex(bytes);

export function granteeToJson(grantee: Grantee): Json {
  return grantee.kind === 'institution'
    ? { institution: grantee.institution }
    : { member: hex(grantee.member) };
}

export function scopeToJson(scope: GrantScope): Json {
  return scope.kind === 'records'
    ? { records: [...scope.records] }
    : {
        patient: hex(scope.patient),
        recordTypes: [...scope.recordTypes],
        maxLevel: scope.maxLevel,
      };
}

export function memberToJson(m: MemberCertificate): Json {
  return {
    memberId: m.memberId,
    publicKey: hex(m.publicKey),
    role: m.role,
    institution: m.institution,
    notBefore: m.notBefore,
    notAfter: m.notAfter,
    patient: hexOrNull(m.patient),
    issuer: hex(m.issuer),
    issuedAt: m.issuedAt,
    issuedTx: hex(m.issuedTx),
    revokedAt: m.revokedAt,
    revokedBy: hexOrNull(m.revokedBy),
    revocationReason: m.revocationReason,
  };
}

export function recordToJson(r: RecordEntry): Json {
  return {
    id: r.id,
    owner: r.owner,
    patient: hex(r.patient),
    recordType: r.recordType,
    level: r.level,
    contentHash: hex(r.contentHash),
    sealedLocator: hex(r.sealedLocator),
    sealedMetadata: hex(r.sealedMetadata),
    wraps: r.wraps.map((w) => ({ recipient: hex(w.recipient), wrapped: hex(w.wrapped) })),
    storage: r.storage,
    registeredBy: hex(r.registeredBy),
    registeredAt: r.registeredAt,
    registeredTx: hex(r.registeredTx),
    referralId: r.referralId,
  };
}

export function grantToJson(g: Grant): Json {
  return {
    id: g.id,
    kind: g.kind,
    grantor: hex(g.grantor),
    grantorRole: g.grantorRole,
    grantorInstitution: g.grantorInstitution,
    patient: hex(g.patient),
    patientSigned: g.patientSigned,
    grantee: granteeToJson(g.grantee),
    scope: scopeToJson(g.scope),
    purpose: g.purpose,
    expiresAt: g.expiresAt,
    evidence: hexOrNull(g.evidence),
    wraps: g.wraps.map((w) => ({
      recordId: w.recordId,
      recipient: hex(w.recipient),
      wrapped: hex(w.wrapped),
    })),
    referralId: g.referralId,
    createdAt: g.createdAt,
    createdTx: hex(g.createdTx),
    status: g.status,
    closedAt: g.closedAt,
    closedBy: hexOrNull(g.closedBy),
    closeReason: g.closeReason,
  };
}

export function referralToJson(r: Referral): Json {
  return {
    id: r.id,
    from: r.from,
    to: r.to,
    patient: hex(r.patient),
    recordIds: [...r.recordIds],
    reason: r.reason,
    expiresAt: r.expiresAt,
    status: r.status,
    grantId: r.grantId,
    createdBy: hex(r.createdBy),
    createdAt: r.createdAt,
    createdTx: hex(r.createdTx),
    acceptedBy: hexOrNull(r.acceptedBy),
    acceptedAt: r.acceptedAt,
    closedBy: hexOrNull(r.closedBy),
    closedAt: r.closedAt,
    closeReason: r.closeReason,
    summaryRecordId: r.summaryRecordId,
    returnGrantId: r.returnGrantId,
  };
}
