/**
 * Parsing, building and hashing the genesis document.
 *
 * `parseGenesis` is strict: unknown fields are rejected at every level, every
 * field is checked, and the first problem is reported as a `GenesisError`
 * naming its path (`institutions[2].signingKey: not a gm public key (…)`).
 * Every field is required in the file — defaults live only in
 * `createGenesis`, so what a genesis file means (and its hash) never changes
 * with the code version.
 */
import { encode, toHex } from '../codec/index.js';
import type { CodecValue } from '../codec/index.js';
import { createFieldReader, fieldPath } from '../codec/fields.js';
import { decodePublicKey, encodePublicKey } from '../crypto/keys.js';
import { DOMAIN, SUITE_IDS } from '../crypto/suite.js';
import type { CryptoSuite, SuiteId } from '../crypto/suite.js';
import { MedchainError } from '../errors.js';
import {
  blockEncodedLength,
  CHAIN_ID_RULE,
  DEFAULT_LEDGER_LIMITS,
  MAX_HEADER_BYTES,
  MAX_VALIDATORS,
} from '../ledger/encoding.js';
import { GenesisError, IdentityError, IdentityErrorCode } from './errors.js';
import { DATA_LEVELS, INSTITUTION_ROLES, MEMBER_ROLES } from './types.js';
import type {
  DataLevel,
  DataLevelRule,
  Genesis,
  GenesisJson,
  Institution,
  InstitutionJson,
  InstitutionRole,
  MemberRole,
  Policy,
} from './types.js';

/** Ed25519 libp2p peer ids: the identity multihash of the public key in base58btc. */
export const PEER_ID_PATTERN = /^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/;
export const INSTITUTION_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const MAX_INSTITUTIONS = MAX_VALIDATORS;
const MAX_NAME_LENGTH = 200;
const MAX_ADDRESS_LENGTH = 256;
const MAX_P2P_ADDRESSES = 16;

/** Bounds on policy numbers: generous, but a typo cannot stall or exhaust a node. */
export const POLICY_BOUNDS = {
  maxBlockTxs: { min: 1, max: 100_000 },
  maxBlockBytes: { min: 4096, max: 64 * 1024 * 1024 },
  maxTxBytes: { min: 256, max: 4 * 1024 * 1024 },
  blockIntervalMs: { min: 1, max: 60_000 },
  checkpointInterval: { min: 1, max: 1_000_000 },
  viewChangeTimeoutMs: { min: 10, max: 600_000 },
} as const;

/**
 * Defaults for `createGenesis`. L4 (mental health, HIV, genetics, …) may be
 * granted only by the patient; identifiable levels are read by doctors only.
 */
export const DEFAULT_POLICY: Policy = {
  dataLevels: {
    L1: {
      register: ['doctor', 'department', 'admin'],
      grant: ['admin', 'patient'],
      read: ['doctor', 'department', 'admin', 'auditor'],
    },
    L2: {
      register: ['doctor', 'department', 'admin'],
      grant: ['admin', 'patient'],
      read: ['doctor', 'department', 'auditor'],
    },
    L3: { register: ['doctor', 'admin'], grant: ['admin', 'patient'], read: ['doctor'] },
    L4: { register: ['doctor'], grant: ['patient'], read: ['doctor'] },
  },
  maxBlockTxs: DEFAULT_LEDGER_LIMITS.maxBlockTxs,
  maxBlockBytes: DEFAULT_LEDGER_LIMITS.maxBlockBytes,
  maxTxBytes: DEFAULT_LEDGER_LIMITS.maxTxBytes,
  blockIntervalMs: 200,
  checkpointInterval: 100,
  viewChangeTimeoutMs: 2000,
};

const read = createFieldReader((path, problem) => {
  throw new GenesisError(path, problem);
});

// ---------------------------------------------------------------------------
// parsing

const GENESIS_FIELDS = ['chainId', 'suite', 'genesisTime', 'institutions', 'policy'] as const;
const INSTITUTION_FIELDS = ['id', 'name', 'role', 'signingKey', 'peerId', 'voting'] as const;
const INSTITUTION_HINTS = ['apiAddress', 'p2pAddresses'] as const;
const POLICY_NUMBERS = [
  'maxBlockTxs',
  'maxBlockBytes',
  'maxTxBytes',
  'blockIntervalMs',
  'checkpointInterval',
  'viewChangeTimeoutMs',
] as const;
const RULE_FIELDS = ['register', 'grant', 'read'] as const;

function parseRoleSet(value: unknown, path: string): readonly MemberRole[] {
  const entries = read.array(value, path, { maxLength: 16 });
  const roles = new Set<MemberRole>();
  entries.forEach((entry, i) => {
    const rolePath = fieldPath(path, i);
    const role = read.oneOf(entry, rolePath, MEMBER_ROLES);
    if (roles.has(role)) throw new GenesisError(rolePath, `"${role}" is listed twice`);
    roles.add(role);
  });
  // a set: canonical order, so the listing order does not change the genesis hash
  return MEMBER_ROLES.filter((role) => roles.has(role));
}

function parsePolicy(value: unknown, path: string): Policy {
  const record = read.record(value, path, ['dataLevels', ...POLICY_NUMBERS]);
  const levelsPath = fieldPath(path, 'dataLevels');
  const levels = read.record(record.dataLevels, levelsPath, DATA_LEVELS);
  const dataLevels = {} as Record<DataLevel, DataLevelRule>;
  for (const level of DATA_LEVELS) {
    const levelPath = fieldPath(levelsPath, level);
    const rule = read.record(levels[level], levelPath, RULE_FIELDS);
    dataLevels[level] = {
      register: parseRoleSet(rule.register, fieldPath(levelPath, 'register')),
      grant: parseRoleSet(rule.grant, fieldPath(levelPath, 'grant')),
      read: parseRoleSet(rule.read, fieldPath(levelPath, 'read')),
    };
  }
  const numbers = {} as Record<(typeof POLICY_NUMBERS)[number], number>;
  for (const key of POLICY_NUMBERS) {
    numbers[key] = read.integer(record[key], fieldPath(path, key), POLICY_BOUNDS[key]);
  }
  // a transaction of maxTxBytes must fit in a block with the largest header
  const smallestFullBlock = blockEncodedLength(MAX_HEADER_BYTES, [numbers.maxTxBytes]);
  if (numbers.maxBlockBytes < smallestFullBlock) {
    throw new GenesisError(
      fieldPath(path, 'maxBlockBytes'),
      `must be at least ${smallestFullBlock} so that a transaction of maxTxBytes (${numbers.maxTxBytes}) fits in a block`,
    );
  }
  return { dataLevels, ...numbers };
}

function parseSigningKey(value: unknown, path: string, suite: SuiteId): Uint8Array {
  const text = read.string(value, path, { minLength: 1, maxLength: 200 });
  try {
    return decodePublicKey(text, suite);
  } catch (err) {
    if (!(err instanceof MedchainError)) throw err;
    throw new GenesisError(
      path,
      `not a ${suite} public key (${err.message.replace(/^key: /, '')})`,
      { cause: err },
    );
  }
}

function parseInstitution(value: unknown, path: string, suite: SuiteId): Institution {
  const record = read.record(value, path, INSTITUTION_FIELDS, INSTITUTION_HINTS);
  const institution: Institution = {
    id: read.string(record.id, fieldPath(path, 'id'), {
      minLength: 1,
      maxLength: 64,
      pattern: INSTITUTION_ID_PATTERN,
      patternHint:
        "not an institution id (1-64 lower-case letters, digits or '-', not starting or ending with '-')",
    }),
    name: read.string(record.name, fieldPath(path, 'name'), {
      minLength: 1,
      maxLength: MAX_NAME_LENGTH,
    }),
    role: read.oneOf(record.role, fieldPath(path, 'role'), INSTITUTION_ROLES),
    signingKey: parseSigningKey(record.signingKey, fieldPath(path, 'signingKey'), suite),
    peerId: read.string(record.peerId, fieldPath(path, 'peerId'), {
      maxLength: 64,
      pattern: PEER_ID_PATTERN,
      patternHint: 'not an Ed25519 libp2p peer id (base58btc "12D3KooW…", 52 characters)',
    }),
    voting: read.boolean(record.voting, fieldPath(path, 'voting')),
  };
  const hints: { apiAddress?: string; p2pAddresses?: readonly string[] } = {};
  if (record.apiAddress !== undefined) {
    hints.apiAddress = read.string(record.apiAddress, fieldPath(path, 'apiAddress'), {
      maxLength: MAX_ADDRESS_LENGTH,
      pattern: /^https?:\/\/\S+$/,
      patternHint: 'not an http(s) URL',
    });
  }
  if (record.p2pAddresses !== undefined) {
    const addressesPath = fieldPath(path, 'p2pAddresses');
    const entries = read.array(record.p2pAddresses, addressesPath, {
      maxLength: MAX_P2P_ADDRESSES,
    });
    hints.p2pAddresses = entries.map((entry, i) =>
      read.string(entry, fieldPath(addressesPath, i), {
        maxLength: MAX_ADDRESS_LENGTH,
        pattern: /^\/\S+$/,
        patternHint: 'not a multiaddr (e.g. "/ip4/10.0.0.1/tcp/7000")',
      }),
    );
  }
  return { ...institution, ...hints };
}

function rejectDuplicates(
  institutions: readonly Institution[],
  field: 'id' | 'signingKey' | 'peerId',
  keyOf: (institution: Institution) => string,
): void {
  const firstIndex = new Map<string, number>();
  institutions.forEach((institution, i) => {
    const key = keyOf(institution);
    const first = firstIndex.get(key);
    if (first !== undefined) {
      throw new GenesisError(
        `institutions[${i}].${field}`,
        `duplicate of institutions[${first}].${field}`,
      );
    }
    firstIndex.set(key, i);
  });
}

/** Validates a genesis document (parsed JSON) and returns it in typed form. */
export function parseGenesis(json: unknown): Genesis {
  const record = read.record(json, '', GENESIS_FIELDS);
  const chainId = read.string(record.chainId, 'chainId', CHAIN_ID_RULE);
  const suite = read.oneOf(record.suite, 'suite', SUITE_IDS);
  const genesisTime = read.integer(record.genesisTime, 'genesisTime');
  const entries = read.array(record.institutions, 'institutions', {
    minLength: 1,
    maxLength: MAX_INSTITUTIONS,
  });
  const institutions = entries.map((entry, i) =>
    parseInstitution(entry, fieldPath('institutions', i), suite),
  );
  rejectDuplicates(institutions, 'id', (institution) => institution.id);
  rejectDuplicates(institutions, 'signingKey', (institution) => toHex(institution.signingKey));
  rejectDuplicates(institutions, 'peerId', (institution) => institution.peerId);
  if (!institutions.some((institution) => institution.voting)) {
    throw new GenesisError(
      'institutions',
      'no institution has voting: true; a chain needs at least one validator',
    );
  }
  const policy = parsePolicy(record.policy, 'policy');
  return { chainId, suite, genesisTime, institutions, policy };
}

/** `JSON.parse` then `parseGenesis`; a syntax error is a `GenesisError` too. */
export function parseGenesisText(text: string): Genesis {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GenesisError('(root)', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseGenesis(json);
}

/** The JSON form of a genesis (write it with `JSON.stringify(…, null, 2)`). */
export function genesisToJson(genesis: Genesis): GenesisJson {
  return {
    chainId: genesis.chainId,
    suite: genesis.suite,
    genesisTime: genesis.genesisTime,
    institutions: genesis.institutions.map((institution): InstitutionJson => ({
      id: institution.id,
      name: institution.name,
      role: institution.role,
      signingKey: encodePublicKey(genesis.suite, institution.signingKey),
      peerId: institution.peerId,
      voting: institution.voting,
      ...(institution.apiAddress === undefined ? {} : { apiAddress: institution.apiAddress }),
      ...(institution.p2pAddresses === undefined
        ? {}
        : { p2pAddresses: [...institution.p2pAddresses] }),
    })),
    policy: genesis.policy,
  };
}

// ---------------------------------------------------------------------------
// building

export interface InstitutionParams {
  readonly id: string;
  readonly name: string;
  readonly role: InstitutionRole;
  readonly signingKey: Uint8Array;
  readonly peerId: string;
  /** Default: every role but `regulator` votes (the regulator runs an observer node). */
  readonly voting?: boolean;
  readonly apiAddress?: string;
  readonly p2pAddresses?: readonly string[];
}

export interface CreateGenesisParams {
  readonly chainId: string;
  readonly suite: SuiteId;
  readonly genesisTime: number;
  readonly institutions: readonly InstitutionParams[];
  /** Overrides of `DEFAULT_POLICY`; `dataLevels` entries replace whole levels. */
  readonly policy?: Partial<Omit<Policy, 'dataLevels'>> & {
    readonly dataLevels?: Partial<Policy['dataLevels']>;
  };
}

/**
 * Builds a genesis from parameters and defaults, validated exactly as a file
 * would be (the JSON form goes through `parseGenesis`).
 */
export function createGenesis(params: CreateGenesisParams): Genesis {
  const institutions = params.institutions.map((institution, i): InstitutionJson => {
    let signingKey: string;
    try {
      signingKey = encodePublicKey(params.suite, institution.signingKey);
    } catch (err) {
      if (!(err instanceof MedchainError)) throw err;
      throw new GenesisError(
        `institutions[${i}].signingKey`,
        `not a ${params.suite} public key (${err.message})`,
        { cause: err },
      );
    }
    return {
      id: institution.id,
      name: institution.name,
      role: institution.role,
      signingKey,
      peerId: institution.peerId,
      voting: institution.voting ?? institution.role !== 'regulator',
      ...(institution.apiAddress === undefined ? {} : { apiAddress: institution.apiAddress }),
      ...(institution.p2pAddresses === undefined ? {} : { p2pAddresses: institution.p2pAddresses }),
    };
  });
  const { dataLevels, ...limits } = params.policy ?? {};
  const policy: Policy = {
    ...DEFAULT_POLICY,
    ...limits,
    dataLevels: { ...DEFAULT_POLICY.dataLevels, ...dataLevels },
  };
  return parseGenesis({
    chainId: params.chainId,
    suite: params.suite,
    genesisTime: params.genesisTime,
    institutions,
    policy,
  });
}

// ---------------------------------------------------------------------------
// hashing

export function assertSuiteOf(genesis: Pick<Genesis, 'suite'>, suite: CryptoSuite): void {
  if (suite.id !== genesis.suite) {
    throw new IdentityError(
      IdentityErrorCode.suiteMismatch,
      `the genesis uses the ${genesis.suite} suite, not ${suite.id}`,
      { expected: genesis.suite, actual: suite.id },
    );
  }
}

/**
 * The canonical value the genesis hash covers: every field except the address
 * hints (`apiAddress`, `p2pAddresses`), which operators may update without
 * changing the chain's identity. Keys are raw bytes; role sets are in
 * canonical order; map key order is the codec's.
 */
export function genesisToCodec(genesis: Genesis): CodecValue {
  const { policy } = genesis;
  const dataLevels: Record<string, CodecValue> = {};
  for (const level of DATA_LEVELS) {
    const rule = policy.dataLevels[level];
    dataLevels[level] = { register: rule.register, grant: rule.grant, read: rule.read };
  }
  return {
    chainId: genesis.chainId,
    suite: genesis.suite,
    genesisTime: genesis.genesisTime,
    institutions: genesis.institutions.map((institution) => ({
      id: institution.id,
      name: institution.name,
      role: institution.role,
      signingKey: institution.signingKey,
      peerId: institution.peerId,
      voting: institution.voting,
    })),
    policy: {
      dataLevels,
      maxBlockTxs: policy.maxBlockTxs,
      maxBlockBytes: policy.maxBlockBytes,
      maxTxBytes: policy.maxTxBytes,
      blockIntervalMs: policy.blockIntervalMs,
      checkpointInterval: policy.checkpointInterval,
      viewChangeTimeoutMs: policy.viewChangeTimeoutMs,
    },
  };
}

/**
 * H(encode([DOMAIN.genesis, genesisToCodec(genesis)])) with the genesis's own
 * suite: independent of JSON key order, whitespace and address hints. It is
 * the `prevHash` of block 1.
 */
export function genesisHash(suite: CryptoSuite, genesis: Genesis): Uint8Array {
  assertSuiteOf(genesis, suite);
  return suite.hash(encode([DOMAIN.genesis, genesisToCodec(genesis)]));
}
