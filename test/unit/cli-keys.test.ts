import { readFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerIdOfIntlPublicKey } from '../../cli/commands/keys.js';
import { peerKeyFromSeed } from '../../p2p/peer-key.js';
import { encodePublicKey, getSuite, loadKeystore } from '../../src/crypto/index.js';
import { cli, jsonOf } from './cli-harness.js';

const ENV = { MEDCHAIN_PASSPHRASE: 'unit test passphrase' };
const FAST = ['--scrypt-log-n', '10'];

describe('medchain keys', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-cli-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const suite of ['intl', 'gm'] as const) {
    it(`generate --suite ${suite} writes a 0600 keystore that decrypts to the printed key; show needs no passphrase`, async () => {
      const out = path.join(dir, `${suite}.key.json`);
      const generated = await cli(
        ['--json', 'keys', 'generate', '--suite', suite, '--out', out, ...FAST],
        {
          env: ENV,
        },
      );
      expect(generated.code, generated.stderr).toBe(0);
      const body = jsonOf(generated);
      expect(body).toMatchObject({ file: out, kind: 'signing', suite });
      expect(body.publicKey).toMatch(new RegExp(`^${suite}:pub:[0-9a-f]+$`));
      expect(body).not.toHaveProperty('peerId');
      // the lowered cost is announced
      expect(generated.stderr).toMatch(
        /^medchain: warning: --scrypt-log-n 10 is below the default 17/,
      );
      expect((await stat(out)).mode & 0o777).toBe(0o600);
      const keyPair = await loadKeystore(out, ENV.MEDCHAIN_PASSPHRASE);
      expect(encodePublicKey(suite, keyPair.publicKey)).toBe(body.publicKey);
      // the private key appears nowhere in the output
      const privateHex = Buffer.from(keyPair.privateKey).toString('hex');
      expect(generated.stdout + generated.stderr).not.toContain(privateHex);

      const shown = await cli(['keys', 'show', out, '--json']);
      expect(shown.code).toBe(0);
      const showBody = jsonOf(shown);
      expect(showBody).toMatchObject({
        suite,
        publicKey: body.publicKey,
        kdf: { name: 'scrypt', N: 1024, r: 8, p: 1 },
      });
      if (suite === 'intl') {
        expect(showBody.peerId).toBe((await peerKeyFromSeed(keyPair.privateKey)).peerId);
      } else {
        expect(showBody).not.toHaveProperty('peerId');
      }
      const human = await cli(['keys', 'show', out]);
      expect(human.stdout).toContain(`publicKey: ${String(body.publicKey)}`);
    });
  }

  it('generate --p2p prints the libp2p peer id of the stored Ed25519 seed', async () => {
    const out = path.join(dir, 'node.p2p.json');
    const r = await cli(['keys', 'generate', '--p2p', '--out', out, ...FAST, '--json'], {
      env: ENV,
    });
    expect(r.code, r.stderr).toBe(0);
    const body = jsonOf(r);
    expect(body).toMatchObject({ kind: 'p2p', suite: 'intl' });
    const keyPair = await loadKeystore(out, ENV.MEDCHAIN_PASSPHRASE);
    expect(body.peerId).toBe((await peerKeyFromSeed(keyPair.privateKey)).peerId);
    expect(body.peerId).toMatch(/^12D3KooW/);
  });

  it('peerIdOfIntlPublicKey agrees with p2p/peer-key.ts for many keys', async () => {
    const suite = getSuite('intl');
    for (let i = 0; i < 20; i++) {
      const keyPair = suite.generateKeyPair();
      expect(peerIdOfIntlPublicKey(keyPair.publicKey)).toBe(
        (await peerKeyFromSeed(keyPair.privateKey)).peerId,
      );
    }
  });

  it('takes the passphrase from --passphrase-file before the environment', async () => {
    const passFile = path.join(dir, 'pass.txt');
    await writeFile(passFile, 'from the file\n', { mode: 0o600 });
    const out = path.join(dir, 'file-pass.key.json');
    const r = await cli(
      ['keys', 'generate', '--out', out, '--passphrase-file', passFile, ...FAST],
      { env: ENV },
    );
    expect(r.code, r.stderr).toBe(0);
    await expect(loadKeystore(out, 'from the file')).resolves.toBeDefined();
    await expect(loadKeystore(out, ENV.MEDCHAIN_PASSPHRASE)).rejects.toMatchObject({
      code: 'KEYSTORE_WRONG_PASSPHRASE',
    });
  });

  it('never replaces a file without --force; with --force it does', async () => {
    const out = path.join(dir, 'existing.json');
    await writeFile(out, 'precious');
    const refused = await cli(['keys', 'generate', '--out', out, ...FAST, '--json'], { env: ENV });
    expect(refused.code).toBe(1);
    expect(jsonOf(refused).error).toMatchObject({ code: 'FILE_EXISTS' });
    expect(await readFile(out, 'utf8')).toBe('precious');
    const forced = await cli(['keys', 'generate', '--out', out, ...FAST, '--force'], { env: ENV });
    expect(forced.code, forced.stderr).toBe(0);
    await expect(loadKeystore(out, ENV.MEDCHAIN_PASSPHRASE)).resolves.toBeDefined();
  });

  it('bad input exits 2 with one line', async () => {
    const notKeystore = path.join(dir, 'not-a-keystore.json');
    await writeFile(notKeystore, '{"format":"something else"}');
    const garbage = path.join(dir, 'garbage.json');
    await writeFile(garbage, 'not json');
    const cases: [readonly string[], RegExp][] = [
      [
        ['keys', 'generate', '--p2p', '--suite', 'gm', '--out', path.join(dir, 'x')],
        /--p2p: .*Ed25519/,
      ],
      [['keys', 'generate', '--suite', 'rsa', '--out', path.join(dir, 'x')], /--suite/],
      [['keys', 'generate', '--out', path.join(dir, 'x'), '--scrypt-log-n', '9'], /from 10 to 22/],
      [['keys', 'generate', '--suite', 'intl'], /--out/],
      [['keys', 'show', path.join(dir, 'missing.json')], /no such file/],
      [['keys', 'show', notKeystore], /keystore is corrupt: "format"/],
      [['keys', 'show', garbage], /not valid JSON/],
      [
        ['keys', 'generate', '--out', path.join(dir, 'x'), '--passphrase', 'p'],
        /unknown option '--passphrase'/,
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv, { env: ENV });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderrLines, argv.join(' ')).toHaveLength(1);
      expect(r.stderr, argv.join(' ')).toMatch(message);
    }
  });

  it('without a passphrase source and no terminal, generate fails before writing anything', async () => {
    const out = path.join(dir, 'no-pass.json');
    const r = await cli(['keys', 'generate', '--out', out, ...FAST]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MEDCHAIN_PASSPHRASE');
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
