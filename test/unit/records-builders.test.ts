import { describe, expect, it } from 'vitest';
import { decode } from '../../src/codec/index.js';
import { ID_PATTERN } from '../../src/contracts/index.js';
import { getSuite } from '../../src/crypto/index.js';
import { InvalidInputError } from '../../src/errors.js';
import {
  encodeUnsignedTransaction,
  signTransaction,
  verifyTransactionSignature,
} from '../../src/ledger/index.js';
import {
  buildAccessLog,
  buildConsentGrant,
  buildConsentRevoke,
  buildMemberCertify,
  buildMemberRevoke,
  buildReferralAccept,
  buildReferralComplete,
  buildReferralCreate,
  buildReferralReject,
  newId,
  unsignedTransaction,
} from '../../src/records/index.js';

const suite = getSuite('intl');
const key = suite.keyPairFromPrivateKey(new Uint8Array(32).fill(11));
const pseudonym = new Uint8Array(32).fill(0xaa);
const wrap = { recordId: 'rec-1', recipient: key.publicKey, wrapped: new Uint8Array(80) };

describe('payload builders', () => {
  it('produce the canonical payload of every type, which signs and verifies', () => {
    const bodies = [
      buildConsentGrant(suite, {
        grantId: 'g-1',
        grantee: { kind: 'member', member: key.publicKey },
        scope: {
          kind: 'patient',
          patient: pseudonym,
          recordTypes: ['lab-result', 'checkup-report'],
          maxLevel: 'L3',
        },
        purpose: 'treatment',
        expiresAt: 100,
        evidence: null,
        wraps: [],
      }),
      buildConsentRevoke(suite, { grantId: 'referral:ref-1', reason: 'withdrawn' }),
      buildReferralCreate(suite, {
        referralId: 'ref-1',
        to: 'district-b',
        patient: pseudonym,
        recordIds: ['rec-1'],
        reason: 'specialist-consult',
        expiresAt: 50,
        wraps: [wrap],
      }),
      buildReferralAccept(suite, { referralId: 'ref-1' }),
      buildReferralReject(suite, { referralId: 'ref-1', reason: 'no-capacity' }),
      buildReferralComplete(suite, {
        referralId: 'ref-1',
        summary: null,
        summaryRecordId: null,
        returnWrap: null,
        returnExpiresAt: null,
      }),
      buildAccessLog(suite, { recordId: 'rec-1', purpose: 'treatment', grantId: null }),
      buildMemberCertify(suite, {
        memberId: 'dr-li',
        publicKey: key.publicKey,
        role: 'doctor',
        institution: 'centre-a',
        notBefore: 0,
        notAfter: 10,
        patient: null,
      }),
      buildMemberRevoke(suite, { publicKey: key.publicKey, reason: 'left-institution' }),
    ];
    expect(bodies.map((b) => b.type)).toEqual([
      'consent.grant',
      'consent.revoke',
      'referral.create',
      'referral.accept',
      'referral.reject',
      'referral.complete',
      'access.log',
      'member.certify',
      'member.revoke',
    ]);
    for (const body of bodies) {
      const unsigned = unsignedTransaction({
        chainId: 'builders-test',
        body,
        signer: key.publicKey,
        nonce: 1,
        validUntilHeight: 9,
      });
      const tx = signTransaction(suite, unsigned, key.privateKey);
      expect(verifyTransactionSignature(suite, tx)).toBe(true);
      expect(decode(encodeUnsignedTransaction(unsigned))).toBeTruthy();
    }
    // optional fields are absent, never null; a patient scope's record types are a sorted set
    expect(bodies[0]?.payload).not.toHaveProperty('evidence');
    expect(bodies[0]?.payload['scope']).toMatchObject({
      recordTypes: ['checkup-report', 'lab-result'],
    });
    expect(bodies[6]?.payload).not.toHaveProperty('grantId');
  });

  it('refuse bad fields before signing, naming them', () => {
    const cases: [() => unknown, RegExp][] = [
      [
        () => buildAccessLog(suite, { recordId: 'rec 1', purpose: 'treatment', grantId: null }),
        /^payload\.recordId: not an id/,
      ],
      [
        () =>
          buildAccessLog(suite, { recordId: 'rec-1', purpose: 'Treatment of X', grantId: null }),
        /^payload\.purpose: not a token/,
      ],
      [
        () => buildConsentRevoke(suite, { grantId: 'other:g', reason: 'x' }),
        /^payload\.grantId: not a grant id/,
      ],
      [
        () =>
          buildReferralCreate(suite, {
            referralId: 'r',
            to: 'B',
            patient: pseudonym,
            recordIds: ['rec-1'],
            reason: 'x',
            expiresAt: 1,
            wraps: [wrap],
          }),
        /^payload\.to: not an institution id/,
      ],
      [
        () =>
          buildReferralCreate(suite, {
            referralId: 'r',
            to: 'b',
            patient: pseudonym,
            recordIds: ['rec-1', 'rec-1'],
            reason: 'x',
            expiresAt: 1,
            wraps: [wrap],
          }),
        /^payload\.recordIds\[1\]: "rec-1" is listed twice/,
      ],
      [
        () =>
          buildReferralCreate(suite, {
            referralId: 'r',
            to: 'b',
            patient: pseudonym,
            recordIds: Array.from({ length: 33 }, (_, i) => `r${i}`),
            reason: 'x',
            expiresAt: 1,
            wraps: [wrap],
          }),
        /^payload\.recordIds: more than 32 entries/,
      ],
      [
        () =>
          buildReferralComplete(suite, {
            referralId: 'r',
            summary: null,
            summaryRecordId: 'rec-9',
            returnWrap: null,
            returnExpiresAt: 5,
          }),
        /^payload\.returnWrap: missing/,
      ],
      [
        () =>
          buildMemberCertify(suite, {
            memberId: 'p',
            publicKey: key.publicKey,
            role: 'patient',
            institution: 'a',
            notBefore: 0,
            notAfter: 1,
            patient: null,
          }),
        /^payload\.patient: missing/,
      ],
      [
        () =>
          buildMemberCertify(suite, {
            memberId: 'd',
            publicKey: key.publicKey,
            role: 'doctor',
            institution: 'a',
            notBefore: 5,
            notAfter: 1,
            patient: null,
          }),
        /^payload\.notAfter: 1 is before notBefore 5/,
      ],
      [
        () =>
          buildConsentGrant(suite, {
            grantId: 'g',
            grantee: { kind: 'institution', institution: 'b' },
            scope: { kind: 'records', records: ['rec-1'] },
            purpose: 'treatment',
            expiresAt: 1,
            evidence: new Uint8Array(3),
            wraps: [],
          }),
        /^payload\.evidence: expected 32 bytes/,
      ],
    ];
    for (const [build, message] of cases) {
      expect(build).toThrow(InvalidInputError);
      expect(build).toThrow(message);
    }
  });

  it('new ids are random and valid', () => {
    const a = newId(suite, 'rec');
    expect(a).toMatch(/^rec-[0-9a-f]{24}$/);
    expect(a).toMatch(ID_PATTERN);
    expect(newId(suite, 'rec')).not.toBe(a);
  });
});
