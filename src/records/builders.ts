/**
 * Builders for every transaction type, so callers never hand-write payload
 * objects: each takes the typed payload, produces its canonical codec form and
 * checks it with the contract's own parser — a bad field fails here, before
 * signing, with `InvalidInputError` naming it. Then `unsignedTransaction` +
 * `signTransaction` (src/ledger) make the transaction.
 *
 *     const body = buildAccessLog(suite, { recordId, purpose: 'treatment', grantId: null });
 *     const tx = signTransaction(suite, unsignedTransaction({ chainId, body, signer, nonce, validUntilHeight }), key);
 */
import { toHex } from '../codec/index.js';
import { ContractRuleError } from '../contracts/errors.js';
import {
  accessLogToCodec,
  consentGrantToCodec,
  consentRevokeToCodec,
  memberCertifyToCodec,
  memberRevokeToCodec,
  parseAccessLog,
  parseConsentGrant,
  parseConsentRevoke,
  parseMemberCertify,
  parseMemberRevoke,
  parseRecordRegister,
  parseReferralAccept,
  parseReferralComplete,
  parseReferralCreate,
  parseReferralReject,
  recordRegisterToCodec,
  referralAcceptToCodec,
  referralCompleteToCodec,
  referralCreateToCodec,
  referralRejectToCodec,
} from '../contracts/payloads.js';
import type {
  AccessLogPayload,
  ConsentGrantPayload,
  ConsentRevokePayload,
  MemberCertifyPayload,
  MemberRevokePayload,
  PayloadRules,
  RecordRegisterPayload,
  ReferralAcceptPayload,
  ReferralCompletePayload,
  ReferralCreatePayload,
  ReferralRejectPayload,
  TxPayload,
} from '../contracts/payloads.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { InvalidInputError } from '../errors.js';
import type { TxType, UnsignedTransaction } from '../ledger/types.js';

/** A transaction's type and payload, ready to go into `unsignedTransaction`. */
export interface TxBody {
  readonly type: TxType;
  readonly payload: TxPayload;
}

function rulesOf(suite: CryptoSuite): PayloadRules {
  return { publicKeyLength: suite.publicKeyLength, hashLength: suite.hashLength };
}

/**
 * Encodes, parses with the contract's parser, and re-encodes the parsed form:
 * the result is the one canonical payload (e.g. record-type sets sorted).
 */
function checked<P>(
  suite: CryptoSuite,
  type: TxType,
  payload: P,
  toCodec: (p: P) => TxPayload,
  parse: (rules: PayloadRules, payload: unknown) => P,
): TxBody {
  let parsed: P;
  try {
    parsed = parse(rulesOf(suite), toCodec(payload));
  } catch (err) {
    if (!(err instanceof ContractRuleError)) throw err;
    const at = err.reason.indexOf(': ');
    const field = at < 0 ? 'payload' : err.reason.slice(0, at);
    const problem = at < 0 ? err.reason : err.reason.slice(at + 2);
    throw new InvalidInputError(field, problem, { txType: type });
  }
  return { type, payload: toCodec(parsed) };
}

export const buildRecordRegister = (suite: CryptoSuite, p: RecordRegisterPayload): TxBody =>
  checked(suite, 'record.register', p, recordRegisterToCodec, parseRecordRegister);

export const buildConsentGrant = (suite: CryptoSuite, p: ConsentGrantPayload): TxBody =>
  checked(suite, 'consent.grant', p, consentGrantToCodec, parseConsentGrant);

export const buildConsentRevoke = (suite: CryptoSuite, p: ConsentRevokePayload): TxBody =>
  checked(suite, 'consent.revoke', p, consentRevokeToCodec, parseConsentRevoke);

export const buildReferralCreate = (suite: CryptoSuite, p: ReferralCreatePayload): TxBody =>
  checked(suite, 'referral.create', p, referralCreateToCodec, parseReferralCreate);

export const buildReferralAccept = (suite: CryptoSuite, p: ReferralAcceptPayload): TxBody =>
  checked(suite, 'referral.accept', p, referralAcceptToCodec, parseReferralAccept);

export const buildReferralReject = (suite: CryptoSuite, p: ReferralRejectPayload): TxBody =>
  checked(suite, 'referral.reject', p, referralRejectToCodec, parseReferralReject);

export const buildReferralComplete = (suite: CryptoSuite, p: ReferralCompletePayload): TxBody =>
  checked(suite, 'referral.complete', p, referralCompleteToCodec, parseReferralComplete);

export const buildAccessLog = (suite: CryptoSuite, p: AccessLogPayload): TxBody =>
  checked(suite, 'access.log', p, accessLogToCodec, parseAccessLog);

export const buildMemberCertify = (suite: CryptoSuite, p: MemberCertifyPayload): TxBody =>
  checked(suite, 'member.certify', p, memberCertifyToCodec, parseMemberCertify);

export const buildMemberRevoke = (suite: CryptoSuite, p: MemberRevokePayload): TxBody =>
  checked(suite, 'member.revoke', p, memberRevokeToCodec, parseMemberRevoke);

export interface UnsignedTransactionParams {
  readonly chainId: string;
  readonly body: TxBody;
  /** Raw public key of the signer. */
  readonly signer: Uint8Array;
  /** Above the signer's last nonce (`nextNonce` in src/contracts). */
  readonly nonce: number;
  readonly validUntilHeight: number;
}

export function unsignedTransaction(params: UnsignedTransactionParams): UnsignedTransaction {
  return {
    chainId: params.chainId,
    type: params.body.type,
    payload: params.body.payload,
    signer: params.signer,
    nonce: params.nonce,
    validUntilHeight: params.validUntilHeight,
  };
}

/** A fresh random id (`<prefix>-<24 hex>`) for a record, grant or referral. */
export function newId(suite: CryptoSuite, prefix: 'rec' | 'grant' | 'ref'): string {
  return `${prefix}-${toHex(suite.randomBytes(12))}`;
}
