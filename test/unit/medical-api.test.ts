/**
 * The medical API on an in-memory alliance (real ChainStores, real contracts,
 * real fastify via inject; ./medical-fixtures.ts): signed-request checks on a
 * route, the read rule of every endpoint (allowed and denied), the document
 * vault across nodes (fetch, reuse, relay rules, revocation, a revocation
 * racing a fetch, tampered document), statistics, and the referral stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { encode, toHex } from '../../src/codec/index.js';
import { getGrant, getRecord } from '../../src/contracts/index.js';
import { getSuite } from '../../src/crypto/index.js';
import type { KeyPair } from '../../src/crypto/suite.js';
import { MedchainError } from '../../src/errors.js';
import { ApiClientError } from '../../src/api/errors.js';
import { toOpenApiPath } from '../../src/api/openapi.js';
import { MEDICAL_PATHS } from '../../src/medical/routes.js';
import { MedicalClient } from '../../src/medical/client.js';
import { sealDocument } from '../../src/medical/document.js';
import { SIGNATURE_HEADER, signRequest } from '../../src/medical/signed-request.js';
import {
  acceptReferral,
  completeReferral,
  createReferral,
  grantConsent,
  MedicalSession,
  openRecord,
  registerRecord,
  revokeConsent,
} from '../../src/medical/workflows.js';
import {
  buildAccessLog,
  buildConsentRevoke,
  buildMemberCertify,
  buildMemberRevoke,
  buildRecordRegister,
  patientMemberId,
  patientPseudonym,
  sealRecordPointer,
} from '../../src/records/index.js';
import type { MemberRole } from '../../src/identity/types.js';
import {
  cbor,
  CHAIN_ID,
  encodeTx,
  FAR,
  fixedKey,
  injectFetch,
  MedicalAlliance,
} from './medical-fixtures.js';

const suite = getSuite('intl');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const SECRET = new Uint8Array(32).fill(0x5c);
const PATIENT = patientPseudonym(suite, SECRET, 'synthetic-patient-api-0001');
const CENTRE = 'centre-a';
const DISTRICT = 'district-b';
const CITY = 'city-c';
const REGULATOR = 'regulator';
const REPORT = text('synthetic check-up report: HbA1c 6.1 %, follow-up advised');

let alliance: MedicalAlliance;
const keys = {} as Record<
  | 'centreDoctor'
  | 'centreAdmin'
  | 'districtDoctor'
  | 'cityDoctor'
  | 'regulatorAdmin'
  | 'patient'
  | 'otherPatient'
  | 'revoked',
  KeyPair
>;
const ids = { record: '', external: '', grant: '', referral: '', summary: '' };

async function certify(
  institution: string,
  key: KeyPair,
  role: MemberRole,
  memberId: string,
  patient?: Uint8Array,
): Promise<void> {
  const inst = alliance.node(institution).key;
  const receipt = await alliance.run(
    inst,
    buildMemberCertify(suite, {
      memberId,
      publicKey: key.publicKey,
      role,
      institution,
      notBefore: 0,
      notAfter: FAR,
      patient: patient ?? null,
    }),
  );
  expect(receipt.code, receipt.reason).toBe('OK');
}

function session(
  node: string,
  signer: KeyPair,
  unwrapWithInstitution = true,
): Promise<MedicalSession> {
  const target = alliance.node(node);
  return MedicalSession.open({
    baseUrl: `http://${node}.test`,
    signer,
    unwrapKeys: unwrapWithInstitution ? [target.key] : [],
    fetch: injectFetch(target.server),
    timeoutMs: 10_000,
  });
}

function client(node: string, key: KeyPair): MedicalClient {
  return new MedicalClient({
    baseUrl: `http://${node}.test`,
    suite,
    chainId: CHAIN_ID,
    key,
    fetch: injectFetch(alliance.node(node).server),
  });
}

/** GET `path` on `node` signed by `key`: the status code and error code (or 'OK'). */
async function probe(
  node: string,
  key: KeyPair | null,
  path: string,
): Promise<{ status: number; code: string; body: Record<string, unknown> }> {
  const headers: Record<string, string> =
    key === null
      ? {}
      : {
          [SIGNATURE_HEADER]: signRequest(suite, CHAIN_ID, key, {
            method: 'GET',
            path,
            timestampMs: Date.now(),
          }),
        };
  const response = await alliance
    .node(node)
    .server.app.inject({ method: 'GET', url: path, headers });
  const body = response.json<Record<string, unknown>>();
  const error = body.error as { code?: string } | undefined;
  return { status: response.statusCode, code: error?.code ?? 'OK', body };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MedchainError) return err.code;
    throw err;
  }
  return 'OK';
}

beforeAll(async () => {
  alliance = await MedicalAlliance.create(suite);
  keys.centreDoctor = fixedKey(suite, 30);
  keys.centreAdmin = fixedKey(suite, 31);
  keys.patient = fixedKey(suite, 40);
  keys.districtDoctor = fixedKey(suite, 50);
  keys.cityDoctor = fixedKey(suite, 60);
  keys.regulatorAdmin = fixedKey(suite, 70);
  keys.revoked = fixedKey(suite, 80);
  keys.otherPatient = fixedKey(suite, 41);
  await certify(CENTRE, keys.centreDoctor, 'doctor', 'dr-li');
  await certify(CENTRE, keys.centreAdmin, 'admin', 'admin-1');
  await certify(CENTRE, keys.patient, 'patient', patientMemberId(PATIENT), PATIENT);
  await certify(DISTRICT, keys.districtDoctor, 'doctor', 'dr-wang');
  await certify(CITY, keys.cityDoctor, 'doctor', 'dr-zhao');
  await certify(REGULATOR, keys.regulatorAdmin, 'admin', 'inspector-1');
  await certify(DISTRICT, keys.revoked, 'doctor', 'dr-gone');
  const other = patientPseudonym(suite, SECRET, 'synthetic-patient-api-0002');
  await certify(CITY, keys.otherPatient, 'patient', patientMemberId(other), other);
  const revoked = await alliance.run(
    alliance.node(DISTRICT).key,
    buildMemberRevoke(suite, { publicKey: keys.revoked.publicKey, reason: 'left-institution' }),
  );
  expect(revoked.code).toBe('OK');

  // the story: the centre registers a report (vault) and an external record; the patient grants
  // the district hospital the report; the centre refers the patient up; the district accepts
  const centre = await session(CENTRE, keys.centreDoctor);
  const registered = await registerRecord(centre, {
    patient: PATIENT,
    recordType: 'checkup-report',
    level: 'L3',
    content: REPORT,
    metadata: { title: 'annual check-up (synthetic)' },
  });
  ids.record = registered.recordId;
  const external = await registerRecord(centre, {
    patient: PATIENT,
    recordType: 'lab-result',
    level: 'L3',
    externalLocator: 'https://lis.centre-a.example/results/synthetic-77',
    contentHash: suite.hash(text('synthetic lab result')),
  });
  ids.external = external.recordId;
  const patient = await session(CENTRE, keys.patient, false);
  ids.grant = (
    await grantConsent(patient, {
      grantee: { kind: 'institution', institution: DISTRICT },
      recordIds: [ids.record, ids.external],
      purpose: 'treatment',
      expiresInHeights: 1000,
    })
  ).grantId;
  ids.referral = (
    await createReferral(centre, {
      to: DISTRICT,
      recordIds: [ids.record],
      reason: 'higher-level-care',
      expiresInHeights: 500,
    })
  ).referralId;
  await acceptReferral(await session(DISTRICT, keys.districtDoctor), ids.referral);
}, 60_000);

afterAll(async () => {
  await alliance.close();
});

describe('signed requests on a route', () => {
  const path = () => `/v1/records/${ids.record}`;

  it('unsigned → 401, unknown key → 401, revoked member → 403, owner staff → 200', async () => {
    expect(await probe(CENTRE, null, path())).toMatchObject({
      status: 401,
      code: 'MEDICAL_SIGNATURE_MISSING',
    });
    expect(await probe(CENTRE, fixedKey(suite, 99), path())).toMatchObject({
      status: 401,
      code: 'MEDICAL_UNKNOWN_SIGNER',
    });
    const revoked = await probe(DISTRICT, keys.revoked, `/v1/institutions/${DISTRICT}/members`);
    expect(revoked).toMatchObject({ status: 403, code: 'MEDICAL_CERT_INVALID' });
    expect(await probe(CENTRE, keys.centreDoctor, path())).toMatchObject({
      status: 200,
      code: 'OK',
    });
  });

  it('a signature over another path, an old timestamp or another body is refused', async () => {
    const app = alliance.node(CENTRE).server.app;
    const signedFor = (p: string, timestampMs = Date.now(), body?: Uint8Array) =>
      signRequest(suite, CHAIN_ID, keys.centreDoctor, {
        method: body ? 'PUT' : 'GET',
        path: p,
        timestampMs,
        ...(body ? { body } : {}),
      });
    const otherPath = await app.inject({
      method: 'GET',
      url: path(),
      headers: { [SIGNATURE_HEADER]: signedFor(`/v1/records/${ids.external}`) },
    });
    expect(otherPath.statusCode).toBe(401);
    expect(otherPath.json()).toMatchObject({ error: { code: 'MEDICAL_SIGNATURE_INVALID' } });
    const withQuery = await app.inject({
      method: 'GET',
      url: `${path()}?x=1`,
      headers: { [SIGNATURE_HEADER]: signedFor(path()) },
    });
    expect(withQuery.json()).toMatchObject({ error: { code: 'MEDICAL_SIGNATURE_INVALID' } });
    const stale = await app.inject({
      method: 'GET',
      url: path(),
      headers: { [SIGNATURE_HEADER]: signedFor(path(), Date.now() - 6 * 60_000) },
    });
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({ error: { code: 'MEDICAL_SIGNATURE_EXPIRED' } });
    const bodyA = encode({ ciphertext: text('A') });
    const bodyB = encode({ ciphertext: text('B') });
    const tampered = await app.inject({
      method: 'PUT',
      url: '/v1/vault/rec-tamper-test',
      headers: {
        [SIGNATURE_HEADER]: signedFor('/v1/vault/rec-tamper-test', Date.now(), bodyA),
        'content-type': 'application/cbor',
      },
      payload: Buffer.from(bodyB),
    });
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json()).toMatchObject({ error: { code: 'MEDICAL_SIGNATURE_INVALID' } });
  });

  it('bad parameters are 400 JSON errors, not crashes', async () => {
    expect((await probe(CENTRE, keys.centreDoctor, '/v1/records/bad%20id')).status).toBe(400);
    expect((await probe(CENTRE, keys.centreDoctor, `/v1/records/${ids.record}?limit=5`)).code).toBe(
      'INVALID_INPUT',
    );
    expect((await probe(CENTRE, keys.regulatorAdmin, '/v1/audit/patients/zz')).status).toBe(400);
    expect(
      (await probe(CENTRE, keys.regulatorAdmin, `/v1/audit/patients/${toHex(PATIENT)}?limit=0`))
        .code,
    ).toBe('INVALID_INPUT');
    expect((await probe(CENTRE, keys.regulatorAdmin, '/v1/statistics?from=2026-02-30')).code).toBe(
      'INVALID_INPUT',
    );
    expect((await probe(CENTRE, keys.regulatorAdmin, '/v1/statistics?by=week')).code).toBe(
      'INVALID_INPUT',
    );
    expect((await probe(CENTRE, keys.centreDoctor, '/v1/records/rec-none')).code).toBe(
      'MEDICAL_RECORD_NOT_FOUND',
    );
  });

  it('a lookup that finds nothing is a 404 with the code of what was looked up', async () => {
    const absentKey = toHex(new Uint8Array(32).fill(7));
    for (const [path, code] of [
      ['/v1/grants/grant-none', 'MEDICAL_GRANT_NOT_FOUND'],
      ['/v1/referrals/ref-none', 'MEDICAL_REFERRAL_NOT_FOUND'],
      [`/v1/members/${absentKey}`, 'MEDICAL_MEMBER_NOT_FOUND'],
      [`/v1/members/${absentKey}/grants`, 'MEDICAL_MEMBER_NOT_FOUND'],
    ] as const) {
      const answer = await probe(CENTRE, keys.regulatorAdmin, path);
      expect({ path, status: answer.status, code: answer.code }).toEqual({
        path,
        status: 404,
        code,
      });
    }
  });
});

describe('read rules per endpoint', () => {
  type Who = keyof typeof keys;
  const cases: readonly { name: string; path: () => string; allowed: Who[]; denied: Who[] }[] = [
    {
      name: 'record',
      path: () => `/v1/records/${ids.record}`,
      allowed: ['centreDoctor', 'centreAdmin', 'patient', 'districtDoctor'],
      denied: ['cityDoctor', 'regulatorAdmin'],
    },
    {
      name: 'record grants',
      path: () => `/v1/records/${ids.record}/grants`,
      allowed: ['centreDoctor', 'patient', 'districtDoctor', 'regulatorAdmin'],
      denied: ['cityDoctor'],
    },
    {
      name: 'patient key',
      path: () => `/v1/patients/${toHex(PATIENT)}`,
      allowed: ['patient', 'centreDoctor', 'districtDoctor', 'cityDoctor', 'regulatorAdmin'],
      denied: ['otherPatient'],
    },
    {
      name: 'patient grants',
      path: () => `/v1/patients/${toHex(PATIENT)}/grants`,
      allowed: ['patient', 'centreAdmin', 'regulatorAdmin'],
      denied: ['districtDoctor', 'cityDoctor'],
    },
    {
      name: 'grant',
      path: () => `/v1/grants/${ids.grant}`,
      allowed: ['patient', 'centreDoctor', 'districtDoctor', 'regulatorAdmin'],
      denied: ['cityDoctor'],
    },
    {
      name: 'referral grant',
      path: () => `/v1/grants/referral:${ids.referral}`,
      allowed: ['centreDoctor', 'districtDoctor', 'patient'],
      denied: ['cityDoctor'],
    },
    {
      name: 'institution grants',
      path: () => `/v1/institutions/${DISTRICT}/grants`,
      allowed: ['districtDoctor', 'regulatorAdmin'],
      denied: ['cityDoctor', 'centreDoctor', 'patient'],
    },
    {
      name: 'member grants',
      path: () => `/v1/members/${toHex(keys.districtDoctor.publicKey)}/grants`,
      allowed: ['districtDoctor', 'regulatorAdmin'],
      denied: ['cityDoctor'],
    },
    {
      name: 'institution records',
      path: () => `/v1/institutions/${CENTRE}/records`,
      allowed: ['centreDoctor', 'regulatorAdmin'],
      denied: ['districtDoctor', 'patient'],
    },
    {
      name: 'institution referrals',
      path: () => `/v1/institutions/${DISTRICT}/referrals?direction=incoming`,
      allowed: ['districtDoctor', 'regulatorAdmin'],
      denied: ['centreDoctor', 'cityDoctor'],
    },
    {
      name: 'referral',
      path: () => `/v1/referrals/${ids.referral}`,
      allowed: ['centreDoctor', 'districtDoctor', 'patient', 'regulatorAdmin'],
      denied: ['cityDoctor'],
    },
    {
      name: 'inbox',
      path: () => '/v1/referrals/inbox',
      allowed: ['districtDoctor', 'cityDoctor'],
      denied: ['patient'],
    },
    {
      name: 'members',
      path: () => `/v1/institutions/${CENTRE}/members`,
      allowed: ['centreAdmin', 'regulatorAdmin'],
      denied: ['cityDoctor', 'patient'],
    },
    {
      name: 'doctor certificate',
      path: () => `/v1/members/${toHex(keys.centreDoctor.publicKey)}`,
      allowed: ['cityDoctor', 'patient', 'regulatorAdmin'],
      denied: [],
    },
    {
      name: 'patient certificate',
      path: () => `/v1/members/${toHex(keys.patient.publicKey)}`,
      allowed: ['patient', 'centreDoctor', 'regulatorAdmin'],
      denied: ['districtDoctor', 'cityDoctor'],
    },
    {
      name: 'record audit',
      path: () => `/v1/audit/records/${ids.record}`,
      allowed: ['centreDoctor', 'patient', 'regulatorAdmin'],
      denied: ['districtDoctor', 'cityDoctor'],
    },
    {
      name: 'patient audit',
      path: () => `/v1/audit/patients/${toHex(PATIENT)}`,
      allowed: ['patient', 'centreDoctor', 'regulatorAdmin'],
      denied: ['districtDoctor', 'cityDoctor'],
    },
    {
      name: 'institution audit',
      path: () => `/v1/audit/institutions/${DISTRICT}`,
      allowed: ['districtDoctor', 'regulatorAdmin'],
      denied: ['centreDoctor', 'patient'],
    },
    {
      name: 'statistics of all',
      path: () => '/v1/statistics?from=2026-01-01&to=2026-01-02',
      allowed: ['regulatorAdmin'],
      denied: [],
    },
    {
      name: 'statistics of the centre',
      path: () => `/v1/statistics?institution=${CENTRE}&from=2026-01-01&to=2026-01-02`,
      allowed: ['centreAdmin', 'regulatorAdmin'],
      denied: ['centreDoctor', 'districtDoctor', 'patient'],
    },
  ];

  it.each(cases)('$name', async ({ path, allowed, denied }) => {
    for (const who of allowed) {
      const result = await probe(CENTRE, keys[who], path());
      expect(result, `${who} on ${path()}`).toMatchObject({ status: 200, code: 'OK' });
    }
    for (const who of denied) {
      const result = await probe(CENTRE, keys[who], path());
      expect(result, `${who} on ${path()}`).toMatchObject({
        status: 403,
        code: 'MEDICAL_FORBIDDEN',
      });
    }
  });

  it("anyone on staff learns a pseudonym's live key; only custodians see its certificate", async () => {
    const city = await client(CITY, keys.cityDoctor).patient(PATIENT);
    expect(city).toEqual({
      pseudonym: toHex(PATIENT),
      patientKey: toHex(keys.patient.publicKey),
      certificate: null,
    });
    const centre = await client(CENTRE, keys.centreDoctor).patient(PATIENT);
    expect(centre.certificate).toMatchObject({ institution: CENTRE, role: 'patient' });
  });

  it('a grantee sees only its own grants of a record; the owner sees every one', async () => {
    const owner = await client(CENTRE, keys.centreDoctor).record(ids.record);
    const grantee = await client(CENTRE, keys.districtDoctor).record(ids.record);
    expect(owner.grants.map((g) => g.id).sort()).toEqual(
      [ids.grant, `referral:${ids.referral}`].sort(),
    );
    expect(
      grantee.grants.every((g) => 'institution' in g.grantee && g.grantee.institution === DISTRICT),
    ).toBe(true);
    expect(grantee.access).toMatchObject({ ok: true, basis: 'grant' });
    expect(owner.access).toMatchObject({ ok: true, basis: 'owner' });
  });

  it('patient record lists are filtered to what the requester may read', async () => {
    const all = await client(CENTRE, keys.regulatorAdmin).patientRecords(PATIENT);
    expect(all.records.map((r) => r.id).sort()).toEqual([ids.record, ids.external].sort());
    expect(all.records[0]).not.toHaveProperty('sealedLocator');
    const city = await client(CENTRE, keys.cityDoctor).patientRecords(PATIENT);
    expect(city.records).toEqual([]);
  });

  it('the inbox of the district hospital holds the open referral', async () => {
    const inbox = await client(DISTRICT, keys.districtDoctor).inbox();
    expect(inbox.referrals.map((r) => r.id)).toContain(ids.referral);
    const city = await client(CITY, keys.cityDoctor).inbox();
    expect(city.referrals).toEqual([]);
  });
});

describe('document vault across nodes', () => {
  function accessTx(signer: KeyPair, recordId: string, grantId: string | null = null): Uint8Array {
    return encodeTx(
      alliance.sign(
        signer,
        buildAccessLog(suite, { recordId, purpose: 'treatment', grantId }),
        alliance.height + 50,
      ),
    );
  }

  it('the district doctor fetches through its own node, opens it, and the access is on chain', async () => {
    const district = await session(DISTRICT, keys.districtDoctor);
    const opened = await openRecord(district, ids.record, { purpose: 'treatment' });
    expect(opened.content).toEqual(REPORT);
    expect(opened.metadata).toEqual({ title: 'annual check-up (synthetic)' });
    const receipt = alliance.receipts.find((r) => toHex(r.txHash) === opened.accessTx);
    expect(receipt?.code).toBe('OK');
    const audit = await client(CENTRE, keys.regulatorAdmin).auditRecord(ids.record);
    const looked = audit.events.filter((e) => e.type === 'access.logged');
    expect(looked.at(-1)).toMatchObject({
      actorInstitution: DISTRICT,
      actorMemberId: 'dr-wang',
      txHash: opened.accessTx,
    });
  });

  it('the same access.log cannot fetch twice', async () => {
    const tx = accessTx(keys.districtDoctor, ids.record);
    const c = client(DISTRICT, keys.districtDoctor);
    await c.fetchDocument(ids.record, tx);
    expect(await codeOf(c.fetchDocument(ids.record, tx))).toBe('MEDICAL_ACCESS_TX_USED');
  });

  it('a reader without a grant is denied by the owner node, and nothing is logged', async () => {
    const before = alliance.receipts.length;
    const tx = accessTx(keys.cityDoctor, ids.record);
    const error = await client(CITY, keys.cityDoctor)
      .fetchDocument(ids.record, tx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiClientError);
    expect(error).toMatchObject({ code: 'MEDICAL_ACCESS_DENIED', status: 403 });
    expect(alliance.receipts.length).toBe(before);
  });

  it('refuses an access.log of someone else, of another record, or relayed by another institution', async () => {
    const district = client(DISTRICT, keys.districtDoctor);
    expect(
      await codeOf(district.fetchDocument(ids.record, accessTx(keys.centreDoctor, ids.record))),
    ).toBe('MEDICAL_BAD_ACCESS_TX');
    expect(
      await codeOf(district.fetchDocument(ids.record, accessTx(keys.districtDoctor, ids.external))),
    ).toBe('MEDICAL_BAD_ACCESS_TX');
    expect(await codeOf(district.fetchDocument(ids.record, cborTx()))).toBe(
      'MEDICAL_BAD_ACCESS_TX',
    );
    const viaCity = client(CITY, keys.districtDoctor);
    expect(
      await codeOf(viaCity.fetchDocument(ids.record, accessTx(keys.districtDoctor, ids.record))),
    ).toBe('MEDICAL_FORBIDDEN');
    expect(
      await codeOf(
        district.fetchDocument(ids.external, accessTx(keys.districtDoctor, ids.external)),
      ),
    ).toBe('MEDICAL_NOT_IN_VAULT');
  });

  it('an external record is opened from its sealed locator after the access is logged', async () => {
    const district = await session(DISTRICT, keys.districtDoctor);
    const opened = await openRecord(district, ids.external, { purpose: 'treatment' });
    expect(opened.locator).toBe('https://lis.centre-a.example/results/synthetic-77');
    expect(opened.content).toBeNull();
  });

  it('only the owner institution puts documents, and a registered document is not replaced', async () => {
    const ciphertext = text('opaque');
    expect(
      await codeOf(client(CENTRE, keys.districtDoctor).uploadDocument('rec-other', ciphertext)),
    ).toBe('MEDICAL_FORBIDDEN');
    expect(await codeOf(client(CENTRE, keys.patient).uploadDocument('rec-other', ciphertext))).toBe(
      'MEDICAL_FORBIDDEN',
    );
    expect(
      await codeOf(client(CENTRE, keys.centreDoctor).uploadDocument(ids.record, ciphertext)),
    ).toBe('MEDICAL_DOCUMENT_EXISTS');
    expect(
      await codeOf(client(DISTRICT, keys.districtDoctor).uploadDocument(ids.record, ciphertext)),
    ).toBe('MEDICAL_NOT_OWNER');
    const first = await client(CENTRE, keys.centreDoctor).uploadDocument(
      'rec-upload-twice',
      ciphertext,
    );
    const again = await client(CENTRE, keys.centreDoctor).uploadDocument(
      'rec-upload-twice',
      ciphertext,
    );
    expect([first.created, again.created]).toEqual([true, false]);
  });

  it('a document replaced in the vault before registration fails the reader’s hash check', async () => {
    const recordId = 'rec-tampered';
    const pointer = sealRecordPointer(suite, {
      chainId: CHAIN_ID,
      recordId,
      locator: `vault:${CENTRE}/${recordId}`,
      recipients: [alliance.node(CENTRE).key.publicKey, keys.patient.publicKey],
    });
    const genuine = sealDocument(suite, {
      chainId: CHAIN_ID,
      recordId,
      dataKey: pointer.dataKey,
      content: text('genuine synthetic report'),
    });
    const forged = sealDocument(suite, {
      chainId: CHAIN_ID,
      recordId,
      dataKey: pointer.dataKey,
      content: text('forged synthetic report'),
    });
    await client(CENTRE, keys.centreDoctor).uploadDocument(recordId, forged.ciphertext);
    const receipt = await alliance.run(
      keys.centreDoctor,
      buildRecordRegister(suite, {
        recordId,
        patient: PATIENT,
        recordType: 'checkup-report',
        level: 'L3',
        contentHash: genuine.contentHash,
        sealedLocator: pointer.sealedLocator,
        sealedMetadata: pointer.sealedMetadata,
        wraps: pointer.wraps,
        storage: 'vault',
      }),
    );
    expect(receipt.code).toBe('OK');
    const owner = await session(CENTRE, keys.centreDoctor);
    expect(await codeOf(openRecord(owner, recordId, { purpose: 'treatment' }))).toBe(
      'MEDICAL_CONTENT_HASH_MISMATCH',
    );
  });

  it('a revocation committed in the same block before the access.log makes the owner refuse to serve', async () => {
    // a second grant so that revoking the first leaves the referral grant aside: use a member grant
    const patient = await session(CENTRE, keys.patient, false);
    const { grantId } = await grantConsent(patient, {
      grantee: { kind: 'member', member: keys.cityDoctor.publicKey },
      recordIds: [ids.record],
      purpose: 'specialist-consult',
      expiresInHeights: 100,
    });
    const tx = accessTx(keys.cityDoctor, ids.record, grantId);
    alliance.autoMine = false;
    try {
      const revoke = alliance.sign(
        keys.patient,
        buildConsentRevoke(suite, { grantId, reason: 'patient-request' }),
      );
      await alliance.submitBytes(encodeTx(revoke));
      const fetching = codeOf(client(CITY, keys.cityDoctor).fetchDocument(ids.record, tx));
      for (let i = 0; i < 200 && alliance.pendingCount < 2; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect(alliance.pendingCount).toBe(2);
      await alliance.mine();
      expect(await fetching).toBe('MEDICAL_ACCESS_REFUSED');
    } finally {
      alliance.autoMine = true;
    }
    expect(
      getGrant({ get: (k) => alliance.node(CENTRE).store.state.getSync(k) }, grantId)?.status,
    ).toBe('revoked');
  });
});

describe('statistics and the referral stream', () => {
  it('the regulator counts referrals, grants and accesses per institution', async () => {
    const stats = await client(REGULATOR, keys.regulatorAdmin).statistics({
      from: '2026-01-01',
      to: '2026-01-01',
    });
    const count = (institution: string, statistic: string) =>
      stats.rows.find((r) => r.institution === institution && r.statistic === statistic)?.count ??
      0;
    expect(count(CENTRE, 'referral.sent')).toBe(1);
    expect(count(DISTRICT, 'referral.received')).toBe(1);
    expect(count(DISTRICT, 'referral.accepted')).toBe(1);
    expect(count(DISTRICT, 'consent.received')).toBe(1);
    expect(count(DISTRICT, 'access.made')).toBeGreaterThanOrEqual(2);
    expect(count(CENTRE, 'access.served')).toBeGreaterThanOrEqual(2);
    const byDay = await client(REGULATOR, keys.regulatorAdmin).statistics({
      from: '2026-01-01',
      to: '2026-01-01',
      by: 'day',
      statistic: 'referral.sent',
    });
    expect(byDay.rows).toEqual([
      { institution: CENTRE, statistic: 'referral.sent', period: '2026-01-01', count: 1 },
    ]);
  });

  it('pushes a referral to the receiving institution when it commits; strangers are refused', async () => {
    const district = alliance.node(DISTRICT);
    const url = await district.server.listen();
    // the default transport (node:http) against the real listener: a signed request round-trips
    const overHttp = new MedicalClient({
      baseUrl: url,
      suite,
      chainId: CHAIN_ID,
      key: keys.cityDoctor,
    });
    const listed = await overHttp.institutions();
    expect(listed.institutions.map((i) => i.id)).toContain(DISTRICT);
    const nowhere = new MedicalClient({
      baseUrl: 'http://127.0.0.1:1',
      suite,
      chainId: CHAIN_ID,
      key: keys.cityDoctor,
    });
    await expect(nowhere.institutions()).rejects.toMatchObject({
      code: 'API_UNREACHABLE',
      status: 0,
      message: expect.stringContaining('ECONNREFUSED') as unknown,
    });
    const refused = new MedicalClient({
      baseUrl: url,
      suite,
      chainId: CHAIN_ID,
      key: keys.cityDoctor,
    }).subscribeReferrals(() => undefined);
    await expect(refused.ready).rejects.toMatchObject({ status: 403, code: 'MEDICAL_FORBIDDEN' });
    await refused.close();
    const unsigned = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/medical/events`);
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        ws.terminate();
        resolve(res.statusCode ?? 0);
      });
      ws.on('open', () => {
        ws.terminate();
        reject(new MedchainError('TEST', 'an unsigned stream was accepted'));
      });
      ws.on('error', () => undefined);
    });
    expect(unsigned).toBe(401);
    const messages: { direction: string; event: { type: string; referralId: string } }[] = [];
    const stream = new MedicalClient({
      baseUrl: url,
      suite,
      chainId: CHAIN_ID,
      key: keys.districtDoctor,
    }).subscribeReferrals((m) => {
      messages.push(m);
    });
    try {
      const hello = await stream.ready;
      expect(hello).toMatchObject({ type: 'hello', institution: DISTRICT });
      const centre = await session(CENTRE, keys.centreDoctor);
      const { referralId } = await createReferral(centre, {
        to: DISTRICT,
        recordIds: [ids.record],
        reason: 'specialist-consult',
        expiresInHeights: 50,
      });
      for (let i = 0; i < 400 && messages.length === 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect(messages[0]).toMatchObject({
        direction: 'incoming',
        event: { type: 'referral.created', referralId },
      });
      // finishing it with a discharge summary comes back down to the centre
      const districtSession = await session(DISTRICT, keys.districtDoctor);
      await acceptReferral(districtSession, referralId);
      const done = await completeReferral(districtSession, {
        referralId,
        summary: {
          content: text('synthetic discharge summary'),
          recordType: 'discharge-summary',
          level: 'L3',
        },
      });
      expect(done.summaryRecordId).not.toBeNull();
      const back = await openRecord(centre, done.summaryRecordId ?? '', { purpose: 'follow-up' });
      expect(new TextDecoder().decode(back.content ?? new Uint8Array())).toBe(
        'synthetic discharge summary',
      );
      expect(
        getRecord({ get: (k) => district.store.state.getSync(k) }, done.summaryRecordId ?? '')
          ?.owner,
      ).toBe(DISTRICT);
    } finally {
      await stream.close();
    }
  });

  it('after the patient revokes, no node lets the district hospital read, and the chain refuses the access.log', async () => {
    const patient = await session(CENTRE, keys.patient, false);
    await revokeConsent(patient, ids.grant, 'patient-request');
    // the first referral is still live: close it first so only the revoked consent remained
    const district = await session(DISTRICT, keys.districtDoctor);
    await completeReferral(district, { referralId: ids.referral });
    for (const node of [CENTRE, DISTRICT, CITY, REGULATOR]) {
      expect(
        await probe(node, keys.districtDoctor, `/v1/records/${ids.record}`),
        node,
      ).toMatchObject({ status: 403, code: 'MEDICAL_FORBIDDEN' });
    }
    const tx = alliance.sign(
      keys.districtDoctor,
      buildAccessLog(suite, { recordId: ids.record, purpose: 'treatment', grantId: null }),
      alliance.height + 50,
    );
    expect(
      await codeOf(client(DISTRICT, keys.districtDoctor).fetchDocument(ids.record, encodeTx(tx))),
    ).toBe('MEDICAL_ACCESS_DENIED');
    const direct = await alliance.run(
      keys.districtDoctor,
      buildAccessLog(suite, { recordId: ids.record, purpose: 'treatment', grantId: null }),
    );
    expect(direct.code).toBe('ACCESS_DENIED');
  });
});

function cborTx(): Uint8Array {
  return cbor({ not: 'a transaction' });
}

describe('OpenAPI', () => {
  it('describes every medical route and nothing else, and /openapi.json builds', async () => {
    const server = alliance.node(CENTRE).server;
    const core = new Set([
      '/v1/txs',
      '/v1/txs/batch',
      '/v1/txs/{hash}',
      '/v1/blocks/latest',
      '/v1/blocks/{height}',
      '/v1/status',
      '/v1/peers',
      '/v1/events',
      '/healthz',
      '/readyz',
      '/metrics',
      '/openapi.json',
    ]);
    const registered = server.routes
      .map((r) => ({ method: r.method.toLowerCase(), path: toOpenApiPath(r.url) }))
      .filter((r) => !core.has(r.path));
    const described = Object.entries(MEDICAL_PATHS).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({ method, path })),
    );
    const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
    expect(registered.map(key).sort()).toEqual(described.map(key).sort());
    const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(Object.keys(MEDICAL_PATHS)));
  });
});
