/**
 * Private keys at rest: a JSON file encrypted under a passphrase.
 *
 *   key  = scrypt(NFC(passphrase), salt, N, r, p, dkLen = 32)
 *   data = AES-256-GCM(key, nonce, rawPrivateKey, aad = header)
 *
 * where `header` is the JSON array of every other field (format, version,
 * suite, public key, kdf name and parameters, salt, cipher name), so editing
 * any of them makes decryption fail. The KDF parameters are stored in the
 * file, so the defaults can be raised later without breaking old files.
 *
 * Files are written atomically (temporary file in the same folder, fsync,
 * rename) with mode 0600; loading checks the mode and by default tightens a
 * looser one. Wrong passphrase → `KEYSTORE_WRONG_PASSPHRASE`; a file that is
 * not a well-formed keystore → `KEYSTORE_CORRUPT`.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { bytesToHex, isBytes, showValue, u8 } from './bytes.js';
import { CryptoError, CryptoErrorCode } from './errors.js';
import { gmSuite } from './gm.js';
import { intlSuite } from './intl.js';
import { decodeKey, encodePublicKey } from './keys.js';
import { SUITE_IDS } from './suite.js';
import type { KeyPair, SuiteId } from './suite.js';

export const KEYSTORE_FORMAT = 'medchain-keystore';
export const KEYSTORE_VERSION = 1;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP-level default: N = 2^17, r = 8, p = 1 (128 MiB, ~0.3–0.5 s here). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/** Bounds accepted when reading a file, so a hostile file cannot ask for unbounded work. */
const SCRYPT_LIMITS = { logNMin: 10, logNMax: 22, rMax: 32, pMax: 16 } as const;
const MAX_MEMORY_BYTES = 2 ** 30;
const SALT_LENGTH = 32;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const DERIVED_KEY_LENGTH = 32;
const MAX_FILE_BYTES = 64 * 1024;

export interface KeystoreFile {
  readonly format: typeof KEYSTORE_FORMAT;
  readonly version: typeof KEYSTORE_VERSION;
  readonly suite: SuiteId;
  /** `<suite>:pub:<hex>` (./keys.ts), readable without the passphrase. */
  readonly publicKey: string;
  readonly kdf: {
    readonly name: 'scrypt';
    readonly N: number;
    readonly r: number;
    readonly p: number;
    readonly dkLen: number;
    readonly salt: string;
  };
  readonly cipher: {
    readonly name: 'aes-256-gcm';
    readonly nonce: string;
    /** hex of ciphertext ‖ 16-byte tag */
    readonly ciphertext: string;
  };
}

export interface KeystoreOptions {
  /** scrypt cost; tests may lower it. Defaults to {@link DEFAULT_SCRYPT_PARAMS}. */
  readonly scrypt?: ScryptParams;
}

export type Passphrase = string | Uint8Array;

const SUITES = { intl: intlSuite, gm: gmSuite } as const;

function corrupt(problem: string): CryptoError {
  return new CryptoError(CryptoErrorCode.keystoreCorrupt, `keystore is corrupt: ${problem}`);
}

function passphraseBytes(passphrase: Passphrase): Buffer {
  if (typeof passphrase === 'string') {
    if (passphrase.length === 0) {
      throw new CryptoError(CryptoErrorCode.invalidArgument, 'passphrase: must not be empty');
    }
    return Buffer.from(passphrase.normalize('NFC'), 'utf8');
  }
  if (!isBytes(passphrase) || passphrase.length === 0) {
    throw new CryptoError(
      CryptoErrorCode.invalidArgument,
      'passphrase: expected a non-empty string or bytes',
    );
  }
  return Buffer.from(passphrase);
}

function checkScryptParams(params: ScryptParams, onError: (problem: string) => CryptoError): void {
  const { N, r, p } = params;
  const logN = Math.log2(N);
  if (
    !Number.isInteger(N) ||
    !Number.isInteger(logN) ||
    logN < SCRYPT_LIMITS.logNMin ||
    logN > SCRYPT_LIMITS.logNMax
  ) {
    throw onError(
      `scrypt N must be a power of two in [2^${SCRYPT_LIMITS.logNMin}, 2^${SCRYPT_LIMITS.logNMax}]`,
    );
  }
  if (!Number.isInteger(r) || r < 1 || r > SCRYPT_LIMITS.rMax)
    throw onError(`scrypt r must be in [1, ${SCRYPT_LIMITS.rMax}]`);
  if (!Number.isInteger(p) || p < 1 || p > SCRYPT_LIMITS.pMax)
    throw onError(`scrypt p must be in [1, ${SCRYPT_LIMITS.pMax}]`);
  if (128 * N * r > MAX_MEMORY_BYTES) throw onError('scrypt N·r needs more than 1 GiB');
}

function deriveKey(passphrase: Buffer, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const { N, r, p } = params;
  // Node checks 128·N·r against maxmem; leave headroom (≥ 256 MiB).
  const options: ScryptOptions = { N, r, p, maxmem: Math.max(256 * 2 ** 20, 2 * 128 * N * r) };
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, DERIVED_KEY_LENGTH, options, (error, key) => {
      passphrase.fill(0);
      if (error === null) resolve(key);
      else
        reject(
          new CryptoError(
            CryptoErrorCode.invalidArgument,
            `scrypt failed: ${error.message}`,
            {},
            { cause: error },
          ),
        );
    });
  });
}

function headerAad(file: Omit<KeystoreFile, 'cipher'> & { cipher: { name: string } }): Buffer {
  const { kdf } = file;
  return Buffer.from(
    JSON.stringify([
      file.format,
      file.version,
      file.suite,
      file.publicKey,
      kdf.name,
      kdf.N,
      kdf.r,
      kdf.p,
      kdf.dkLen,
      kdf.salt,
      file.cipher.name,
    ]),
    'utf8',
  );
}

/** Encrypt a key pair into keystore JSON (no I/O). */
export async function encryptKeystore(
  keyPair: KeyPair,
  passphrase: Passphrase,
  options: KeystoreOptions = {},
): Promise<KeystoreFile> {
  const suiteId = keyPair.suite;
  if (!(SUITE_IDS as readonly string[]).includes(suiteId)) {
    throw new CryptoError(
      CryptoErrorCode.unknownSuite,
      `unknown crypto suite ${showValue(suiteId)}`,
    );
  }
  // Re-derive the public key: never store a pair that does not belong together.
  const checked = SUITES[suiteId].keyPairFromPrivateKey(keyPair.privateKey);
  if (bytesToHex(checked.publicKey) !== bytesToHex(keyPair.publicKey)) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `${suiteId} key pair: public key does not match private key`,
    );
  }
  const params = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  checkScryptParams(params, (problem) => new CryptoError(CryptoErrorCode.invalidArgument, problem));
  const salt = randomBytes(SALT_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const header = {
    format: KEYSTORE_FORMAT,
    version: KEYSTORE_VERSION,
    suite: suiteId,
    publicKey: encodePublicKey(suiteId, checked.publicKey),
    kdf: {
      name: 'scrypt',
      N: params.N,
      r: params.r,
      p: params.p,
      dkLen: DERIVED_KEY_LENGTH,
      salt: salt.toString('hex'),
    },
  } as const;
  const key = await deriveKey(passphraseBytes(passphrase), salt, params);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
    cipher.setAAD(headerAad({ ...header, cipher: { name: 'aes-256-gcm' } }));
    const ciphertext = Buffer.concat([
      cipher.update(keyPair.privateKey),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return {
      ...header,
      cipher: {
        name: 'aes-256-gcm',
        nonce: nonce.toString('hex'),
        ciphertext: ciphertext.toString('hex'),
      },
    };
  } finally {
    key.fill(0);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hexField(value: unknown, field: string, length?: number): Buffer {
  if (typeof value !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(value)) {
    throw corrupt(`${field} is not lower-case hex`);
  }
  const bytes = Buffer.from(value, 'hex');
  if (length !== undefined && bytes.length !== length) {
    throw corrupt(`${field} must be ${length} bytes, is ${bytes.length}`);
  }
  return bytes;
}

/** Check the shape of parsed keystore JSON; throws `KEYSTORE_CORRUPT` naming the bad field. */
export function parseKeystoreFile(value: unknown): KeystoreFile {
  if (!isRecord(value)) throw corrupt('not a JSON object');
  if (value.format !== KEYSTORE_FORMAT) throw corrupt(`"format" is not "${KEYSTORE_FORMAT}"`);
  if (value.version !== KEYSTORE_VERSION) {
    throw corrupt(
      `unsupported "version" ${typeof value.version === 'number' ? value.version : typeof value.version} (this build reads ${KEYSTORE_VERSION})`,
    );
  }
  const suite = value.suite;
  if (typeof suite !== 'string' || !(SUITE_IDS as readonly string[]).includes(suite)) {
    throw corrupt('"suite" is not a known crypto suite');
  }
  const suiteId = suite as SuiteId;
  if (typeof value.publicKey !== 'string') throw corrupt('"publicKey" is missing');
  try {
    decodeKey(value.publicKey, { suite: suiteId, kind: 'pub' });
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.keystoreCorrupt,
      `keystore is corrupt: "publicKey": ${cause instanceof Error ? cause.message : 'invalid'}`,
      {},
      { cause },
    );
  }
  const { kdf, cipher } = value;
  if (!isRecord(kdf) || kdf.name !== 'scrypt') throw corrupt('"kdf.name" is not "scrypt"');
  const params = { N: kdf.N, r: kdf.r, p: kdf.p };
  if (
    typeof params.N !== 'number' ||
    typeof params.r !== 'number' ||
    typeof params.p !== 'number'
  ) {
    throw corrupt('"kdf" N, r and p must be numbers');
  }
  checkScryptParams({ N: params.N, r: params.r, p: params.p }, (problem) =>
    corrupt(`"kdf": ${problem}`),
  );
  if (kdf.dkLen !== DERIVED_KEY_LENGTH) throw corrupt(`"kdf.dkLen" must be ${DERIVED_KEY_LENGTH}`);
  hexField(kdf.salt, '"kdf.salt"', SALT_LENGTH);
  if (!isRecord(cipher) || cipher.name !== 'aes-256-gcm')
    throw corrupt('"cipher.name" is not "aes-256-gcm"');
  hexField(cipher.nonce, '"cipher.nonce"', NONCE_LENGTH);
  hexField(cipher.ciphertext, '"cipher.ciphertext"', 32 + TAG_LENGTH);
  return {
    format: KEYSTORE_FORMAT,
    version: KEYSTORE_VERSION,
    suite: suiteId,
    publicKey: value.publicKey,
    kdf: {
      name: 'scrypt',
      N: params.N,
      r: params.r,
      p: params.p,
      dkLen: DERIVED_KEY_LENGTH,
      salt: kdf.salt as string,
    },
    cipher: {
      name: 'aes-256-gcm',
      nonce: cipher.nonce as string,
      ciphertext: cipher.ciphertext as string,
    },
  };
}

/** Decrypt keystore JSON (no I/O). */
export async function decryptKeystore(file: unknown, passphrase: Passphrase): Promise<KeyPair> {
  const parsed = parseKeystoreFile(file);
  const pass = passphraseBytes(passphrase);
  const salt = Buffer.from(parsed.kdf.salt, 'hex');
  const key = await deriveKey(pass, salt, parsed.kdf);
  const sealed = Buffer.from(parsed.cipher.ciphertext, 'hex');
  let privateKey: Uint8Array;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parsed.cipher.nonce, 'hex'), {
      authTagLength: TAG_LENGTH,
    });
    decipher.setAAD(headerAad(parsed));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    privateKey = u8(
      Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH)),
        decipher.final(),
      ]),
    );
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.keystoreWrongPassphrase,
      'keystore: wrong passphrase (or the file was modified after it was written)',
      { suite: parsed.suite },
      { cause },
    );
  } finally {
    key.fill(0);
  }
  const suite = SUITES[parsed.suite];
  let keyPair: KeyPair;
  try {
    keyPair = suite.keyPairFromPrivateKey(privateKey);
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.keystoreCorrupt,
      'keystore is corrupt: the decrypted private key is invalid',
      {},
      { cause },
    );
  } finally {
    privateKey.fill(0);
  }
  if (encodePublicKey(parsed.suite, keyPair.publicKey) !== parsed.publicKey) {
    throw corrupt('"publicKey" does not belong to the encrypted private key');
  }
  return keyPair;
}

function ioError(action: string, path: string, cause: unknown): CryptoError {
  const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : 'unknown';
  return new CryptoError(
    CryptoErrorCode.keystoreIo,
    `keystore: cannot ${action} ${path} (${code})`,
    { path, errno: code },
    { cause },
  );
}

/**
 * Encrypt `keyPair` and write it to `path` atomically with mode 0600.
 * Overwrites an existing file only with `overwrite: true`.
 */
export async function writeKeystore(
  path: string,
  keyPair: KeyPair,
  passphrase: Passphrase,
  options: KeystoreOptions & { readonly overwrite?: boolean } = {},
): Promise<KeystoreFile> {
  const file = await encryptKeystore(keyPair, passphrase, options);
  if (options.overwrite !== true) {
    const exists = await stat(path).then(
      () => true,
      (error: unknown) => {
        if (isRecord(error) && error.code === 'ENOENT') return false;
        throw ioError('inspect', path, error);
      },
    );
    if (exists) {
      throw new CryptoError(
        CryptoErrorCode.keystoreIo,
        `keystore: ${path} already exists (pass overwrite to replace it)`,
        { path },
      );
    }
  }
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(file, null, 2) + '\n', 'utf8');
      await handle.chmod(0o600); // the umask can only remove bits, but be explicit
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw ioError('write', path, error);
  }
  const mode = (await stat(path)).mode & 0o777;
  if (mode !== 0o600) {
    throw new CryptoError(
      CryptoErrorCode.keystoreIo,
      `keystore: ${path} has mode ${mode.toString(8)} after writing, expected 600`,
      { path },
    );
  }
  return file;
}

export interface LoadKeystoreOptions {
  /**
   * What to do when the file is readable or writable by group or others:
   * `fix` (default) tightens it to 0600 and calls `onPermissionsFixed`; `error` refuses.
   */
  readonly insecurePermissions?: 'fix' | 'error';
  readonly onPermissionsFixed?: (previousMode: number) => void;
}

/** Read and decrypt the keystore at `path`. */
export async function loadKeystore(
  path: string,
  passphrase: Passphrase,
  options: LoadKeystoreOptions = {},
): Promise<KeyPair> {
  let mode: number;
  let size: number;
  try {
    const info = await stat(path);
    mode = info.mode & 0o777;
    size = info.size;
  } catch (error) {
    throw ioError('read', path, error);
  }
  if ((mode & 0o077) !== 0) {
    if (options.insecurePermissions === 'error') {
      throw new CryptoError(
        CryptoErrorCode.keystoreIo,
        `keystore: ${path} has mode ${mode.toString(8)}; it must not be accessible to group or others (chmod 600)`,
        { path },
      );
    }
    try {
      await chmod(path, 0o600);
    } catch (error) {
      throw ioError('chmod', path, error);
    }
    options.onPermissionsFixed?.(mode);
  }
  if (size > MAX_FILE_BYTES) throw corrupt(`file is ${size} bytes, larger than any keystore`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw ioError('read', path, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.keystoreCorrupt,
      `keystore is corrupt: ${path} is not valid JSON`,
      { path },
      { cause },
    );
  }
  return decryptKeystore(json, passphrase);
}
