/**
 * `medchain init`: set up one institution's node directory — a chain signing
 * keystore, a libp2p identity keystore, a documented node config, and the
 * institution descriptor the alliance leader feeds to `medchain genesis create`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { generatePeerKeyPair, peerKeyFromSeed } from '../../p2p/peer-key.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  encodePublicKey,
  getSuite,
  SUITE_IDS,
  writeKeystore,
} from '../../src/crypto/index.js';
import type { SuiteId } from '../../src/crypto/index.js';
import { INSTITUTION_ID_PATTERN } from '../../src/identity/genesis.js';
import { INSTITUTION_ROLES } from '../../src/identity/types.js';
import type { InstitutionRole } from '../../src/identity/types.js';
import {
  assertAbsent,
  defineCommand,
  formatFields,
  integerOption,
  readPassphrase,
  setAction,
  usageError,
} from '../common.js';

interface InitOptions {
  readonly id: string;
  readonly name?: string;
  readonly role: InstitutionRole;
  readonly suite: SuiteId;
  readonly dir: string;
  readonly observer?: boolean;
  readonly p2pHost: string;
  readonly p2pPort: number;
  readonly apiPort: number;
  readonly passphraseFile?: string;
  readonly scryptLogN?: number;
}

export function register(program: Command): void {
  const command = defineCommand(program, {
    name: 'init',
    description:
      "create an institution's node directory: keystores, node.yaml and its genesis descriptor",
    examples: [
      'medchain init --id district-hospital --name "District Hospital" --role hospital --suite gm --dir /var/lib/medchain',
      'medchain init --id health-commission --role regulator --observer --dir ./regulator --passphrase-file pass.txt',
    ],
    notes:
      'Writes <dir>/keys/signing.json and <dir>/keys/p2p.json (encrypted, 0600), <dir>/node.yaml\n' +
      '(every field commented; see docs/config.md) and <dir>/institution.json, the descriptor to send\n' +
      'to the alliance leader for `medchain genesis create`. Put the resulting genesis.json in <dir>,\n' +
      'set passphraseFile (or $MEDCHAIN_PASSPHRASE) and run `medchain start --config <dir>/node.yaml`.',
  })
    .requiredOption('--id <id>', 'institution id (lower-case letters, digits, "-")')
    .option('--name <name>', 'display name (default: the id)')
    .addOption(
      new Option('--role <role>', 'institution role')
        .choices(INSTITUTION_ROLES)
        .default('hospital'),
    )
    .addOption(
      new Option('--suite <suite>', 'crypto suite of the alliance')
        .choices(SUITE_IDS)
        .default('intl'),
    )
    .requiredOption('--dir <dir>', 'node directory to create')
    .option('--observer', 'a non-voting node (the regulator)')
    .option('--p2p-host <ip>', 'address other nodes dial', '127.0.0.1')
    .addOption(
      new Option('--p2p-port <port>', 'p2p TCP port')
        .argParser(integerOption(1, 65_535))
        .default(7100),
    )
    .addOption(
      new Option('--api-port <port>', 'HTTP API port')
        .argParser(integerOption(1, 65_535))
        .default(8100),
    )
    .option(
      '--passphrase-file <path>',
      'keystore passphrase (first line); else $MEDCHAIN_PASSPHRASE or a prompt',
    )
    .addOption(
      new Option('--scrypt-log-n <n>', 'keystore cost as log2(N); lower is weaker — tests only')
        .argParser(integerOption(10, 22))
        .hideHelp(),
    );

  setAction<InitOptions>(command, async (ctx) => {
    const o = ctx.options;
    if (!INSTITUTION_ID_PATTERN.test(o.id)) {
      throw usageError(`--id: "${o.id}" must be lower-case letters, digits and "-"`);
    }
    const dir = path.resolve(o.dir);
    const signingFile = path.join(dir, 'keys', 'signing.json');
    const p2pFile = path.join(dir, 'keys', 'p2p.json');
    const configFile = path.join(dir, 'node.yaml');
    const descriptorFile = path.join(dir, 'institution.json');
    for (const f of [signingFile, p2pFile, configFile, descriptorFile]) await assertAbsent(f);
    const passphrase = await readPassphrase(ctx.io, {
      ...(o.passphraseFile === undefined ? {} : { file: o.passphraseFile }),
      purpose: `the keystores in ${dir}/keys`,
      confirm: true,
    });
    const scrypt = {
      ...DEFAULT_SCRYPT_PARAMS,
      N: 2 ** (o.scryptLogN ?? Math.log2(DEFAULT_SCRYPT_PARAMS.N)),
    };
    await mkdir(path.join(dir, 'keys'), { recursive: true, mode: 0o700 });
    const signing = getSuite(o.suite).generateKeyPair();
    const p2p = generatePeerKeyPair();
    try {
      await writeKeystore(signingFile, signing, passphrase, { scrypt });
      await writeKeystore(p2pFile, p2p, passphrase, { scrypt });
      const { peerId } = await peerKeyFromSeed(p2p.privateKey);
      const descriptor = {
        id: o.id,
        name: o.name ?? o.id,
        role: o.role,
        signingKey: encodePublicKey(o.suite, signing.publicKey),
        peerId,
        voting: o.observer !== true,
        apiAddress: `http://${o.p2pHost}:${o.apiPort}`,
        p2pAddresses: [`/ip4/${o.p2pHost}/tcp/${o.p2pPort}`],
      };
      await writeFile(descriptorFile, JSON.stringify(descriptor, null, 2) + '\n');
      await writeFile(configFile, nodeConfigText(o));
      ctx.result(
        { dir, configFile, descriptorFile, signingKey: descriptor.signingKey, peerId },
        () =>
          formatFields([
            ['node directory', dir],
            ['config', configFile],
            ['descriptor', `${descriptorFile} (send it to the alliance leader)`],
            ['signingKey', descriptor.signingKey],
            ['peerId', peerId],
          ]),
      );
    } finally {
      signing.privateKey.fill(0);
      p2p.privateKey.fill(0);
    }
    return undefined;
  });
}

/** The node config, with a comment on every field (the reference is docs/config.md). */
function nodeConfigText(o: InitOptions): string {
  const body = toYaml({
    institutionId: o.id,
    genesisFile: './genesis.json',
    dataDir: './data',
    passphraseFile: '',
    keys: { signing: './keys/signing.json', p2p: './keys/p2p.json' },
    p2p: { listen: [`/ip4/0.0.0.0/tcp/${o.p2pPort}`], peers: {}, redialIntervalMs: 2000 },
    api: { host: '127.0.0.1', port: o.apiPort, bodyLimitBytes: 8 * 1024 * 1024 },
    consensus: {
      watermarkWindowHeights: 0,
      viewChangeTimeoutMaxMs: 16000,
      retransmitIntervalMs: 500,
      maxSyncBlocksPerResponse: 32,
    },
    mempool: {
      maxTxs: 50000,
      maxBytes: 134217728,
      maxTxsPerSender: 20000,
      maxTxLifetimeHeights: 100000,
    },
    gossip: { txBundleMaxTxs: 256, txBundleIntervalMs: 5 },
    log: { level: 'info' },
  });
  return (
    `# medchain node config for "${o.id}". Every field: docs/config.md.\n` +
    '# Relative paths are relative to this file. Any field can be overridden by the\n' +
    '# environment: MEDCHAIN_<FIELD_PATH> (api.port → MEDCHAIN_API_PORT).\n' +
    '# The keystore passphrase: passphraseFile (a file readable only by the node user)\n' +
    '# or the MEDCHAIN_PASSPHRASE environment variable — never in this file.\n' +
    body
  );
}
