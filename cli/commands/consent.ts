/**
 * `medchain consent grant | revoke | show | list`: consent grants. A grant
 * carries the record data keys re-wrapped for the grantee (unwrapped with
 * the granting party's own key: the patient, or the owner institution).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { Grantee } from '../../src/contracts/index.js';
import type { GrantJson } from '../../src/medical/client.js';
import { grantConsent, revokeConsent } from '../../src/medical/workflows.js';
import {
  collectOption,
  defineCommand,
  EXIT_CODES,
  formatFields,
  formatTable,
  integerOption,
  setAction,
  usageError,
} from '../common.js';
import {
  actorOptions,
  asJson,
  hexOption,
  levelOption,
  patientOptions,
  printCommitted,
  requireId,
  requireToken,
  resolveActor,
  resolvePatient,
} from '../medical-common.js';
import type { ActorOptions, PatientOptions } from '../medical-common.js';

interface GrantOptions extends ActorOptions, PatientOptions {
  readonly to?: string;
  readonly toMember?: string;
  readonly record?: readonly string[];
  readonly types?: string;
  readonly maxLevel?: string;
  readonly purpose: string;
  readonly expiresIn: number;
  readonly evidenceFile?: string;
}

interface RevokeOptions extends ActorOptions {
  readonly reason: string;
}

interface ListOptions extends ActorOptions, PatientOptions {
  readonly record?: string;
  readonly institution?: string;
  readonly member?: string;
  readonly limit?: number;
}

export function grantsTable(grants: readonly GrantJson[]): string {
  if (grants.length === 0) return 'no grants';
  return formatTable(
    ['grant', 'kind', 'grantor', 'grantee', 'scope', 'purpose', 'status', 'expires'],
    grants.map((g) => [
      g.id,
      g.kind,
      `${g.grantorInstitution}${g.patientSigned ? ' (patient)' : ''}`,
      'institution' in g.grantee
        ? g.grantee.institution
        : `member ${g.grantee.member.slice(0, 12)}…`,
      'records' in g.scope
        ? g.scope.records.join(',')
        : `${g.scope.recordTypes.join(',')} ≤ ${g.scope.maxLevel}`,
      g.purpose,
      g.status,
      String(g.expiresAt),
    ]),
  );
}

export function register(program: Command): void {
  const consent = defineCommand(program, {
    name: 'consent',
    description:
      'grant and revoke access to records (patient key, or the owner institution with evidence)',
    examples: [
      'medchain consent grant --devnet .devnet --key patient.json --as community-centre --to district-hospital --record rec-1a2b… --purpose treatment --expires-in 10000',
      'medchain consent revoke grant-9f… --devnet .devnet --key patient.json --as community-centre',
    ],
  });

  const grant = actorOptions(
    patientOptions(
      defineCommand(consent, {
        name: 'grant',
        description:
          'grant an institution (or a member key) access to records, or to a patient scope',
        examples: [
          'medchain consent grant --devnet .devnet --key patient.json --as community-centre --to district-hospital --record rec-1a2b… --purpose treatment --expires-in 10000',
          'medchain consent grant --devnet .devnet --as community-centre/admin --to city-hospital --patient-id P-0001 --types checkup-report,lab-result --max-level L3 --purpose treatment --expires-in 5000 --evidence-file signed-consent.pdf',
        ],
        notes:
          'Signed by the patient key, or by the owner institution (admin / institution key) with\n' +
          '--evidence-file (its hash goes on chain). L4 records need the patient key. The data keys are\n' +
          'unwrapped with your keys and re-wrapped for the grantee.',
      }),
    ),
  )
    .option('--to <institution>', 'grantee institution')
    .option('--to-member <hex>', 'grantee member public key')
    .option('--record <id>', 'a record of the scope (repeatable)', collectOption)
    .option('--types <tokens>', 'patient scope: record types, comma-separated')
    .option('--max-level <L1|L2|L3>', 'patient scope: highest data level')
    .requiredOption('--purpose <token>', 'purpose token, e.g. treatment')
    .addOption(
      new Option('--expires-in <heights>', 'live for this many heights')
        .argParser(integerOption(1, 100_000_000))
        .makeOptionMandatory(),
    )
    .option('--evidence-file <path>', 'the signed consent an institution holds (hashed)');
  setAction<GrantOptions>(grant, async (ctx) => {
    const o = ctx.options;
    if ((o.to === undefined) === (o.toMember === undefined))
      throw usageError('give one grantee: --to <institution> or --to-member <key>');
    const actor = await resolveActor(ctx);
    const s = actor.session;
    const grantee: Grantee =
      o.to !== undefined
        ? { kind: 'institution', institution: o.to }
        : {
            kind: 'member',
            member: hexOption('--to-member', o.toMember ?? '', s.suite.publicKeyLength),
          };
    const patient = await resolvePatient(o, actor);
    const evidence =
      o.evidenceFile === undefined
        ? null
        : s.suite.hash(new Uint8Array(await readFile(o.evidenceFile)));
    const records = (o.record ?? []).map((r) => requireId('--record', r));
    if (
      records.length === 0 &&
      (patient === null || o.types === undefined || o.maxLevel === undefined)
    ) {
      throw usageError(
        'give --record <id> …, or a patient scope: --patient/--patient-id --types … --max-level …',
      );
    }
    const committed = await grantConsent(s, {
      grantee,
      ...(records.length > 0
        ? { recordIds: records }
        : {
            patientScope: {
              patient: patient ?? new Uint8Array(),
              recordTypes: (o.types ?? '').split(',').map((t) => requireToken('--types', t.trim())),
              maxLevel: levelOption(o.maxLevel ?? ''),
            },
          }),
      purpose: requireToken('--purpose', o.purpose),
      expiresInHeights: o.expiresIn,
      evidence,
    });
    printCommitted(ctx, 'consent granted', committed, { grantId: committed.grantId });
    return EXIT_CODES.ok;
  });

  const revoke = actorOptions(
    defineCommand(consent, {
      name: 'revoke <grantId>',
      description:
        'revoke a grant (the patient, the grantor, or the grantor institution); access stops at once',
      examples: [
        'medchain consent revoke grant-9f… --devnet .devnet --key patient.json --as community-centre --reason patient-request',
      ],
    }),
  ).option('--reason <token>', 'reason token', 'patient-request');
  setAction<RevokeOptions>(revoke, async (ctx) => {
    const actor = await resolveActor(ctx);
    const grantId = requireId('grantId', ctx.args[0] ?? '');
    const committed = await revokeConsent(
      actor.session,
      grantId,
      requireToken('--reason', ctx.options.reason),
    );
    printCommitted(ctx, 'consent revoked', committed, { grantId });
    return EXIT_CODES.ok;
  });

  const show = actorOptions(
    defineCommand(consent, {
      name: 'show <grantId>',
      description: 'one grant, its status and whether it is live',
      examples: ['medchain consent show grant-9f… --devnet .devnet --as district-hospital/doctor'],
    }),
  );
  setAction<ActorOptions>(show, async (ctx) => {
    const actor = await resolveActor(ctx);
    const { grant: g, live } = await actor.session.medical.grant(
      requireId('grantId', ctx.args[0] ?? ''),
    );
    ctx.result(asJson({ grant: g, live }), () =>
      [
        grantsTable([g]),
        '',
        formatFields([
          ['live now', live ? 'yes' : 'no'],
          ['created at', String(g.createdAt)],
          ['closed', g.closedAt === null ? '-' : `${g.closedAt} (${g.closeReason ?? ''})`],
        ]),
      ].join('\n'),
    );
    return EXIT_CODES.ok;
  });

  const list = actorOptions(
    patientOptions(
      defineCommand(consent, {
        name: 'list',
        description: 'grants of a record, of a patient, or held by an institution or member',
        examples: [
          'medchain consent list --devnet .devnet --as community-centre/doctor --record rec-1a2b…',
          'medchain consent list --devnet .devnet --as district-hospital/admin --institution district-hospital',
        ],
      }),
    ),
  )
    .option('--record <id>', 'grants naming a record')
    .option('--institution <id>', 'grants held by an institution')
    .option('--member <hex>', 'grants held by a member key')
    .addOption(new Option('--limit <n>', 'at most this many').argParser(integerOption(1, 1000)));
  setAction<ListOptions>(list, async (ctx) => {
    const o = ctx.options;
    const actor = await resolveActor(ctx);
    const m = actor.session.medical;
    const q = o.limit === undefined ? {} : { limit: o.limit };
    const patient = await resolvePatient(o, actor);
    let grants: GrantJson[];
    if (o.record !== undefined)
      grants = (await m.recordGrants(requireId('--record', o.record), q)).grants;
    else if (o.institution !== undefined)
      grants = (await m.institutionGrants(o.institution, q)).grants;
    else if (o.member !== undefined) grants = (await m.memberGrants(o.member, q)).grants;
    else if (patient !== null) grants = (await m.patientGrants(patient, q)).grants;
    else throw usageError('give --record, --patient/--patient-id, --institution or --member');
    ctx.result(asJson({ grants }), () => grantsTable(grants));
    return EXIT_CODES.ok;
  });
}
