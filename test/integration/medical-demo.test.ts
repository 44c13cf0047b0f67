/**
 * Issue 5's story end to end on real node processes (4 validators + the
 * regulator's observer on 127.0.0.1, real libp2p, real LevelDB): the built
 * CLI plays `medchain demo` against the running alliance; then the CLI's
 * record/access commands, the same state root on every node, and a key that
 * is no recipient getting no data key.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapDevnet } from '../../src/devnet/bootstrap.js';
import { CLI_MAIN, fetchStatus, waitFor } from '../../src/devnet/processes.js';
import { MedchainError } from '../../src/errors.js';
import { findDataKey } from '../../src/medical/document.js';
import { openDevnetKeys } from '../../src/medical/devnet-keys.js';
import type { AuditEventJson } from '../../src/medical/client.js';
import type { DemoResult } from '../../src/medical/demo.js';
import { MedicalSession } from '../../src/medical/workflows.js';
import { RecordsErrorCode } from '../../src/records/index.js';
import { startCluster, TEST_SCRYPT } from './cluster-fixtures.js';
import type { Cluster } from './cluster-fixtures.js';

let cluster: Cluster;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function medchain(args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape
function json<T>(run: Run): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new MedchainError(
      'TEST',
      `not JSON (exit ${String(run.code)}): ${run.stdout.slice(0, 500)} ${run.stderr.slice(0, 500)}`,
    );
  }
}

beforeAll(async () => {
  cluster = await startCluster('medical-demo', { validators: 4, observers: 1, basePort: 17500 });
  await bootstrapDevnet(cluster.manifest, { scrypt: TEST_SCRYPT, timeoutMs: 30_000 });
}, 90_000);

afterAll(async () => {
  await (cluster as Cluster | undefined)?.destroy();
});

describe('the referral story on a real alliance', () => {
  let demo: DemoResult;

  it('medchain demo plays it: consent, referral event, vault fetch, summary back, revocation refused everywhere', async () => {
    const run = await medchain(['--json', 'demo', '--devnet', cluster.dir, '--scrypt-log-n', '12']);
    expect(run.code, run.stderr).toBe(0);
    demo = json<DemoResult>(run);
    expect(demo.referralEvent).toEqual({
      direction: 'incoming',
      type: 'referral.created',
      referralId: demo.referralId,
    });
    expect(demo.strangerFetch).toBe('MEDICAL_ACCESS_DENIED');
    expect(demo.opened.bytes).toBeGreaterThan(50);
    expect(demo.summaryOpened.bytes).toBeGreaterThan(50);
    // after the revocation: every node refuses the read, the owner refuses the fetch, the chain the access.log
    expect(demo.fetchAfterRevoke).toBe('MEDICAL_ACCESS_DENIED');
    expect(demo.refusals.map((r) => r.node).sort()).toEqual(
      cluster.manifest.nodes.map((n) => n.id).sort(),
    );
    for (const refusal of demo.refusals) {
      expect(refusal, refusal.node).toMatchObject({
        read: 'MEDICAL_FORBIDDEN',
        accessLogReceipt: 'ACCESS_DENIED',
      });
    }
  });

  it("the regulator's trail says who authorised whom, for what scope, when, and who looked", () => {
    const events: readonly AuditEventJson[] = demo.audit;
    expect(events.map((e) => e.type)).toEqual([
      'member.certified',
      'record.registered',
      'consent.granted',
      'referral.created',
      'referral.accepted',
      'access.logged',
      'record.registered',
      'referral.completed',
      'access.logged',
      'consent.revoked',
    ]);
    const granted = events[2] as AuditEventJson & {
      grantee: unknown;
      scope: unknown;
      purpose: string;
    };
    expect(granted).toMatchObject({
      actorRole: 'patient',
      actorInstitution: 'community-centre',
      grantee: { institution: 'district-hospital' },
      scope: { records: [demo.recordId] },
      purpose: 'treatment',
      patientSigned: true,
    });
    expect(events[5]).toMatchObject({
      actorInstitution: 'district-hospital',
      actorMemberId: 'doctor-1',
      recordId: demo.recordId,
      txHash: demo.opened.accessTx,
    });
    expect(events[8]).toMatchObject({
      actorInstitution: 'community-centre',
      recordId: demo.summaryRecordId,
    });
    for (const e of events) expect(e.time, e.type).toMatch(/^\d{4}-\d\d-\d\dT/);
    const count = (institution: string, statistic: string): number =>
      demo.statistics.find((r) => r.institution === institution && r.statistic === statistic)
        ?.count ?? 0;
    expect(count('community-centre', 'referral.sent')).toBeGreaterThanOrEqual(1);
    expect(count('district-hospital', 'access.made')).toBeGreaterThanOrEqual(1);
  });

  it('the CLI registers and opens a record, and exits non-zero on a refused access', async () => {
    const file = path.join(cluster.dir, 'synthetic-report.txt');
    await writeFile(file, 'synthetic lab note: potassium 4.1 mmol/L\n');
    const common = ['--devnet', cluster.dir];
    const registered = await medchain([
      '--json',
      'record',
      'register',
      ...common,
      '--as',
      'community-centre/doctor',
      '--patient',
      demo.patient,
      '--type',
      'lab-result',
      '--level',
      'L3',
      '--file',
      file,
      '--title',
      'lab note',
    ]);
    expect(registered.code, registered.stderr).toBe(0);
    const { recordId, receipt } = json<{ recordId: string; receipt: { code: string } }>(registered);
    expect(receipt.code).toBe('OK');
    const opened = await medchain([
      '--json',
      'record',
      'open',
      recordId,
      ...common,
      '--as',
      'community-centre/doctor',
      '--purpose',
      'follow-up',
    ]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(json<{ hashVerified: boolean; basis: string }>(opened)).toMatchObject({
      hashVerified: true,
      basis: 'owner',
    });
    const check = await medchain([
      '--json',
      'access',
      'check',
      recordId,
      ...common,
      '--as',
      'city-hospital/doctor',
    ]);
    expect(check.code).toBe(1);
    expect(json<{ ok: boolean }>(check).ok).toBe(false);
    const refused = await medchain([
      '--json',
      'access',
      'log',
      recordId,
      ...common,
      '--as',
      'city-hospital/doctor',
      '--purpose',
      'treatment',
    ]);
    expect(refused.code).toBe(1);
    expect(
      json<{ error: { code: string; details: { receiptCode: string } } }>(refused).error,
    ).toMatchObject({
      code: 'MEDICAL_TX_FAILED',
      details: { receiptCode: 'ACCESS_DENIED' },
    });
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a key that is no recipient gets no data key', async () => {
    const keys = await openDevnetKeys(cluster.dir);
    const centre = cluster.node('community-centre');
    const owner = await MedicalSession.open({
      baseUrl: centre.apiUrl,
      signer: await keys.load('community-centre', 'doctor'),
    });
    const { record, grantWraps } = await owner.recordView(demo.recordId);
    const wraps = [...record.wraps, ...grantWraps];
    const city = [
      await keys.load('city-hospital', 'institution'),
      await keys.load('city-hospital', 'doctor'),
    ];
    expect(() =>
      findDataKey(
        owner.suite,
        wraps,
        city.map((k) => k.privateKey),
      ),
    ).toThrow(expect.objectContaining({ code: RecordsErrorCode.noWrapForKey }));
    // the owner institution's key, and the district key from its (now revoked) grant, are recipients
    expect(
      findDataKey(owner.suite, wraps, [
        (await keys.load('community-centre', 'institution')).privateKey,
      ]),
    ).toHaveLength(owner.suite.aeadKeyLength);
  });

  it('every node ends with the same state root', async () => {
    const nodes = cluster.manifest.nodes;
    const statuses = await waitFor(
      'all nodes at one height',
      async () => {
        const s = await Promise.all(nodes.map((n) => fetchStatus(n.apiUrl)));
        const all = s.filter((x) => x !== null);
        return all.length === nodes.length && new Set(all.map((x) => x.height)).size === 1
          ? all
          : null;
      },
      30_000,
    );
    expect(new Set(statuses.map((s) => s.stateRoot)).size).toBe(1);
    expect(statuses[0]?.stateRoot).toMatch(/^[0-9a-f]{64}$/);
  });
});
