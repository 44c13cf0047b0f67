/**
 * Node configuration (DESIGN.md §8, STYLE.md §11): one YAML (or JSON) file per
 * node, defaults (test timers are in src/devnet/layout.ts), `MEDCHAIN_*` environment
 * overrides, and `validateConfig` that names the bad field and where the value
 * came from. The keystore passphrase is never a config value: it comes from
 * `passphraseFile` or the `MEDCHAIN_PASSPHRASE` environment variable.
 *
 * Every field is documented in docs/config.md; keep the two in step.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MedchainError } from '../errors.js';

export interface NodeConfig {
  /** Directory of the node's LevelDB database (`<dataDir>/db`). */
  readonly dataDir: string;
  /** The alliance's genesis file (JSON or YAML). */
  readonly genesisFile: string;
  /** Which institution of the genesis this node is. */
  readonly institutionId: string;
  readonly keys: {
    /** Keystore of the institution's chain signing key (the genesis `signingKey`). */
    readonly signing: string;
    /** Keystore of the libp2p identity (an intl Ed25519 key; its peer id is in the genesis). */
    readonly p2p: string;
  };
  /** File holding the keystore passphrase (first line). Empty: use MEDCHAIN_PASSPHRASE. */
  readonly passphraseFile: string;
  readonly p2p: {
    /** Multiaddrs to listen on. */
    readonly listen: readonly string[];
    /** Dial addresses per institution id; overrides the genesis `p2pAddresses` hints. */
    readonly peers: Readonly<Record<string, readonly string[]>>;
    readonly redialIntervalMs: number;
  };
  readonly api: {
    /** Interface to bind; 127.0.0.1 unless a reverse proxy or firewall fronts the node. */
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
  };
  readonly consensus: {
    /** Heights in flight above the stable checkpoint; 0: twice the genesis checkpoint interval. */
    readonly watermarkWindowHeights: number;
    readonly viewChangeTimeoutMaxMs: number;
    readonly retransmitIntervalMs: number;
    readonly maxSyncBlocksPerResponse: number;
    /** Send pre-prepares with transaction hashes instead of transactions (consensus/wire.ts). */
    readonly compactPrePrepares: boolean;
  };
  readonly mempool: {
    readonly maxTxs: number;
    readonly maxBytes: number;
    readonly maxTxsPerSender: number;
    readonly maxTxLifetimeHeights: number;
  };
  readonly gossip: {
    /** Transactions travel in bundles of at most this many… */
    readonly txBundleMaxTxs: number;
    /** …flushed at least this often. */
    readonly txBundleIntervalMs: number;
  };
  readonly log: {
    /** pino level: fatal, error, warn, info, debug, trace, silent. */
    readonly level: string;
  };
}

export const DEFAULT_CONFIG: NodeConfig = {
  dataDir: './data',
  genesisFile: './genesis.json',
  institutionId: '',
  keys: { signing: './keys/signing.json', p2p: './keys/p2p.json' },
  passphraseFile: '',
  p2p: { listen: ['/ip4/127.0.0.1/tcp/7100'], peers: {}, redialIntervalMs: 2000 },
  api: { host: '127.0.0.1', port: 8100, bodyLimitBytes: 8 * 1024 * 1024 },
  consensus: {
    watermarkWindowHeights: 0,
    viewChangeTimeoutMaxMs: 16_000,
    retransmitIntervalMs: 500,
    maxSyncBlocksPerResponse: 32,
    compactPrePrepares: true,
  },
  mempool: {
    maxTxs: 50_000,
    maxBytes: 128 * 1024 * 1024,
    maxTxsPerSender: 20_000,
    maxTxLifetimeHeights: 100_000,
  },
  gossip: { txBundleMaxTxs: 256, txBundleIntervalMs: 5 },
  log: { level: 'info' },
};

export const ENV_PREFIX = 'MEDCHAIN_';
/** Not a config field: the keystore passphrase. */
export const PASSPHRASE_ENV = 'MEDCHAIN_PASSPHRASE';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends MedchainError {
  constructor(field: string, problem: string, source: string) {
    super('CONFIG_INVALID', `config ${field}: ${problem} (${source})`, { field, source });
  }
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Sources = Map<string, string>;

/** `api.port` → `MEDCHAIN_API_PORT`; `mempool.maxTxsPerSender` → `MEDCHAIN_MEMPOOL_MAX_TXS_PER_SENDER`. */
export function envNameOf(fieldPath: string): string {
  return (
    ENV_PREFIX +
    fieldPath
      .split('.')
      .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every leaf of the defaults: the fields that exist, with their kind. */
function leaves(value: unknown, prefix = ''): [string, unknown][] {
  if (!isPlainObject(value) || prefix === 'p2p.peers') return [[prefix, value]];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix === '' ? k : `${prefix}.${k}`));
}

function getPath(obj: unknown, fieldPath: string): unknown {
  let cur: unknown = obj;
  for (const part of fieldPath.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, fieldPath: string, value: unknown): void {
  const parts = fieldPath.split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (!isPlainObject(next)) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] ?? ''] = value;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/** Unknown keys are typos: refuse them rather than silently run on defaults. */
function checkKnownKeys(value: unknown, defaults: unknown, prefix: string, source: string): void {
  if (!isPlainObject(value)) return;
  if (prefix === 'p2p.peers') return;
  for (const key of Object.keys(value)) {
    const fieldPath = prefix === '' ? key : `${prefix}.${key}`;
    if (!isPlainObject(defaults) || !(key in defaults)) {
      throw new ConfigError(fieldPath, 'unknown field', source);
    }
    checkKnownKeys(value[key], defaults[key], fieldPath, source);
  }
}

function parseEnvValue(fieldPath: string, example: unknown, raw: string, name: string): unknown {
  if (typeof example === 'boolean') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new ConfigError(fieldPath, `not true or false: "${raw}"`, `environment ${name}`);
  }
  if (typeof example === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new ConfigError(fieldPath, `not a number: "${raw}"`, `environment ${name}`);
    }
    return n;
  }
  if (Array.isArray(example)) {
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  if (isPlainObject(example)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new ConfigError(fieldPath, 'not a JSON object', `environment ${name}`);
    }
  }
  return raw;
}

export interface LoadConfigOptions {
  /** Environment to read `MEDCHAIN_*` overrides from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Applied between the file and the environment. */
  readonly overrides?: unknown;
}

/**
 * Builds a config from defaults, then `file` (already parsed), then overrides,
 * then the environment; resolves relative paths against `baseDir`; validates.
 */
export function buildConfig(
  file: unknown,
  baseDir: string,
  options: LoadConfigOptions = {},
): NodeConfig {
  const sources: Sources = new Map();
  if (file !== undefined && file !== null && !isPlainObject(file)) {
    throw new ConfigError('(root)', 'the config file must hold a mapping of fields', 'file');
  }
  checkKnownKeys(file, DEFAULT_CONFIG, '', 'file');
  for (const [p] of leaves(DEFAULT_CONFIG)) {
    sources.set(p, getPath(file, p) === undefined ? 'default' : 'file');
  }
  let merged = deepMerge(DEFAULT_CONFIG, file ?? {}) as Record<string, unknown>;
  if (options.overrides !== undefined) {
    merged = deepMerge(merged, options.overrides) as Record<string, unknown>;
  }
  const env = options.env ?? process.env;
  for (const [p, example] of leaves(DEFAULT_CONFIG)) {
    const name = envNameOf(p);
    const raw = env[name];
    if (raw === undefined) continue;
    setPath(merged, p, parseEnvValue(p, example, raw, name));
    sources.set(p, `environment ${name}`);
  }
  const resolve = (p: string): void => {
    const v = getPath(merged, p);
    if (typeof v === 'string' && v !== '') setPath(merged, p, path.resolve(baseDir, v));
  };
  for (const p of ['dataDir', 'genesisFile', 'keys.signing', 'keys.p2p', 'passphraseFile']) {
    resolve(p);
  }
  return validateConfig(merged as Json, sources);
}

/** Reads and builds the config at `file` (YAML or JSON); relative paths are relative to the file. */
export async function loadConfig(
  file: string,
  options: LoadConfigOptions = {},
): Promise<NodeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MedchainError(
      'CONFIG_UNREADABLE',
      `cannot read config file ${file}: ${(err as Error).message}`,
      {
        path: file,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new MedchainError(
      'CONFIG_INVALID',
      `config file ${file} is not valid YAML: ${(err as Error).message}`,
      {
        path: file,
      },
    );
  }
  return buildConfig(parsed, path.dirname(path.resolve(file)), options);
}

/** Checks every field; the error names the field and where its value came from. */
export function validateConfig(value: Json, sources: Sources = new Map()): NodeConfig {
  const src = (p: string): string => sources.get(p) ?? 'file';
  const fail = (p: string, problem: string): never => {
    throw new ConfigError(p, problem, src(p));
  };
  const str = (p: string, { allowEmpty = false } = {}): string => {
    const v = getPath(value, p);
    if (typeof v !== 'string') return fail(p, `must be a string, got ${JSON.stringify(v)}`);
    if (!allowEmpty && v.trim() === '') return fail(p, 'must not be empty');
    return v;
  };
  const int = (p: string, min: number, max: number): number => {
    const v = getPath(value, p);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      return fail(p, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const bool = (p: string): boolean => {
    const v = getPath(value, p);
    return typeof v === 'boolean' ? v : fail(p, `must be true or false, got ${JSON.stringify(v)}`);
  };
  const strings = (p: string, minLength: number): string[] => {
    const v = getPath(value, p);
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) {
      return fail(p, 'must be a list of non-empty strings');
    }
    if (v.length < minLength) return fail(p, `must list at least ${minLength}`);
    return v as string[];
  };
  const peersValue = getPath(value, 'p2p.peers');
  if (!isPlainObject(peersValue))
    fail('p2p.peers', 'must be a mapping of institution id to addresses');
  const peers: Record<string, string[]> = {};
  for (const id of Object.keys(peersValue as object)) peers[id] = strings(`p2p.peers.${id}`, 1);
  const level = str('log.level');
  if (!LOG_LEVELS.includes(level)) fail('log.level', `must be one of ${LOG_LEVELS.join(', ')}`);
  const listen = strings('p2p.listen', 1);
  for (const [i, addr] of listen.entries()) {
    if (!addr.startsWith('/'))
      fail(`p2p.listen[${i}]`, `"${addr}" is not a multiaddr (e.g. /ip4/127.0.0.1/tcp/7100)`);
  }
  return {
    dataDir: str('dataDir'),
    genesisFile: str('genesisFile'),
    institutionId: str('institutionId'),
    keys: { signing: str('keys.signing'), p2p: str('keys.p2p') },
    passphraseFile: str('passphraseFile', { allowEmpty: true }),
    p2p: { listen, peers, redialIntervalMs: int('p2p.redialIntervalMs', 10, 600_000) },
    api: {
      host: str('api.host'),
      port: int('api.port', 0, 65_535),
      bodyLimitBytes: int('api.bodyLimitBytes', 1024, 256 * 1024 * 1024),
    },
    consensus: {
      watermarkWindowHeights: int('consensus.watermarkWindowHeights', 0, 1_000_000),
      viewChangeTimeoutMaxMs: int('consensus.viewChangeTimeoutMaxMs', 10, 3_600_000),
      retransmitIntervalMs: int('consensus.retransmitIntervalMs', 10, 600_000),
      maxSyncBlocksPerResponse: int('consensus.maxSyncBlocksPerResponse', 1, 1024),
      compactPrePrepares: bool('consensus.compactPrePrepares'),
    },
    mempool: {
      maxTxs: int('mempool.maxTxs', 1, 10_000_000),
      maxBytes: int('mempool.maxBytes', 1024, 16 * 1024 * 1024 * 1024),
      maxTxsPerSender: int('mempool.maxTxsPerSender', 1, 10_000_000),
      maxTxLifetimeHeights: int('mempool.maxTxLifetimeHeights', 1, 100_000_000),
    },
    gossip: {
      txBundleMaxTxs: int('gossip.txBundleMaxTxs', 1, 10_000),
      txBundleIntervalMs: int('gossip.txBundleIntervalMs', 1, 10_000),
    },
    log: { level },
  };
}

/** The keystore passphrase: the first line of `passphraseFile`, else MEDCHAIN_PASSPHRASE. */
export async function readPassphrase(
  config: Pick<NodeConfig, 'passphraseFile'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  if (config.passphraseFile !== '') {
    let text: string;
    try {
      text = await readFile(config.passphraseFile, 'utf8');
    } catch (err) {
      throw new MedchainError(
        'PASSPHRASE_UNREADABLE',
        `cannot read passphraseFile ${config.passphraseFile}: ${(err as Error).message}`,
        { path: config.passphraseFile },
      );
    }
    const line = text.split(/\r?\n/)[0] ?? '';
    if (line === '') {
      throw new MedchainError(
        'PASSPHRASE_MISSING',
        `passphraseFile ${config.passphraseFile} is empty`,
      );
    }
    return line;
  }
  const fromEnv = env[PASSPHRASE_ENV];
  if (fromEnv === undefined || fromEnv === '') {
    throw new MedchainError(
      'PASSPHRASE_MISSING',
      `no keystore passphrase: set passphraseFile in the config or the ${PASSPHRASE_ENV} environment variable`,
    );
  }
  return fromEnv;
}
