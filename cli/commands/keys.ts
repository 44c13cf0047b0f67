/**
 * `medchain keys generate | show`: encrypted keystores for chain signing keys
 * (src/crypto/keystore.ts) and libp2p identities (p2p/peer-key.ts).
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { Option } from 'commander';
import type { Command } from 'commander';
import { generatePeerKeyPair, peerKeyFromSeed } from '../../p2p/peer-key.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  decodeKey,
  getSuite,
  parseKeystoreFile,
  SUITE_IDS,
  writeKeystore,
} from '../../src/crypto/index.js';
import type { KeystoreFile, SuiteId } from '../../src/crypto/index.js';
import { MedchainError } from '../../src/errors.js';
import {
  assertAbsent,
  CliError,
  defineCommand,
  formatFields,
  integerOption,
  readInputFile,
  readPassphrase,
  setAction,
  usageError,
} from '../common.js';

const MAX_KEYSTORE_BYTES = 64 * 1024;
const DEFAULT_SCRYPT_LOG_N = Math.log2(DEFAULT_SCRYPT_PARAMS.N);

interface GenerateOptions {
  readonly suite?: SuiteId;
  readonly out: string;
  readonly p2p?: boolean;
  readonly passphraseFile?: string;
  readonly scryptLogN?: number;
  readonly force?: boolean;
}

/**
 * The libp2p peer id of an Ed25519 (`intl`) public key: the same id
 * `peerKeyFromSeed` derives from the private seed, computed from the public
 * key alone so `keys show` needs no passphrase.
 */
export function peerIdOfIntlPublicKey(publicKey: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

export function register(program: Command): void {
  const keys = defineCommand(program, {
    name: 'keys',
    description: 'generate and inspect encrypted keystores (signing keys and libp2p identities)',
    examples: [
      'medchain keys generate --suite gm --out hospital-a.key.json',
      'medchain keys show hospital-a.key.json',
    ],
  });

  const generateCommand = defineCommand(keys, {
    name: 'generate',
    description: 'generate a key pair and write it to an encrypted keystore file (mode 0600)',
    examples: [
      'medchain keys generate --suite gm --out hospital-a.key.json --passphrase-file pass.txt',
      'medchain keys generate --p2p --out hospital-a.p2p.json',
    ],
    notes:
      'The passphrase comes from --passphrase-file, else $MEDCHAIN_PASSPHRASE, else a prompt\n' +
      '(terminal only, asked twice). It is never taken from a flag value.',
  })
    .addOption(
      new Option('--suite <suite>', 'crypto suite of the signing key (default intl)').choices(
        SUITE_IDS,
      ),
    )
    .requiredOption('--out <path>', 'keystore file to write')
    .option(
      '--p2p',
      'generate a libp2p identity (Ed25519, stored as suite intl); prints the peer id',
    )
    .option('--passphrase-file <path>', 'read the passphrase from this file (first line)')
    .addOption(
      new Option(
        '--scrypt-log-n <n>',
        `scrypt cost as log2(N) (default ${DEFAULT_SCRYPT_LOG_N}); lower values weaken the keystore — tests only`,
      ).argParser(integerOption(10, 22)),
    )
    .option('--force', 'replace an existing file');

  setAction<GenerateOptions>(generateCommand, async (ctx) => {
    const { options } = ctx;
    const p2p = options.p2p === true;
    if (p2p && options.suite === 'gm') {
      throw usageError('--p2p: libp2p identities are Ed25519 (suite intl); drop --suite gm');
    }
    const suiteId: SuiteId = p2p ? 'intl' : (options.suite ?? 'intl');
    const logN = options.scryptLogN ?? DEFAULT_SCRYPT_LOG_N;
    if (options.force !== true) await assertAbsent(options.out);
    const passphrase = await readPassphrase(ctx.io, {
      ...(options.passphraseFile === undefined ? {} : { file: options.passphraseFile }),
      purpose: `the new keystore ${options.out}`,
      confirm: true,
    });
    const keyPair = p2p ? generatePeerKeyPair() : getSuite(suiteId).generateKeyPair();
    try {
      const file = await writeKeystore(options.out, keyPair, passphrase, {
        scrypt: { ...DEFAULT_SCRYPT_PARAMS, N: 2 ** logN },
        overwrite: options.force === true,
      });
      const peerId = p2p ? (await peerKeyFromSeed(keyPair.privateKey)).peerId : undefined;
      if (logN < DEFAULT_SCRYPT_LOG_N) {
        ctx.warn(
          `--scrypt-log-n ${logN} is below the default ${DEFAULT_SCRYPT_LOG_N}: this keystore is weaker against passphrase guessing (use only for tests)`,
        );
      }
      ctx.result(
        {
          file: options.out,
          kind: p2p ? 'p2p' : 'signing',
          suite: suiteId,
          publicKey: file.publicKey,
          ...(peerId === undefined ? {} : { peerId }),
        },
        () =>
          formatFields([
            [
              'wrote',
              `${options.out} (mode 0600, ${p2p ? 'libp2p identity' : `${suiteId} signing key`})`,
            ],
            ['publicKey', file.publicKey],
            ...(peerId === undefined ? [] : [['peerId', peerId] as const]),
          ]),
      );
    } finally {
      keyPair.privateKey.fill(0);
    }
    return undefined;
  });

  const show = defineCommand(keys, {
    name: 'show <keystore>',
    description:
      'print the public key (and, for intl keys, the libp2p peer id) of a keystore; no passphrase needed',
    examples: [
      'medchain keys show hospital-a.key.json',
      'medchain --json keys show hospital-a.p2p.json',
    ],
  });
  setAction<Record<string, never>>(show, async (ctx) => {
    const path = ctx.args[0] ?? '';
    const text = await readInputFile(path, 'keystore', MAX_KEYSTORE_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new CliError('KEYSTORE_CORRUPT', `keystore ${path}: not valid JSON`, 2, {}, { cause });
    }
    let file: KeystoreFile;
    try {
      file = parseKeystoreFile(json);
    } catch (error) {
      if (!(error instanceof MedchainError)) throw error;
      throw new CliError(error.code, `${path}: ${error.message}`, 2, {}, { cause: error });
    }
    const publicKey = decodeKey(file.publicKey, { suite: file.suite, kind: 'pub' }).bytes;
    const peerId = file.suite === 'intl' ? peerIdOfIntlPublicKey(publicKey) : undefined;
    const kdf = { name: file.kdf.name, N: file.kdf.N, r: file.kdf.r, p: file.kdf.p };
    ctx.result(
      {
        file: path,
        suite: file.suite,
        publicKey: file.publicKey,
        ...(peerId === undefined ? {} : { peerId }),
        kdf,
      },
      () =>
        formatFields([
          ['file', path],
          ['suite', file.suite],
          ['publicKey', file.publicKey],
          ...(peerId === undefined
            ? []
            : [['peerId', `${peerId} (if used as a libp2p identity)`] as const]),
          ['kdf', `scrypt N=2^${Math.log2(kdf.N)} r=${kdf.r} p=${kdf.p}`],
        ]),
    );
    return undefined;
  });
}
