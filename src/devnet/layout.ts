/**
 * A local alliance on one machine (`medchain devnet`, tests, benchmarks):
 * keys, genesis and one config per node under one directory.
 *
 * ```
 * <dir>/devnet.json          manifest: chain, suite, every node's name, role, ports, API URL
 * <dir>/genesis.json
 * <dir>/passphrase           keystore passphrase of this devnet (0600; devnet only)
 * <dir>/<id>/node.yaml       the node's config
 * <dir>/<id>/keys/*.json     encrypted keystores (signing, p2p)
 * <dir>/<id>/data/           LevelDB
 * <dir>/<id>/node.log        the node's log (pino JSON)
 * ```
 *
 * Nodes listen on 127.0.0.1 only: p2p on `basePort + 2i`, HTTP on `basePort + 2i + 1`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { generatePeerKeyPair, peerKeyFromSeed } from '../../p2p/peer-key.js';
import { toHex } from '../codec/index.js';
import { getSuite } from '../crypto/index.js';
import { DEFAULT_SCRYPT_PARAMS, writeKeystore } from '../crypto/keystore.js';
import type { ScryptParams } from '../crypto/keystore.js';
import type { SuiteId } from '../crypto/suite.js';
import { MedchainError } from '../errors.js';
import { createGenesis, genesisHash, genesisToJson } from '../identity/genesis.js';
import type { InstitutionRole, Policy } from '../identity/types.js';

export const DEVNET_MANIFEST = 'devnet.json';
export const DEVNET_CHAIN_ID = 'medchain-devnet';
export const DEFAULT_DEVNET_BASE_PORT = 7100;

export interface DevnetNode {
  readonly id: string;
  readonly name: string;
  readonly role: InstitutionRole;
  readonly voting: boolean;
  readonly p2pPort: number;
  readonly apiPort: number;
  readonly apiUrl: string;
  /** Paths, absolute. */
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
}

export interface DevnetManifest {
  readonly chainId: string;
  readonly suite: SuiteId;
  readonly genesisFile: string;
  readonly genesisHash: string;
  readonly passphraseFile: string;
  readonly nodes: readonly DevnetNode[];
}

export interface DevnetOptions {
  readonly dir: string;
  /** Voting institutions (default 4). A regulator observer is added unless `observers` is 0. */
  readonly validators?: number;
  readonly observers?: number;
  readonly suite?: SuiteId;
  readonly basePort?: number;
  /** Keystore cost; tests lower it (the cost is recorded in each keystore). */
  readonly scrypt?: ScryptParams;
  /** Genesis policy overrides (block interval, limits, …). */
  readonly policy?: Partial<Omit<Policy, 'dataLevels'>>;
  /** Extra config fields for every node; top-level sections replace the devnet's (give `consensus` whole). */
  readonly nodeConfig?: Readonly<Record<string, unknown>>;
  /** Wipe an existing devnet in `dir` first. */
  readonly reset?: boolean;
}

/** Snappy timers for an alliance on one machine. */
export const DEVNET_POLICY: Partial<Omit<Policy, 'dataLevels'>> = {
  blockIntervalMs: 50,
  maxBlockTxs: 500,
  checkpointInterval: 16,
  // Five nodes share one machine's cores: a shorter timeout turns load into view changes.
  viewChangeTimeoutMs: 2000,
};

const NAMED: readonly { id: string; name: string; role: InstitutionRole }[] = [
  {
    id: 'community-centre',
    name: '东城社区卫生服务中心 East Community Health Centre',
    role: 'health-centre',
  },
  {
    id: 'district-hospital',
    name: '东城区人民医院 East District People’s Hospital',
    role: 'hospital',
  },
  { id: 'city-hospital', name: '市第一人民医院 First City Hospital', role: 'hospital' },
  { id: 'county-hospital', name: '县中医院 County TCM Hospital', role: 'hospital' },
];
const REGULATOR = {
  id: 'health-commission',
  name: '区卫生健康委员会 District Health Commission',
  role: 'regulator',
} as const;

export class DevnetError extends MedchainError {}

function institutionsFor(
  validators: number,
  observers: number,
): { id: string; name: string; role: InstitutionRole; voting: boolean }[] {
  const list: { id: string; name: string; role: InstitutionRole; voting: boolean }[] = [];
  for (let i = 0; i < validators; i++) {
    const named = NAMED[i];
    list.push(
      named
        ? { ...named, voting: true }
        : { id: `hospital-${i + 1}`, name: `Hospital ${i + 1}`, role: 'hospital', voting: true },
    );
  }
  for (let i = 0; i < observers; i++) {
    list.push(
      i === 0
        ? { ...REGULATOR, voting: false }
        : { id: `observer-${i + 1}`, name: `Observer ${i + 1}`, role: 'regulator', voting: false },
    );
  }
  return list;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Reads `<dir>/devnet.json`. */
export async function readDevnetManifest(dir: string): Promise<DevnetManifest> {
  const file = path.join(dir, DEVNET_MANIFEST);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new DevnetError(
      'DEVNET_NOT_FOUND',
      `no devnet in ${dir} (no ${DEVNET_MANIFEST}); run medchain devnet first`,
    );
  }
  return JSON.parse(text) as DevnetManifest;
}

/**
 * Creates the devnet's files in `dir`, or reuses the devnet already there
 * (same validator and observer counts and suite), so a restarted devnet
 * continues its chain. Returns the manifest (also written to devnet.json).
 */
export async function initDevnet(options: DevnetOptions): Promise<DevnetManifest> {
  const dir = path.resolve(options.dir);
  const validators = options.validators ?? 4;
  const observers = options.observers ?? 1;
  const suiteId = options.suite ?? 'intl';
  const basePort = options.basePort ?? DEFAULT_DEVNET_BASE_PORT;
  if (!Number.isSafeInteger(validators) || validators < 1 || validators > 64) {
    throw new DevnetError('INVALID_INPUT', `nodes: must be 1 to 64 validators, got ${validators}`);
  }
  if (
    !Number.isSafeInteger(basePort) ||
    basePort < 1024 ||
    basePort + 2 * (validators + observers) > 65_535
  ) {
    throw new DevnetError(
      'INVALID_INPUT',
      `base-port: ${basePort} leaves no room for ${validators + observers} nodes`,
    );
  }
  if (options.reset === true) await rm(dir, { recursive: true, force: true });
  if (await exists(path.join(dir, DEVNET_MANIFEST))) {
    const manifest = await readDevnetManifest(dir);
    const voting = manifest.nodes.filter((n) => n.voting).length;
    if (
      voting !== validators ||
      manifest.nodes.length - voting !== observers ||
      manifest.suite !== suiteId ||
      manifest.nodes[0]?.p2pPort !== basePort
    ) {
      throw new DevnetError(
        'DEVNET_MISMATCH',
        `${dir} holds a devnet of ${voting} validators + ${manifest.nodes.length - voting} observers, suite ${manifest.suite}, base port ${String(manifest.nodes[0]?.p2pPort)}; pass --reset to replace it`,
      );
    }
    return manifest;
  }

  const suite = getSuite(suiteId);
  await mkdir(dir, { recursive: true });
  const passphraseFile = path.join(dir, 'passphrase');
  const passphrase = randomBytes(24).toString('base64url');
  await writeFile(passphraseFile, passphrase + '\n', { mode: 0o600 });
  const scrypt = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;

  const members = institutionsFor(validators, observers);
  const nodes: DevnetNode[] = [];
  const params = [];
  for (const [i, m] of members.entries()) {
    const nodeDir = path.join(dir, m.id);
    await mkdir(path.join(nodeDir, 'keys'), { recursive: true });
    const signing = suite.generateKeyPair();
    const p2pKey = generatePeerKeyPair();
    await writeKeystore(path.join(nodeDir, 'keys', 'signing.json'), signing, passphrase, {
      scrypt,
    });
    await writeKeystore(path.join(nodeDir, 'keys', 'p2p.json'), p2pKey, passphrase, { scrypt });
    const peer = await peerKeyFromSeed(p2pKey.privateKey);
    const p2pPort = basePort + 2 * i;
    const apiPort = p2pPort + 1;
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    params.push({
      id: m.id,
      name: m.name,
      role: m.role,
      signingKey: signing.publicKey,
      peerId: peer.peerId,
      voting: m.voting,
      apiAddress: apiUrl,
      p2pAddresses: [`/ip4/127.0.0.1/tcp/${p2pPort}`],
    });
    nodes.push({
      id: m.id,
      name: m.name,
      role: m.role,
      voting: m.voting,
      p2pPort,
      apiPort,
      apiUrl,
      dir: nodeDir,
      configFile: path.join(nodeDir, 'node.yaml'),
      logFile: path.join(nodeDir, 'node.log'),
    });
  }
  const genesis = createGenesis({
    chainId: DEVNET_CHAIN_ID,
    suite: suiteId,
    genesisTime: Date.now(),
    institutions: params,
    policy: { ...DEVNET_POLICY, ...options.policy },
  });
  const genesisFile = path.join(dir, 'genesis.json');
  await writeFile(genesisFile, JSON.stringify(genesisToJson(genesis), null, 2) + '\n');
  for (const node of nodes) {
    const config = {
      institutionId: node.id,
      genesisFile: '../genesis.json',
      dataDir: './data',
      passphraseFile: '../passphrase',
      keys: { signing: './keys/signing.json', p2p: './keys/p2p.json' },
      p2p: { listen: [`/ip4/127.0.0.1/tcp/${node.p2pPort}`], redialIntervalMs: 250 },
      api: { host: '127.0.0.1', port: node.apiPort },
      consensus: { viewChangeTimeoutMaxMs: 4000, retransmitIntervalMs: 500 },
      ...options.nodeConfig,
    };
    await writeFile(
      node.configFile,
      `# medchain devnet node "${node.id}" — see docs/config.md for every field\n` + toYaml(config),
    );
  }
  const manifest: DevnetManifest = {
    chainId: genesis.chainId,
    suite: suiteId,
    genesisFile,
    genesisHash: toHex(genesisHash(suite, genesis)),
    passphraseFile,
    nodes,
  };
  await writeFile(path.join(dir, DEVNET_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
