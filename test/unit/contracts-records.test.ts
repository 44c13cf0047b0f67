import { describe, expect, it } from 'vitest';
import { getRecord, recordToJson } from '../../src/contracts/index.js';
import { buildRecordRegister } from '../../src/records/index.js';
import { Alliance, fixedKey, must } from './contracts-fixtures.js';

describe('record.register', () => {
  it("a doctor registers a record owned by the doctor's institution", () => {
    const a = new Alliance();
    const doctor = a.member('dr-li', 30, 'centre', 'doctor');
    a.ok(doctor, a.recordBody(doctor, 'rec-1'));
    const record = getRecord(a.chain, 'rec-1');
    expect(record).toMatchObject({
      id: 'rec-1',
      owner: 'centre-a',
      level: 'L3',
      recordType: 'checkup-report',
    });
    expect(record?.registeredBy).toEqual(doctor.publicKey);
    expect(recordToJson(must(record))).toMatchObject({ id: 'rec-1', storage: 'vault' });
    expect(a.lastExecution().events).toMatchObject([
      {
        type: 'record.registered',
        recordId: 'rec-1',
        owner: 'centre-a',
        actorRole: 'doctor',
        actorInstitution: 'centre-a',
      },
    ]);
  });

  it("only the owner institution's members register its records: another institution's doctor registers for its own", () => {
    const a = new Alliance();
    const other = a.member('dr-wang', 31, 'district', 'doctor');
    // wrapped only for the centre: the district doctor's record must be wrapped for the district
    const forCentre = a.recordBody(other, 'rec-x', { recipients: [a.inst.centre.publicKey] });
    a.fails(other, forCentre, 'WRAP_MISSING');
    a.ok(other, a.recordBody(other, 'rec-x'));
    expect(getRecord(a.chain, 'rec-x')?.owner).toBe('district-b');
  });

  it('policy decides which roles register which level', () => {
    const a = new Alliance();
    const admin = a.member('admin', 30, 'centre', 'admin');
    const dept = a.member('dept', 31, 'centre', 'department');
    const auditor = a.member('auditor', 32, 'regulator', 'auditor');
    const doctor = a.member('doctor', 33, 'centre', 'doctor');
    a.ok(admin, a.recordBody(admin, 'r-admin-l3', { level: 'L3' }));
    expect(
      a.fails(admin, a.recordBody(admin, 'r-admin-l4', { level: 'L4' }), 'ROLE_FORBIDDEN'),
    ).toMatch(/register L4/);
    a.fails(dept, a.recordBody(dept, 'r-dept-l3', { level: 'L3' }), 'ROLE_FORBIDDEN');
    a.ok(dept, a.recordBody(dept, 'r-dept-l2', { level: 'L2' }));
    a.fails(auditor, a.recordBody(auditor, 'r-aud', { level: 'L1' }), 'ROLE_FORBIDDEN');
    a.ok(doctor, a.recordBody(doctor, 'r-doc-l4', { level: 'L4' }));
    // the institution key has admin rights
    a.ok(a.inst.centre, a.recordBody(a.inst.centre, 'r-inst-l3'));
    a.fails(
      a.inst.centre,
      a.recordBody(a.inst.centre, 'r-inst-l4', { level: 'L4' }),
      'ROLE_FORBIDDEN',
    );
  });

  it('record ids are unique', () => {
    const a = new Alliance();
    const doctor = a.member('dr-li', 30, 'centre', 'doctor');
    a.ok(doctor, a.recordBody(doctor, 'rec-1'));
    a.fails(doctor, a.recordBody(doctor, 'rec-1'), 'RECORD_EXISTS');
  });

  it("needs a wrap for the patient's live key, and refuses wraps for strangers", () => {
    const a = new Alliance();
    const doctor = a.member('dr-li', 30, 'centre', 'doctor');
    const patient = a.member('patient', 40, 'centre', 'patient');
    const nurse = a.member('nurse', 41, 'centre', 'department');
    const foreign = a.member('dr-wang', 42, 'district', 'doctor');
    a.fails(doctor, a.recordBody(doctor, 'rec-1'), 'WRAP_MISSING');
    a.ok(doctor, a.recordBody(doctor, 'rec-1', { patientKey: patient.publicKey }));
    a.ok(
      doctor,
      a.recordBody(doctor, 'rec-2', {
        recipients: [a.inst.centre.publicKey, patient.publicKey, nurse.publicKey],
      }),
    );
    a.fails(
      doctor,
      a.recordBody(doctor, 'rec-3', {
        recipients: [a.inst.centre.publicKey, patient.publicKey, foreign.publicKey],
      }),
      'WRAP_INVALID',
    );
    a.fails(
      doctor,
      a.recordBody(doctor, 'rec-4', {
        recipients: [a.inst.centre.publicKey, patient.publicKey, fixedKey(a.suite, 97).publicKey],
      }),
      'WRAP_INVALID',
    );
  });

  it('a failed registration changes nothing but the nonce', () => {
    const a = new Alliance();
    const auditor = a.member('auditor', 32, 'regulator', 'auditor');
    a.fails(auditor, a.recordBody(auditor, 'r-aud', { level: 'L3' }), 'ROLE_FORBIDDEN');
    const changes = a.lastExecution().stateChanges;
    expect(changes).toHaveLength(1);
    expect(new TextDecoder().decode(must(changes[0]).key.subarray(0, 6))).toBe('nonce/');
    expect(getRecord(a.chain, 'r-aud')).toBeUndefined();
    expect(a.lastExecution().events).toEqual([]);
    expect(a.lastExecution().indexEntries).toEqual([]);
  });

  it('rejects malformed payloads naming the field', () => {
    const a = new Alliance();
    const doctor = a.member('dr-li', 30, 'centre', 'doctor');
    const body = a.recordBody(doctor, 'rec-1');
    const withPayload = (payload: Record<string, unknown>) => ({
      type: body.type,
      payload: { ...body.payload, ...payload } as typeof body.payload,
    });
    expect(a.fails(doctor, withPayload({ level: 'L9' }), 'INVALID_PAYLOAD')).toMatch(
      /^payload\.level: expected one of L1, L2, L3, L4/,
    );
    expect(a.fails(doctor, withPayload({ recordId: 'a/b' }), 'INVALID_PAYLOAD')).toMatch(
      /^payload\.recordId: not an id/,
    );
    expect(
      a.fails(doctor, withPayload({ patient: new Uint8Array(31) }), 'INVALID_PAYLOAD'),
    ).toMatch(/^payload\.patient: expected 32 bytes/);
    expect(
      a.fails(doctor, withPayload({ recordType: 'Free text with spaces' }), 'INVALID_PAYLOAD'),
    ).toMatch(/^payload\.recordType: not a token/);
    expect(a.fails(doctor, withPayload({ wraps: [] }), 'INVALID_PAYLOAD')).toMatch(
      /^payload\.wraps: must not be empty/,
    );
    expect(
      a.fails(doctor, withPayload({ sealedLocator: new Uint8Array(5000) }), 'INVALID_PAYLOAD'),
    ).toMatch(/^payload\.sealedLocator: longer than 4096 bytes/);
    expect(a.fails(doctor, withPayload({ storage: 'cloud' }), 'INVALID_PAYLOAD')).toMatch(
      /^payload\.storage/,
    );
  });

  it('the builder refuses the same bad fields before signing', () => {
    const a = new Alliance();
    expect(() =>
      buildRecordRegister(a.suite, {
        recordId: 'rec-1',
        patient: a.patient,
        recordType: 'checkup-report',
        level: 'L3',
        contentHash: new Uint8Array(31),
        sealedLocator: new Uint8Array(40),
        sealedMetadata: new Uint8Array(40),
        wraps: [{ recipient: a.inst.centre.publicKey, wrapped: new Uint8Array(80) }],
        storage: 'vault',
      }),
    ).toThrow(/^payload\.contentHash: expected 32 bytes, got 31$/);
  });
});
