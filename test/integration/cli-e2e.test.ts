/**
 * The built `medchain` command as a real child process (`node dist/cli/main.js`,
 * what the package's `bin` points to): exit codes, one-line errors, and the
 * offline flows end to end — keys generate → show, genesis create → show →
 * hash, `sim` ok and the twins negative control.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { getSuite, loadKeystore } from '../../src/crypto/index.js';
import { MedchainError } from '../../src/errors.js';
import { genesisHash, parseGenesisText } from '../../src/identity/index.js';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(REPO_DIR, 'dist', 'cli', 'main.js');
const PASSPHRASE = 'integration test passphrase';
const FAST = ['--scrypt-log-n', '10'];

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function medchain(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Exit> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: REPO_DIR,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new MedchainError('TEST_TIMEOUT', `medchain ${args.join(' ')} ran over ${timeoutMs} ms`),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function json(exit: Exit): Record<string, unknown> {
  return JSON.parse(exit.stdout) as Record<string, unknown>;
}

/** dist/cli must exist and be newer than every cli/ source (`npm test` builds first). */
async function assertBuilt(): Promise<void> {
  const sources = [
    'main.ts',
    'common.ts',
    'sim-profiles.ts',
    ...(await readdir(path.join(REPO_DIR, 'cli', 'commands'))).map((f) => `commands/${f}`),
  ];
  for (const source of sources.filter((f) => f.endsWith('.ts'))) {
    const built = path.join(REPO_DIR, 'dist', 'cli', source.replace(/\.ts$/, '.js'));
    const [src, out] = await Promise.all([
      stat(path.join(REPO_DIR, 'cli', source)),
      stat(built).catch(() => undefined),
    ]);
    if (out === undefined)
      throw new MedchainError('TEST_FIXTURE', `${built} is missing: run \`npm run build\` first`);
    if (out.mtimeMs < src.mtimeMs)
      throw new MedchainError(
        'TEST_FIXTURE',
        `${built} is older than cli/${source}: run \`npm run build\``,
      );
  }
}

describe('medchain CLI as a process', () => {
  let dir: string;
  beforeAll(async () => {
    await assertBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-cli-e2e-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a bad flag exits 2 with one line on stderr and nothing on stdout', async () => {
    const exit = await medchain(['sim', '--nodez', '4']);
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toMatch(/^medchain: unknown option '--nodez'.*\n$/);
    expect(exit.stderr.split('\n')).toHaveLength(2);
    const unknown = await medchain(['--json', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(json(unknown).error).toMatchObject({ code: 'USAGE' });
    const help = await medchain(['sim', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Example');
    expect(help.stdout).toContain('negative control');
  });

  it('every command listed by cli/main.ts has an example in --help', async () => {
    /** Subcommand names from the "Commands:" block of commander's help. */
    const subcommands = (help: string): string[] => {
      const block = help.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
      return block
        .split('\n')
        .map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1])
        .filter((name): name is string => name !== undefined);
    };
    const top = await medchain(['--help']);
    const queue = subcommands(top.stdout).map((name) => [name]);
    expect(queue.map((p) => p[0])).toEqual(expect.arrayContaining(['keys', 'genesis', 'sim']));
    const seen: string[] = [];
    // One level of the command tree at a time, its --help calls side by side.
    let level = queue;
    for (let depth = 0; depth < 4 && level.length > 0; depth++) {
      const helps = await Promise.all(
        level.map((commandPath) => medchain([...commandPath, '--help'])),
      );
      const next: string[][] = [];
      helps.forEach((help, i) => {
        const commandPath = level[i] ?? [];
        expect(help.code, commandPath.join(' ')).toBe(0);
        expect(help.stdout, commandPath.join(' ')).toMatch(/\nExamples?:\n {2}\$ medchain /);
        seen.push(commandPath.join(' '));
        for (const sub of subcommands(help.stdout)) next.push([...commandPath, sub]);
      });
      level = next;
    }
    expect(seen).toEqual(expect.arrayContaining(['keys generate', 'keys show', 'genesis hash']));
  });

  it('keys generate → show round trip (passphrase from the environment)', async () => {
    const env = { MEDCHAIN_PASSPHRASE: PASSPHRASE };
    const signing = path.join(dir, 'signing.key.json');
    const generated = await medchain(
      ['--json', 'keys', 'generate', '--suite', 'gm', '--out', signing, ...FAST],
      env,
    );
    expect(generated.code, generated.stderr).toBe(0);
    const publicKey = json(generated).publicKey;
    expect((await stat(signing)).mode & 0o777).toBe(0o600);
    const shown = await medchain(['keys', 'show', signing, '--json']);
    expect(shown.code).toBe(0);
    expect(json(shown)).toMatchObject({ suite: 'gm', publicKey });
    const keyPair = await loadKeystore(signing, PASSPHRASE);
    expect(`gm:pub:${toHex(keyPair.publicKey)}`).toBe(publicKey);

    const p2p = path.join(dir, 'node.p2p.json');
    const peer = await medchain(
      ['keys', 'generate', '--p2p', '--out', p2p, ...FAST, '--json'],
      env,
    );
    expect(peer.code, peer.stderr).toBe(0);
    const peerShown = await medchain(['--json', 'keys', 'show', p2p]);
    expect(json(peerShown).peerId).toBe(json(peer).peerId);

    const noPassphrase = await medchain([
      'keys',
      'generate',
      '--out',
      path.join(dir, 'x.json'),
      ...FAST,
    ]);
    expect(noPassphrase.code).toBe(2);
    expect(noPassphrase.stderr).toMatch(/^medchain: no passphrase .*MEDCHAIN_PASSPHRASE.*\n$/);
  });

  it('genesis create from descriptors → show → hash, matching src/identity genesisHash', async () => {
    const env = { MEDCHAIN_PASSPHRASE: PASSPHRASE };
    const descriptors: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [signing, peer] = await Promise.all([
        medchain(
          ['--json', 'keys', 'generate', '--out', path.join(dir, `h${i}.key.json`), ...FAST],
          env,
        ),
        medchain(
          [
            '--json',
            'keys',
            'generate',
            '--p2p',
            '--out',
            path.join(dir, `h${i}.p2p.json`),
            ...FAST,
          ],
          env,
        ),
      ]);
      expect(signing.code, signing.stderr).toBe(0);
      expect(peer.code, peer.stderr).toBe(0);
      const file = path.join(dir, `h${i}.yaml`);
      await writeFile(
        file,
        [
          `id: hospital-${i}`,
          `name: 第${i}人民医院`,
          'role: hospital',
          `signingKey: ${String(json(signing).publicKey)}`,
          `peerId: ${String(json(peer).peerId)}`,
          'voting: true',
          `p2pAddresses: [/ip4/127.0.0.1/tcp/${7000 + i}]`,
        ].join('\n') + '\n',
      );
      descriptors.push(file);
    }
    const out = path.join(dir, 'genesis.json');
    const created = await medchain([
      '--json',
      'genesis',
      'create',
      '--chain-id',
      'alliance-e2e',
      ...descriptors.flatMap((file) => ['--institution', file]),
      '--genesis-time',
      '1767225600000',
      '--out',
      out,
    ]);
    expect(created.code, created.stderr).toBe(0);
    const expected = toHex(
      genesisHash(getSuite('intl'), parseGenesisText(await readFile(out, 'utf8'))),
    );
    expect(json(created)).toMatchObject({
      hash: expected,
      validators: 4,
      maxFaulty: 1,
      suite: 'intl',
    });
    const hashed = await medchain(['genesis', 'hash', out]);
    expect(hashed).toEqual({ code: 0, stdout: `${expected}\n`, stderr: '' });
    const shown = await medchain(['genesis', 'show', out]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(expected);
    expect(shown.stdout).toMatch(/hospital-3\s+hospital\s+yes\s+12D3KooW/);
    const again = await medchain([
      'genesis',
      'create',
      '--chain-id',
      'alliance-e2e',
      '--institution',
      descriptors[0] ?? '',
      '--out',
      out,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`medchain: ${out} already exists; pass --force to replace it\n`);
  });

  it('sim --seeds 3 --json: every seed ok, exit 0, one JSON document', async () => {
    const exit = await medchain([
      'sim',
      '--nodes',
      '4',
      '--byzantine',
      '1',
      '--seeds',
      '3',
      '--blocks',
      '5',
      '--json',
    ]);
    expect(exit.code, exit.stderr).toBe(0);
    const body = json(exit) as {
      runs: { seed: number; outcome: string }[];
      summary: Record<string, unknown>;
    };
    expect(body.runs.map((run) => [run.seed, run.outcome])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
    ]);
    expect(body.summary).toMatchObject({ seeds: 3, ok: 3, violations: 0 });
  });

  it('the twins negative control (--nodes 4 --byzantine 2) exits 3 with the safety violation', async () => {
    const exit = await medchain(['sim', '--nodes', '4', '--byzantine', '2', '--seeds', '2']);
    expect(exit.code).toBe(3);
    expect(exit.stdout).toMatch(/^SEED=1 n=4 class=safety .*conflicting commits/m);
    expect(exit.stdout).toContain('negative control');
    expect(exit.stdout).toMatch(/2 violation\(s\) \(2 safety\)/);
  });
});
