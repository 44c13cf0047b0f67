/**
 * `medchain record register | show | list | open`: record pointers. Register
 * seals the document with a fresh data key and puts the ciphertext into the
 * owner's vault (or seals an external locator), wraps the key for the
 * institution, the signer and the patient's key, and waits for the receipt.
 * Open fetches (vault) or unseals (external) with an access.log on chain.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Option } from 'commander';
import type { Command } from 'commander';
import { toHex } from '../../src/codec/index.js';
import { openRecord, registerRecord } from '../../src/medical/workflows.js';
import {
  CliError,
  defineCommand,
  EXIT_CODES,
  formatFields,
  formatTable,
  integerOption,
  setAction,
  usageError,
} from '../common.js';
import type { JsonValue } from '../common.js';
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

const MAX_DOCUMENT_FILE_BYTES = 8 * 1024 * 1024;

interface RegisterOptions extends ActorOptions, PatientOptions {
  readonly file?: string;
  readonly externalLocator?: string;
  readonly contentHash?: string;
  readonly type: string;
  readonly level: string;
  readonly title?: string;
  readonly recordId?: string;
}

interface ListOptions extends ActorOptions, PatientOptions {
  readonly institution?: string;
  readonly limit?: number;
}

interface OpenOptions extends ActorOptions {
  readonly purpose: string;
  readonly grant?: string;
  readonly out?: string;
  readonly print?: boolean;
}

async function readDocument(file: string): Promise<Uint8Array> {
  try {
    const bytes = await readFile(file);
    if (bytes.length === 0 || bytes.length > MAX_DOCUMENT_FILE_BYTES) {
      throw new CliError(
        'INPUT_FILE',
        `document ${file}: must be 1 to ${MAX_DOCUMENT_FILE_BYTES} bytes, is ${bytes.length}`,
      );
    }
    return new Uint8Array(bytes);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      'INPUT_FILE',
      `document ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

export function register(program: Command): void {
  const record = defineCommand(program, {
    name: 'record',
    description:
      'register, show, list and open record pointers (documents sealed in the owner vault or external)',
    examples: [
      'medchain record register --devnet .devnet --as community-centre/doctor --patient-id P-0001 --type checkup-report --level L3 --file report.txt',
      'medchain record open rec-1a2b… --devnet .devnet --as district-hospital/doctor --purpose treatment --out report.txt',
    ],
  });

  const registerCommand = actorOptions(
    patientOptions(
      defineCommand(record, {
        name: 'register',
        description:
          "register a record pointer: seal the document into this institution's vault, or an external locator",
        examples: [
          'medchain record register --devnet .devnet --as community-centre/doctor --patient-id P-0001 --type checkup-report --level L3 --file report.txt --title "annual check-up"',
          'medchain record register --key doctor.json --node http://127.0.0.1:7101 --patient 5f3a… --type lab-result --level L3 --external-locator https://lis.example/r/77 --file result.pdf',
        ],
        notes:
          'The document and locator are sealed client side with a fresh data key; the node stores only\n' +
          'ciphertext, the chain only the content hash, sealed pointer and key wraps (institution, signer,\n' +
          "the patient's live key). The plain patient id never leaves this process.",
      }),
    ),
  )
    .option('--file <path>', 'the document (vault), or the external document to hash')
    .option(
      '--external-locator <url>',
      'register an external record: this locator is sealed, nothing is uploaded',
    )
    .option('--content-hash <hex>', 'external record: the document hash instead of --file')
    .requiredOption(
      '--type <token>',
      'record type token, e.g. checkup-report, discharge-summary, lab-result',
    )
    .requiredOption('--level <L1|L2|L3|L4>', 'data level')
    .option('--title <text>', 'sealed metadata: a title (never on chain in clear)')
    .option('--record-id <id>', 'default: a fresh random id');

  setAction<RegisterOptions>(registerCommand, async (ctx) => {
    const o = ctx.options;
    if (o.file === undefined && o.externalLocator === undefined)
      throw usageError('give --file (vault) or --external-locator');
    if (o.externalLocator === undefined && o.contentHash !== undefined)
      throw usageError('--content-hash is for --external-locator');
    const actor = await resolveActor(ctx);
    const patient = await resolvePatient(o, actor, { required: true });
    const content = o.file === undefined ? undefined : await readDocument(o.file);
    const suite = actor.session.suite;
    let location: { content: Uint8Array } | { externalLocator: string; contentHash: Uint8Array };
    if (o.externalLocator === undefined) {
      if (content === undefined) throw usageError('a vault record needs --file');
      location = { content };
    } else if (o.contentHash !== undefined) {
      location = {
        externalLocator: o.externalLocator,
        contentHash: hexOption('--content-hash', o.contentHash, suite.hashLength),
      };
    } else if (content !== undefined) {
      location = { externalLocator: o.externalLocator, contentHash: suite.hash(content) };
    } else {
      throw usageError('an external record needs --file or --content-hash');
    }
    const registered = await registerRecord(actor.session, {
      ...(o.recordId === undefined ? {} : { recordId: requireId('--record-id', o.recordId) }),
      patient,
      recordType: requireToken('--type', o.type),
      level: levelOption(o.level),
      ...location,
      ...(o.title === undefined ? {} : { metadata: { title: o.title } }),
    });
    printCommitted(ctx, 'record registered', registered, {
      recordId: registered.recordId,
      patient: toHex(patient),
      storage: registered.storage,
      contentHash: registered.contentHash,
    });
    return EXIT_CODES.ok;
  });

  const show = actorOptions(
    defineCommand(record, {
      name: 'show <recordId>',
      description: 'a record pointer with its grants and your access (signed request)',
      examples: ['medchain record show rec-1a2b… --devnet .devnet --as district-hospital/doctor'],
    }),
  );
  setAction<ActorOptions>(show, async (ctx) => {
    const actor = await resolveActor(ctx);
    const recordId = requireId('recordId', ctx.args[0] ?? '');
    const view = await actor.session.medical.record(recordId);
    ctx.result(asJson(view), () =>
      [
        formatFields([
          ['record', view.record.id],
          ['owner', view.record.owner],
          ['patient', view.record.patient],
          ['type / level', `${view.record.recordType} / ${view.record.level}`],
          ['storage', view.record.storage],
          ['content hash', view.record.contentHash],
          ['registered at', String(view.record.registeredAt)],
          [
            'your access',
            view.access.ok
              ? `yes (${view.access.basis}${view.access.grantId === null ? '' : `, grant ${view.access.grantId}`})`
              : `no: ${view.access.code}`,
          ],
        ]),
        '',
        view.grants.length === 0
          ? 'no grants visible to you'
          : formatTable(
              ['grant', 'kind', 'grantee', 'status', 'expires'],
              view.grants.map((g) => [
                g.id,
                g.kind,
                'institution' in g.grantee
                  ? g.grantee.institution
                  : `member ${g.grantee.member.slice(0, 16)}…`,
                g.status,
                String(g.expiresAt),
              ]),
            ),
      ].join('\n'),
    );
    return EXIT_CODES.ok;
  });

  const list = actorOptions(
    patientOptions(
      defineCommand(record, {
        name: 'list',
        description: "a patient's records you may read, or an institution's records",
        examples: [
          'medchain record list --devnet .devnet --as community-centre/doctor --patient-id P-0001',
          'medchain record list --devnet .devnet --as health-commission/admin --institution community-centre',
        ],
      }),
    ),
  )
    .option('--institution <id>', "an institution's records (its staff and the regulator)")
    .addOption(new Option('--limit <n>', 'at most this many').argParser(integerOption(1, 1000)));
  setAction<ListOptions>(list, async (ctx) => {
    const o = ctx.options;
    const actor = await resolveActor(ctx);
    const q = o.limit === undefined ? {} : { limit: o.limit };
    const patient = await resolvePatient(o, actor);
    let records;
    if (o.institution !== undefined)
      records = (await actor.session.medical.institutionRecords(o.institution, q)).records;
    else if (patient !== null)
      records = (await actor.session.medical.patientRecords(patient, q)).records;
    else throw usageError('give --patient/--patient-id or --institution');
    ctx.result(asJson({ records }), () =>
      records.length === 0
        ? 'no records'
        : formatTable(
            ['record', 'owner', 'type', 'level', 'storage', 'height'],
            records.map((r) => [
              r.id,
              r.owner,
              r.recordType,
              r.level,
              r.storage,
              String(r.registeredAt),
            ]),
          ),
    );
    return EXIT_CODES.ok;
  });

  const openCommand = actorOptions(
    defineCommand(record, {
      name: 'open <recordId>',
      description:
        'open a record: fetch the vault document (or unseal the external locator), access logged on chain',
      examples: [
        'medchain record open rec-1a2b… --devnet .devnet --as district-hospital/doctor --purpose treatment --out report.txt',
        'medchain --json record open rec-1a2b… --key doctor.json --unwrap-key hospital.json --node http://127.0.0.1:7103 --purpose treatment',
      ],
      notes:
        "A vault document is fetched through --node (your own institution's node), which asks the owner's\n" +
        'node; the owner commits your signed access.log before it serves. The document is opened with the\n' +
        'data key unwrapped by your keys and checked against the content hash on chain (exit 1 if tampered).',
    }),
  )
    .requiredOption(
      '--purpose <token>',
      'why you look, e.g. treatment, follow-up, specialist-consult',
    )
    .option('--grant <id>', 'the grant you rely on (default: the one the node finds)')
    .option('--out <file>', 'write the document here')
    .option('--print', 'print the document (text) on stdout');
  setAction<OpenOptions>(openCommand, async (ctx) => {
    const o = ctx.options;
    const actor = await resolveActor(ctx);
    const recordId = requireId('recordId', ctx.args[0] ?? '');
    const opened = await openRecord(actor.session, recordId, {
      purpose: requireToken('--purpose', o.purpose),
      ...(o.grant === undefined ? {} : { grantId: o.grant }),
    });
    if (o.out !== undefined && opened.content !== null)
      await writeFile(o.out, opened.content, { mode: 0o600 });
    const json: Record<string, JsonValue> = {
      recordId: opened.recordId,
      storage: opened.storage,
      basis: opened.basis,
      contentHash: opened.contentHash,
      hashVerified: opened.content !== null,
      bytes: opened.content?.length ?? 0,
      accessTx: opened.accessTx,
      accessHeight: opened.accessHeight,
      ...(opened.storage === 'external' ? { locator: opened.locator } : {}),
      ...(o.out === undefined ? {} : { out: o.out }),
    };
    ctx.result(json, () =>
      [
        formatFields([
          ['record', opened.recordId],
          ['storage', opened.storage],
          [
            'access',
            `${opened.basis}; logged at height ${opened.accessHeight} (tx ${opened.accessTx})`,
          ],
          ...(opened.storage === 'vault'
            ? ([
                [
                  'document',
                  `${opened.content?.length ?? 0} bytes, hash ${opened.contentHash} verified against the chain`,
                ],
              ] as const)
            : ([['locator', opened.locator]] as const)),
          ...(o.out === undefined ? [] : ([['written to', o.out]] as const)),
        ]),
        ...(o.print === true && opened.content !== null
          ? ['', new TextDecoder().decode(opened.content)]
          : []),
      ].join('\n'),
    );
    return EXIT_CODES.ok;
  });
}
