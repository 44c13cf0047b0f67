/**
 * What the medical commands (`record`, `consent`, `referral`, `access`,
 * `audit`, `member`, `demo`) share: who acts and through which node, the
 * patient option, and printing a committed receipt.
 *
 * Identity: `--key <keystore>` (+ `--passphrase-file`, else
 * $MEDCHAIN_PASSPHRASE) and `--node <url>` (default http://127.0.0.1:7101);
 * or, on a devnet, `--devnet <dir> --as <institution>/<doctor|admin|institution>`,
 * which picks the keystore, the passphrase and that institution's node, and
 * adds the institution key as an unwrap key (grants to an institution wrap
 * data keys for its key).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { fromHex } from '../src/codec/index.js';
import { getSuite } from '../src/crypto/index.js';
import { loadKeystore } from '../src/crypto/keystore.js';
import type { KeyPair } from '../src/crypto/suite.js';
import { DATA_LEVELS } from '../src/identity/types.js';
import type { DataLevel } from '../src/identity/types.js';
import {
  DEVNET_ROLES,
  devnetNode,
  loadPseudonymSecret,
  openDevnetKeys,
  pseudonymKeyFile,
} from '../src/medical/devnet-keys.js';
import type { DevnetKeys, DevnetRole } from '../src/medical/devnet-keys.js';
import { MedicalSession } from '../src/medical/workflows.js';
import type { Committed } from '../src/medical/workflows.js';
import { patientPseudonym } from '../src/records/index.js';
import {
  CliError,
  collectOption,
  formatFields,
  integerOption,
  readPassphrase,
  usageError,
} from './common.js';
import type { CommandContext, JsonValue } from './common.js';
import { DEFAULT_NODE_URL, NODE_ENV } from './node-client.js';

export { asJson } from './node-client.js';

export interface ActorOptions {
  readonly node?: string;
  readonly devnet?: string;
  readonly as?: string;
  readonly key?: string;
  readonly unwrapKey?: readonly string[];
  readonly passphraseFile?: string;
  readonly timeout?: number;
}

export interface PatientOptions {
  readonly patient?: string;
  readonly patientId?: string;
  readonly pseudonymKey?: string;
}

/** Adds the identity options to a command. */
export function actorOptions(command: Command): Command {
  return command
    .option(
      '--node <url>',
      `API of the node to talk to (default $${NODE_ENV} or ${DEFAULT_NODE_URL}; with --devnet, the --as institution's node)`,
    )
    .option(
      '--devnet <dir>',
      'a devnet directory (medchain devnet --data-dir): keys and node URLs from there',
    )
    .option(
      '--as <who>',
      "with --devnet: <institution>/<doctor|admin|institution> (e.g. district-hospital/doctor); with --key just <institution>: use that institution's node",
    )
    .option('--key <keystore>', 'keystore of the signing key (member or institution key)')
    .option(
      '--unwrap-key <keystore>',
      'another key that may hold data-key wraps (repeatable), e.g. the institution key',
      collectOption,
    )
    .option(
      '--passphrase-file <path>',
      'keystore passphrase (first line); else $MEDCHAIN_PASSPHRASE',
    )
    .addOption(
      new Option('--timeout <ms>', 'deadline for each request and receipt').argParser(
        integerOption(100, 600_000),
      ),
    );
}

/** Adds `--patient <pseudonym hex>` / `--patient-id <local id>` + `--pseudonym-key`. */
export function patientOptions(command: Command): Command {
  return command
    .option('--patient <hex>', "the patient's pseudonym (64 hex)")
    .option(
      '--patient-id <id>',
      'a local (synthetic) patient id: hashed with the institution pseudonym secret, never sent',
    )
    .option(
      '--pseudonym-key <keystore>',
      'the institution pseudonym secret (default on a devnet: <institution>/keys/pseudonym.json)',
    );
}

interface Resolved {
  readonly session: MedicalSession;
  readonly devnet: DevnetKeys | null;
  readonly institution: string | null;
  readonly passphrase: string;
}

/** `<institution>/<role>`, or just `<institution>` (with --key: whose node to use). */
function parseAs(value: string): { institution: string; role: DevnetRole | null } {
  const match = /^([a-z0-9-]+)(?:\/([a-z]+))?$/.exec(value);
  const role = match?.[2];
  if (
    match === null ||
    (role !== undefined && !(DEVNET_ROLES as readonly string[]).includes(role))
  ) {
    throw usageError(
      '--as: expected <institution>/<doctor|admin|institution>, e.g. district-hospital/doctor',
    );
  }
  return { institution: match[1] ?? '', role: (role ?? null) as DevnetRole | null };
}

/** The session of the acting party (see the module comment). */
export async function resolveActor(ctx: CommandContext<ActorOptions>): Promise<Resolved> {
  const o = ctx.options;
  let signer: KeyPair;
  const unwrapKeys: KeyPair[] = [];
  let devnet: DevnetKeys | null = null;
  let url = o.node;
  let passphrase: string;
  let institution: string | null = null;
  if (o.devnet !== undefined) {
    devnet = await openDevnetKeys(o.devnet);
    passphrase =
      o.passphraseFile === undefined
        ? devnet.passphrase
        : await readPassphrase(ctx.io, { file: o.passphraseFile, purpose: 'the keystore' });
    const who = o.as === undefined ? null : parseAs(o.as);
    if (who === null && o.key === undefined) {
      throw usageError(
        'with --devnet, say who acts: --as <institution>/<doctor|admin|institution> (or --key)',
      );
    }
    if (who !== null) {
      institution = who.institution;
      url ??= devnetNode(devnet.manifest, who.institution).apiUrl;
    }
    if (o.key !== undefined) {
      signer = await loadKeystore(o.key, passphrase);
    } else if (who?.role != null) {
      signer = await devnet.load(who.institution, who.role);
      if (who.role !== 'institution') {
        unwrapKeys.push(await devnet.load(who.institution, 'institution'));
      }
    } else {
      throw usageError(
        '--as: say the role too (<institution>/<doctor|admin|institution>), or pass --key',
      );
    }
  } else {
    if (o.key === undefined)
      throw usageError(
        'who acts? pass --key <keystore> (or --devnet <dir> --as <institution>/<role>)',
      );
    if (o.as !== undefined) throw usageError('--as needs --devnet');
    passphrase = await readPassphrase(ctx.io, {
      ...(o.passphraseFile === undefined ? {} : { file: o.passphraseFile }),
      purpose: o.key,
    });
    signer = await loadKeystore(o.key, passphrase);
  }
  for (const file of o.unwrapKey ?? []) unwrapKeys.push(await loadKeystore(file, passphrase));
  const session = await MedicalSession.open({
    baseUrl: url ?? ctx.io.env[NODE_ENV] ?? DEFAULT_NODE_URL,
    signer,
    unwrapKeys,
    ...(o.timeout === undefined ? {} : { timeoutMs: o.timeout }),
  });
  return { session, devnet, institution: institution ?? session.identity.institution, passphrase };
}

/** The patient pseudonym from `--patient` or `--patient-id` (+ the institution's pseudonym secret). */
export async function resolvePatient(
  o: PatientOptions,
  actor: Resolved,
  options: { readonly required: true },
): Promise<Uint8Array>;
export async function resolvePatient(
  o: PatientOptions,
  actor: Resolved,
  options?: { readonly required?: boolean },
): Promise<Uint8Array | null>;
export async function resolvePatient(
  o: PatientOptions,
  actor: Resolved,
  options: { readonly required?: boolean } = {},
): Promise<Uint8Array | null> {
  if (o.patient !== undefined && o.patientId !== undefined)
    throw usageError('give --patient or --patient-id, not both');
  if (o.patient !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(o.patient))
      throw usageError('--patient: expected a 32-byte pseudonym as 64 hex digits');
    return fromHex(o.patient, 'patient');
  }
  if (o.patientId !== undefined) {
    const suite = getSuite(actor.session.suite.id);
    let file = o.pseudonymKey;
    const create = file === undefined && actor.devnet !== null;
    if (file === undefined && actor.devnet !== null) {
      file = pseudonymKeyFile(
        devnetNode(actor.devnet.manifest, actor.session.identity.institution),
      );
    }
    if (file === undefined)
      throw usageError(
        '--patient-id needs --pseudonym-key <keystore> (the institution pseudonym secret)',
      );
    const secret = await loadPseudonymSecret(suite, file, actor.passphrase, { create });
    return patientPseudonym(suite, secret, o.patientId);
  }
  if (options.required === true)
    throw usageError('which patient? pass --patient <pseudonym> or --patient-id <id>');
  return null;
}

export function levelOption(value: string): DataLevel {
  if (!(DATA_LEVELS as readonly string[]).includes(value))
    throw usageError(`level: expected one of ${DATA_LEVELS.join(', ')}`);
  return value as DataLevel;
}

export function hexOption(what: string, value: string, bytes?: number): Uint8Array {
  const pattern =
    bytes === undefined ? /^(?:[0-9a-fA-F]{2})+$/ : new RegExp(`^[0-9a-fA-F]{${2 * bytes}}$`);
  if (!pattern.test(value)) {
    throw usageError(
      `${what}: expected ${bytes === undefined ? 'hex' : `${bytes} bytes as ${2 * bytes} hex digits`}`,
    );
  }
  return fromHex(value, what);
}

/** Prints a committed transaction (the one result of an action command). */
export function printCommitted(
  ctx: CommandContext<unknown>,
  what: string,
  committed: Committed,
  extra: Readonly<Record<string, JsonValue>> = {},
): void {
  ctx.result(
    {
      ...extra,
      txHash: committed.hash,
      height: committed.height,
      receipt: { code: committed.receipt.code, reason: committed.receipt.reason },
    },
    () =>
      [
        `${what}: committed at height ${committed.height}, receipt ${committed.receipt.code}`,
        formatFields([
          ...Object.entries(extra).map(
            ([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const,
          ),
          ['tx', committed.hash],
        ]),
      ].join('\n'),
  );
}

export function requireToken(what: string, value: string): string {
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(value)) {
    throw usageError(
      `${what}: expected a vocabulary token (lower-case letters, digits, '-'), e.g. treatment`,
    );
  }
  return value;
}

export function requireId(what: string, value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/.test(value)) throw usageError(`${what}: not an id`);
  return value;
}

export { CliError };
