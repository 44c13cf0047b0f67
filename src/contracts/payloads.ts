/**
 * Transaction payloads: one typed shape per transaction type, its canonical
 * codec form (a CBOR map; optional fields are absent, never `null`) and a
 * strict parser. A parser rejects a malformed payload with `INVALID_PAYLOAD`
 * naming the field (`payload.wraps[1].recipient: expected 32 bytes, got 31`).
 * src/records builds payloads with the `…ToCodec` functions and checks them
 * with the same parsers, so a client learns of a bad field before signing.
 */
import type { CodecValue } from '../codec/index.js';
import { createFieldReader, fieldPath } from '../codec/fields.js';
import type { FieldRecord } from '../codec/fields.js';
import { toHex } from '../codec/index.js';
import { INSTITUTION_ID_PATTERN } from '../identity/genesis.js';
import { DATA_LEVELS, MEMBER_ROLES } from '../identity/types.js';
import type { DataLevel, MemberRole } from '../identity/types.js';
import { invalidPayload } from './errors.js';
import {
  CONTRACT_LIMITS,
  GRANT_REF_HINT,
  GRANT_REF_PATTERN,
  ID_HINT,
  ID_PATTERN,
  TOKEN_HINT,
  TOKEN_PATTERN,
} from './limits.js';
import { granteeToCodec, keyWrapToCodec, recordKeyWrapToCodec, scopeToCodec } from './model.js';
import type { Grantee, GrantScope, KeyWrap, RecordKeyWrap, RecordStorage } from './model.js';
import { RECORD_STORAGE } from './model.js';

/** What payload checks need to know about the chain's suite. */
export interface PayloadRules {
  readonly publicKeyLength: number;
  readonly hashLength: number;
}

export type TxPayload = { readonly [key: string]: CodecValue };

export interface RecordRegisterPayload {
  readonly recordId: string;
  readonly patient: Uint8Array;
  readonly recordType: string;
  readonly level: DataLevel;
  readonly contentHash: Uint8Array;
  readonly sealedLocator: Uint8Array;
  readonly sealedMetadata: Uint8Array;
  readonly wraps: readonly KeyWrap[];
  readonly storage: RecordStorage;
}

export interface ConsentGrantPayload {
  readonly grantId: string;
  readonly grantee: Grantee;
  readonly scope: GrantScope;
  readonly purpose: string;
  readonly expiresAt: number;
  /** Hash of the signed paper or electronic consent; required when an institution grants. */
  readonly evidence: Uint8Array | null;
  readonly wraps: readonly RecordKeyWrap[];
}

export interface ConsentRevokePayload {
  readonly grantId: string;
  readonly reason: string;
}

export interface ReferralCreatePayload {
  readonly referralId: string;
  readonly to: string;
  readonly patient: Uint8Array;
  readonly recordIds: readonly string[];
  readonly reason: string;
  readonly expiresAt: number;
  /** One wrap per record for the receiving institution. */
  readonly wraps: readonly RecordKeyWrap[];
}

export interface ReferralAcceptPayload {
  readonly referralId: string;
}

export interface ReferralRejectPayload {
  readonly referralId: string;
  readonly reason: string;
}

export interface ReferralCompletePayload {
  readonly referralId: string;
  /** A summary (discharge summary) registered in this transaction, owned by the receiving institution. */
  readonly summary: RecordRegisterPayload | null;
  /** Or a summary registered earlier by the receiving institution. */
  readonly summaryRecordId: string | null;
  /** The summary's data key wrapped for the sending institution (with a summary). */
  readonly returnWrap: KeyWrap | null;
  /** Last height of the sending institution's grant to the summary (with a summary). */
  readonly returnExpiresAt: number | null;
}

export interface AccessLogPayload {
  readonly recordId: string;
  readonly purpose: string;
  /** The grant the reader relies on; when absent the contract picks a live one. */
  readonly grantId: string | null;
}

export interface MemberCertifyPayload {
  readonly memberId: string;
  readonly publicKey: Uint8Array;
  readonly role: MemberRole;
  readonly institution: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** For `patient` certificates: the pseudonym the key is bound to. */
  readonly patient: Uint8Array | null;
}

export interface MemberRevokePayload {
  readonly publicKey: Uint8Array;
  readonly reason: string;
}

// ---------------------------------------------------------------------------
// codec form

export function recordRegisterToCodec(p: RecordRegisterPayload): TxPayload {
  return {
    recordId: p.recordId,
    patient: p.patient,
    recordType: p.recordType,
    level: p.level,
    contentHash: p.contentHash,
    sealedLocator: p.sealedLocator,
    sealedMetadata: p.sealedMetadata,
    wraps: p.wraps.map(keyWrapToCodec),
    storage: p.storage,
  };
}

export function consentGrantToCodec(p: ConsentGrantPayload): TxPayload {
  return {
    grantId: p.grantId,
    grantee: granteeToCodec(p.grantee),
    scope: scopeToCodec(p.scope),
    purpose: p.purpose,
    expiresAt: p.expiresAt,
    ...(p.evidence === null ? {} : { evidence: p.evidence }),
    wraps: p.wraps.map(recordKeyWrapToCodec),
  };
}

export function consentRevokeToCodec(p: ConsentRevokePayload): TxPayload {
  return { grantId: p.grantId, reason: p.reason };
}

export function referralCreateToCodec(p: ReferralCreatePayload): TxPayload {
  return {
    referralId: p.referralId,
    to: p.to,
    patient: p.patient,
    recordIds: [...p.recordIds],
    reason: p.reason,
    expiresAt: p.expiresAt,
    wraps: p.wraps.map(recordKeyWrapToCodec),
  };
}

export function referralAcceptToCodec(p: ReferralAcceptPayload): TxPayload {
  return { referralId: p.referralId };
}

export function referralRejectToCodec(p: ReferralRejectPayload): TxPayload {
  return { referralId: p.referralId, reason: p.reason };
}

export function referralCompleteToCodec(p: ReferralCompletePayload): TxPayload {
  return {
    referralId: p.referralId,
    ...(p.summary === null ? {} : { summary: recordRegisterToCodec(p.summary) }),
    ...(p.summaryRecordId === null ? {} : { summaryRecordId: p.summaryRecordId }),
    ...(p.returnWrap === null ? {} : { returnWrap: keyWrapToCodec(p.returnWrap) }),
    ...(p.returnExpiresAt === null ? {} : { returnExpiresAt: p.returnExpiresAt }),
  };
}

export function accessLogToCodec(p: AccessLogPayload): TxPayload {
  return {
    recordId: p.recordId,
    purpose: p.purpose,
    ...(p.grantId === null ? {} : { grantId: p.grantId }),
  };
}

export function memberCertifyToCodec(p: MemberCertifyPayload): TxPayload {
  return {
    memberId: p.memberId,
    publicKey: p.publicKey,
    role: p.role,
    institution: p.institution,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    ...(p.patient === null ? {} : { patient: p.patient }),
  };
}

export function memberRevokeToCodec(p: MemberRevokePayload): TxPayload {
  return { publicKey: p.publicKey, reason: p.reason };
}

// ---------------------------------------------------------------------------
// parsing

const read = createFieldReader(invalidPayload);

const ID_RULE = {
  minLength: 1,
  maxLength: CONTRACT_LIMITS.maxIdLength,
  pattern: ID_PATTERN,
  patternHint: `not an id (${ID_HINT})`,
};
const TOKEN_RULE = {
  minLength: 1,
  maxLength: CONTRACT_LIMITS.maxTokenLength,
  pattern: TOKEN_PATTERN,
  patternHint: `not a token (${TOKEN_HINT})`,
};
/** Institution ids as in genesis. */
const INSTITUTION_RULE = {
  minLength: 1,
  maxLength: 64,
  pattern: INSTITUTION_ID_PATTERN,
  patternHint: "not an institution id (lower-case letters, digits or '-')",
};
const PSEUDONYM_RULE = { length: CONTRACT_LIMITS.pseudonymBytes } as const;
const WRAPPED_RULE = { minLength: 1, maxLength: CONTRACT_LIMITS.maxWrappedKeyBytes } as const;

const readId = (value: unknown, path: string): string => read.string(value, path, ID_RULE);
const GRANT_REF_RULE = {
  minLength: 1,
  maxLength: 80,
  pattern: GRANT_REF_PATTERN,
  patternHint: `not ${GRANT_REF_HINT}`,
};
const readGrantRef = (value: unknown, path: string): string =>
  read.string(value, path, GRANT_REF_RULE);
const readToken = (value: unknown, path: string): string => read.string(value, path, TOKEN_RULE);
const readHeight = (value: unknown, path: string): number => read.integer(value, path);

function readPublicKey(rules: PayloadRules, value: unknown, path: string): Uint8Array {
  return read.bytes(value, path, { length: rules.publicKeyLength });
}

function readIdList(value: unknown, path: string, maxLength: number): string[] {
  const entries = read.array(value, path, { minLength: 1, maxLength });
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const id = readId(entry, fieldPath(path, i));
    if (seen.has(id)) invalidPayload(fieldPath(path, i), `"${id}" is listed twice`);
    seen.add(id);
    return id;
  });
}

function readKeyWrap(rules: PayloadRules, value: unknown, path: string): KeyWrap {
  const r = read.record(value, path, ['recipient', 'wrapped']);
  return {
    recipient: readPublicKey(rules, r.recipient, fieldPath(path, 'recipient')),
    wrapped: read.bytes(r.wrapped, fieldPath(path, 'wrapped'), WRAPPED_RULE),
  };
}

function readKeyWraps(rules: PayloadRules, value: unknown, path: string): KeyWrap[] {
  const entries = read.array(value, path, {
    minLength: 1,
    maxLength: CONTRACT_LIMITS.maxWrapsPerRecord,
  });
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const wrap = readKeyWrap(rules, entry, fieldPath(path, i));
    const recipient = toHex(wrap.recipient);
    if (seen.has(recipient)) {
      invalidPayload(
        fieldPath(fieldPath(path, i), 'recipient'),
        'a second wrap for this recipient',
      );
    }
    seen.add(recipient);
    return wrap;
  });
}

/** Wraps of several records for one recipient: at most one per record. */
function readRecordKeyWraps(
  rules: PayloadRules,
  value: unknown,
  path: string,
  maxLength: number,
  minLength: number,
): RecordKeyWrap[] {
  const entries = read.array(value, path, { minLength, maxLength });
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const at = fieldPath(path, i);
    const r = read.record(entry, at, ['recordId', 'recipient', 'wrapped']);
    const recordId = readId(r.recordId, fieldPath(at, 'recordId'));
    if (seen.has(recordId))
      invalidPayload(fieldPath(at, 'recordId'), `a second wrap for "${recordId}"`);
    seen.add(recordId);
    return {
      recordId,
      recipient: readPublicKey(rules, r.recipient, fieldPath(at, 'recipient')),
      wrapped: read.bytes(r.wrapped, fieldPath(at, 'wrapped'), WRAPPED_RULE),
    };
  });
}

function readGrantee(rules: PayloadRules, value: unknown, path: string): Grantee {
  const r = read.map(value, path);
  if (Object.hasOwn(r, 'institution')) {
    const g = read.record(r, path, ['institution']);
    return {
      kind: 'institution',
      institution: read.string(g.institution, fieldPath(path, 'institution'), INSTITUTION_RULE),
    };
  }
  if (Object.hasOwn(r, 'member')) {
    const g = read.record(r, path, ['member']);
    return { kind: 'member', member: readPublicKey(rules, g.member, fieldPath(path, 'member')) };
  }
  return invalidPayload(path, 'expected {institution: id} or {member: publicKey}');
}

function readScope(value: unknown, path: string): GrantScope {
  const r = read.map(value, path);
  if (Object.hasOwn(r, 'records')) {
    const s = read.record(r, path, ['records']);
    return {
      kind: 'records',
      records: readIdList(
        s.records,
        fieldPath(path, 'records'),
        CONTRACT_LIMITS.maxRecordsPerGrant,
      ),
    };
  }
  if (Object.hasOwn(r, 'patient')) {
    const s = read.record(r, path, ['patient', 'recordTypes', 'maxLevel']);
    const typesPath = fieldPath(path, 'recordTypes');
    const entries = read.array(s.recordTypes, typesPath, {
      minLength: 1,
      maxLength: CONTRACT_LIMITS.maxRecordTypesPerScope,
    });
    const types = new Set<string>();
    entries.forEach((entry, i) => {
      const type = readToken(entry, fieldPath(typesPath, i));
      if (types.has(type)) invalidPayload(fieldPath(typesPath, i), `"${type}" is listed twice`);
      types.add(type);
    });
    return {
      kind: 'patient',
      patient: read.bytes(s.patient, fieldPath(path, 'patient'), PSEUDONYM_RULE),
      // a set: sorted, so listing order does not matter
      recordTypes: [...types].sort(),
      maxLevel: read.oneOf(s.maxLevel, fieldPath(path, 'maxLevel'), DATA_LEVELS),
    };
  }
  return invalidPayload(path, 'expected {records: [ids]} or {patient, recordTypes, maxLevel}');
}

function asRecord(
  payload: unknown,
  required: readonly string[],
  optional: readonly string[] = [],
): FieldRecord {
  return read.record(payload, '', required, optional);
}

function readRecordRegisterAt(
  rules: PayloadRules,
  value: unknown,
  path: string,
): RecordRegisterPayload {
  const r = read.record(value, path, [
    'recordId',
    'patient',
    'recordType',
    'level',
    'contentHash',
    'sealedLocator',
    'sealedMetadata',
    'wraps',
    'storage',
  ]);
  const at = (field: string): string => fieldPath(path, field);
  return {
    recordId: readId(r.recordId, at('recordId')),
    patient: read.bytes(r.patient, at('patient'), PSEUDONYM_RULE),
    recordType: readToken(r.recordType, at('recordType')),
    level: read.oneOf(r.level, at('level'), DATA_LEVELS),
    contentHash: read.bytes(r.contentHash, at('contentHash'), { length: rules.hashLength }),
    sealedLocator: read.bytes(r.sealedLocator, at('sealedLocator'), {
      minLength: 1,
      maxLength: CONTRACT_LIMITS.maxSealedLocatorBytes,
    }),
    sealedMetadata: read.bytes(r.sealedMetadata, at('sealedMetadata'), {
      minLength: 1,
      maxLength: CONTRACT_LIMITS.maxSealedMetadataBytes,
    }),
    wraps: readKeyWraps(rules, r.wraps, at('wraps')),
    storage: read.oneOf(r.storage, at('storage'), RECORD_STORAGE),
  };
}

export function parseRecordRegister(rules: PayloadRules, payload: unknown): RecordRegisterPayload {
  return readRecordRegisterAt(rules, payload, '');
}

export function parseConsentGrant(rules: PayloadRules, payload: unknown): ConsentGrantPayload {
  const r = asRecord(
    payload,
    ['grantId', 'grantee', 'scope', 'purpose', 'expiresAt', 'wraps'],
    ['evidence'],
  );
  return {
    grantId: readId(r.grantId, 'grantId'),
    grantee: readGrantee(rules, r.grantee, 'grantee'),
    scope: readScope(r.scope, 'scope'),
    purpose: readToken(r.purpose, 'purpose'),
    expiresAt: readHeight(r.expiresAt, 'expiresAt'),
    evidence:
      r.evidence === undefined
        ? null
        : read.bytes(r.evidence, 'evidence', { length: rules.hashLength }),
    wraps: readRecordKeyWraps(rules, r.wraps, 'wraps', CONTRACT_LIMITS.maxRecordsPerGrant, 0),
  };
}

export function parseConsentRevoke(_rules: PayloadRules, payload: unknown): ConsentRevokePayload {
  const r = asRecord(payload, ['grantId', 'reason']);
  return { grantId: readGrantRef(r.grantId, 'grantId'), reason: readToken(r.reason, 'reason') };
}

export function parseReferralCreate(rules: PayloadRules, payload: unknown): ReferralCreatePayload {
  const r = asRecord(payload, [
    'referralId',
    'to',
    'patient',
    'recordIds',
    'reason',
    'expiresAt',
    'wraps',
  ]);
  return {
    referralId: readId(r.referralId, 'referralId'),
    to: read.string(r.to, 'to', INSTITUTION_RULE),
    patient: read.bytes(r.patient, 'patient', PSEUDONYM_RULE),
    recordIds: readIdList(r.recordIds, 'recordIds', CONTRACT_LIMITS.maxRecordsPerReferral),
    reason: readToken(r.reason, 'reason'),
    expiresAt: readHeight(r.expiresAt, 'expiresAt'),
    wraps: readRecordKeyWraps(rules, r.wraps, 'wraps', CONTRACT_LIMITS.maxRecordsPerReferral, 1),
  };
}

export function parseReferralAccept(_rules: PayloadRules, payload: unknown): ReferralAcceptPayload {
  const r = asRecord(payload, ['referralId']);
  return { referralId: readId(r.referralId, 'referralId') };
}

export function parseReferralReject(_rules: PayloadRules, payload: unknown): ReferralRejectPayload {
  const r = asRecord(payload, ['referralId', 'reason']);
  return { referralId: readId(r.referralId, 'referralId'), reason: readToken(r.reason, 'reason') };
}

export function parseReferralComplete(
  rules: PayloadRules,
  payload: unknown,
): ReferralCompletePayload {
  const r = asRecord(
    payload,
    ['referralId'],
    ['summary', 'summaryRecordId', 'returnWrap', 'returnExpiresAt'],
  );
  const summary =
    r.summary === undefined ? null : readRecordRegisterAt(rules, r.summary, 'summary');
  const summaryRecordId =
    r.summaryRecordId === undefined ? null : readId(r.summaryRecordId, 'summaryRecordId');
  if (summary !== null && summaryRecordId !== null) {
    invalidPayload('summaryRecordId', 'give either summary or summaryRecordId, not both');
  }
  const returnWrap =
    r.returnWrap === undefined ? null : readKeyWrap(rules, r.returnWrap, 'returnWrap');
  const returnExpiresAt =
    r.returnExpiresAt === undefined ? null : readHeight(r.returnExpiresAt, 'returnExpiresAt');
  const hasSummary = summary !== null || summaryRecordId !== null;
  if (hasSummary && returnWrap === null) {
    invalidPayload(
      'returnWrap',
      'missing: a summary needs its data key wrapped for the sending institution',
    );
  }
  if (hasSummary && returnExpiresAt === null) {
    invalidPayload('returnExpiresAt', 'missing: a summary needs the expiry of the return grant');
  }
  if (!hasSummary && returnWrap !== null) invalidPayload('returnWrap', 'given without a summary');
  if (!hasSummary && returnExpiresAt !== null) {
    invalidPayload('returnExpiresAt', 'given without a summary');
  }
  return {
    referralId: readId(r.referralId, 'referralId'),
    summary,
    summaryRecordId,
    returnWrap,
    returnExpiresAt,
  };
}

export function parseAccessLog(_rules: PayloadRules, payload: unknown): AccessLogPayload {
  const r = asRecord(payload, ['recordId', 'purpose'], ['grantId']);
  return {
    recordId: readId(r.recordId, 'recordId'),
    purpose: readToken(r.purpose, 'purpose'),
    grantId: r.grantId === undefined ? null : readGrantRef(r.grantId, 'grantId'),
  };
}

export function parseMemberCertify(rules: PayloadRules, payload: unknown): MemberCertifyPayload {
  const r = asRecord(
    payload,
    ['memberId', 'publicKey', 'role', 'institution', 'notBefore', 'notAfter'],
    ['patient'],
  );
  const role = read.oneOf(r.role, 'role', MEMBER_ROLES);
  const patient = r.patient === undefined ? null : read.bytes(r.patient, 'patient', PSEUDONYM_RULE);
  if (role === 'patient' && patient === null) {
    invalidPayload('patient', 'missing: a patient certificate binds the key to a pseudonym');
  }
  if (role !== 'patient' && patient !== null) {
    invalidPayload('patient', `only patient certificates carry a pseudonym, not ${role}`);
  }
  const notBefore = readHeight(r.notBefore, 'notBefore');
  const notAfter = readHeight(r.notAfter, 'notAfter');
  if (notAfter < notBefore)
    invalidPayload('notAfter', `${notAfter} is before notBefore ${notBefore}`);
  return {
    memberId: readId(r.memberId, 'memberId'),
    publicKey: readPublicKey(rules, r.publicKey, 'publicKey'),
    role,
    institution: read.string(r.institution, 'institution', INSTITUTION_RULE),
    notBefore,
    notAfter,
    patient,
  };
}

export function parseMemberRevoke(rules: PayloadRules, payload: unknown): MemberRevokePayload {
  const r = asRecord(payload, ['publicKey', 'reason']);
  return {
    publicKey: readPublicKey(rules, r.publicKey, 'publicKey'),
    reason: readToken(r.reason, 'reason'),
  };
}
