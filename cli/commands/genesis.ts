/**
 * `medchain genesis create | show | hash`: build a genesis document from
 * institution descriptor files (JSON or YAML, format in docs/cli.md), and
 * inspect one. Validation and hashing are src/identity's (`createGenesis`,
 * `parseGenesisText`, `genesisHash`); this file only reads files and maps
 * field paths back to the file they came from.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { createFieldReader, fieldPath } from '../../src/codec/fields.js';
import { toHex } from '../../src/codec/index.js';
import { decodePublicKey, getSuite, isSuiteId, SUITE_IDS } from '../../src/crypto/index.js';
import type { SuiteId } from '../../src/crypto/index.js';
import { MedchainError } from '../../src/errors.js';
import {
  createGenesis,
  DATA_LEVELS,
  GenesisError,
  genesisHash,
  genesisToJson,
  INSTITUTION_ROLES,
  MEMBER_ROLES,
  parseGenesisText,
} from '../../src/identity/index.js';
import type {
  CreateGenesisParams,
  DataLevel,
  DataLevelRule,
  Genesis,
  InstitutionParams,
} from '../../src/identity/index.js';
import { maxFaulty } from '../../src/ledger/quorum.js';
import {
  CliError,
  collectOption,
  defineCommand,
  EXIT_CODES,
  formatFields,
  formatTable,
  parseStructuredText,
  readInputFile,
  setAction,
  usageError,
  writeOutputFile,
} from '../common.js';
import type { JsonValue } from '../common.js';

const MAX_DESCRIPTOR_BYTES = 64 * 1024;
const MAX_GENESIS_BYTES = 8 * 1024 * 1024;

const DESCRIPTOR_FIELDS = ['id', 'name', 'role', 'signingKey', 'peerId', 'voting'] as const;
const DESCRIPTOR_OPTIONAL = ['apiAddress', 'p2pAddresses'] as const;
const POLICY_NUMBERS = [
  'maxBlockTxs',
  'maxBlockBytes',
  'maxTxBytes',
  'blockIntervalMs',
  'checkpointInterval',
  'viewChangeTimeoutMs',
] as const;
const RULE_FIELDS = ['register', 'grant', 'read'] as const;

function readerFor(what: string) {
  return createFieldReader((path, problem) => {
    throw new CliError('INPUT_INVALID', `${what}: ${path}: ${problem}`);
  });
}

/** The suite a `<suite>:pub:<hex>` text names, if it names one. */
function suiteOfKeyText(value: unknown): SuiteId | undefined {
  if (typeof value !== 'string') return undefined;
  const prefix = value.split(':', 1)[0];
  return isSuiteId(prefix) ? prefix : undefined;
}

/** Shape check of one descriptor; values are validated by `createGenesis`. */
export function parseInstitutionDescriptor(
  value: unknown,
  file: string,
  suite: SuiteId,
): InstitutionParams {
  const what = `institution ${file}`;
  const read = readerFor(what);
  const record = read.record(value, '', DESCRIPTOR_FIELDS, DESCRIPTOR_OPTIONAL);
  const signingKeyText = read.string(record.signingKey, 'signingKey', { maxLength: 200 });
  let signingKey: Uint8Array;
  try {
    signingKey = decodePublicKey(signingKeyText, suite);
  } catch (error) {
    if (!(error instanceof MedchainError)) throw error;
    throw new CliError(
      'INPUT_INVALID',
      `${what}: signingKey: not a ${suite} public key (${error.message.replace(/^key: /, '')})`,
      EXIT_CODES.usage,
      {},
      { cause: error },
    );
  }
  const params: InstitutionParams = {
    id: read.string(record.id, 'id', { maxLength: 64 }),
    name: read.string(record.name, 'name', { maxLength: 200 }),
    role: read.oneOf(record.role, 'role', INSTITUTION_ROLES),
    signingKey,
    peerId: read.string(record.peerId, 'peerId', { maxLength: 64 }),
    voting: read.boolean(record.voting, 'voting'),
  };
  const apiAddress =
    record.apiAddress === undefined
      ? undefined
      : read.string(record.apiAddress, 'apiAddress', { maxLength: 256 });
  const p2pAddresses =
    record.p2pAddresses === undefined
      ? undefined
      : read
          .array(record.p2pAddresses, 'p2pAddresses', { maxLength: 16 })
          .map((entry, i) => read.string(entry, fieldPath('p2pAddresses', i), { maxLength: 256 }));
  return {
    ...params,
    ...(apiAddress === undefined ? {} : { apiAddress }),
    ...(p2pAddresses === undefined ? {} : { p2pAddresses }),
  };
}

type PolicyOverrides = NonNullable<CreateGenesisParams['policy']>;

/** Shape check of a policy override file; values are validated by `createGenesis`. */
export function parsePolicyOverrides(value: unknown, file: string): PolicyOverrides {
  const read = readerFor(`policy ${file}`);
  const record = read.record(value, '', [], ['dataLevels', ...POLICY_NUMBERS]);
  const numbers: Partial<Record<(typeof POLICY_NUMBERS)[number], number>> = {};
  for (const key of POLICY_NUMBERS) {
    if (record[key] !== undefined) numbers[key] = read.integer(record[key], key);
  }
  if (record.dataLevels === undefined) return numbers;
  const levels = read.record(record.dataLevels, 'dataLevels', [], DATA_LEVELS);
  const dataLevels: Partial<Record<DataLevel, DataLevelRule>> = {};
  for (const level of DATA_LEVELS) {
    if (levels[level] === undefined) continue;
    const levelPath = fieldPath('dataLevels', level);
    const rule = read.record(levels[level], levelPath, RULE_FIELDS);
    const roles = (field: (typeof RULE_FIELDS)[number]) => {
      const path = fieldPath(levelPath, field);
      return read
        .array(rule[field], path, { maxLength: 16 })
        .map((entry, i) => read.oneOf(entry, fieldPath(path, i), MEMBER_ROLES));
    };
    dataLevels[level] = { register: roles('register'), grant: roles('grant'), read: roles('read') };
  }
  return { ...numbers, dataLevels };
}

/** Re-word a genesis error so it names the file the bad field came from. */
function locateGenesisError(
  error: GenesisError,
  institutionFiles: readonly string[],
  policyFile: string | undefined,
): CliError {
  const institution = /^institutions\[(\d+)\](?:\.(.*))?$/.exec(error.path);
  let message = error.message;
  if (institution) {
    const file = institutionFiles[Number(institution[1])] ?? '?';
    const field = institution[2] ?? '(root)';
    const problem = error.message
      .slice(error.path.length + 2)
      .replace(
        /institutions\[(\d+)\]\.(\w+)/g,
        (_match, index: string, name: string) =>
          `the ${name} of ${institutionFiles[Number(index)] ?? '?'}`,
      );
    message = `institution ${file}: ${field}: ${problem}`;
  } else if (error.path.startsWith('policy.') && policyFile !== undefined) {
    message = `policy ${policyFile}: ${error.message.slice('policy.'.length)}`;
  } else if (error.path === 'chainId') {
    message = `--chain-id: ${error.message.slice('chainId: '.length)}`;
  }
  return new CliError(error.code, message, EXIT_CODES.usage, error.details, { cause: error });
}

function parseGenesisTime(text: string | undefined): number {
  if (text === undefined) return Date.now();
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    if (Number.isSafeInteger(ms)) return ms;
  } else {
    const ms = Date.parse(text);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  throw usageError(
    `--genesis-time: expected milliseconds since the epoch or an ISO 8601 time, got "${text.slice(0, 40)}"`,
  );
}

async function loadGenesis(path: string): Promise<{ genesis: Genesis; hash: string }> {
  const text = await readInputFile(path, 'genesis', MAX_GENESIS_BYTES);
  let genesis: Genesis;
  try {
    genesis = parseGenesisText(text);
  } catch (error) {
    if (!(error instanceof GenesisError)) throw error;
    throw new CliError(
      error.code,
      `genesis ${path}: ${error.message}`,
      EXIT_CODES.usage,
      error.details,
      {
        cause: error,
      },
    );
  }
  return { genesis, hash: toHex(genesisHash(getSuite(genesis.suite), genesis)) };
}

function summary(genesis: Genesis, hash: string): { [key: string]: JsonValue } {
  const validators = genesis.institutions.filter((institution) => institution.voting).length;
  return {
    chainId: genesis.chainId,
    suite: genesis.suite,
    genesisTime: genesis.genesisTime,
    institutions: genesis.institutions.length,
    validators,
    maxFaulty: maxFaulty(validators),
    hash,
  };
}

function summaryFields(genesis: Genesis, hash: string): [string, string][] {
  const validators = genesis.institutions.filter((institution) => institution.voting).length;
  return [
    ['chainId', genesis.chainId],
    ['suite', genesis.suite],
    ['genesisTime', `${new Date(genesis.genesisTime).toISOString()} (${genesis.genesisTime})`],
    [
      'institutions',
      `${genesis.institutions.length} (${validators} validators, tolerates f=${maxFaulty(validators)} faulty)`,
    ],
    ['hash', hash],
  ];
}

function shortKey(text: string): string {
  return text.length > 28 ? `${text.slice(0, 20)}…${text.slice(-6)}` : text;
}

interface CreateOptions {
  readonly chainId: string;
  readonly suite?: SuiteId;
  readonly institution: readonly string[];
  readonly policy?: string;
  readonly genesisTime?: string;
  readonly out: string;
  readonly force?: boolean;
}

export function register(program: Command): void {
  const genesis = defineCommand(program, {
    name: 'genesis',
    description: 'create and inspect genesis documents',
    examples: [
      'medchain genesis create --chain-id alliance-1 --suite gm --institution a.yaml --institution b.yaml --institution c.yaml --institution d.yaml --out genesis.json',
      'medchain genesis show genesis.json',
    ],
  });

  const create = defineCommand(genesis, {
    name: 'create',
    description: 'build a genesis document from institution descriptor files and print its hash',
    examples: [
      'medchain genesis create --chain-id alliance-1 --suite intl --institution a.yaml --institution b.yaml --institution c.yaml --institution d.yaml --policy policy.yaml --out genesis.json',
    ],
    notes:
      'Institution descriptor (JSON, or YAML for other extensions):\n' +
      '  id, name, role (hospital | health-centre | regulator | alliance-leader),\n' +
      '  signingKey ("<suite>:pub:<hex>", from "medchain keys show"), peerId ("12D3KooW…",\n' +
      '  from "medchain keys generate --p2p"), voting (true | false), and optional\n' +
      '  apiAddress ("http://…") and p2pAddresses (["/ip4/…/tcp/…"]).\n' +
      'A policy file overrides fields of the default policy: maxBlockTxs, maxBlockBytes,\n' +
      'maxTxBytes, blockIntervalMs, checkpointInterval, viewChangeTimeoutMs, and\n' +
      'dataLevels.L1…L4 (each {register, grant, read} role lists, replacing the whole level).\n' +
      'See docs/cli.md.',
  })
    .requiredOption('--chain-id <id>', 'chain id (lower-case letters, digits, "-", ".")')
    .addOption(
      new Option(
        '--suite <suite>',
        'crypto suite (default: the suite the signing keys name)',
      ).choices(SUITE_IDS),
    )
    .requiredOption(
      '--institution <file>',
      'institution descriptor (repeat, in order)',
      collectOption,
    )
    .option('--policy <file>', 'policy overrides (JSON or YAML)')
    .option('--genesis-time <time>', 'ms since the epoch or ISO 8601 (default: now)')
    .requiredOption('--out <path>', 'genesis file to write')
    .option('--force', 'replace an existing file');

  setAction<CreateOptions>(create, async (ctx) => {
    const { options } = ctx;
    const genesisTime = parseGenesisTime(options.genesisTime);
    const values: unknown[] = [];
    for (const file of options.institution) {
      const text = await readInputFile(file, 'institution', MAX_DESCRIPTOR_BYTES);
      values.push(parseStructuredText(text, file, 'institution'));
    }
    const firstKey = values[0] as { signingKey?: unknown } | null | undefined;
    const suite =
      options.suite ??
      suiteOfKeyText(
        typeof firstKey === 'object' && firstKey !== null ? firstKey.signingKey : undefined,
      );
    if (suite === undefined) {
      throw usageError(
        `--suite: not given, and ${options.institution[0] ?? 'the first institution'} has no signingKey naming a suite`,
      );
    }
    const institutions = values.map((value, i) =>
      parseInstitutionDescriptor(value, options.institution[i] ?? '?', suite),
    );
    let policy: PolicyOverrides | undefined;
    if (options.policy !== undefined) {
      const text = await readInputFile(options.policy, 'policy', MAX_DESCRIPTOR_BYTES);
      policy = parsePolicyOverrides(
        parseStructuredText(text, options.policy, 'policy'),
        options.policy,
      );
    }
    let built: Genesis;
    try {
      built = createGenesis({
        chainId: options.chainId,
        suite,
        genesisTime,
        institutions,
        ...(policy === undefined ? {} : { policy }),
      });
    } catch (error) {
      if (error instanceof GenesisError) {
        throw locateGenesisError(error, options.institution, options.policy);
      }
      throw error;
    }
    const hash = toHex(genesisHash(getSuite(suite), built));
    await writeOutputFile(options.out, `${JSON.stringify(genesisToJson(built), null, 2)}\n`, {
      overwrite: options.force === true,
    });
    ctx.result({ file: options.out, ...summary(built, hash) }, () =>
      formatFields([['wrote', options.out], ...summaryFields(built, hash)]),
    );
    return undefined;
  });

  const show = defineCommand(genesis, {
    name: 'show <genesis>',
    description: 'validate a genesis file and print its institutions, suite and hash',
    examples: ['medchain genesis show genesis.json'],
  });
  setAction<Record<string, never>>(show, async (ctx) => {
    const path = ctx.args[0] ?? '';
    const { genesis: loaded, hash } = await loadGenesis(path);
    const json = genesisToJson(loaded);
    ctx.result(
      {
        ...summary(loaded, hash),
        institutionList: json.institutions.map((institution) => ({ ...institution })),
        policy: JSON.parse(JSON.stringify(json.policy)) as JsonValue,
      },
      () =>
        [
          formatFields(summaryFields(loaded, hash)),
          '',
          formatTable(
            ['id', 'role', 'voting', 'peerId', 'signingKey', 'name'],
            json.institutions.map((institution) => [
              institution.id,
              institution.role,
              institution.voting ? 'yes' : 'no',
              institution.peerId,
              shortKey(institution.signingKey),
              institution.name,
            ]),
          ),
        ].join('\n'),
    );
    return undefined;
  });

  const hashCommand = defineCommand(genesis, {
    name: 'hash <genesis>',
    description: 'validate a genesis file and print its hash (hex) only',
    examples: ['medchain genesis hash genesis.json'],
  });
  setAction<Record<string, never>>(hashCommand, async (ctx) => {
    const path = ctx.args[0] ?? '';
    const { genesis: loaded, hash } = await loadGenesis(path);
    ctx.result({ hash, chainId: loaded.chainId, suite: loaded.suite }, () => hash);
    return undefined;
  });
}
