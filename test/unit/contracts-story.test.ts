/**
 * The story of issue 5, at contract level: a community health centre
 * registers a patient's check-up report; the patient authorises a district
 * hospital; the centre refers the patient up; the district doctor opens the
 * report without a repeat examination; the access is logged; a discharge
 * summary comes back down; the regulator sees who authorised whom, for what
 * scope, when, and who looked. Canary patient id, locator and metadata must
 * never appear in any state value, index entry, event or receipt.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, toHex } from '../../src/codec/index.js';
import {
  getGrant,
  getRecord,
  INDEX,
  referralGrantId,
  returnGrantId,
  statsKey,
  utcDay,
} from '../../src/contracts/index.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import {
  buildAccessLog,
  buildConsentGrant,
  buildReferralAccept,
  buildReferralComplete,
  buildReferralCreate,
  openRecordPointer,
  patientPseudonym,
  rewrapForGrantee,
  sealRecordPointer,
  wrapDataKey,
  buildRecordRegister,
} from '../../src/records/index.js';
import {
  Alliance,
  CENTRE_SECRET,
  CHAIN_ID,
  containsBytes,
  exposedBytes,
  GM,
  INTL,
  must,
} from './contracts-fixtures.js';

const CANARY_PATIENT_ID = 'CANARY-PATIENT-110105199001011234';
const CANARY_LOCATOR = 'https://emr.centre-a.example/records/CANARY-LOCATOR-7781';
const CANARY_NAME = 'CANARY-NAME-Zhang-San';
const CANARY_SUMMARY_LOCATOR = 'vault:CANARY-SUMMARY-LOCATOR-99';

function story(suite: CryptoSuite) {
  const a = new Alliance(suite);
  const patientId = patientPseudonym(suite, CENTRE_SECRET, CANARY_PATIENT_ID);
  const drLi = a.member('dr-li', 30, 'centre', 'doctor');
  const patient = a.member('patient', 40, 'centre', 'patient', { patient: patientId });
  const drWang = a.member('dr-wang', 50, 'district', 'doctor');
  const auditor = a.member('auditor', 70, 'regulator', 'auditor');

  // 1. the centre registers the check-up report, sealed for the centre and the patient
  const sealed = sealRecordPointer(suite, {
    chainId: CHAIN_ID,
    recordId: 'rec-checkup',
    locator: CANARY_LOCATOR,
    metadata: { patientName: CANARY_NAME, title: 'annual check-up' },
    recipients: [a.inst.centre.publicKey, patient.publicKey],
  });
  a.ok(
    drLi,
    buildRecordRegister(suite, {
      recordId: 'rec-checkup',
      patient: patientId,
      recordType: 'checkup-report',
      level: 'L3',
      contentHash: suite.hash(new TextEncoder().encode('synthetic check-up report')),
      sealedLocator: sealed.sealedLocator,
      sealedMetadata: sealed.sealedMetadata,
      wraps: sealed.wraps,
      storage: 'external',
    }),
  );
  const record = must(getRecord(a.chain, 'rec-checkup'));

  // 2. the patient authorises the district hospital (with its own key, unwrapping its own wrap)
  a.ok(
    patient,
    buildConsentGrant(suite, {
      grantId: 'consent-1',
      grantee: { kind: 'institution', institution: 'district-b' },
      scope: { kind: 'records', records: ['rec-checkup'] },
      purpose: 'treatment',
      expiresAt: a.chain.height + 1000,
      evidence: null,
      wraps: rewrapForGrantee(suite, [record], patient.key.privateKey, a.inst.district.publicKey),
    }),
  );

  // 3. the centre refers the patient up
  a.ok(
    drLi,
    buildReferralCreate(suite, {
      referralId: 'ref-1',
      to: 'district-b',
      patient: patientId,
      recordIds: ['rec-checkup'],
      reason: 'higher-level-care',
      expiresAt: a.chain.height + 500,
      wraps: rewrapForGrantee(
        suite,
        [record],
        a.inst.centre.key.privateKey,
        a.inst.district.publicKey,
      ),
    }),
  );
  a.ok(drWang, buildReferralAccept(suite, { referralId: 'ref-1' }));

  // 4. the district doctor opens the report (no repeat examination) and the access is logged
  const opened = openRecordPointer(suite, {
    chainId: CHAIN_ID,
    record,
    grantWraps: must(getGrant(a.chain, referralGrantId('ref-1'))).wraps,
    signingPrivateKey: a.inst.district.key.privateKey,
  });
  a.ok(
    drWang,
    buildAccessLog(suite, {
      recordId: 'rec-checkup',
      purpose: 'treatment',
      grantId: referralGrantId('ref-1'),
    }),
  );

  // 5. the discharge summary comes back down
  const summary = sealRecordPointer(suite, {
    chainId: CHAIN_ID,
    recordId: 'rec-discharge',
    locator: CANARY_SUMMARY_LOCATOR,
    metadata: { patientName: CANARY_NAME },
    recipients: [a.inst.district.publicKey, patient.publicKey],
  });
  a.ok(
    drWang,
    buildReferralComplete(suite, {
      referralId: 'ref-1',
      summary: {
        recordId: 'rec-discharge',
        patient: patientId,
        recordType: 'discharge-summary',
        level: 'L3',
        contentHash: suite.hash(new TextEncoder().encode('synthetic discharge summary')),
        sealedLocator: summary.sealedLocator,
        sealedMetadata: summary.sealedMetadata,
        wraps: summary.wraps,
        storage: 'vault',
      },
      summaryRecordId: null,
      returnWrap: wrapDataKey(suite, summary.dataKey, a.inst.centre.publicKey),
      returnExpiresAt: a.chain.height + 1000,
    }),
  );
  a.ok(
    drLi,
    buildAccessLog(suite, { recordId: 'rec-discharge', purpose: 'follow-up', grantId: null }),
  );
  const back = openRecordPointer(suite, {
    chainId: CHAIN_ID,
    record: must(getRecord(a.chain, 'rec-discharge')),
    grantWraps: must(getGrant(a.chain, returnGrantId('ref-1'))).wraps,
    signingPrivateKey: a.inst.centre.key.privateKey,
  });
  return { a, patientId, drLi, drWang, patient, auditor, opened, back };
}

describe.each([INTL, GM])('the story ($id suite)', (suite) => {
  it('runs end to end: the district doctor opens the report, the summary comes back', () => {
    const { opened, back } = story(suite);
    expect(opened.locator).toBe(CANARY_LOCATOR);
    expect(opened.metadata).toEqual({ patientName: CANARY_NAME, title: 'annual check-up' });
    expect(back.locator).toBe(CANARY_SUMMARY_LOCATOR);
  });

  it('never exposes the patient id, the locators or the metadata in state, indexes, events or receipts', () => {
    const { a } = story(suite);
    const canaries = [
      CANARY_PATIENT_ID,
      CANARY_LOCATOR,
      CANARY_NAME,
      CANARY_SUMMARY_LOCATOR,
      'CANARY',
    ];
    const exposed = exposedBytes(a.chain);
    expect(exposed.length).toBeGreaterThan(100);
    for (const canary of canaries) {
      const needle = new TextEncoder().encode(canary);
      const hexNeedle = new TextEncoder().encode(toHex(needle));
      for (const bytes of exposed) {
        expect(containsBytes(bytes, needle), `"${canary}" found`).toBe(false);
        expect(containsBytes(bytes, hexNeedle), `hex of "${canary}" found`).toBe(false);
      }
    }
  });
});

describe('what the regulator sees', () => {
  it('the audit trail of the record: who authorised whom, for what scope, when, and who looked', () => {
    const { a, drLi, drWang, patient } = story(INTL);
    const trail = a.chain
      .scan(INDEX.auditByRecord, 'rec-checkup')
      .map((e) => e.value as Record<string, unknown>);
    expect(trail.map((e) => e['type'])).toEqual([
      'record.registered',
      'consent.granted',
      'referral.created',
      'referral.accepted',
      'access.logged',
      'referral.completed',
    ]);
    const [registered, granted, referred, , accessed] = trail;
    expect(registered).toMatchObject({
      actor: drLi.publicKey,
      actorRole: 'doctor',
      actorInstitution: 'centre-a',
    });
    expect(granted).toMatchObject({
      actor: patient.publicKey,
      actorRole: 'patient',
      grantee: { institution: 'district-b' },
      scope: { records: ['rec-checkup'] },
      purpose: 'treatment',
      patientSigned: true,
    });
    expect(referred).toMatchObject({
      from: 'centre-a',
      to: 'district-b',
      grantId: referralGrantId('ref-1'),
    });
    expect(accessed).toMatchObject({
      actor: drWang.publicKey,
      actorInstitution: 'district-b',
      grantId: referralGrantId('ref-1'),
      purpose: 'treatment',
    });
    for (const entry of trail) {
      expect(typeof entry['timestamp']).toBe('number');
      expect(typeof entry['height']).toBe('number');
      expect((entry['txHash'] as Uint8Array).length).toBe(32);
    }
    // heights never decrease along the trail
    const heights = trail.map((e) => e['height'] as number);
    expect([...heights].sort((x, y) => x - y)).toEqual(heights);
  });

  it('the audit trail of the patient covers both institutions', () => {
    const { a, patientId } = story(INTL);
    const trail = a.chain
      .scan(INDEX.auditByPatient, patientId)
      .map((e) => (e.value as Record<string, unknown>)['type']);
    expect(trail).toContain('member.certified');
    expect(trail).toContain('record.registered');
    expect(trail.filter((t) => t === 'access.logged')).toHaveLength(2);
  });

  it('statistics per institution and day, referrals addressed to and from an institution, grants per record and grantee', () => {
    const { a } = story(INTL);
    const day = utcDay(a.chain.timestamp);
    expect(day).toBe('2026-01-01');
    expect(a.chain.scan(INDEX.statsDaily, statsKey('centre-a', 'referral.sent', day))).toHaveLength(
      1,
    );
    expect(
      a.chain.scan(INDEX.statsDaily, statsKey('district-b', 'referral.received', day)),
    ).toHaveLength(1);
    expect(a.chain.scan(INDEX.statsDaily, statsKey('district-b', 'access.made', day))).toHaveLength(
      1,
    );
    expect(a.chain.scan(INDEX.statsDaily, statsKey('centre-a', 'access.served', day))).toHaveLength(
      1,
    );
    expect(
      a.chain.scan(INDEX.statsDaily, statsKey('district-b', 'consent.received', day)),
    ).toHaveLength(1);
    expect(
      a.chain
        .scan(INDEX.referralByTo, 'district-b')
        .map((e) => (e.value as Record<string, unknown>)['referralId']),
    ).toEqual(['ref-1']);
    expect(a.chain.scan(INDEX.referralOpenByTo, 'district-b')).toHaveLength(0);
    const grants = a.chain
      .scan(INDEX.grantByRecord, 'rec-checkup')
      .map((e) => (e.value as Record<string, unknown>)['grantId']);
    expect(grants.sort()).toEqual(['consent-1', referralGrantId('ref-1')].sort());
    const toCentre = a.chain
      .scan(INDEX.grantByGrantee, 'inst/centre-a')
      .map((e) => (e.value as Record<string, unknown>)['grantId']);
    expect(toCentre).toEqual([returnGrantId('ref-1')]);
    const byInstitution = a.chain.scan(INDEX.auditByInstitution, 'regulator');
    expect(byInstitution.map((e) => (e.value as Record<string, unknown>)['type'])).toEqual([
      'member.certified',
    ]);
  });

  it('index entries are well formed and their values round-trip through the canonical codec', () => {
    const { a } = story(INTL);
    expect(a.chain.index.size).toBeGreaterThan(40);
    for (const entry of a.chain.index.values()) {
      expect(entry.index).toMatch(/^[a-z0-9._-]{1,64}$/);
      expect(entry.key.length).toBeLessThan(65536);
      const bytes = encode(entry.value ?? null);
      expect(encode(decode(bytes))).toEqual(bytes);
    }
  });

  it('utcDay matches the calendar', () => {
    for (const t of [0, 951_782_400_000, 1_767_225_599_999, 4_107_542_400_000, 1_709_164_800_000]) {
      expect(utcDay(t)).toBe(new Date(t).toISOString().slice(0, 10));
    }
  });
});
