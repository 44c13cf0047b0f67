import { describe, expect, it } from 'vitest';
import {
  canAccess,
  getGrant,
  getRecord,
  getReferral,
  INDEX,
  referralGrantId,
  referralToJson,
  returnGrantId,
} from '../../src/contracts/index.js';
import type { ReferralCompletePayload, ReferralCreatePayload } from '../../src/contracts/index.js';
import {
  buildAccessLog,
  buildConsentGrant,
  buildReferralAccept,
  buildReferralComplete,
  buildReferralCreate,
  buildReferralReject,
  openRecordPointer,
  rewrapForGrantee,
  sealRecordPointer,
  wrapDataKey,
} from '../../src/records/index.js';
import { Alliance, CHAIN_ID, must } from './contracts-fixtures.js';
import type { Signer } from './contracts-fixtures.js';

function setup() {
  const a = new Alliance();
  const drLi = a.member('dr-li', 30, 'centre', 'doctor');
  const patient = a.member('patient', 40, 'centre', 'patient');
  const drWang = a.member('dr-wang', 50, 'district', 'doctor');
  const drQian = a.member('dr-qian', 60, 'city', 'doctor');
  a.ok(
    drLi,
    a.recordBody(drLi, 'rec-1', { patientKey: patient.publicKey, locator: 'vault:checkup-1' }),
  );
  a.ok(
    drLi,
    a.recordBody(drLi, 'rec-2', { patientKey: patient.publicKey, recordType: 'lab-result' }),
  );
  a.ok(
    drLi,
    a.recordBody(drLi, 'rec-l4', {
      level: 'L4',
      recordType: 'hiv-test',
      patientKey: patient.publicKey,
    }),
  );
  return { a, drLi, patient, drWang, drQian };
}

type Setup = ReturnType<typeof setup>;

function createBody(s: Setup, referralId: string, overrides: Partial<ReferralCreatePayload> = {}) {
  const { a } = s;
  const recordIds = overrides.recordIds ?? ['rec-1', 'rec-2'];
  const to = overrides.to ?? 'district-b';
  return buildReferralCreate(a.suite, {
    referralId,
    to,
    patient: a.patient,
    recordIds,
    reason: 'specialist-consult',
    expiresAt: a.chain.height + 50,
    wraps:
      overrides.wraps ??
      rewrapForGrantee(
        a.suite,
        recordIds.map((id) => must(getRecord(a.chain, id))),
        a.inst.centre.key.privateKey,
        a.institutionKey(to),
      ),
    ...overrides,
  });
}

function read(a: Alliance, reader: Signer, recordId: string) {
  return a.run(reader, buildAccessLog(a.suite, { recordId, purpose: 'referral', grantId: null }));
}

function summaryComplete(
  s: Setup,
  referralId: string,
  overrides: Partial<ReferralCompletePayload> = {},
) {
  const { a } = s;
  const sealed = sealRecordPointer(a.suite, {
    chainId: CHAIN_ID,
    recordId: 'rec-summary',
    locator: 'vault:discharge-1',
    metadata: { title: 'discharge summary' },
    recipients: [a.inst.district.publicKey, s.patient.publicKey],
  });
  return buildReferralComplete(a.suite, {
    referralId,
    summary: {
      recordId: 'rec-summary',
      patient: a.patient,
      recordType: 'discharge-summary',
      level: 'L3',
      contentHash: a.suite.hash(new TextEncoder().encode('summary')),
      sealedLocator: sealed.sealedLocator,
      sealedMetadata: sealed.sealedMetadata,
      wraps: sealed.wraps,
      storage: 'vault',
    },
    summaryRecordId: null,
    returnWrap: wrapDataKey(a.suite, sealed.dataKey, a.inst.centre.publicKey),
    returnExpiresAt: a.chain.height + 100,
    ...overrides,
  });
}

describe('referral life cycle', () => {
  it('create → grant to the receiving institution → accept → read → complete with a summary → grant ended, summary granted back', () => {
    const s = setup();
    const { a, drLi, drWang } = s;
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');

    a.ok(drLi, createBody(s, 'ref-1'));
    const grantId = referralGrantId('ref-1');
    expect(getReferral(a.chain, 'ref-1')).toMatchObject({
      status: 'open',
      from: 'centre-a',
      to: 'district-b',
      grantId,
    });
    expect(getGrant(a.chain, grantId)).toMatchObject({
      kind: 'referral',
      status: 'active',
      referralId: 'ref-1',
    });
    expect(a.chain.scan(INDEX.referralOpenByTo, 'district-b')).toHaveLength(1);
    expect(a.chain.scan(INDEX.referralByFrom, 'centre-a')).toHaveLength(1);

    // the receiving institution can read the referred records right away, and open them with its own key
    expect(read(a, drWang, 'rec-1')).toMatchObject({ code: 'OK' });
    const opened = openRecordPointer(a.suite, {
      chainId: CHAIN_ID,
      record: must(getRecord(a.chain, 'rec-1')),
      grantWraps: must(getGrant(a.chain, grantId)).wraps,
      signingPrivateKey: a.inst.district.key.privateKey,
    });
    expect(opened.locator).toBe('vault:checkup-1');

    a.ok(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }));
    expect(getReferral(a.chain, 'ref-1')).toMatchObject({
      status: 'accepted',
      acceptedBy: drWang.publicKey,
    });

    a.ok(drWang, summaryComplete(s, 'ref-1'));
    const events = a.lastExecution().events.map((e) => e.type);
    expect(events).toEqual(['record.registered', 'referral.completed']);
    expect(getReferral(a.chain, 'ref-1')).toMatchObject({
      status: 'completed',
      summaryRecordId: 'rec-summary',
      returnGrantId: returnGrantId('ref-1'),
    });
    expect(getRecord(a.chain, 'rec-summary')).toMatchObject({
      owner: 'district-b',
      referralId: 'ref-1',
    });
    expect(getGrant(a.chain, grantId)).toMatchObject({
      status: 'ended',
      closeReason: 'referral-completed',
    });
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
    expect(a.chain.scan(INDEX.referralOpenByTo, 'district-b')).toHaveLength(0);
    expect(a.chain.scan(INDEX.referralOpenByFrom, 'centre-a')).toHaveLength(0);

    // the summary comes back down: the centre's doctor reads it and the centre opens it
    expect(read(a, drLi, 'rec-summary')).toMatchObject({ code: 'OK' });
    const back = openRecordPointer(a.suite, {
      chainId: CHAIN_ID,
      record: must(getRecord(a.chain, 'rec-summary')),
      grantWraps: must(getGrant(a.chain, returnGrantId('ref-1'))).wraps,
      signingPrivateKey: a.inst.centre.key.privateKey,
    });
    expect(back.locator).toBe('vault:discharge-1');
    expect(referralToJson(must(getReferral(a.chain, 'ref-1')))).toMatchObject({
      status: 'completed',
    });
  });

  it('reject ends the automatic grant', () => {
    const s = setup();
    const { a, drLi, drWang } = s;
    a.ok(drLi, createBody(s, 'ref-1'));
    expect(read(a, drWang, 'rec-1').code).toBe('OK');
    a.ok(drWang, buildReferralReject(a.suite, { referralId: 'ref-1', reason: 'no-capacity' }));
    expect(getReferral(a.chain, 'ref-1')).toMatchObject({
      status: 'rejected',
      closeReason: 'no-capacity',
    });
    expect(getGrant(a.chain, referralGrantId('ref-1'))).toMatchObject({
      status: 'ended',
      closeReason: 'referral-rejected',
    });
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
    a.fails(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }), 'REFERRAL_BAD_STATUS');
    a.fails(
      drWang,
      buildReferralReject(a.suite, { referralId: 'ref-1', reason: 'x' }),
      'REFERRAL_BAD_STATUS',
    );
  });

  it('an accepted referral can be rejected too, and completion without a summary just ends the grant', () => {
    const s = setup();
    const { a, drLi, drWang } = s;
    a.ok(drLi, createBody(s, 'ref-1'));
    a.ok(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }));
    a.ok(drWang, buildReferralReject(a.suite, { referralId: 'ref-1', reason: 'patient-declined' }));
    a.ok(drLi, createBody(s, 'ref-2'));
    a.ok(drWang, buildReferralAccept(a.suite, { referralId: 'ref-2' }));
    const plain = buildReferralComplete(a.suite, {
      referralId: 'ref-2',
      summary: null,
      summaryRecordId: null,
      returnWrap: null,
      returnExpiresAt: null,
    });
    a.ok(drWang, plain);
    expect(getReferral(a.chain, 'ref-2')).toMatchObject({
      status: 'completed',
      summaryRecordId: null,
      returnGrantId: null,
    });
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
  });

  it('completion may name a summary registered earlier by the receiving institution', () => {
    const s = setup();
    const { a, drLi, drWang } = s;
    a.ok(drLi, createBody(s, 'ref-1'));
    a.ok(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }));
    const sealed = sealRecordPointer(a.suite, {
      chainId: CHAIN_ID,
      recordId: 'rec-ds',
      locator: 'vault:ds',
      recipients: [a.inst.district.publicKey, s.patient.publicKey],
    });
    a.ok(
      drWang,
      a.recordBody(drWang, 'rec-ds', {
        recordType: 'discharge-summary',
        patientKey: s.patient.publicKey,
      }),
    );
    const named = (recordId: string) =>
      buildReferralComplete(a.suite, {
        referralId: 'ref-1',
        summary: null,
        summaryRecordId: recordId,
        returnWrap: wrapDataKey(a.suite, sealed.dataKey, a.inst.centre.publicKey),
        returnExpiresAt: a.chain.height + 10,
      });
    a.fails(drWang, named('rec-2'), 'NOT_AUTHORISED'); // owned by the centre, not the district
    a.ok(drWang, named('rec-ds'));
    expect(read(a, drLi, 'rec-ds').code).toBe('OK');
  });

  it('only doctors of the receiving institution accept, reject or complete', () => {
    const s = setup();
    const { a, drLi, drWang, drQian } = s;
    const nurse = a.member('nurse', 51, 'district', 'department');
    a.ok(drLi, createBody(s, 'ref-1'));
    a.fails(drQian, buildReferralAccept(a.suite, { referralId: 'ref-1' }), 'NOT_AUTHORISED');
    a.fails(drLi, buildReferralAccept(a.suite, { referralId: 'ref-1' }), 'NOT_AUTHORISED');
    a.fails(nurse, buildReferralAccept(a.suite, { referralId: 'ref-1' }), 'ROLE_FORBIDDEN');
    a.fails(
      a.inst.district,
      buildReferralAccept(a.suite, { referralId: 'ref-1' }),
      'ROLE_FORBIDDEN',
    );
    a.fails(drWang, buildReferralAccept(a.suite, { referralId: 'ref-404' }), 'UNKNOWN_REFERRAL');
    a.fails(drWang, summaryComplete(s, 'ref-1'), 'REFERRAL_BAD_STATUS'); // not accepted yet
    a.ok(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }));
    a.fails(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }), 'REFERRAL_BAD_STATUS');
    a.fails(drQian, summaryComplete(s, 'ref-1'), 'NOT_AUTHORISED');
  });

  it('a referral past its expiry cannot be accepted, and its grant is dead', () => {
    const s = setup();
    const { a, drLi, drWang } = s;
    a.ok(drLi, createBody(s, 'ref-1', { expiresAt: a.chain.height + 2 }));
    a.block();
    a.block();
    a.fails(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }), 'REFERRAL_EXPIRED');
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
  });

  it('create checks sender role, records, patient, target and wraps', () => {
    const s = setup();
    const { a, drLi, drQian } = s;
    const admin = a.member('admin', 31, 'centre', 'admin');
    a.fails(admin, createBody(s, 'r'), 'ROLE_FORBIDDEN');
    a.fails(a.inst.centre, createBody(s, 'r'), 'ROLE_FORBIDDEN');
    a.fails(drQian, createBody(s, 'r'), 'NOT_AUTHORISED'); // the city doctor does not own the records
    a.fails(drLi, createBody(s, 'r', { to: 'centre-a' }), 'INVALID_PAYLOAD');
    const toDistrict = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-1')), must(getRecord(a.chain, 'rec-2'))],
      a.inst.centre.key.privateKey,
      a.inst.district.publicKey,
    );
    a.fails(drLi, createBody(s, 'r', { to: 'nowhere', wraps: toDistrict }), 'UNKNOWN_INSTITUTION');
    a.fails(
      drLi,
      createBody(s, 'r', {
        recordIds: ['rec-404'],
        wraps: [
          {
            recordId: 'rec-404',
            recipient: a.inst.district.publicKey,
            wrapped: new Uint8Array(80),
          },
        ],
      }),
      'UNKNOWN_RECORD',
    );
    a.fails(drLi, createBody(s, 'r', { patient: new Uint8Array(32).fill(1) }), 'PATIENT_MISMATCH');
    a.fails(drLi, createBody(s, 'r', { expiresAt: 0 }), 'EXPIRY_IN_PAST');
    const toCity = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-1')), must(getRecord(a.chain, 'rec-2'))],
      a.inst.centre.key.privateKey,
      a.inst.city.publicKey,
    );
    a.fails(drLi, createBody(s, 'r', { wraps: toCity }), 'WRAP_INVALID');
    a.fails(
      drLi,
      createBody(s, 'r', {
        wraps: toCity.slice(0, 1).map((w) => ({ ...w, recipient: a.inst.district.publicKey })),
      }),
      'WRAP_MISSING',
    );
    a.ok(drLi, createBody(s, 'r'));
    a.fails(drLi, createBody(s, 'r'), 'REFERRAL_EXISTS');
  });

  it('L4 records need the patient to have granted the receiving institution first', () => {
    const s = setup();
    const { a, drLi, drWang, patient } = s;
    a.fails(
      drLi,
      createBody(s, 'ref-1', { recordIds: ['rec-1', 'rec-l4'] }),
      'L4_CONSENT_REQUIRED',
    );
    const wraps = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-l4'))],
      patient.key.privateKey,
      a.inst.district.publicKey,
    );
    a.ok(
      patient,
      buildConsentGrant(a.suite, {
        grantId: 'g-l4',
        grantee: { kind: 'institution', institution: 'district-b' },
        scope: { kind: 'records', records: ['rec-l4'] },
        purpose: 'referral',
        expiresAt: a.chain.height + 100,
        evidence: null,
        wraps,
      }),
    );
    a.ok(drLi, createBody(s, 'ref-1', { recordIds: ['rec-1', 'rec-l4'] }));
    const decision = canAccess(a.chain.env, a.chain, a.chain.height, drWang.publicKey, 'rec-l4');
    // access to the L4 record rests on the patient's own grant, not on the referral's
    expect(decision).toEqual({ ok: true, basis: 'grant', grantId: 'g-l4' });
    a.ok(patient, { type: 'consent.revoke', payload: { grantId: 'g-l4', reason: 'withdrawn' } });
    expect(read(a, drWang, 'rec-l4').code).toBe('ACCESS_DENIED');
    expect(read(a, drWang, 'rec-1').code).toBe('OK');
  });

  it('an L4 summary cannot be granted back automatically', () => {
    const s = setup();
    const { a, drLi, drWang } = s;
    a.ok(drLi, createBody(s, 'ref-1'));
    a.ok(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }));
    const body = summaryComplete(s, 'ref-1');
    const summary = { ...(body.payload.summary as Record<string, never>), level: 'L4' };
    a.fails(
      drWang,
      { type: body.type, payload: { ...body.payload, summary } },
      'L4_CONSENT_REQUIRED',
    );
    expect(getRecord(a.chain, 'rec-summary')).toBeUndefined(); // the whole transaction failed
  });

  it('the patient may revoke the referral grant; completion then still works', () => {
    const s = setup();
    const { a, drLi, drWang, patient } = s;
    a.ok(drLi, createBody(s, 'ref-1'));
    a.ok(patient, {
      type: 'consent.revoke',
      payload: { grantId: referralGrantId('ref-1'), reason: 'withdrawn' },
    });
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
    a.ok(drWang, buildReferralAccept(a.suite, { referralId: 'ref-1' }));
    a.ok(drWang, summaryComplete(s, 'ref-1'));
    expect(getGrant(a.chain, referralGrantId('ref-1'))?.status).toBe('revoked');
  });
});
