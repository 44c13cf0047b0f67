/**
 * Pure read helpers over committed state for the API, the vault and the
 * mempool. All are point reads (`StateReader.get`); lists (audit trails,
 * referrals per institution, grants per record) come from the indexes.
 */
import { readMember } from './actors.js';
import { decideAccess } from './access.js';
import type { AccessDecision, CanAccessOptions } from './access.js';
import type { ContractEnv } from './context.js';
import { readNonce } from './execute.js';
import { readGrant } from './grants.js';
import { stateKey } from './keys.js';
import { decodePatientKeyEntry } from './model.js';
import type { Grant, MemberCertificate, RecordEntry, Referral } from './model.js';
import type { StateReader } from './overlay.js';
import { readRecord } from './records.js';
import { readReferral } from './referrals.js';

export function getMember(
  state: StateReader,
  publicKey: Uint8Array,
): MemberCertificate | undefined {
  return readMember(state, publicKey);
}

export function getRecord(state: StateReader, recordId: string): RecordEntry | undefined {
  return readRecord(state, recordId);
}

export function getGrant(state: StateReader, grantId: string): Grant | undefined {
  return readGrant(state, grantId);
}

export function getReferral(state: StateReader, referralId: string): Referral | undefined {
  return readReferral(state, referralId);
}

/** The patient key bound to a pseudonym (whatever the state of its certificate). */
export function getPatientKey(state: StateReader, pseudonym: Uint8Array): Uint8Array | undefined {
  const bytes = state.get(stateKey.patientKey(pseudonym));
  return bytes === undefined ? undefined : decodePatientKeyEntry(bytes).publicKey;
}

/** The last nonce `signer` used, or `undefined` before its first transaction. */
export function getNonce(state: StateReader, signer: Uint8Array): number | undefined {
  return readNonce(state, signer);
}

/** The smallest nonce `signer`'s next transaction may use. */
export function nextNonce(state: StateReader, signer: Uint8Array): number {
  const last = readNonce(state, signer);
  return last === undefined ? 0 : last + 1;
}

/**
 * Whether `reader` (a member or institution public key) may read record
 * `recordId` at `height`: `{ok: true, basis, grantId}` or
 * `{ok: false, code, reason}` with a receipt code (ACCESS_DENIED,
 * ROLE_FORBIDDEN, UNKNOWN_RECORD, CERT_REVOKED, …). Pass the height the read
 * happens at (the latest committed height for a live check).
 */
export function canAccess(
  env: ContractEnv,
  state: StateReader,
  height: number,
  reader: Uint8Array,
  recordId: string,
  options: CanAccessOptions = {},
): AccessDecision {
  return decideAccess(env, state, height, reader, recordId, options);
}
