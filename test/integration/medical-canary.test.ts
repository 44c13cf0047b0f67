/**
 * THE CANARY TEST (issue 5): a unique synthetic patient id, locators, titles
 * and document texts go through the whole flow on real node processes —
 * pseudonym, patient key, vault registration, consent, referral, vault fetch,
 * discharge summary, an external record, revocation — and then every byte
 * under the devnet directory (every node's LevelDB files, logs, keystores,
 * configs, the genesis and the demo's files) and every key and value of every
 * node's database (read back after a clean stop, in case LevelDB compressed
 * a block) is searched for each canary in plain text, hex and base64. None
 * may be there. A tampered vault document fails the reader's hash check on
 * the same alliance.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapDevnet } from '../../src/devnet/bootstrap.js';
import { MedchainError } from '../../src/errors.js';
import { runDemo } from '../../src/medical/demo.js';
import type { DemoResult } from '../../src/medical/demo.js';
import { openDevnetKeys } from '../../src/medical/devnet-keys.js';
import { sealDocument } from '../../src/medical/document.js';
import { MedicalSession, openRecord, registerRecord } from '../../src/medical/workflows.js';
import { buildRecordRegister, sealRecordPointer } from '../../src/records/index.js';
import { LevelKvStore } from '../../storage/level-kv.js';
import { startCluster, TEST_SCRYPT } from './cluster-fixtures.js';
import type { Cluster } from './cluster-fixtures.js';

const tag = randomBytes(6).toString('hex').toUpperCase();
const CANARIES = {
  patientId: `CANARY-PID-${tag}-110105199001011234`,
  report: `CANARY-DOC-${tag} synthetic report: the patient reports chest pain on exertion`,
  locator: `emr://community-centre/exams/CANARY-LOC-${tag}`,
  title: `CANARY-TITLE-${tag}`,
  summary: `CANARY-SUM-${tag} synthetic discharge summary: stable angina, statin started`,
  externalLocator: `https://lis.community-centre.example/CANARY-EXT-${tag}`,
  externalTitle: `CANARY-EXTTITLE-${tag}`,
} as const;

/** The byte patterns of `canary` to look for: plain, hex (both cases), base64 and base64url at each alignment. */
function needles(canary: string): { form: string; bytes: Buffer }[] {
  const plain = Buffer.from(canary, 'utf8');
  const out = [
    { form: 'plain', bytes: plain },
    { form: 'hex', bytes: Buffer.from(plain.toString('hex')) },
    { form: 'HEX', bytes: Buffer.from(plain.toString('hex').toUpperCase()) },
  ];
  for (let shift = 0; shift < 3; shift++) {
    for (const encoding of ['base64', 'base64url'] as const) {
      // encode behind `shift` filler bytes; keep only the characters that depend on the canary alone
      const text = Buffer.concat([Buffer.alloc(shift), plain])
        .toString(encoding)
        .replace(/=+$/, '');
      const inner = text.slice(shift === 0 ? 0 : 4, text.length - 4);
      out.push({ form: `${encoding}+${shift}`, bytes: Buffer.from(inner) });
    }
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const queue = [dir];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    const current = queue[i] ?? '';
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) queue.push(full);
      else if (entry.isFile()) out.push(full);
    }
  }
  return out;
}

interface Hit {
  readonly where: string;
  readonly canary: string;
  readonly form: string;
}

function search(where: string, haystack: Buffer, found: Hit[]): void {
  for (const [name, canary] of Object.entries(CANARIES)) {
    for (const needle of needles(canary)) {
      if (haystack.includes(needle.bytes)) found.push({ where, canary: name, form: needle.form });
    }
  }
}

let cluster: Cluster;
let demo: DemoResult;

beforeAll(async () => {
  cluster = await startCluster('medical-canary', { validators: 4, observers: 1, basePort: 17520 });
  await bootstrapDevnet(cluster.manifest, { scrypt: TEST_SCRYPT, timeoutMs: 30_000 });
}, 90_000);

afterAll(async () => {
  await (cluster as Cluster | undefined)?.destroy();
});

describe('canaries through the whole flow', () => {
  it('the scanner finds every canary form it looks for (negative control)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-canary-control-'));
    try {
      const secret = `xx${CANARIES.report}yy`;
      await writeFile(path.join(dir, 'plain'), secret);
      await writeFile(path.join(dir, 'hex'), Buffer.from(secret).toString('hex'));
      await writeFile(
        path.join(dir, 'b64-0'),
        Buffer.from(`${CANARIES.report}!`).toString('base64'),
      );
      await writeFile(
        path.join(dir, 'b64-1'),
        Buffer.from(`a${CANARIES.report}!`).toString('base64url'),
      );
      await writeFile(
        path.join(dir, 'b64-2'),
        Buffer.from(`ab${CANARIES.report}!`).toString('base64'),
      );
      const files = await filesUnder(dir);
      expect(files).toHaveLength(5);
      for (const file of files) {
        const found: Hit[] = [];
        search(file, await readFile(file), found);
        expect(found.filter((h) => h.canary === 'report').length, file).toBeGreaterThan(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the story runs with the canary values, and the reader really got them', async () => {
    demo = await runDemo({
      dir: cluster.dir,
      scrypt: TEST_SCRYPT,
      patientLocalId: CANARIES.patientId,
      reportText: CANARIES.report,
      reportLocator: CANARIES.locator,
      reportTitle: CANARIES.title,
      summaryText: CANARIES.summary,
    });
    expect(demo.reportText).toBe(CANARIES.report);
    expect(demo.opened.locator).toBe(CANARIES.locator);
    expect(demo.fetchAfterRevoke).toBe('MEDICAL_ACCESS_DENIED');

    // an external record: the locator is sealed, opened client side after the access is logged
    const keys = await openDevnetKeys(cluster.dir);
    const centre = cluster.node('community-centre');
    const doctor = await MedicalSession.open({
      baseUrl: centre.apiUrl,
      signer: await keys.load('community-centre', 'doctor'),
      unwrapKeys: [await keys.load('community-centre', 'institution')],
    });
    const external = await registerRecord(doctor, {
      patient: Buffer.from(demo.patient, 'hex'),
      recordType: 'lab-result',
      level: 'L3',
      externalLocator: CANARIES.externalLocator,
      contentHash: doctor.suite.hash(Buffer.from('synthetic external lab result')),
      metadata: { title: CANARIES.externalTitle },
    });
    const opened = await openRecord(doctor, external.recordId, { purpose: 'follow-up' });
    expect(opened.locator).toBe(CANARIES.externalLocator);
    expect(opened.metadata).toEqual({ title: CANARIES.externalTitle });
  });

  it('a document replaced in the vault fails the reader’s hash check', async () => {
    const keys = await openDevnetKeys(cluster.dir);
    const centre = cluster.node('community-centre');
    const doctor = await MedicalSession.open({
      baseUrl: centre.apiUrl,
      signer: await keys.load('community-centre', 'doctor'),
      unwrapKeys: [await keys.load('community-centre', 'institution')],
    });
    const suite = doctor.suite;
    const recordId = `rec-tampered-${tag.toLowerCase()}`;
    const patient = Buffer.from(demo.patient, 'hex');
    const pointer = sealRecordPointer(suite, {
      chainId: doctor.chainId,
      recordId,
      locator: `vault:community-centre/${recordId}`,
      recipients: await doctor.recipientsFor(await doctor.patientKeyOf(patient)),
    });
    const genuine = sealDocument(suite, {
      chainId: doctor.chainId,
      recordId,
      dataKey: pointer.dataKey,
      content: Buffer.from('genuine synthetic ECG report'),
    });
    const forged = sealDocument(suite, {
      chainId: doctor.chainId,
      recordId,
      dataKey: pointer.dataKey,
      content: Buffer.from('forged synthetic ECG report'),
    });
    await doctor.medical.uploadDocument(recordId, forged.ciphertext);
    await doctor.submit(
      buildRecordRegister(suite, {
        recordId,
        patient,
        recordType: 'ecg-report',
        level: 'L3',
        contentHash: genuine.contentHash,
        sealedLocator: pointer.sealedLocator,
        sealedMetadata: pointer.sealedMetadata,
        wraps: pointer.wraps,
        storage: 'vault',
      }),
    );
    const error = await openRecord(doctor, recordId, { purpose: 'treatment' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MedchainError);
    expect(error).toMatchObject({ code: 'MEDICAL_CONTENT_HASH_MISMATCH' });
  });

  it('no canary is in any file of any node, nor in any database key or value', async () => {
    await cluster.processes.stopAll('SIGTERM');
    const files = await filesUnder(cluster.dir);
    expect(files.some((f) => f.endsWith('.ldb') || f.endsWith('.log'))).toBe(true);
    expect(files.some((f) => f.endsWith('node.log'))).toBe(true);
    expect(files.some((f) => f.includes(`${path.sep}keys${path.sep}`))).toBe(true);
    const found: Hit[] = [];
    let bytes = 0;
    for (const file of files) {
      const content = await readFile(file);
      bytes += content.length;
      search(path.relative(cluster.dir, file), content, found);
    }
    expect(bytes).toBeGreaterThan(100_000);
    let entries = 0;
    for (const node of cluster.manifest.nodes) {
      const dbDir = path.join(node.dir, 'data', 'db');
      expect((await stat(dbDir)).isDirectory()).toBe(true);
      const kv = await LevelKvStore.open(dbDir);
      try {
        for await (const entry of kv.iterate()) {
          entries++;
          search(`${node.id} db key`, Buffer.from(entry.key), found);
          search(`${node.id} db value`, Buffer.from(entry.value), found);
        }
      } finally {
        await kv.close();
      }
    }
    expect(entries).toBeGreaterThan(500);
    expect(found).toEqual([]);
  });
});
