/**
 * The story of issue 5 on a running devnet (`medchain demo`, `medchain devnet
 * --demo`), with synthetic data only:
 *
 *  1. the community centre certifies a key for a synthetic patient (pseudonym
 *     from the centre's own secret) and its doctor registers a check-up
 *     report, sealed into the centre's vault;
 *  2. the patient grants the district hospital access;
 *  3. the centre refers the patient up; the district hospital's systems hear
 *     of it on the referral WebSocket; its doctor accepts;
 *  4. a hospital without a grant is refused; the district doctor fetches the
 *     report through the district node from the centre's vault (the access
 *     is logged on chain first), opens it and checks its hash;
 *  5. the discharge summary comes back down on completion, and the centre
 *     opens it;
 *  6. the patient revokes the grant: every node refuses the district doctor,
 *     the fetch is denied, and the chain refuses an access.log;
 *  7. the regulator's observer prints the audit trail: who authorised whom,
 *     for what scope, when, and who looked.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { toHex } from '../codec/index.js';
import { getSuite } from '../crypto/index.js';
import { DEFAULT_SCRYPT_PARAMS, writeKeystore } from '../crypto/keystore.js';
import type { ScryptParams } from '../crypto/keystore.js';
import type { KeyPair } from '../crypto/suite.js';
import { bootstrapDevnet } from '../devnet/bootstrap.js';
import type { DevnetManifest } from '../devnet/layout.js';
import { MedchainError } from '../errors.js';
import { MedchainClient } from '../api/client.js';
import { encodeTransaction } from '../ledger/encoding.js';
import { buildAccessLog, patientMemberId, patientPseudonym } from '../records/index.js';
import { MedicalClient } from './client.js';
import type { AuditEventJson, StatisticsJson } from './client.js';
import {
  devnetNode,
  loadPseudonymSecret,
  openDevnetKeys,
  pseudonymKeyFile,
} from './devnet-keys.js';
import { MedicalError } from './errors.js';
import {
  acceptReferral,
  ACCESS_TX_LIFETIME_HEIGHTS,
  certifyMember,
  completeReferral,
  createReferral,
  grantConsent,
  MedicalSession,
  openRecord,
  registerRecord,
  revokeConsent,
} from './workflows.js';

export const DEMO_INSTITUTIONS = {
  centre: 'community-centre',
  district: 'district-hospital',
  city: 'city-hospital',
  regulator: 'health-commission',
} as const;

export interface DemoOptions {
  readonly dir: string;
  /** Keystore cost of the patient key the demo writes (tests lower it). */
  readonly scrypt?: ScryptParams;
  /** Called with each step as it completes. */
  readonly onStep?: (step: DemoStep) => void;
  /** Synthetic values (tests pass canaries); defaults are random synthetic ones. */
  readonly patientLocalId?: string;
  readonly reportText?: string;
  readonly reportLocator?: string;
  readonly reportTitle?: string;
  readonly summaryText?: string;
  readonly timeoutMs?: number;
}

export interface DemoStep {
  readonly n: number;
  readonly actor: string;
  readonly title: string;
  readonly detail: string;
}

export interface NodeRefusal {
  readonly node: string;
  /** Error code of the district doctor's signed GET of the record on this node. */
  readonly read: string;
  /** Receipt code of the refused access.log as this node stored it. */
  readonly accessLogReceipt: string;
}

export interface DemoResult {
  readonly chainId: string;
  readonly patient: string;
  readonly patientKey: string;
  readonly patientKeystore: string;
  readonly recordId: string;
  readonly grantId: string;
  readonly referralId: string;
  readonly summaryRecordId: string;
  readonly referralEvent: {
    readonly direction: string;
    readonly type: string;
    readonly referralId: string;
  } | null;
  readonly strangerFetch: string | null;
  readonly opened: {
    readonly recordId: string;
    readonly bytes: number;
    readonly contentHash: string;
    readonly accessTx: string;
    readonly height: number;
    readonly locator: string;
  };
  /** The report as the district doctor read it (kept in memory; synthetic). */
  readonly reportText: string;
  readonly summaryOpened: {
    readonly recordId: string;
    readonly bytes: number;
    readonly accessTx: string;
  };
  readonly revokeHeight: number;
  readonly fetchAfterRevoke: string;
  readonly refusals: readonly NodeRefusal[];
  readonly audit: readonly AuditEventJson[];
  readonly statistics: StatisticsJson['rows'];
  readonly steps: readonly DemoStep[];
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MedchainError) return err.code;
    throw err;
  }
  return 'OK';
}

async function waitUntil<T>(
  what: string,
  check: () => Promise<T | null>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline)
      throw new MedicalError('DEMO_TIMEOUT', `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(25 * (attempt + 1), 200)));
  }
}

/** A vault fetch with a fresh signed access.log, bypassing the record read: the owner node's answer. */
async function attemptFetch(s: MedicalSession, recordId: string): Promise<string> {
  const tx = await s.sign(
    buildAccessLog(s.suite, { recordId, purpose: 'treatment', grantId: null }),
    ACCESS_TX_LIFETIME_HEIGHTS,
  );
  return codeOf(s.medical.fetchDocument(recordId, encodeTransaction(tx)));
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const keys = await openDevnetKeys(options.dir);
  const manifest: DevnetManifest = keys.manifest;
  const suite = getSuite(manifest.suite);
  const ids = DEMO_INSTITUTIONS;
  const centre = devnetNode(manifest, ids.centre);
  const district = devnetNode(manifest, ids.district);
  const regulator = devnetNode(manifest, ids.regulator);
  const city = manifest.nodes.find((n) => n.id === ids.city);
  const scrypt = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  const steps: DemoStep[] = [];
  const step = (actor: string, title: string, detail: string): void => {
    const s = { n: steps.length + 1, actor, title, detail };
    steps.push(s);
    options.onStep?.(s);
  };

  await bootstrapDevnet(manifest, { scrypt, timeoutMs });
  const open = (
    node: typeof centre,
    signer: KeyPair,
    unwrapKeys: KeyPair[] = [],
  ): Promise<MedicalSession> =>
    MedicalSession.open({ baseUrl: node.apiUrl, signer, unwrapKeys, timeoutMs });
  const centreKey = await keys.load(ids.centre, 'institution');
  const districtKey = await keys.load(ids.district, 'institution');
  const centreDoctor = await open(centre, await keys.load(ids.centre, 'doctor'), [centreKey]);
  const centreAdmin = await open(centre, await keys.load(ids.centre, 'admin'));
  const districtDoctor = await open(district, await keys.load(ids.district, 'doctor'), [
    districtKey,
  ]);
  const inspector = await open(regulator, await keys.load(ids.regulator, 'admin'));

  // 1. a synthetic patient: pseudonym from the centre's secret, a patient key certified by the centre
  const secret = await loadPseudonymSecret(suite, pseudonymKeyFile(centre), keys.passphrase, {
    create: true,
    scrypt,
  });
  const localId =
    options.patientLocalId ?? `SYNTHETIC-PATIENT-${randomBytes(4).toString('hex').toUpperCase()}`;
  const patient = patientPseudonym(suite, secret, localId);
  const patientKey = suite.generateKeyPair();
  const memberId = patientMemberId(patient);
  const demoDir = path.join(options.dir, 'demo');
  await mkdir(demoDir, { recursive: true });
  const patientKeystore = path.join(demoDir, `${memberId}.json`);
  await writeKeystore(patientKeystore, patientKey, keys.passphrase, { scrypt });
  await certifyMember(centreAdmin, {
    memberId,
    role: 'patient',
    publicKey: patientKey.publicKey,
    patient,
    validForHeights: 1_000_000,
  });
  step(
    ids.centre,
    'patient key certified',
    `pseudonym ${toHex(patient).slice(0, 16)}…, member ${memberId}, keystore ${patientKeystore}`,
  );

  const reportText =
    options.reportText ??
    `Synthetic annual check-up report for demo patient ${memberId}: BP 128/84, fasting glucose 6.4 mmol/L — refer for endocrinology.`;
  const report = await registerRecord(centreDoctor, {
    patient,
    recordType: 'checkup-report',
    level: 'L3',
    content: text(reportText),
    ...(options.reportLocator === undefined ? {} : { locator: options.reportLocator }),
    metadata: { title: options.reportTitle ?? 'annual check-up (synthetic)' },
  });
  step(
    ids.centre,
    'check-up report registered',
    `record ${report.recordId} (L3, vault) at height ${report.height}; ${text(reportText).length} bytes sealed in the centre's vault`,
  );

  // 2. the patient grants the district hospital
  const patientSession = await open(centre, patientKey);
  const grant = await grantConsent(patientSession, {
    grantee: { kind: 'institution', institution: ids.district },
    recordIds: [report.recordId],
    purpose: 'treatment',
    expiresInHeights: 10_000,
  });
  step(
    'patient',
    'consent granted',
    `grant ${grant.grantId}: ${ids.district} may read ${report.recordId} for treatment (height ${grant.height})`,
  );

  // 3. referral up, heard on the district hospital's referral stream
  const heard: { direction: string; type: string; referralId: string }[] = [];
  const stream = districtDoctor.medical.subscribeReferrals((m) => {
    heard.push({ direction: m.direction, type: m.event.type, referralId: m.event.referralId });
  });
  let referralEvent: DemoResult['referralEvent'] = null;
  let referralId: string;
  try {
    await stream.ready;
    const referral = await createReferral(centreDoctor, {
      to: ids.district,
      recordIds: [report.recordId],
      reason: 'higher-level-care',
      expiresInHeights: 5000,
    });
    referralId = referral.referralId;
    step(
      ids.centre,
      'referral created',
      `referral ${referralId} to ${ids.district} with ${report.recordId} (height ${referral.height})`,
    );
    referralEvent = await waitUntil(
      'the referral event on the district stream',
      () =>
        Promise.resolve(
          heard.find((h) => h.referralId === referralId && h.type === 'referral.created') ?? null,
        ),
      timeoutMs,
    );
    step(
      ids.district,
      'referral arrived (WebSocket)',
      `${referralEvent.direction} ${referralEvent.type} ${referralEvent.referralId}`,
    );
  } finally {
    await stream.close();
  }
  const accepted = await acceptReferral(districtDoctor, referralId);
  step(ids.district, 'referral accepted', `by doctor-1 at height ${accepted.height}`);

  // 4. a stranger is refused; the district doctor opens the report
  let strangerFetch: string | null = null;
  if (city !== undefined) {
    const cityDoctor = await open(city, await keys.load(ids.city, 'doctor'), [
      await keys.load(ids.city, 'institution'),
    ]);
    const strangerRead = await codeOf(cityDoctor.medical.record(report.recordId));
    strangerFetch = await attemptFetch(cityDoctor, report.recordId);
    step(
      ids.city,
      'no grant, no access',
      `city hospital doctor: read ${strangerRead}, vault fetch ${strangerFetch}`,
    );
  }
  const opened = await openRecord(districtDoctor, report.recordId, { purpose: 'treatment' });
  const readText = new TextDecoder().decode(opened.content ?? new Uint8Array());
  step(
    ids.district,
    'report opened without a repeat examination',
    `${opened.content?.length ?? 0} bytes from the centre's vault, hash ${opened.contentHash.slice(0, 16)}… verified against the chain; access logged at height ${opened.accessHeight}`,
  );

  // 5. the discharge summary comes back down
  const summaryText =
    options.summaryText ??
    `Synthetic discharge summary for ${memberId}: type 2 diabetes confirmed, metformin started, follow-up at the community centre.`;
  const completed = await completeReferral(districtDoctor, {
    referralId,
    summary: {
      content: text(summaryText),
      recordType: 'discharge-summary',
      level: 'L3',
      metadata: { title: 'discharge summary (synthetic)' },
    },
    returnExpiresInHeights: 10_000,
  });
  const summaryRecordId = completed.summaryRecordId ?? '';
  step(
    ids.district,
    'referral completed with a discharge summary',
    `summary ${summaryRecordId} in the district vault, granted back to ${ids.centre} (height ${completed.height})`,
  );
  const summary = await openRecord(centreDoctor, summaryRecordId, { purpose: 'follow-up' });
  step(
    ids.centre,
    'discharge summary opened',
    `${summary.content?.length ?? 0} bytes from the district vault, hash verified; access logged at height ${summary.accessHeight}`,
  );

  // 6. the patient revokes: every node refuses
  const revoked = await revokeConsent(patientSession, grant.grantId, 'patient-request');
  step('patient', 'consent revoked', `grant ${grant.grantId} revoked at height ${revoked.height}`);
  const clients = manifest.nodes.map((n) => ({ node: n, api: new MedchainClient(n.apiUrl) }));
  for (const c of clients) await c.api.waitForHeight(revoked.height, { timeoutMs });
  const fetchAfterRevoke = await attemptFetch(districtDoctor, report.recordId);
  const refusedTx = await districtDoctor.sign(
    buildAccessLog(suite, {
      recordId: report.recordId,
      purpose: 'treatment',
      grantId: grant.grantId,
    }),
    ACCESS_TX_LIFETIME_HEIGHTS,
  );
  const { hash: refusedHash } = await districtDoctor.api.submitTransaction(refusedTx);
  const refusedAt = await districtDoctor.waitForReceipt(refusedHash);
  const refusals: NodeRefusal[] = [];
  for (const c of clients) {
    await c.api.waitForHeight(refusedAt.height, { timeoutMs });
    const onNode = new MedicalClient({
      baseUrl: c.node.apiUrl,
      suite,
      chainId: manifest.chainId,
      key: districtDoctor.signer,
    });
    const read = await codeOf(onNode.record(report.recordId));
    const stored = await c.api.getTransaction(refusedHash);
    refusals.push({ node: c.node.id, read, accessLogReceipt: stored.receipt?.code ?? 'NONE' });
  }
  step(
    'every node',
    'access refused after revocation',
    `fetch: ${fetchAfterRevoke}; ${refusals.map((r) => `${r.node}: read ${r.read}, access.log ${r.accessLogReceipt}`).join('; ')}`,
  );

  // 7. the regulator's audit trail, from its observer node
  await inspector.api.waitForHeight(refusedAt.height, { timeoutMs });
  const { events } = await inspector.medical.auditPatient(patient, { limit: 1000 });
  const { rows } = await inspector.medical.statistics({});
  step(
    ids.regulator,
    'audit trail read from the observer',
    `${events.length} events about the patient`,
  );

  return {
    chainId: manifest.chainId,
    patient: toHex(patient),
    patientKey: toHex(patientKey.publicKey),
    patientKeystore,
    recordId: report.recordId,
    grantId: grant.grantId,
    referralId,
    summaryRecordId,
    referralEvent,
    strangerFetch,
    opened: {
      recordId: opened.recordId,
      bytes: opened.content?.length ?? 0,
      contentHash: opened.contentHash,
      accessTx: opened.accessTx,
      height: opened.accessHeight,
      locator: opened.locator,
    },
    reportText: readText,
    summaryOpened: {
      recordId: summaryRecordId,
      bytes: summary.content?.length ?? 0,
      accessTx: summary.accessTx,
    },
    revokeHeight: revoked.height,
    fetchAfterRevoke,
    refusals,
    audit: events,
    statistics: rows,
    steps,
  };
}

/** One line per audit event, for people: time, height, who, what, scope. */
export function describeAuditEvent(event: AuditEventJson): string {
  const who =
    event.actorRole === 'institution'
      ? event.actorInstitution
      : `${event.actorMemberId ?? event.actor.slice(0, 12)} (${event.actorRole}, ${event.actorInstitution})`;
  const e = event as Record<string, unknown>;
  const grantee = e.grantee as { institution?: string; member?: string } | undefined;
  const granteeText =
    grantee?.institution ??
    (grantee?.member === undefined ? '?' : `member ${grantee.member.slice(0, 12)}…`);
  const scope = e.scope as
    { records?: string[]; recordTypes?: string[]; maxLevel?: string } | undefined;
  const scopeText =
    scope?.records !== undefined
      ? `records ${scope.records.join(',')}`
      : `types ${(scope?.recordTypes ?? []).join(',')} ≤ ${scope?.maxLevel ?? '?'}`;
  const str = (name: string): string => (typeof e[name] === 'string' ? e[name] : '');
  const num = (name: string): string => (typeof e[name] === 'number' ? String(e[name]) : '');
  let what: string;
  switch (event.type) {
    case 'member.certified':
      what = `certified ${str('memberId')} as ${str('role')}`;
      break;
    case 'record.registered':
      what = `registered ${str('recordId')} (${str('recordType')}, ${str('level')}, ${str('storage')})`;
      break;
    case 'consent.granted':
      what = `granted ${granteeText} ${scopeText} for ${str('purpose')} until height ${num('expiresAt')}${e.patientSigned === true ? ' (patient-signed)' : ''}`;
      break;
    case 'consent.revoked':
      what = `revoked ${str('grantId')} (${str('reason')})`;
      break;
    case 'referral.created':
      what = `referred to ${str('to')}: ${((e.recordIds as string[] | undefined) ?? []).join(',')} (${str('reason')}), grant ${str('grantId')}`;
      break;
    case 'referral.accepted':
      what = `accepted referral ${str('referralId')}`;
      break;
    case 'referral.rejected':
      what = `rejected referral ${str('referralId')}`;
      break;
    case 'referral.completed':
      what = `completed referral ${str('referralId')}${str('summaryRecordId') === '' ? '' : `, summary ${str('summaryRecordId')} back to ${str('from')}`}`;
      break;
    case 'access.logged':
      what = `LOOKED at ${str('recordId')} for ${str('purpose')} (grant ${str('grantId') === '' ? 'none: owner' : str('grantId')})`;
      break;
    default:
      what = event.type;
  }
  return `${event.time ?? '?'}  h${event.height}  ${who}: ${what}`;
}
