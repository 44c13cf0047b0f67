/**
 * The medical actions as a hospital system (or the CLI) performs them,
 * client side: build the payload with src/records, seal and wrap what must
 * be sealed and wrapped, sign, submit to a node, wait for the receipt. Plain
 * patient ids, locators, data keys and document contents exist only in the
 * caller's memory; the node sees pseudonyms, ciphertext and wraps.
 *
 *     const session = await MedicalSession.open({ baseUrl, signer, unwrapKeys: [institutionKey] });
 *     const { recordId } = await registerRecord(session, { patient, recordType: 'checkup-report', level: 'L3', content });
 */
import { bytesEqual, fromHex, toHex } from '../codec/index.js';
import type {
  Grantee,
  GrantScope,
  KeyWrap,
  RecordKeyWrap,
  RecordStorage,
} from '../contracts/index.js';
import type { CryptoSuite, KeyPair } from '../crypto/suite.js';
import { getSuite } from '../crypto/index.js';
import { InvalidInputError, MedchainError } from '../errors.js';
import type { DataLevel, MemberRole } from '../identity/types.js';
import { encodeTransaction } from '../ledger/encoding.js';
import { signTransaction } from '../ledger/sign.js';
import type { Transaction } from '../ledger/types.js';
import { MedchainClient } from '../api/client.js';
import { ApiClientError } from '../api/errors.js';
import type { ReceiptJson } from '../api/json.js';
import {
  buildAccessLog,
  buildConsentGrant,
  buildConsentRevoke,
  buildMemberCertify,
  buildMemberRevoke,
  buildRecordRegister,
  buildReferralAccept,
  buildReferralComplete,
  buildReferralCreate,
  buildReferralReject,
  newId,
  openRecordPointer,
  RecordsError,
  RecordsErrorCode,
  sealRecordPointer,
  unsignedTransaction,
  wrapDataKey,
  wrapForGrantee,
} from '../records/index.js';
import type { OpenedRecordPointer, RecordMetadata, TxBody } from '../records/index.js';
import { MedicalClient, recordFromJson, recordKeyWrapFromJson } from './client.js';
import type { InstitutionJson, OpenableRecord, RecordViewJson } from './client.js';
import { findDataKey, openDocument, sealDocument } from './document.js';
import { MedicalError, MedicalErrorCode } from './errors.js';

/** Heights a submitted transaction stays valid. */
export const TX_LIFETIME_HEIGHTS = 1000;
/** An access.log is short-lived: it is used at once by the fetch it belongs to. */
export const ACCESS_TX_LIFETIME_HEIGHTS = 100;
const RECEIPT_POLL_MS = 50;

let lastNonce = 0;
/** A nonce above any this process used before: ms × 1000 plus a counter (the contracts allow gaps). */
export function clockNonce(): number {
  lastNonce = Math.max(lastNonce + 1, Date.now() * 1000);
  return lastNonce;
}

export interface SessionOptions {
  /** The node to talk to: for document fetches, the signer's own institution's node. */
  readonly baseUrl: string;
  /** Signs transactions and requests. */
  readonly signer: KeyPair;
  /** Keys that may hold wraps of record data keys (default: the signer; add e.g. the institution key). */
  readonly unwrapKeys?: readonly KeyPair[];
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

export interface Committed {
  readonly hash: string;
  readonly height: number;
  readonly receipt: ReceiptJson;
}

/** Who the signer is, as the chain knows it. */
export interface SignerIdentity {
  readonly kind: 'institution' | 'member';
  readonly institution: string;
  readonly role: string;
  readonly memberId: string | null;
}

export class MedicalSession {
  readonly api: MedchainClient;
  readonly medical: MedicalClient;
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly signer: KeyPair;
  readonly unwrapKeys: readonly KeyPair[];
  readonly institutions: readonly InstitutionJson[];
  readonly identity: SignerIdentity;
  readonly timeoutMs: number;

  private constructor(fields: {
    api: MedchainClient;
    medical: MedicalClient;
    suite: CryptoSuite;
    chainId: string;
    signer: KeyPair;
    unwrapKeys: readonly KeyPair[];
    institutions: readonly InstitutionJson[];
    identity: SignerIdentity;
    timeoutMs: number;
  }) {
    this.api = fields.api;
    this.medical = fields.medical;
    this.suite = fields.suite;
    this.chainId = fields.chainId;
    this.signer = fields.signer;
    this.unwrapKeys = fields.unwrapKeys;
    this.institutions = fields.institutions;
    this.identity = fields.identity;
    this.timeoutMs = fields.timeoutMs;
  }

  /** Connects: reads the chain id and suite from the node and finds out who the signer is. */
  static async open(options: SessionOptions): Promise<MedicalSession> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const api = new MedchainClient(options.baseUrl, {
      timeoutMs,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    const status = await api.status();
    const suite = getSuite(status.suite);
    if (options.signer.suite !== suite.id) {
      throw new InvalidInputError(
        'key',
        `the key is a ${options.signer.suite} key, the chain uses ${suite.id}`,
      );
    }
    const medical = new MedicalClient({
      baseUrl: options.baseUrl,
      suite,
      chainId: status.chainId,
      key: options.signer,
      timeoutMs,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    const { institutions } = await medical.institutions();
    const signerHex = toHex(options.signer.publicKey);
    const asInstitution = institutions.find((i) => i.signingKey === signerHex);
    let identity: SignerIdentity;
    if (asInstitution !== undefined) {
      identity = {
        kind: 'institution',
        institution: asInstitution.id,
        role: 'institution',
        memberId: null,
      };
    } else {
      const { member } = await medical.member(options.signer.publicKey);
      identity = {
        kind: 'member',
        institution: member.institution,
        role: member.role,
        memberId: member.memberId,
      };
    }
    const unwrapKeys = [options.signer, ...(options.unwrapKeys ?? [])].filter(
      (key, i, all) => all.findIndex((k) => bytesEqual(k.publicKey, key.publicKey)) === i,
    );
    return new MedicalSession({
      api,
      medical,
      suite,
      chainId: status.chainId,
      signer: options.signer,
      unwrapKeys,
      institutions,
      identity,
      timeoutMs,
    });
  }

  institutionKey(institutionId: string): Uint8Array {
    const found = this.institutions.find((i) => i.id === institutionId);
    if (found === undefined)
      throw new InvalidInputError('institution', `no institution ${institutionId} in the genesis`);
    return fromHex(found.signingKey, 'signingKey');
  }

  async height(): Promise<number> {
    return (await this.api.status()).height;
  }

  /** Signs `body` with the session's signer (a fresh clock nonce). */
  async sign(body: TxBody, lifetimeHeights = TX_LIFETIME_HEIGHTS): Promise<Transaction> {
    const height = await this.height();
    return signTransaction(
      this.suite,
      unsignedTransaction({
        chainId: this.chainId,
        body,
        signer: this.signer.publicKey,
        nonce: clockNonce(),
        validUntilHeight: height + lifetimeHeights,
      }),
      this.signer.privateKey,
    );
  }

  /** Signs, submits and waits for the receipt; `MEDICAL_TX_FAILED` unless it is OK. */
  async submit(body: TxBody): Promise<Committed> {
    return this.submitSigned(await this.sign(body));
  }

  async submitSigned(tx: Transaction): Promise<Committed> {
    const { hash } = await this.api.submitTransaction(tx);
    const committed = await this.waitForReceipt(hash);
    if (committed.receipt.code !== 'OK') {
      throw new MedicalError(
        MedicalErrorCode.txFailed,
        `${tx.type} failed at height ${committed.height}: ${committed.receipt.code}: ${committed.receipt.reason}`,
        {
          txHash: hash,
          height: committed.height,
          receiptCode: committed.receipt.code,
          reason: committed.receipt.reason,
        },
      );
    }
    return committed;
  }

  /** Polls until `hash` has committed (any receipt), up to the session timeout. */
  async waitForReceipt(hash: string): Promise<Committed> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const found = await this.api.getTransaction(hash).catch((err: unknown) => {
        if (err instanceof ApiClientError && err.status === 404) return null;
        throw err;
      });
      if (found?.status === 'committed' && found.receipt !== null && found.height !== null) {
        return { hash, height: found.height, receipt: found.receipt };
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(RECEIPT_POLL_MS * (1 + attempt / 20), 250)),
      );
    }
    throw new MedicalError(
      MedicalErrorCode.txTimeout,
      `transaction ${hash.slice(0, 16)}… did not commit within ${this.timeoutMs} ms`,
      {
        txHash: hash,
      },
    );
  }

  /** The record as this signer may see it, with the wraps (record + its grants) usable to open it. */
  async recordView(
    recordId: string,
  ): Promise<{ view: RecordViewJson; record: OpenableRecord; grantWraps: RecordKeyWrap[] }> {
    const view = await this.medical.record(recordId);
    const grantWraps = view.grants
      .flatMap((g) => g.wraps.map(recordKeyWrapFromJson))
      .filter((w) => w.recordId === recordId);
    return { view, record: recordFromJson(view.record), grantWraps };
  }

  /** The data key of a record, unwrapped with the first of the session's keys that has a wrap. */
  async dataKeyOf(recordId: string): Promise<Uint8Array> {
    const { record, grantWraps } = await this.recordView(recordId);
    return findDataKey(
      this.suite,
      [...record.wraps, ...grantWraps],
      this.unwrapKeys.map((k) => k.privateKey),
    );
  }

  /** The live patient key of a pseudonym, if any. */
  async patientKeyOf(pseudonym: Uint8Array): Promise<Uint8Array | null> {
    const { patientKey } = await this.medical.patient(pseudonym);
    return patientKey === null ? null : fromHex(patientKey, 'patientKey');
  }

  /** The recipients of a new record of this signer's institution: institution key, the signer (a member), the patient key. */
  async recipientsFor(patientKey: Uint8Array | null): Promise<Uint8Array[]> {
    const recipients = [this.institutionKey(this.identity.institution)];
    if (this.identity.kind === 'member') recipients.push(this.signer.publicKey);
    if (patientKey !== null) recipients.push(patientKey);
    await Promise.resolve();
    return recipients;
  }
}

// ---------------------------------------------------------------------------
// records

export interface RegisterRecordParams {
  readonly recordId?: string;
  readonly patient: Uint8Array;
  readonly recordType: string;
  readonly level: DataLevel;
  /** The document: sealed and put into the owner's vault (`storage: vault`). */
  readonly content?: Uint8Array;
  /** Or a URL in the owner's own system (`storage: external`); then `contentHash` or `content` names the document. */
  readonly externalLocator?: string;
  readonly contentHash?: Uint8Array;
  /** The sealed locator of a vault record (default `vault:<owner>/<recordId>`), e.g. the EMR's own document reference. */
  readonly locator?: string;
  /** Sealed with the locator; never on chain in clear. */
  readonly metadata?: RecordMetadata;
  /** The patient's key to wrap for; default: looked up (the contract requires a wrap for a live patient key). */
  readonly patientKey?: Uint8Array | null;
}

export interface RegisteredRecord extends Committed {
  readonly recordId: string;
  readonly storage: RecordStorage;
  readonly contentHash: string;
}

export async function registerRecord(
  s: MedicalSession,
  p: RegisterRecordParams,
): Promise<RegisteredRecord> {
  const { suite, chainId } = s;
  if (p.content === undefined && p.externalLocator === undefined) {
    throw new InvalidInputError('content', 'give a document (vault) or an external locator');
  }
  const storage: RecordStorage = p.externalLocator === undefined ? 'vault' : 'external';
  const recordId = p.recordId ?? newId(suite, 'rec');
  const patientKey = p.patientKey === undefined ? await s.patientKeyOf(p.patient) : p.patientKey;
  const locator = p.externalLocator ?? p.locator ?? `vault:${s.identity.institution}/${recordId}`;
  const sealed = sealRecordPointer(suite, {
    chainId,
    recordId,
    locator,
    ...(p.metadata === undefined ? {} : { metadata: p.metadata }),
    recipients: await s.recipientsFor(patientKey),
  });
  let contentHash: Uint8Array;
  if (p.content !== undefined) {
    const document = sealDocument(suite, {
      chainId,
      recordId,
      dataKey: sealed.dataKey,
      content: p.content,
    });
    contentHash = document.contentHash;
    if (storage === 'vault') await s.medical.uploadDocument(recordId, document.ciphertext);
  } else if (p.contentHash !== undefined) {
    contentHash = p.contentHash;
  } else {
    throw new InvalidInputError(
      'contentHash',
      'an external record needs its document or its content hash',
    );
  }
  const committed = await s.submit(
    buildRecordRegister(suite, {
      recordId,
      patient: p.patient,
      recordType: p.recordType,
      level: p.level,
      contentHash,
      sealedLocator: sealed.sealedLocator,
      sealedMetadata: sealed.sealedMetadata,
      wraps: sealed.wraps,
      storage,
    }),
  );
  return { ...committed, recordId, storage, contentHash: toHex(contentHash) };
}

export interface OpenedRecord {
  readonly recordId: string;
  readonly storage: RecordStorage;
  readonly locator: string;
  readonly metadata: RecordMetadata;
  /** The vault document, its hash checked against the chain (vault records only). */
  readonly content: Uint8Array | null;
  readonly contentHash: string;
  /** The access.log that recorded this access. */
  readonly accessTx: string;
  readonly accessHeight: number;
  readonly basis: string;
}

function openPointer(
  s: MedicalSession,
  record: OpenableRecord,
  grantWraps: readonly RecordKeyWrap[],
): OpenedRecordPointer {
  for (const key of s.unwrapKeys) {
    try {
      return openRecordPointer(s.suite, {
        chainId: s.chainId,
        record,
        grantWraps,
        signingPrivateKey: key.privateKey,
      });
    } catch (err) {
      if (err instanceof RecordsError && err.code === RecordsErrorCode.noWrapForKey) continue;
      throw err;
    }
  }
  throw new RecordsError(
    RecordsErrorCode.noWrapForKey,
    `none of the ${s.unwrapKeys.length} key(s) of this session has a wrap of record ${record.id}'s data key`,
    { recordId: record.id },
  );
}

/**
 * Opens a record: signs an access.log, and for a vault record fetches the
 * document through the session's node (which asks the owner's node), opens
 * it and checks its hash against the chain; for an external record commits
 * the access.log and opens the sealed locator.
 */
export async function openRecord(
  s: MedicalSession,
  recordId: string,
  options: { readonly purpose: string; readonly grantId?: string | null },
): Promise<OpenedRecord> {
  const { view, record, grantWraps } = await s.recordView(recordId);
  const grantId = options.grantId ?? (view.access.ok ? view.access.grantId : null);
  const tx = await s.sign(
    buildAccessLog(s.suite, { recordId, purpose: options.purpose, grantId }),
    ACCESS_TX_LIFETIME_HEIGHTS,
  );
  let content: Uint8Array | null = null;
  let accessTx: string;
  let accessHeight: number;
  const pointer = openPointer(s, record, grantWraps);
  if (record.storage === 'vault') {
    const fetched = await s.medical.fetchDocument(recordId, encodeTransaction(tx));
    content = openDocument(s.suite, {
      chainId: s.chainId,
      record,
      dataKey: pointer.dataKey,
      ciphertext: fromHex(fetched.ciphertext, 'ciphertext'),
    });
    accessTx = fetched.accessTx;
    accessHeight = fetched.height;
  } else {
    const committed = await s.submitSigned(tx);
    accessTx = committed.hash;
    accessHeight = committed.height;
  }
  return {
    recordId,
    storage: record.storage,
    locator: pointer.locator,
    metadata: pointer.metadata,
    content,
    contentHash: toHex(record.contentHash),
    accessTx,
    accessHeight,
    basis: view.access.ok ? view.access.basis : 'none',
  };
}

// ---------------------------------------------------------------------------
// consent

export interface GrantConsentParams {
  readonly grantId?: string;
  readonly grantee: Grantee;
  /** Records scope … */
  readonly recordIds?: readonly string[];
  /** … or a patient scope. */
  readonly patientScope?: {
    readonly patient: Uint8Array;
    readonly recordTypes: readonly string[];
    readonly maxLevel: DataLevel;
  };
  readonly purpose: string;
  /** The grant is live until the current height plus this. */
  readonly expiresInHeights: number;
  /** Hash of the consent the institution holds (required when an institution grants). */
  readonly evidence?: Uint8Array | null;
}

function granteeKeyOf(s: MedicalSession, grantee: Grantee): Uint8Array {
  return grantee.kind === 'member' ? grantee.member : s.institutionKey(grantee.institution);
}

export async function grantConsent(
  s: MedicalSession,
  p: GrantConsentParams,
): Promise<Committed & { grantId: string }> {
  const grantId = p.grantId ?? newId(s.suite, 'grant');
  const granteeKey = granteeKeyOf(s, p.grantee);
  let scope: GrantScope;
  const wraps: RecordKeyWrap[] = [];
  if (p.recordIds !== undefined && p.recordIds.length > 0) {
    scope = { kind: 'records', records: [...p.recordIds] };
    for (const recordId of p.recordIds) {
      wraps.push(wrapForGrantee(s.suite, await s.dataKeyOf(recordId), recordId, granteeKey));
    }
  } else if (p.patientScope !== undefined) {
    scope = { kind: 'patient', ...p.patientScope, recordTypes: [...p.patientScope.recordTypes] };
    // wraps for the covered records the signer can open now (later ones need a new grant or the owner)
    const { records } = await s.medical.patientRecords(p.patientScope.patient, { limit: 64 });
    for (const summary of records) {
      if (!p.patientScope.recordTypes.includes(summary.recordType) || summary.level === 'L4')
        continue;
      try {
        wraps.push(wrapForGrantee(s.suite, await s.dataKeyOf(summary.id), summary.id, granteeKey));
      } catch (err) {
        if (!(err instanceof MedchainError)) throw err;
      }
    }
  } else {
    throw new InvalidInputError('scope', 'name the records, or a patient scope');
  }
  const height = await s.height();
  const committed = await s.submit(
    buildConsentGrant(s.suite, {
      grantId,
      grantee: p.grantee,
      scope,
      purpose: p.purpose,
      expiresAt: height + p.expiresInHeights,
      evidence: p.evidence ?? null,
      wraps,
    }),
  );
  return { ...committed, grantId };
}

export async function revokeConsent(
  s: MedicalSession,
  grantId: string,
  reason: string,
): Promise<Committed> {
  return s.submit(buildConsentRevoke(s.suite, { grantId, reason }));
}

// ---------------------------------------------------------------------------
// referrals

export interface CreateReferralParams {
  readonly referralId?: string;
  readonly to: string;
  readonly recordIds: readonly string[];
  readonly reason: string;
  readonly expiresInHeights: number;
}

export async function createReferral(
  s: MedicalSession,
  p: CreateReferralParams,
): Promise<Committed & { referralId: string; patient: string }> {
  if (p.recordIds.length === 0)
    throw new InvalidInputError('recordIds', 'a referral carries at least one record');
  const referralId = p.referralId ?? newId(s.suite, 'ref');
  const toKey = s.institutionKey(p.to);
  const wraps: RecordKeyWrap[] = [];
  let patient: Uint8Array | null = null;
  for (const recordId of p.recordIds) {
    const { record, grantWraps } = await s.recordView(recordId);
    patient ??= record.patient;
    const dataKey = findDataKey(
      s.suite,
      [...record.wraps, ...grantWraps],
      s.unwrapKeys.map((k) => k.privateKey),
    );
    wraps.push(wrapForGrantee(s.suite, dataKey, recordId, toKey));
  }
  if (patient === null) throw new InvalidInputError('recordIds', 'no record');
  const height = await s.height();
  const committed = await s.submit(
    buildReferralCreate(s.suite, {
      referralId,
      to: p.to,
      patient,
      recordIds: [...p.recordIds],
      reason: p.reason,
      expiresAt: height + p.expiresInHeights,
      wraps,
    }),
  );
  return { ...committed, referralId, patient: toHex(patient) };
}

export function acceptReferral(s: MedicalSession, referralId: string): Promise<Committed> {
  return s.submit(buildReferralAccept(s.suite, { referralId }));
}

export function rejectReferral(
  s: MedicalSession,
  referralId: string,
  reason: string,
): Promise<Committed> {
  return s.submit(buildReferralReject(s.suite, { referralId, reason }));
}

export interface CompleteReferralParams {
  readonly referralId: string;
  /** A discharge summary to register with the completion (sealed into this institution's vault). */
  readonly summary?: {
    readonly recordId?: string;
    readonly content: Uint8Array;
    readonly recordType: string;
    readonly level: DataLevel;
    readonly metadata?: RecordMetadata;
  };
  /** Or a summary this institution registered before. */
  readonly summaryRecordId?: string;
  /** The sending institution may read the summary until now + this. */
  readonly returnExpiresInHeights?: number;
}

export async function completeReferral(
  s: MedicalSession,
  p: CompleteReferralParams,
): Promise<Committed & { summaryRecordId: string | null }> {
  const { suite, chainId } = s;
  const { referral } = await s.medical.referral(p.referralId);
  const height = await s.height();
  const returnExpiresAt = height + (p.returnExpiresInHeights ?? 10_000);
  const fromKey = s.institutionKey(referral.from);
  if (p.summary !== undefined) {
    const recordId = p.summary.recordId ?? newId(suite, 'rec');
    const patient = fromHex(referral.patient, 'patient');
    const patientKey = await s.patientKeyOf(patient);
    const sealed = sealRecordPointer(suite, {
      chainId,
      recordId,
      locator: `vault:${s.identity.institution}/${recordId}`,
      ...(p.summary.metadata === undefined ? {} : { metadata: p.summary.metadata }),
      recipients: await s.recipientsFor(patientKey),
    });
    const document = sealDocument(suite, {
      chainId,
      recordId,
      dataKey: sealed.dataKey,
      content: p.summary.content,
    });
    await s.medical.uploadDocument(recordId, document.ciphertext);
    const committed = await s.submit(
      buildReferralComplete(suite, {
        referralId: p.referralId,
        summary: {
          recordId,
          patient,
          recordType: p.summary.recordType,
          level: p.summary.level,
          contentHash: document.contentHash,
          sealedLocator: sealed.sealedLocator,
          sealedMetadata: sealed.sealedMetadata,
          wraps: sealed.wraps,
          storage: 'vault',
        },
        summaryRecordId: null,
        returnWrap: wrapDataKey(suite, sealed.dataKey, fromKey),
        returnExpiresAt,
      }),
    );
    return { ...committed, summaryRecordId: recordId };
  }
  if (p.summaryRecordId !== undefined) {
    const returnWrap: KeyWrap = wrapDataKey(suite, await s.dataKeyOf(p.summaryRecordId), fromKey);
    const committed = await s.submit(
      buildReferralComplete(suite, {
        referralId: p.referralId,
        summary: null,
        summaryRecordId: p.summaryRecordId,
        returnWrap,
        returnExpiresAt,
      }),
    );
    return { ...committed, summaryRecordId: p.summaryRecordId };
  }
  const committed = await s.submit(
    buildReferralComplete(suite, {
      referralId: p.referralId,
      summary: null,
      summaryRecordId: null,
      returnWrap: null,
      returnExpiresAt: null,
    }),
  );
  return { ...committed, summaryRecordId: null };
}

// ---------------------------------------------------------------------------
// members

export interface CertifyMemberParams {
  readonly memberId: string;
  readonly role: MemberRole;
  readonly publicKey: Uint8Array;
  /** Default: the signer's institution. */
  readonly institution?: string;
  /** The pseudonym of a patient key. */
  readonly patient?: Uint8Array | null;
  readonly validForHeights: number;
}

export async function certifyMember(s: MedicalSession, p: CertifyMemberParams): Promise<Committed> {
  const height = await s.height();
  return s.submit(
    buildMemberCertify(s.suite, {
      memberId: p.memberId,
      publicKey: p.publicKey,
      role: p.role,
      institution: p.institution ?? s.identity.institution,
      notBefore: 0,
      notAfter: height + p.validForHeights,
      patient: p.patient ?? null,
    }),
  );
}

export function revokeMember(
  s: MedicalSession,
  publicKey: Uint8Array,
  reason: string,
): Promise<Committed> {
  return s.submit(buildMemberRevoke(s.suite, { publicKey, reason }));
}
