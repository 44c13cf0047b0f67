import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoError,
  DEFAULT_SCRYPT_PARAMS,
  SUITE_IDS,
  decryptKeystore,
  encryptKeystore,
  getSuite,
  loadKeystore,
  writeKeystore,
} from '../../src/crypto/index.js';
import type { KeystoreFile } from '../../src/crypto/index.js';

/** Cheap scrypt for tests; one test below uses the defaults. */
const FAST = { scrypt: { N: 2 ** 10, r: 8, p: 1 } } as const;
const PASSPHRASE = 'correct horse battery staple';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function expectError(promise: Promise<unknown>, code: string, messagePart?: string) {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CryptoError);
  expect((error as CryptoError).code).toBe(code);
  if (messagePart !== undefined) expect((error as CryptoError).message).toContain(messagePart);
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medchain-keystore-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keystore', () => {
  it.each(SUITE_IDS)('round-trips a %s key through a 0600 file', async (suiteId) => {
    const pair = getSuite(suiteId).generateKeyPair();
    const path = join(dir, `${suiteId}.json`);
    const written = await writeKeystore(path, pair, PASSPHRASE, FAST);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(hex(pair.privateKey));
    const json = JSON.parse(text) as KeystoreFile;
    expect(json).toEqual(written);
    expect(json.suite).toBe(suiteId);
    expect(json.version).toBe(1);
    expect(json.publicKey).toBe(`${suiteId}:pub:${hex(pair.publicKey)}`);
    expect(json.kdf).toMatchObject({ name: 'scrypt', N: 1024, r: 8, p: 1, dkLen: 32 });
    expect(json.cipher.name).toBe('aes-256-gcm');

    const loaded = await loadKeystore(path, PASSPHRASE);
    expect(loaded.suite).toBe(suiteId);
    expect(hex(loaded.privateKey)).toBe(hex(pair.privateKey));
    expect(hex(loaded.publicKey)).toBe(hex(pair.publicKey));
  });

  it('uses the OWASP-level scrypt defaults (N = 2^17, r = 8, p = 1)', async () => {
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    const pair = getSuite('gm').generateKeyPair();
    const file = await encryptKeystore(pair, PASSPHRASE);
    expect(file.kdf).toMatchObject({ N: 131072, r: 8, p: 1 });
    const loaded = await decryptKeystore(JSON.parse(JSON.stringify(file)), PASSPHRASE);
    expect(hex(loaded.privateKey)).toBe(hex(pair.privateKey));
  });

  it('a wrong passphrase fails with KEYSTORE_WRONG_PASSPHRASE', async () => {
    const pair = getSuite('intl').generateKeyPair();
    const path = join(dir, 'wrong.json');
    await writeKeystore(path, pair, PASSPHRASE, FAST);
    await expectError(
      loadKeystore(path, `${PASSPHRASE}!`),
      'KEYSTORE_WRONG_PASSPHRASE',
      'wrong passphrase',
    );
    await expectError(loadKeystore(path, new Uint8Array([1, 2, 3])), 'KEYSTORE_WRONG_PASSPHRASE');
    await expectError(loadKeystore(path, ''), 'INVALID_ARGUMENT', 'passphrase');
  });

  it('Unicode passphrases are normalised (NFC)', async () => {
    const pair = getSuite('intl').generateKeyPair();
    const file = await encryptKeystore(pair, 'pass-\u00e9', FAST); // precomposed é
    const loaded = await decryptKeystore(file, 'pass-e\u0301'); // e + combining acute
    expect(hex(loaded.privateKey)).toBe(hex(pair.privateKey));
  });

  it('editing any authenticated header field makes decryption fail', async () => {
    const pair = getSuite('gm').generateKeyPair();
    const other = getSuite('gm').generateKeyPair();
    const file = await encryptKeystore(pair, PASSPHRASE, FAST);
    const edits: Partial<KeystoreFile>[] = [
      { publicKey: `gm:pub:${hex(other.publicKey)}` },
      { kdf: { ...file.kdf, N: 2048 } },
      { kdf: { ...file.kdf, salt: 'ab'.repeat(32) } },
      { cipher: { ...file.cipher, nonce: 'cd'.repeat(12) } },
    ];
    for (const edit of edits) {
      await expectError(
        decryptKeystore({ ...file, ...edit }, PASSPHRASE),
        'KEYSTORE_WRONG_PASSPHRASE',
      );
    }
  });

  it('a corrupt file fails with KEYSTORE_CORRUPT naming the problem', async () => {
    const pair = getSuite('intl').generateKeyPair();
    const file = await encryptKeystore(pair, PASSPHRASE, FAST);
    const cases: [unknown, string][] = [
      [null, 'not a JSON object'],
      [[], 'not a JSON object'],
      [{ ...file, format: 'other' }, '"format"'],
      [{ ...file, version: 2 }, 'unsupported "version" 2'],
      [{ ...file, suite: 'rsa' }, '"suite"'],
      [{ ...file, suite: 'gm' }, '"publicKey"'],
      [{ ...file, publicKey: 'intl:pub:zz' }, '"publicKey"'],
      [{ ...file, kdf: { ...file.kdf, name: 'pbkdf2' } }, '"kdf.name"'],
      [{ ...file, kdf: { ...file.kdf, N: 1000 } }, 'power of two'],
      [{ ...file, kdf: { ...file.kdf, N: 2 ** 30 } }, 'power of two'],
      [{ ...file, kdf: { ...file.kdf, r: 0 } }, 'scrypt r'],
      [{ ...file, kdf: { ...file.kdf, p: '1' } }, 'must be numbers'],
      [{ ...file, kdf: { ...file.kdf, salt: 'xyz' } }, '"kdf.salt"'],
      [{ ...file, cipher: { ...file.cipher, nonce: 'abcd' } }, '"cipher.nonce" must be 12 bytes'],
      [
        { ...file, cipher: { ...file.cipher, ciphertext: file.cipher.ciphertext.slice(2) } },
        '"cipher.ciphertext"',
      ],
      [{ ...file, cipher: undefined }, '"cipher.name"'],
    ];
    for (const [value, part] of cases) {
      await expectError(decryptKeystore(value, PASSPHRASE), 'KEYSTORE_CORRUPT', part);
    }
    const path = join(dir, 'corrupt.json');
    await writeFile(path, '{"format": "medchain-keystore", ', { mode: 0o600 });
    await expectError(loadKeystore(path, PASSPHRASE), 'KEYSTORE_CORRUPT', 'not valid JSON');
  });

  it('tightens loose permissions on load, or refuses when asked to', async () => {
    const pair = getSuite('intl').generateKeyPair();
    const path = join(dir, 'loose.json');
    await writeKeystore(path, pair, PASSPHRASE, FAST);
    await chmod(path, 0o644);
    await expectError(
      loadKeystore(path, PASSPHRASE, { insecurePermissions: 'error' }),
      'KEYSTORE_IO',
      'chmod 600',
    );
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    const fixed: number[] = [];
    const loaded = await loadKeystore(path, PASSPHRASE, {
      onPermissionsFixed: (m) => fixed.push(m),
    });
    expect(hex(loaded.publicKey)).toBe(hex(pair.publicKey));
    expect(fixed).toEqual([0o644]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('does not overwrite an existing file unless asked, and reports I/O errors', async () => {
    const pair = getSuite('gm').generateKeyPair();
    const path = join(dir, 'once.json');
    await writeKeystore(path, pair, PASSPHRASE, FAST);
    await expectError(writeKeystore(path, pair, PASSPHRASE, FAST), 'KEYSTORE_IO', 'already exists');
    const replacement = getSuite('gm').generateKeyPair();
    await writeKeystore(path, replacement, PASSPHRASE, { ...FAST, overwrite: true });
    expect(hex((await loadKeystore(path, PASSPHRASE)).publicKey)).toBe(hex(replacement.publicKey));
    await expectError(loadKeystore(join(dir, 'missing.json'), PASSPHRASE), 'KEYSTORE_IO', 'ENOENT');
    await expectError(
      writeKeystore(join(dir, 'no-such-dir', 'k.json'), pair, PASSPHRASE, FAST),
      'KEYSTORE_IO',
    );
  });

  it('refuses a key pair whose halves do not match', async () => {
    const a = getSuite('intl').generateKeyPair();
    const b = getSuite('intl').generateKeyPair();
    await expectError(
      encryptKeystore({ ...a, publicKey: b.publicKey }, PASSPHRASE, FAST),
      'INVALID_KEY',
    );
  });
});
