import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CliError,
  createProgram,
  defineCommand,
  EXIT_CODES,
  exitCodeOf,
  formatFields,
  formatTable,
  integerOption,
  parseStructuredText,
  readPassphrase,
  setAction,
} from '../../cli/common.js';
import type { CliIo, CommandModule } from '../../cli/common.js';
import { CryptoError, CryptoErrorCode } from '../../src/crypto/errors.js';
import { InvalidInputError, MedchainError } from '../../src/errors.js';
import { ALL_COMMANDS, cli, jsonOf } from './cli-harness.js';

/** Commands that fail in each of the ways the error path distinguishes. */
const FAILING: CommandModule = {
  register(program: Command) {
    const cases: Record<string, () => never> = {
      'bad-input': () => {
        throw new InvalidInputError('patientRef', 'must be a pseudonym');
      },
      'wrong-passphrase': () => {
        throw new CryptoError(
          CryptoErrorCode.keystoreWrongPassphrase,
          'keystore: wrong passphrase',
        );
      },
      'io-failure': () => {
        throw new MedchainError('STORE_IO', 'disk on fire\nsecond line', { path: '/x' });
      },
      internal: () => {
        throw new TypeError('undefined is not a function');
      },
      multiline: () => {
        throw new CliError('X', 'first\n  second', 1);
      },
    };
    for (const [name, fail] of Object.entries(cases)) {
      setAction(
        defineCommand(program, { name, description: name, examples: [`medchain ${name}`] }),
        fail,
      );
    }
    const ok = defineCommand(program, {
      name: 'ok <thing>',
      description: 'prints a result',
      examples: ['medchain ok x'],
    }).option('--count <n>', 'n', integerOption(1, 5), 1);
    setAction<{ count: number }>(ok, (ctx) => {
      ctx.progress('progress line');
      ctx.result(
        { thing: ctx.args[0] ?? null, count: ctx.options.count },
        () => `thing ${ctx.args[0] ?? ''}`,
      );
      return undefined;
    });
    const twice = defineCommand(program, {
      name: 'twice',
      description: 'prints twice',
      examples: ['medchain twice'],
    });
    setAction(twice, (ctx) => {
      ctx.result(1, () => '1');
      ctx.result(2, () => '2');
      return undefined;
    });
    const code = defineCommand(program, {
      name: 'code',
      description: 'exit 3',
      examples: ['medchain code'],
    });
    setAction(code, (ctx) => {
      ctx.result({ violations: 1 }, () => 'violations: 1');
      return EXIT_CODES.violation;
    });
  },
};

const run = (argv: readonly string[]) => cli(argv, { modules: [FAILING] });

describe('cli error path', () => {
  it('usage errors: one line on stderr, exit 2, nothing on stdout', async () => {
    for (const argv of [
      ['ok', 'x', '--bogus'],
      ['nope'],
      ['ok'],
      ['ok', 'x', 'y'],
      ['ok', 'x', '--count', 'seven'],
      ['ok', 'x', '--count', '9'],
      [],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(EXIT_CODES.usage);
      expect(r.stderrLines, argv.join(' ')).toHaveLength(1);
      expect(r.stderrLines[0]).toMatch(/^medchain: \S/);
      expect(r.stdout).toBe('');
    }
    expect((await run(['ok', 'x', '--count', '9'])).stderr).toContain('from 1 to 5');
    expect((await run(['ok', 'x', '--bogus'])).stderr).toContain(`unknown option '--bogus'`);
    expect((await run([])).stderr).toContain('missing command');
  });

  it('with --json a usage error is also one JSON document on stdout', async () => {
    const r = await run(['--json', 'ok', 'x', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderrLines).toHaveLength(1);
    const body = jsonOf(r);
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatchObject({ code: 'USAGE' });
    expect((body.error as { message: string }).message).toContain('--bogus');
  });

  it('maps error kinds to exit codes and keeps MedchainError codes in --json output', async () => {
    const cases = [
      ['bad-input', 2, 'INVALID_INPUT'],
      ['wrong-passphrase', 2, 'KEYSTORE_WRONG_PASSPHRASE'],
      ['io-failure', 1, 'STORE_IO'],
      ['internal', 1, 'INTERNAL'],
    ] as const;
    for (const [name, code, errorCode] of cases) {
      const human = await run([name]);
      expect(human.code, name).toBe(code);
      expect(human.stderrLines, name).toHaveLength(1);
      expect(human.stdout).toBe('');
      const json = await run([name, '--json']);
      expect(json.code).toBe(code);
      expect((jsonOf(json).error as { code: string }).code).toBe(errorCode);
    }
    expect((await run(['bad-input'])).stderr).toBe('medchain: patientRef: must be a pseudonym\n');
    // a multi-line message still prints as one line
    expect((await run(['io-failure'])).stderr).toBe('medchain: disk on fire second line\n');
    expect((await run(['multiline'])).stderr).toBe('medchain: first second\n');
    expect(jsonOf(await run(['--json', 'io-failure'])).error).toEqual({
      code: 'STORE_IO',
      message: 'disk on fire second line',
      details: { path: '/x' },
    });
  });

  it('prints a stack trace only with --verbose', async () => {
    const quiet = await run(['internal']);
    expect(quiet.stderr).not.toContain('    at ');
    const verbose = await run(['internal', '--verbose']);
    expect(verbose.code).toBe(1);
    expect(verbose.stderrLines[0]).toBe('medchain: undefined is not a function');
    expect(verbose.stderr).toContain('    at ');
  });

  it('exitCodeOf: CLI, commander, bad-input and other errors', () => {
    expect(exitCodeOf(new CliError('X', 'x', 3))).toBe(3);
    expect(exitCodeOf(new CommanderError(1, 'commander.unknownOption', 'x'))).toBe(2);
    expect(exitCodeOf(new InvalidInputError('a', 'b'))).toBe(2);
    expect(exitCodeOf(new MedchainError('LEDGER_BAD_SIGNATURE', 'x'))).toBe(1);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });
});

describe('cli output', () => {
  it('human mode prints progress and the result; --json prints exactly one document', async () => {
    const human = await run(['ok', 'abc', '--count', '3']);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('progress line\nthing abc\n');
    const json = await run(['ok', 'abc', '--count', '3', '--json']);
    expect(json.code).toBe(0);
    expect(jsonOf(json)).toEqual({ thing: 'abc', count: 3 });
    // --json also works before the command
    expect(jsonOf(await run(['--json', 'ok', 'abc']))).toEqual({ thing: 'abc', count: 1 });
  });

  it('a command may return its own exit code with its result', async () => {
    const r = await run(['code', '--json']);
    expect(r.code).toBe(3);
    expect(jsonOf(r)).toEqual({ violations: 1 });
    expect(r.stderr).toBe('');
  });

  it('refuses to print two results (which would break --json)', async () => {
    const r = await run(['twice', '--json']);
    expect(r.code).toBe(1);
    expect(jsonOf(r)).toBe(1);
    expect(r.stderr).toContain('printed its result twice');
  });

  it('formatTable pads columns; formatFields aligns values', () => {
    expect(
      formatTable(
        ['a', 'num'],
        [
          ['xyz', '1'],
          ['b', '22'],
        ],
        ['left', 'right'],
      ),
    ).toBe(['a    num', 'xyz    1', 'b     22'].join('\n'));
    expect(
      formatFields([
        ['id', 'x'],
        ['publicKey', 'y'],
      ]),
    ).toBe('id:        x\npublicKey: y');
  });

  it('parseStructuredText: JSON by extension, YAML otherwise, one-line errors', () => {
    expect(parseStructuredText('{"a":1}', 'x.json', 'thing')).toEqual({ a: 1 });
    expect(parseStructuredText('a: 1\nb: [x, y]\n', 'x.yaml', 'thing')).toEqual({
      a: 1,
      b: ['x', 'y'],
    });
    expect(() => parseStructuredText('a: 1\na: 2\n', 'x.yml', 'thing')).toThrow(/not valid YAML/);
    try {
      parseStructuredText('{"a":', 'x.json', 'thing');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).message).toMatch(/^thing x\.json: not valid JSON/);
      expect(exitCodeOf(error)).toBe(2);
    }
  });
});

describe('every registered command', () => {
  function paths(command: Command, prefix: string[] = []): string[][] {
    return command.commands.flatMap((sub) => {
      const here = [...prefix, sub.name()];
      return [here, ...paths(sub, here)];
    });
  }

  it('has a one-line description and an example in --help', async () => {
    const all = paths(createProgram(ALL_COMMANDS));
    expect(all.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining([
        'keys generate',
        'keys show',
        'genesis create',
        'genesis show',
        'genesis hash',
        'sim',
      ]),
    );
    for (const commandPath of all) {
      const r = await cli([...commandPath, '--help']);
      expect(r.code, commandPath.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: medchain /);
      expect(r.stdout, commandPath.join(' ')).toMatch(/\nExamples?:\n {2}\$ medchain /);
      const description = r.stdout.split('\n')[2] ?? '';
      expect(description.length, commandPath.join(' ')).toBeGreaterThan(10);
    }
  });
});

describe('readPassphrase', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-cli-pass-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function io(env: Record<string, string> = {}, stdin?: CliIo['stdin']) {
    let stderr = '';
    const value: CliIo = {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      stdin: stdin ?? new PassThrough(),
      env,
    };
    return { io: value, stderr: () => stderr };
  }

  it('reads the file first (one trailing newline stripped), then the environment', async () => {
    const file = path.join(dir, 'pass.txt');
    await writeFile(file, 'correct horse \n');
    expect(
      await readPassphrase(io({ MEDCHAIN_PASSPHRASE: 'env' }).io, { file, purpose: 'x' }),
    ).toBe('correct horse ');
    expect(await readPassphrase(io({ MEDCHAIN_PASSPHRASE: 'from env' }).io, { purpose: 'x' })).toBe(
      'from env',
    );
  });

  it('refuses an empty or missing file and a non-terminal without a passphrase (exit 2)', async () => {
    const empty = path.join(dir, 'empty.txt');
    await writeFile(empty, '\n');
    await expect(readPassphrase(io().io, { file: empty, purpose: 'x' })).rejects.toMatchObject({
      code: 'PASSPHRASE_MISSING',
    });
    await expect(
      readPassphrase(io().io, { file: path.join(dir, 'none'), purpose: 'x' }),
    ).rejects.toMatchObject({
      code: 'INPUT_FILE',
      exitCode: 2,
    });
    const error = await readPassphrase(io().io, { purpose: 'the keystore k.json' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'PASSPHRASE_MISSING', exitCode: 2 });
    expect((error as Error).message).toContain('--passphrase-file');
  });

  it('prompts on a terminal without echoing, and confirms a new passphrase', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const t = io({}, stdin);
    const answer = readPassphrase(t.io, { purpose: 'the new keystore k.json', confirm: true });
    stdin.write('s3cret words\ns3cret words\n');
    expect(await answer).toBe('s3cret words');
    expect(t.stderr()).toContain('Passphrase for the new keystore k.json: ');
    expect(t.stderr()).toContain('Repeat the passphrase: ');
    expect(t.stderr()).not.toContain('s3cret');

    const mismatch = readPassphrase(t.io, { purpose: 'x', confirm: true });
    stdin.write('one\ntwo\n');
    await expect(mismatch).rejects.toMatchObject({ code: 'PASSPHRASE_MISMATCH' });

    const aborted = readPassphrase(t.io, { purpose: 'x' });
    stdin.end();
    await expect(aborted).rejects.toMatchObject({ code: 'PASSPHRASE_MISSING' });
  });
});
