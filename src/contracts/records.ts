/**
 * `record.register`: a doctor (or another role policy allows for the level)
 * of the owner institution registers a record pointer. The owner is always
 * the signer's institution. The chain keeps the locator and metadata only
 * sealed (opaque AEAD ciphertexts) and checks that the data key is wrapped
 * for the owner institution and, when the patient has a live key, for the
 * patient.
 */
import { bytesEqual, toHex } from '../codec/index.js';
import { certificateValidity, readMember, requirePolicy } from './actors.js';
import type { TxContext } from './context.js';
import { ContractCode, fail } from './errors.js';
import { stateKey } from './keys.js';
import { decodePatientKeyEntry, decodeRecord, encodeRecord } from './model.js';
import type { RecordEntry } from './model.js';
import type { StateReader } from './overlay.js';
import { parseRecordRegister } from './payloads.js';
import type { RecordRegisterPayload } from './payloads.js';

export function readRecord(state: StateReader, recordId: string): RecordEntry | undefined {
  const bytes = state.get(stateKey.record(recordId));
  return bytes === undefined ? undefined : decodeRecord(bytes);
}

/** A record that must exist: UNKNOWN_RECORD otherwise. */
export function requireRecord(state: StateReader, recordId: string): RecordEntry {
  return readRecord(state, recordId) ?? fail(ContractCode.unknownRecord, `no record ${recordId}`);
}

/** The patient key bound to a pseudonym, if its certificate is valid at `height`. */
export function livePatientKey(
  state: StateReader,
  pseudonym: Uint8Array,
  height: number,
): Uint8Array | undefined {
  const bytes = state.get(stateKey.patientKey(pseudonym));
  if (bytes === undefined) return undefined;
  const { publicKey } = decodePatientKeyEntry(bytes);
  const cert = readMember(state, publicKey);
  if (cert === undefined || !certificateValidity(cert, height).ok) return undefined;
  return publicKey;
}

/** Checks and stores a record; shared by `record.register` and `referral.complete` (summaries). */
export function registerRecord(
  ctx: TxContext,
  payload: RecordRegisterPayload,
  referralId: string | null,
): RecordEntry {
  const { env, state, actor } = ctx;
  requirePolicy(env.genesis, actor, 'register', payload.level);
  if (readRecord(state, payload.recordId) !== undefined) {
    fail(ContractCode.recordExists, `record ${payload.recordId} is already registered`);
  }
  checkRecordWraps(ctx, payload);
  const record: RecordEntry = {
    id: payload.recordId,
    owner: actor.institution.id,
    patient: payload.patient,
    recordType: payload.recordType,
    level: payload.level,
    contentHash: payload.contentHash,
    sealedLocator: payload.sealedLocator,
    sealedMetadata: payload.sealedMetadata,
    wraps: payload.wraps,
    storage: payload.storage,
    registeredBy: actor.publicKey,
    registeredAt: ctx.height,
    registeredTx: ctx.txHash,
    referralId,
  };
  state.put(stateKey.record(record.id), encodeRecord(record));
  ctx.emit({
    type: 'record.registered',
    recordId: record.id,
    patient: record.patient,
    owner: record.owner,
    recordType: record.recordType,
    level: record.level,
    storage: record.storage,
    referralId,
  });
  return record;
}

/**
 * Wraps must include the owner institution's key and the patient's live key
 * (if any); every other recipient must be a currently valid member of the
 * owner institution.
 */
function checkRecordWraps(ctx: TxContext, payload: RecordRegisterPayload): void {
  const owner = ctx.actor.institution;
  const patientKey = livePatientKey(ctx.state, payload.patient, ctx.height);
  const has = (key: Uint8Array): boolean => payload.wraps.some((w) => bytesEqual(w.recipient, key));
  if (!has(owner.signingKey)) {
    fail(ContractCode.wrapMissing, `no key wrap for the owner institution ${owner.id}`);
  }
  if (patientKey !== undefined && !has(patientKey)) {
    fail(ContractCode.wrapMissing, "no key wrap for the patient's key");
  }
  payload.wraps.forEach((wrap, i) => {
    if (bytesEqual(wrap.recipient, owner.signingKey)) return;
    if (patientKey !== undefined && bytesEqual(wrap.recipient, patientKey)) return;
    const cert = readMember(ctx.state, wrap.recipient);
    const ok =
      cert !== undefined &&
      cert.institution === owner.id &&
      cert.role !== 'patient' &&
      certificateValidity(cert, ctx.height).ok;
    if (!ok) {
      fail(
        ContractCode.wrapInvalid,
        `wraps[${i}].recipient ${toHex(wrap.recipient).slice(0, 16)}… is not the owner institution, the patient or a valid member of ${owner.id}`,
      );
    }
  });
}

export function recordRegister(ctx: TxContext, payload: unknown): void {
  registerRecord(ctx, parseRecordRegister(ctx.rules, payload), null);
}
