import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { getMember, getPatientKey, memberToJson, stateKey } from '../../src/contracts/index.js';
import { buildMemberCertify, buildMemberRevoke } from '../../src/records/index.js';
import type { MemberCertifyPayload } from '../../src/contracts/index.js';
import { Alliance, FAR, fixedKey, Signer, must } from './contracts-fixtures.js';

function certify(a: Alliance, seed: number, overrides: Partial<MemberCertifyPayload> = {}) {
  return buildMemberCertify(a.suite, {
    memberId: `m-${seed}`,
    publicKey: fixedKey(a.suite, seed).publicKey,
    role: 'doctor',
    institution: 'centre-a',
    notBefore: 0,
    notAfter: FAR,
    patient: null,
    ...overrides,
  });
}

describe('member.certify', () => {
  it('the institution key certifies a member, and the certificate is stored', () => {
    const a = new Alliance();
    a.ok(a.inst.centre, certify(a, 30, { memberId: 'dr-li' }));
    const cert = getMember(a.chain, fixedKey(a.suite, 30).publicKey);
    expect(cert).toMatchObject({
      memberId: 'dr-li',
      role: 'doctor',
      institution: 'centre-a',
      revokedAt: null,
    });
    expect(memberToJson(must(cert))).toMatchObject({
      publicKey: toHex(fixedKey(a.suite, 30).publicKey),
    });
    const event = a.lastExecution().events[0];
    expect(event).toMatchObject({
      type: 'member.certified',
      memberId: 'dr-li',
      actorRole: 'institution',
      renewed: false,
    });
  });

  it('an admin member certifies for its own institution only', () => {
    const a = new Alliance();
    const admin = a.member('admin', 31, 'centre', 'admin');
    a.ok(admin, certify(a, 32));
    a.fails(admin, certify(a, 33, { institution: 'district-b' }), 'NOT_AUTHORISED');
  });

  it('a doctor, or another institution key, cannot certify', () => {
    const a = new Alliance();
    const doctor = a.member('doctor', 31, 'centre', 'doctor');
    a.fails(doctor, certify(a, 32), 'NOT_AUTHORISED');
    a.fails(a.inst.district, certify(a, 33), 'NOT_AUTHORISED');
    expect(getMember(a.chain, fixedKey(a.suite, 32).publicKey)).toBeUndefined();
  });

  it('refuses unknown institutions, institution keys as members and expiry in the past', () => {
    const a = new Alliance();
    a.fails(a.inst.centre, certify(a, 30, { institution: 'nowhere' }), 'UNKNOWN_INSTITUTION');
    a.fails(
      a.inst.centre,
      certify(a, 30, { publicKey: a.inst.district.publicKey }),
      'MEMBER_EXISTS',
    );
    a.fails(a.inst.centre, certify(a, 30, { notBefore: 0, notAfter: 1 }), 'EXPIRY_IN_PAST');
  });

  it('renews a certificate of the same member, but never rebinds a key to another member', () => {
    const a = new Alliance();
    a.ok(a.inst.centre, certify(a, 30, { memberId: 'dr-li', notAfter: 100 }));
    a.ok(a.inst.centre, certify(a, 30, { memberId: 'dr-li', notAfter: 200 }));
    expect(getMember(a.chain, fixedKey(a.suite, 30).publicKey)?.notAfter).toBe(200);
    expect(a.lastExecution().events[0]).toMatchObject({ renewed: true });
    a.fails(a.inst.centre, certify(a, 30, { memberId: 'dr-zhang' }), 'MEMBER_EXISTS');
    a.fails(a.inst.centre, certify(a, 30, { memberId: 'dr-li', role: 'admin' }), 'MEMBER_EXISTS');
  });

  it('a member id is held by one unrevoked key; after revocation a new key may take it', () => {
    const a = new Alliance();
    a.ok(a.inst.centre, certify(a, 30, { memberId: 'dr-li' }));
    a.fails(a.inst.centre, certify(a, 31, { memberId: 'dr-li' }), 'MEMBER_ID_TAKEN');
    a.ok(
      a.inst.centre,
      buildMemberRevoke(a.suite, {
        publicKey: fixedKey(a.suite, 30).publicKey,
        reason: 'key-compromised',
      }),
    );
    a.ok(a.inst.centre, certify(a, 31, { memberId: 'dr-li' }));
  });

  it('binds a patient key to a pseudonym, one live key per pseudonym', () => {
    const a = new Alliance();
    const patientKey = fixedKey(a.suite, 40).publicKey;
    a.ok(
      a.inst.centre,
      certify(a, 40, { role: 'patient', memberId: 'patient-1', patient: a.patient }),
    );
    expect(getPatientKey(a.chain, a.patient)).toEqual(patientKey);
    a.fails(
      a.inst.centre,
      certify(a, 41, { role: 'patient', memberId: 'patient-2', patient: a.patient }),
      'PATIENT_KEY_EXISTS',
    );
    a.ok(
      a.inst.centre,
      buildMemberRevoke(a.suite, { publicKey: patientKey, reason: 'lost-device' }),
    );
    expect(getPatientKey(a.chain, a.patient)).toBeUndefined();
    a.ok(
      a.inst.centre,
      certify(a, 41, { role: 'patient', memberId: 'patient-2', patient: a.patient }),
    );
    expect(getPatientKey(a.chain, a.patient)).toEqual(fixedKey(a.suite, 41).publicKey);
  });

  it('rejects malformed payloads naming the field', () => {
    const a = new Alliance();
    const body = certify(a, 30);
    const bad = { type: body.type, payload: { ...body.payload, notBefore: -1 } };
    expect(a.fails(a.inst.centre, bad, 'INVALID_PAYLOAD')).toMatch(
      /^payload\.notBefore: must be at least 0/,
    );
    const extra = { type: body.type, payload: { ...body.payload, colour: 'red' } };
    expect(a.fails(a.inst.centre, extra, 'INVALID_PAYLOAD')).toMatch(
      /^payload\.colour: unknown field/,
    );
    const shortKey = {
      type: body.type,
      payload: { ...body.payload, publicKey: new Uint8Array(5) },
    };
    expect(a.fails(a.inst.centre, shortKey, 'INVALID_PAYLOAD')).toMatch(
      /^payload\.publicKey: expected 32 bytes/,
    );
  });
});

describe('certificates that can do nothing', () => {
  it('a revoked certificate can do nothing, and nothing changes (not even its nonce)', () => {
    const a = new Alliance();
    const admin = a.member('admin', 31, 'centre', 'admin');
    a.ok(
      a.inst.centre,
      buildMemberRevoke(a.suite, { publicKey: admin.publicKey, reason: 'left-institution' }),
    );
    const before = new Map(a.chain.state);
    expect(a.fails(admin, certify(a, 32), 'CERT_REVOKED')).toMatch(/revoked at height/);
    expect(a.lastExecution().stateChanges).toEqual([]);
    expect(a.chain.state).toEqual(before);
  });

  it('not yet valid and expired certificates can do nothing', () => {
    const a = new Alliance();
    const later = a.member('later', 31, 'centre', 'admin', { notBefore: 10 });
    a.fails(later, certify(a, 32), 'CERT_NOT_YET_VALID');
    const brief = a.member('brief', 33, 'centre', 'admin', { notAfter: a.chain.height + 2 });
    a.ok(brief, certify(a, 34));
    a.ok(a.inst.centre, certify(a, 35));
    a.fails(brief, certify(a, 36), 'CERT_EXPIRED');
    while (a.chain.height < 10) a.block();
    a.ok(later, certify(a, 37));
  });

  it('an unknown key can do nothing', () => {
    const a = new Alliance();
    const nobody = new Signer('nobody', fixedKey(a.suite, 99), 'centre-a');
    a.fails(nobody, certify(a, 32), 'UNKNOWN_SIGNER');
    expect(a.lastExecution().stateChanges).toEqual([]);
  });
});

describe('member.revoke', () => {
  it('by the institution key, an admin of the institution or the member itself; not by others', () => {
    const a = new Alliance();
    const admin = a.member('admin', 31, 'centre', 'admin');
    const d1 = a.member('d1', 32, 'centre', 'doctor');
    const d2 = a.member('d2', 33, 'centre', 'doctor');
    const d3 = a.member('d3', 34, 'centre', 'doctor');
    const revoke = (s: { publicKey: Uint8Array }) =>
      buildMemberRevoke(a.suite, { publicKey: s.publicKey, reason: 'test' });
    a.fails(d1, revoke(d2), 'NOT_AUTHORISED');
    a.fails(a.inst.district, revoke(d2), 'NOT_AUTHORISED');
    a.ok(admin, revoke(d1));
    a.ok(d2, revoke(d2));
    a.ok(a.inst.centre, revoke(d3));
    a.fails(a.inst.centre, revoke(d3), 'ALREADY_REVOKED');
    a.fails(
      a.inst.centre,
      buildMemberRevoke(a.suite, { publicKey: fixedKey(a.suite, 98).publicKey, reason: 'x' }),
      'UNKNOWN_MEMBER',
    );
    expect(getMember(a.chain, d3.publicKey)).toMatchObject({
      revocationReason: 'test',
      revokedBy: a.inst.centre.publicKey,
    });
  });
});

describe('nonces', () => {
  it('a nonce at or below the last one is refused; a failed transaction still consumes its nonce', () => {
    const a = new Alliance();
    const t1 = a.tx(a.inst.centre, certify(a, 30), { nonce: 5 });
    expect(a.block(t1)[0]?.code).toBe('OK');
    const replay = a.tx(a.inst.centre, certify(a, 31), { nonce: 5 });
    const lower = a.tx(a.inst.centre, certify(a, 32), { nonce: 4 });
    expect(a.block(replay, lower).map((r) => r.code)).toEqual(['NONCE_REUSED', 'NONCE_REUSED']);
    // a rule failure keeps the nonce consumed, so the same transaction can never succeed later
    const failing = a.tx(a.inst.centre, certify(a, 33, { institution: 'nowhere' }), { nonce: 6 });
    expect(a.block(failing)[0]?.code).toBe('UNKNOWN_INSTITUTION');
    expect(a.lastExecution().stateChanges.map((c) => toHex(c.key))).toEqual([
      toHex(stateKey.nonce(a.inst.centre.publicKey)),
    ]);
    const again = a.tx(a.inst.centre, certify(a, 34), { nonce: 6 });
    expect(a.block(again)[0]?.code).toBe('NONCE_REUSED');
  });
});
