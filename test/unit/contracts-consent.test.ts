import { describe, expect, it } from 'vitest';
import {
  canAccess,
  decodeAccessSlot,
  getGrant,
  getRecord,
  grantToJson,
  stateKey,
} from '../../src/contracts/index.js';
import type { ConsentGrantPayload, Grantee, GrantScope } from '../../src/contracts/index.js';
import {
  buildAccessLog,
  buildConsentGrant,
  buildConsentRevoke,
  rewrapForGrantee,
} from '../../src/records/index.js';
import { Alliance, fixedKey, must } from './contracts-fixtures.js';
import type { Signer } from './contracts-fixtures.js';

const EVIDENCE = new Uint8Array(32).fill(0xe1);

/** Centre doctor, patient key, records rec-1 (L3) and rec-2 (L4); district doctor and nurse. */
function setup(policy?: ConstructorParameters<typeof Alliance>[1]) {
  const a = new Alliance(undefined, policy);
  const drLi = a.member('dr-li', 30, 'centre', 'doctor');
  const patient = a.member('patient', 40, 'centre', 'patient');
  const drWang = a.member('dr-wang', 50, 'district', 'doctor');
  const nurse = a.member('nurse', 51, 'district', 'department');
  const drZhao = a.member('dr-zhao', 52, 'district', 'doctor');
  a.ok(drLi, a.recordBody(drLi, 'rec-1', { patientKey: patient.publicKey }));
  a.ok(
    drLi,
    a.recordBody(drLi, 'rec-2', {
      level: 'L4',
      recordType: 'mental-health',
      patientKey: patient.publicKey,
    }),
  );
  return { a, drLi, patient, drWang, nurse, drZhao };
}

function grantBody(
  a: Alliance,
  granter: Signer,
  grantId: string,
  grantee: Grantee,
  scope: GrantScope,
  overrides: Partial<ConsentGrantPayload> = {},
) {
  // the granter re-wraps each record's data key for the grantee (only when the test gives no wraps)
  const wraps = () => {
    const key =
      grantee.kind === 'institution' ? a.institutionKey(grantee.institution) : grantee.member;
    const records =
      scope.kind === 'records' ? scope.records.map((id) => must(getRecord(a.chain, id))) : [];
    return rewrapForGrantee(a.suite, records, granter.key.privateKey, key);
  };
  return buildConsentGrant(a.suite, {
    grantId,
    grantee,
    scope,
    purpose: 'treatment',
    expiresAt: a.chain.height + 100,
    evidence:
      granter.institution === 'centre-a' && !granter.name.startsWith('patient') ? EVIDENCE : null,
    ...overrides,
    wraps: overrides.wraps ?? wraps(),
  });
}

const district: Grantee = { kind: 'institution', institution: 'district-b' };
const rec1: GrantScope = { kind: 'records', records: ['rec-1'] };

function read(a: Alliance, reader: Signer, recordId: string, grantId: string | null = null) {
  return a.run(reader, buildAccessLog(a.suite, { recordId, purpose: 'treatment', grantId }));
}

describe('consent.grant', () => {
  it('the patient grants an institution; its doctor can then read, and the access is logged', () => {
    const { a, patient, drWang } = setup();
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
    a.ok(patient, grantBody(a, patient, 'g-1', district, rec1));
    const grant = getGrant(a.chain, 'g-1');
    expect(grant).toMatchObject({
      kind: 'consent',
      patientSigned: true,
      grantorRole: 'patient',
      status: 'active',
    });
    expect(grantToJson(must(grant))).toMatchObject({
      grantee: { institution: 'district-b' },
      scope: { records: ['rec-1'] },
    });
    expect(read(a, drWang, 'rec-1')).toMatchObject({ code: 'OK' });
    expect(a.lastExecution().events).toMatchObject([
      { type: 'access.logged', recordId: 'rec-1', grantId: 'g-1' },
    ]);
    expect(canAccess(a.chain.env, a.chain, a.chain.height, drWang.publicKey, 'rec-1')).toEqual({
      ok: true,
      basis: 'grant',
      grantId: 'g-1',
    });
  });

  it('the owner institution grants with consent evidence; without evidence it is refused', () => {
    const { a, drWang } = setup();
    a.fails(
      a.inst.centre,
      grantBody(a, a.inst.centre, 'g-1', district, rec1, { evidence: null }),
      'CONSENT_EVIDENCE_REQUIRED',
    );
    a.ok(a.inst.centre, grantBody(a, a.inst.centre, 'g-1', district, rec1));
    expect(getGrant(a.chain, 'g-1')).toMatchObject({ patientSigned: false, evidence: EVIDENCE });
    expect(read(a, drWang, 'rec-1').code).toBe('OK');
  });

  it('policy decides which roles grant: by default an admin may grant L3, a doctor may not', () => {
    const { a, drLi } = setup();
    const admin = a.member('admin', 31, 'centre', 'admin');
    a.fails(drLi, grantBody(a, drLi, 'g-1', district, rec1, { wraps: [] }), 'ROLE_FORBIDDEN');
    const wraps = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-1'))],
      a.inst.centre.key.privateKey,
      a.inst.district.publicKey,
    );
    a.ok(admin, grantBody(a, admin, 'g-1', district, rec1, { wraps }));
  });

  it('with a policy that lets doctors grant L3, a doctor may', () => {
    const { a, drLi } = setup({
      dataLevels: {
        L3: {
          register: ['doctor', 'admin'],
          grant: ['doctor', 'admin', 'patient'],
          read: ['doctor'],
        },
      },
    });
    const wraps = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-1'))],
      a.inst.centre.key.privateKey,
      a.inst.district.publicKey,
    );
    a.ok(drLi, grantBody(a, drLi, 'g-1', district, rec1, { wraps }));
  });

  it("another institution cannot grant the centre's records; a patient cannot grant another patient's", () => {
    const { a } = setup();
    const other = a.member('other-patient', 41, 'centre', 'patient', {
      patient: new Uint8Array(32).fill(7),
    });
    const wraps = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-1'))],
      a.inst.centre.key.privateKey,
      a.inst.city.publicKey,
    );
    const toCity: Grantee = { kind: 'institution', institution: 'city-c' };
    a.fails(
      a.inst.district,
      grantBody(a, a.inst.centre, 'g-1', toCity, rec1, { wraps }),
      'NOT_AUTHORISED',
    );
    a.fails(
      other,
      grantBody(a, a.inst.centre, 'g-2', toCity, rec1, { wraps, evidence: null }),
      'PATIENT_MISMATCH',
    );
  });

  it('checks grantee, scope, expiry and wraps', () => {
    const { a, patient } = setup();
    const g = (
      id: string,
      grantee: Grantee,
      scope: GrantScope,
      o: Partial<ConsentGrantPayload> = {},
    ) => grantBody(a, patient, id, grantee, scope, o);
    a.fails(
      patient,
      g('g-a', { kind: 'institution', institution: 'nowhere' }, rec1, { wraps: [] }),
      'UNKNOWN_INSTITUTION',
    );
    a.fails(
      patient,
      g('g-b', { kind: 'member', member: fixedKey(a.suite, 96).publicKey }, rec1, { wraps: [] }),
      'UNKNOWN_MEMBER',
    );
    a.fails(
      patient,
      g('g-c', district, { kind: 'records', records: ['rec-404'] }, { wraps: [] }),
      'UNKNOWN_RECORD',
    );
    a.fails(patient, g('g-d', district, rec1, { expiresAt: a.chain.height }), 'EXPIRY_IN_PAST');
    a.fails(patient, g('g-e', district, rec1, { wraps: [] }), 'WRAP_MISSING');
    const forCity = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-1'))],
      patient.key.privateKey,
      a.inst.city.publicKey,
    );
    a.fails(patient, g('g-f', district, rec1, { wraps: forCity }), 'WRAP_INVALID');
    a.ok(patient, g('g-g', district, rec1));
    a.fails(patient, g('g-g', district, rec1), 'GRANT_EXISTS');
  });

  it('a grant to a member key lets that member read, not its colleagues', () => {
    const { a, patient, drWang, drZhao } = setup();
    a.ok(patient, grantBody(a, patient, 'g-1', { kind: 'member', member: drWang.publicKey }, rec1));
    expect(read(a, drWang, 'rec-1').code).toBe('OK');
    expect(read(a, drZhao, 'rec-1').code).toBe('ACCESS_DENIED');
  });

  it('readers still need the read role for the level', () => {
    const { a, patient, nurse, drWang } = setup();
    a.ok(patient, grantBody(a, patient, 'g-1', district, rec1));
    expect(read(a, nurse, 'rec-1').code).toBe('ROLE_FORBIDDEN');
    expect(read(a, drWang, 'rec-1').code).toBe('OK');
    // institution keys cannot log an access: a person must
    expect(read(a, a.inst.district, 'rec-1').code).toBe('ROLE_FORBIDDEN');
  });

  it('an access naming a grant that does not cover the reader is refused', () => {
    const { a, patient, drWang } = setup();
    a.ok(
      patient,
      grantBody(a, patient, 'g-city', { kind: 'institution', institution: 'city-c' }, rec1),
    );
    expect(read(a, drWang, 'rec-1', 'g-city').code).toBe('ACCESS_DENIED');
    expect(read(a, drWang, 'rec-1', 'g-none').code).toBe('ACCESS_DENIED');
  });
});

describe('grant expiry and revocation by height', () => {
  it('a grant is live up to and including its expiry height, not after', () => {
    const { a, patient, drWang } = setup();
    const expiresAt = a.chain.height + 3;
    a.ok(patient, grantBody(a, patient, 'g-1', district, rec1, { expiresAt }));
    while (a.chain.height + 1 < expiresAt) a.block();
    expect(read(a, drWang, 'rec-1').code).toBe('OK'); // executed at height = expiresAt
    expect(a.chain.height).toBe(expiresAt);
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
    expect(canAccess(a.chain.env, a.chain, expiresAt, drWang.publicKey, 'rec-1').ok).toBe(true);
    expect(canAccess(a.chain.env, a.chain, expiresAt + 1, drWang.publicKey, 'rec-1')).toMatchObject(
      { ok: false, code: 'ACCESS_DENIED' },
    );
    a.fails(
      patient,
      buildConsentRevoke(a.suite, { grantId: 'g-1', reason: 'withdrawn' }),
      'GRANT_NOT_ACTIVE',
    );
  });

  it('revocation takes effect from the next transaction on, in the same block', () => {
    const { a, patient, drWang } = setup();
    a.ok(patient, grantBody(a, patient, 'g-1', district, rec1));
    const before = a.tx(
      drWang,
      buildAccessLog(a.suite, { recordId: 'rec-1', purpose: 'treatment', grantId: null }),
    );
    const revoke = a.tx(
      patient,
      buildConsentRevoke(a.suite, { grantId: 'g-1', reason: 'withdrawn' }),
    );
    const after = a.tx(
      drWang,
      buildAccessLog(a.suite, { recordId: 'rec-1', purpose: 'treatment', grantId: null }),
    );
    expect(a.block(before, revoke, after).map((r) => r.code)).toEqual([
      'OK',
      'OK',
      'ACCESS_DENIED',
    ]);
    expect(getGrant(a.chain, 'g-1')).toMatchObject({
      status: 'revoked',
      closedAt: a.chain.height,
      closeReason: 'withdrawn',
    });
    a.fails(
      patient,
      buildConsentRevoke(a.suite, { grantId: 'g-1', reason: 'withdrawn' }),
      'GRANT_NOT_ACTIVE',
    );
  });

  it('revocation by whoever may grant: patient, grantor, owner admin; not the grantee or strangers', () => {
    const { a, patient, drWang } = setup();
    const admin = a.member('admin', 31, 'centre', 'admin');
    const revoke = (id: string) =>
      buildConsentRevoke(a.suite, { grantId: id, reason: 'withdrawn' });
    a.ok(a.inst.centre, grantBody(a, a.inst.centre, 'g-1', district, rec1));
    a.ok(patient, grantBody(a, patient, 'g-2', district, rec1));
    a.ok(patient, grantBody(a, patient, 'g-3', district, rec1));
    a.fails(drWang, revoke('g-1'), 'NOT_AUTHORISED');
    a.fails(a.inst.district, revoke('g-2'), 'NOT_AUTHORISED');
    a.fails(patient, revoke('g-404'), 'UNKNOWN_GRANT');
    a.ok(patient, revoke('g-1')); // the patient revokes the institution's grant about them
    a.ok(admin, revoke('g-2')); // the owner institution may revoke an L3 grant it could have made
    a.ok(patient, revoke('g-3'));
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED');
  });
});

describe('patient-scope grants', () => {
  const scope = (
    a: Alliance,
    maxLevel: 'L2' | 'L3' | 'L4',
    recordTypes = ['checkup-report'],
  ): GrantScope => ({
    kind: 'patient',
    patient: a.patient,
    recordTypes,
    maxLevel,
  });

  it('cover matching record types and levels, including records registered later', () => {
    const { a, patient, drLi, drWang } = setup();
    a.ok(patient, grantBody(a, patient, 'g-p', district, scope(a, 'L3')));
    expect(read(a, drWang, 'rec-1').code).toBe('OK');
    a.ok(drLi, a.recordBody(drLi, 'rec-later', { patientKey: patient.publicKey }));
    expect(read(a, drWang, 'rec-later')).toMatchObject({ code: 'OK' });
    a.ok(
      drLi,
      a.recordBody(drLi, 'rec-lab', { recordType: 'lab-result', patientKey: patient.publicKey }),
    );
    expect(read(a, drWang, 'rec-lab').code).toBe('ACCESS_DENIED');
    a.ok(drLi, a.recordBody(drLi, 'rec-other', { patient: new Uint8Array(32).fill(9) }));
    expect(read(a, drWang, 'rec-other').code).toBe('ACCESS_DENIED');
  });

  it('respect the maximum level', () => {
    const { a, patient, drLi, drWang } = setup();
    a.ok(patient, grantBody(a, patient, 'g-p', district, scope(a, 'L2')));
    expect(read(a, drWang, 'rec-1').code).toBe('ACCESS_DENIED'); // rec-1 is L3
    a.ok(drLi, a.recordBody(drLi, 'rec-l2', { level: 'L2', patientKey: patient.publicKey }));
    expect(read(a, drWang, 'rec-l2').code).toBe('OK');
  });

  it('an institution grants patient scope only over its own records', () => {
    const { a, patient, drWang } = setup();
    const drQian = a.member('dr-qian', 60, 'city', 'doctor');
    a.ok(drQian, a.recordBody(drQian, 'rec-city', { patientKey: patient.publicKey }));
    a.ok(a.inst.centre, grantBody(a, a.inst.centre, 'g-p', district, scope(a, 'L3')));
    expect(read(a, drWang, 'rec-1').code).toBe('OK');
    expect(read(a, drWang, 'rec-city').code).toBe('ACCESS_DENIED');
  });

  it('wraps for a patient scope must be for covered records', () => {
    const { a, patient, drLi } = setup();
    a.ok(
      drLi,
      a.recordBody(drLi, 'rec-lab', { recordType: 'lab-result', patientKey: patient.publicKey }),
    );
    const bad = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-lab'))],
      patient.key.privateKey,
      a.inst.district.publicKey,
    );
    a.fails(
      patient,
      grantBody(a, patient, 'g-p', district, scope(a, 'L3'), { wraps: bad }),
      'WRAP_INVALID',
    );
    const good = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-1'))],
      patient.key.privateKey,
      a.inst.district.publicKey,
    );
    a.ok(patient, grantBody(a, patient, 'g-p', district, scope(a, 'L3'), { wraps: good }));
  });
});

describe('L4 records', () => {
  const rec2: GrantScope = { kind: 'records', records: ['rec-2'] };

  it('need a patient-signed consent naming the record', () => {
    const { a, patient, drWang } = setup();
    expect(read(a, drWang, 'rec-2').code).toBe('ACCESS_DENIED');
    a.ok(patient, grantBody(a, patient, 'g-l4', district, rec2));
    expect(read(a, drWang, 'rec-2').code).toBe('OK');
  });

  it('the institution cannot grant them, even with evidence and admin rights', () => {
    const { a } = setup();
    const admin = a.member('admin', 31, 'centre', 'admin');
    a.fails(
      a.inst.centre,
      grantBody(a, a.inst.centre, 'g-1', district, rec2),
      'L4_CONSENT_REQUIRED',
    );
    const wraps = rewrapForGrantee(
      a.suite,
      [must(getRecord(a.chain, 'rec-2'))],
      a.inst.centre.key.privateKey,
      a.inst.district.publicKey,
    );
    a.fails(admin, grantBody(a, admin, 'g-2', district, rec2, { wraps }), 'L4_CONSENT_REQUIRED');
  });

  it('a patient-scope grant never covers them', () => {
    const { a, patient, drWang } = setup();
    const scopeL4: GrantScope = {
      kind: 'patient',
      patient: a.patient,
      recordTypes: ['mental-health'],
      maxLevel: 'L4',
    };
    a.fails(patient, grantBody(a, patient, 'g-p4', district, scopeL4), 'L4_CONSENT_REQUIRED');
    const scopeL3: GrantScope = {
      kind: 'patient',
      patient: a.patient,
      recordTypes: ['mental-health'],
      maxLevel: 'L3',
    };
    a.ok(patient, grantBody(a, patient, 'g-p3', district, scopeL3));
    expect(read(a, drWang, 'rec-2').code).toBe('ACCESS_DENIED');
  });

  it('only the patient may revoke an L4 consent', () => {
    const { a, patient } = setup();
    const admin = a.member('admin', 31, 'centre', 'admin');
    a.ok(patient, grantBody(a, patient, 'g-l4', district, rec2));
    a.fails(
      admin,
      buildConsentRevoke(a.suite, { grantId: 'g-l4', reason: 'x' }),
      'L4_CONSENT_REQUIRED',
    );
    a.ok(patient, buildConsentRevoke(a.suite, { grantId: 'g-l4', reason: 'x' }));
  });
});

describe('revoked and expired certificates', () => {
  it('a grantee member whose certificate is revoked cannot read, and a revoked patient key cannot grant', () => {
    const { a, patient, drWang } = setup();
    a.ok(patient, grantBody(a, patient, 'g-1', { kind: 'member', member: drWang.publicKey }, rec1));
    a.ok(a.inst.district, {
      type: 'member.revoke',
      payload: { publicKey: drWang.publicKey, reason: 'left' },
    });
    expect(read(a, drWang, 'rec-1').code).toBe('CERT_REVOKED');
    expect(
      canAccess(a.chain.env, a.chain, a.chain.height, drWang.publicKey, 'rec-1'),
    ).toMatchObject({ ok: false, code: 'CERT_REVOKED' });
    a.ok(a.inst.centre, {
      type: 'member.revoke',
      payload: { publicKey: patient.publicKey, reason: 'lost-device' },
    });
    a.fails(patient, grantBody(a, patient, 'g-2', district, rec1), 'CERT_REVOKED');
  });
});

describe('bounded grant slots', () => {
  it('a grantee holds at most 32 live grants per record; dead grants are pruned and free the slot', () => {
    const { a, patient } = setup();
    const short = a.chain.height + 3;
    const grants = Array.from({ length: 32 }, (_, i) =>
      a.tx(
        patient,
        grantBody(a, patient, `g-${i}`, district, rec1, {
          expiresAt: i < 4 ? short : a.chain.height + 500,
        }),
      ),
    );
    expect(a.block(...grants).every((r) => r.code === 'OK')).toBe(true);
    expect(
      a.fails(patient, grantBody(a, patient, 'g-32', district, rec1), 'TOO_MANY_GRANTS'),
    ).toMatch(/limit 32/);
    // a grant to another grantee lives in another slot
    a.ok(
      patient,
      grantBody(a, patient, 'g-city', { kind: 'institution', institution: 'city-c' }, rec1),
    );
    while (a.chain.height <= short) a.block();
    a.ok(patient, grantBody(a, patient, 'g-32', district, rec1));
    const slot = a.chain.get(stateKey.recordAccess('rec-1', district));
    expect(decodeAccessSlot(must(slot)).grants).toHaveLength(29); // 28 still live + the new one
  });
});
