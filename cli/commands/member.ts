/**
 * `medchain member certify | revoke | show | list`: member certificates,
 * issued by an institution's admin (or its key). `certify --new-key` writes
 * a new keystore for the member (e.g. a synthetic patient's key).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { toHex } from '../../src/codec/index.js';
import { DEFAULT_SCRYPT_PARAMS, loadKeystore, writeKeystore } from '../../src/crypto/keystore.js';
import { MEMBER_ROLES } from '../../src/identity/types.js';
import type { MemberRole } from '../../src/identity/types.js';
import { certifyMember, revokeMember } from '../../src/medical/workflows.js';
import { patientMemberId } from '../../src/records/index.js';
import {
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
  patientOptions,
  printCommitted,
  requireToken,
  resolveActor,
  resolvePatient,
} from '../medical-common.js';
import type { ActorOptions, PatientOptions } from '../medical-common.js';

interface CertifyOptions extends ActorOptions, PatientOptions {
  readonly role: MemberRole;
  readonly memberId?: string;
  readonly publicKey?: string;
  readonly newKey?: string;
  readonly memberKey?: string;
  readonly institution?: string;
  readonly validFor: number;
  readonly scryptLogN?: number;
}
interface RevokeOptions extends ActorOptions {
  readonly reason: string;
}
interface ListOptions extends ActorOptions {
  readonly institution?: string;
  readonly limit?: number;
}

export function register(program: Command): void {
  const member = defineCommand(program, {
    name: 'member',
    description: 'certify and revoke member certificates (doctors, admins, auditors, patients)',
    examples: [
      'medchain member certify --devnet .devnet --as community-centre/admin --role doctor --member-id dr-li --new-key dr-li.json',
      'medchain member list --devnet .devnet --as community-centre/admin',
    ],
  });

  const certify = actorOptions(
    patientOptions(
      defineCommand(member, {
        name: 'certify',
        description:
          'certify a member key for your institution (an admin or the institution key signs)',
        examples: [
          'medchain member certify --devnet .devnet --as community-centre/admin --role doctor --member-id dr-li --new-key dr-li.json',
          'medchain member certify --devnet .devnet --as community-centre/admin --role patient --patient-id P-0001 --new-key patient.json',
        ],
        notes:
          'A patient key is bound to the pseudonym (--patient or --patient-id); its member id is derived\nfrom the pseudonym, never from the local patient id. --new-key writes the new key (passphrase as\nfor --key).',
      }),
    ),
  )
    .addOption(
      new Option('--role <role>', 'member role').choices(MEMBER_ROLES).makeOptionMandatory(),
    )
    .option('--member-id <id>', 'opaque member id (patients: derived)')
    .option('--public-key <hex>', "the member's public key")
    .option('--member-key <keystore>', "or the member's existing keystore")
    .option('--new-key <keystore>', 'or generate a key and write it here')
    .option('--institution <id>', 'default: yours')
    .addOption(
      new Option('--valid-for <heights>', 'certificate validity')
        .argParser(integerOption(1, 1_000_000_000))
        .default(10_000_000),
    )
    .addOption(
      new Option('--scrypt-log-n <n>', 'keystore cost (tests)')
        .argParser(integerOption(10, 22))
        .hideHelp(),
    );
  setAction<CertifyOptions>(certify, async (ctx) => {
    const o = ctx.options;
    const given = [o.publicKey, o.memberKey, o.newKey].filter((v) => v !== undefined).length;
    if (given !== 1) throw usageError('give exactly one of --public-key, --member-key, --new-key');
    const actor = await resolveActor(ctx);
    const s = actor.session;
    let publicKey: Uint8Array;
    if (o.publicKey !== undefined)
      publicKey = hexOption('--public-key', o.publicKey, s.suite.publicKeyLength);
    else if (o.memberKey !== undefined)
      publicKey = (await loadKeystore(o.memberKey, actor.passphrase)).publicKey;
    else {
      const key = s.suite.generateKeyPair();
      await writeKeystore(o.newKey ?? '', key, actor.passphrase, {
        scrypt:
          o.scryptLogN === undefined
            ? DEFAULT_SCRYPT_PARAMS
            : { ...DEFAULT_SCRYPT_PARAMS, N: 2 ** o.scryptLogN },
      });
      publicKey = key.publicKey;
    }
    const patient =
      o.role === 'patient' ? await resolvePatient(o, actor, { required: true }) : null;
    if (o.role !== 'patient' && (o.patient !== undefined || o.patientId !== undefined))
      throw usageError('--patient is for --role patient');
    const memberId = patient !== null ? patientMemberId(patient) : o.memberId;
    if (memberId === undefined) throw usageError('--member-id is required (except for patients)');
    const committed = await certifyMember(s, {
      memberId,
      role: o.role,
      publicKey,
      ...(o.institution === undefined ? {} : { institution: o.institution }),
      patient,
      validForHeights: o.validFor,
    });
    printCommitted(ctx, 'member certified', committed, {
      memberId,
      role: o.role,
      publicKey: toHex(publicKey),
      ...(patient === null ? {} : { patient: toHex(patient) }),
      ...(o.newKey === undefined ? {} : { keystore: o.newKey }),
    });
    return EXIT_CODES.ok;
  });

  const revoke = actorOptions(
    defineCommand(member, {
      name: 'revoke <publicKey>',
      description: 'revoke a certificate (permanent: the key can do nothing afterwards)',
      examples: [
        'medchain member revoke 3b6a… --devnet .devnet --as community-centre/admin --reason left-institution',
      ],
    }),
  ).option('--reason <token>', 'reason token', 'revoked');
  setAction<RevokeOptions>(revoke, async (ctx) => {
    const actor = await resolveActor(ctx);
    const key = hexOption('publicKey', ctx.args[0] ?? '', actor.session.suite.publicKeyLength);
    printCommitted(
      ctx,
      'member revoked',
      await revokeMember(actor.session, key, requireToken('--reason', ctx.options.reason)),
      { publicKey: toHex(key) },
    );
    return EXIT_CODES.ok;
  });

  const show = actorOptions(
    defineCommand(member, {
      name: 'show <publicKey>',
      description: 'a certificate and whether it is valid now',
      examples: ['medchain member show 3b6a… --devnet .devnet --as district-hospital/doctor'],
    }),
  );
  setAction<ActorOptions>(show, async (ctx) => {
    const actor = await resolveActor(ctx);
    const result = await actor.session.medical.member(ctx.args[0] ?? '');
    const m = result.member;
    ctx.result(asJson(result), () =>
      formatFields([
        ['member', `${m.memberId} (${m.role}) of ${m.institution}`],
        ['key', m.publicKey],
        [
          'valid',
          result.valid
            ? `yes (heights ${m.notBefore}–${m.notAfter})`
            : `no: ${result.invalidReason ?? ''}`,
        ],
        ['revoked', m.revokedAt === null ? '-' : `at ${m.revokedAt} (${m.revocationReason ?? ''})`],
      ]),
    );
    return EXIT_CODES.ok;
  });

  const list = actorOptions(
    defineCommand(member, {
      name: 'list',
      description: "an institution's members (its staff, the regulator)",
      examples: ['medchain member list --devnet .devnet --as community-centre/admin'],
    }),
  )
    .option('--institution <id>', 'default: yours')
    .addOption(new Option('--limit <n>', 'at most this many').argParser(integerOption(1, 1000)));
  setAction<ListOptions>(list, async (ctx) => {
    const actor = await resolveActor(ctx);
    const { members } = await actor.session.medical.members(
      ctx.options.institution ?? actor.session.identity.institution,
      ctx.options.limit === undefined ? {} : { limit: ctx.options.limit },
    );
    ctx.result(asJson({ members }), () =>
      members.length === 0
        ? 'no members'
        : formatTable(
            ['member', 'role', 'key', 'valid', 'not after'],
            members.map((m) => [
              m.memberId,
              m.role,
              `${m.publicKey.slice(0, 16)}…`,
              m.valid ? 'yes' : 'no',
              String(m.notAfter),
            ]),
          ),
    );
    return EXIT_CODES.ok;
  });
}
