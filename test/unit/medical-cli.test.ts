/**
 * The medical commands in-process (cli/commands/{record,access,audit,…}.ts)
 * against the in-memory alliance listening on 127.0.0.1: output, --json,
 * exit codes (0 ok, 1 failed receipt, 2 usage), one-line errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { getSuite } from '../../src/crypto/index.js';
import { writeKeystore } from '../../src/crypto/keystore.js';
import type { KeyPair } from '../../src/crypto/suite.js';
import { buildMemberCertify, patientPseudonym } from '../../src/records/index.js';
import * as access from '../../cli/commands/access.js';
import * as audit from '../../cli/commands/audit.js';
import * as consent from '../../cli/commands/consent.js';
import * as member from '../../cli/commands/member.js';
import * as record from '../../cli/commands/record.js';
import * as referral from '../../cli/commands/referral.js';
import { cli, jsonOf } from './cli-harness.js';
import { FAR, fixedKey, MedicalAlliance } from './medical-fixtures.js';

const suite = getSuite('intl');
const modules = [record, consent, referral, access, audit, member];
const PASSPHRASE = 'synthetic-test-passphrase';
const env = { MEDCHAIN_PASSPHRASE: PASSPHRASE };
const PATIENT = patientPseudonym(suite, new Uint8Array(32).fill(7), 'synthetic-cli-patient');

let alliance: MedicalAlliance;
let dir: string;
let centreUrl: string;
let cityUrl: string;
const files: Record<string, string> = {};

async function keystore(name: string, key: KeyPair): Promise<string> {
  const file = path.join(dir, `${name}.json`);
  await writeKeystore(file, key, PASSPHRASE, { scrypt: { N: 2 ** 10, r: 8, p: 1 } });
  return file;
}

beforeAll(async () => {
  alliance = await MedicalAlliance.create(suite);
  dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-medical-cli-'));
  const doctor = fixedKey(suite, 30);
  const cityDoctor = fixedKey(suite, 60);
  for (const [institution, key, id] of [
    ['centre-a', doctor, 'dr-li'],
    ['city-c', cityDoctor, 'dr-zhao'],
  ] as const) {
    const receipt = await alliance.run(
      alliance.node(institution).key,
      buildMemberCertify(suite, {
        memberId: id,
        publicKey: key.publicKey,
        role: 'doctor',
        institution,
        notBefore: 0,
        notAfter: FAR,
        patient: null,
      }),
    );
    expect(receipt.code).toBe('OK');
  }
  files.doctor = await keystore('doctor', doctor);
  files.city = await keystore('city', cityDoctor);
  files.centre = await keystore('centre', alliance.node('centre-a').key);
  files.document = path.join(dir, 'report.txt');
  await writeFile(files.document, 'synthetic report for the CLI test\n');
  centreUrl = await alliance.node('centre-a').server.listen();
  cityUrl = await alliance.node('city-c').server.listen();
}, 30_000);

afterAll(async () => {
  await alliance.close();
  await rm(dir, { recursive: true, force: true });
});

describe('medchain record / access / audit', () => {
  let recordId = '';

  it('registers a vault record and prints the receipt', async () => {
    const run = await cli(
      [
        '--json',
        'record',
        'register',
        '--key',
        files.doctor ?? '',
        '--unwrap-key',
        files.centre ?? '',
        '--node',
        centreUrl,
        '--patient',
        toHex(PATIENT),
        '--type',
        'checkup-report',
        '--level',
        'L3',
        '--file',
        files.document ?? '',
        '--title',
        'cli test',
      ],
      { env, modules },
    );
    expect(run.code, run.stderr).toBe(0);
    const out = jsonOf(run) as { recordId: string; storage: string; receipt: { code: string } };
    expect(out).toMatchObject({ storage: 'vault', receipt: { code: 'OK' } });
    recordId = out.recordId;
  });

  it('opens it, checks the hash, and prints the text with --print', async () => {
    const run = await cli(
      [
        'record',
        'open',
        recordId,
        '--key',
        files.doctor ?? '',
        '--node',
        centreUrl,
        '--purpose',
        'follow-up',
        '--print',
      ],
      {
        env,
        modules,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('verified against the chain');
    expect(run.stdout).toContain('synthetic report for the CLI test');
    const show = await cli(
      ['record', 'show', recordId, '--key', files.doctor ?? '', '--node', centreUrl],
      { env, modules },
    );
    expect(show.stdout).toMatch(/your access:\s+yes \(owner\)/);
  });

  it('a refused access.log exits 1 with one line and the receipt code in --json', async () => {
    const run = await cli(
      [
        '--json',
        'access',
        'log',
        recordId,
        '--key',
        files.city ?? '',
        '--node',
        cityUrl,
        '--purpose',
        'treatment',
      ],
      {
        env,
        modules,
      },
    );
    expect(run.code).toBe(1);
    expect(run.stderrLines).toHaveLength(1);
    expect(jsonOf(run).error).toMatchObject({
      code: 'MEDICAL_TX_FAILED',
      details: { receiptCode: 'ACCESS_DENIED' },
    });
    const check = await cli(
      ['access', 'check', recordId, '--key', files.city ?? '', '--node', cityUrl],
      { env, modules },
    );
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('DENIED');
  });

  it('the audit trail of the record lists the registration and the owner access', async () => {
    const run = await cli(
      ['audit', 'record', recordId, '--key', files.doctor ?? '', '--node', centreUrl],
      { env, modules },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`registered ${recordId}`);
    expect(run.stdout).toContain(`LOOKED at ${recordId} for follow-up`);
  });

  it('bad usage exits 2 before anything is sent', async () => {
    const cases: string[][] = [
      [
        'record',
        'register',
        '--key',
        files.doctor ?? '',
        '--node',
        centreUrl,
        '--patient',
        toHex(PATIENT),
        '--type',
        'x',
        '--level',
        'L3',
      ],
      ['record', 'show', 'rec-1'],
      ['record', 'show', 'rec-1', '--devnet', path.join(dir, 'none'), '--as', 'centre-a/doctor'],
      ['record', 'show', 'rec-1', '--as', 'centre-a/doctor', '--key', files.doctor ?? ''],
      [
        'consent',
        'grant',
        '--key',
        files.doctor ?? '',
        '--purpose',
        'treatment',
        '--expires-in',
        '10',
      ],
      [
        'record',
        'open',
        'rec-1',
        '--key',
        files.doctor ?? '',
        '--node',
        centreUrl,
        '--purpose',
        'Not A Token',
      ],
    ];
    for (const argv of cases) {
      const run = await cli(argv, { env, modules });
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderrLines, argv.join(' ')).toHaveLength(1);
    }
  });
});
