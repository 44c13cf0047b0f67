/**
 * The `medchain` command framework: one program built from command modules,
 * one error path, one way to print results and one way to get a passphrase.
 *
 * - Each command lives in `cli/commands/<name>.ts` and exports
 *   `register(program)`; `cli/main.ts` lists the modules.
 * - Commands are declared with {@link defineCommand} (description + example,
 *   both required) and run through {@link setAction}, which hands the handler a
 *   {@link CommandContext}: parsed options, global `--json` / `--verbose`, the
 *   output helpers and the injected I/O.
 * - A failure is thrown, never printed by the command: {@link runCli} turns any
 *   error into ONE line `medchain: <message>` on stderr (plus the stack with
 *   `--verbose`) and, with `--json`, into `{"error":{"code","message"}}` on
 *   stdout. Exit codes: {@link EXIT_CODES}.
 *
 * Nothing here holds business logic; commands parse arguments and call
 * src/, consensus/ and p2p/.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { InvariantError, MedchainError } from '../src/errors.js';
import type { ErrorDetails } from '../src/errors.js';

// ---------------------------------------------------------------------------
// exit codes and errors

/** Process exit codes of every `medchain` command (documented in docs/cli.md). */
export const EXIT_CODES = {
  ok: 0,
  /** Anything else went wrong: I/O, an internal error. */
  failure: 1,
  /** Usage or bad input: unknown flag, bad value, malformed file, wrong passphrase. */
  usage: 2,
  /** `medchain sim`: at least one seed broke an invariant (safety, liveness or crash). */
  violation: 3,
} as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Error codes of modules below that mean "the input is wrong", so exit 2 rather than 1. */
const BAD_INPUT_CODES: ReadonlySet<string> = new Set([
  'INVALID_INPUT',
  'GENESIS_INVALID',
  'GENESIS_SUITE_MISMATCH',
  'VALIDATOR_SET_INVALID',
  'INVALID_KEY',
  'INVALID_KEY_ENCODING',
  'INVALID_ARGUMENT',
  'UNKNOWN_SUITE',
  'KEYSTORE_CORRUPT',
  'KEYSTORE_WRONG_PASSPHRASE',
  'CONFIG_INVALID',
  'CONFIG_UNREADABLE',
  'PASSPHRASE_MISSING',
  'PASSPHRASE_UNREADABLE',
  'GENESIS_UNREADABLE',
  'NODE_NOT_IN_GENESIS',
  'NODE_KEY_MISMATCH',
  'DEVNET_MISMATCH',
  'DEVNET_NOT_FOUND',
]);

/** A failure the CLI itself detects, with the exit code it should produce. */
export class CliError extends MedchainError {
  readonly exitCode: ExitCode;

  constructor(
    code: string,
    message: string,
    exitCode: ExitCode = EXIT_CODES.usage,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
    this.exitCode = exitCode;
  }
}

/** Bad flags or arguments: exit 2, code `USAGE`. */
export function usageError(message: string, details: ErrorDetails = {}): CliError {
  return new CliError('USAGE', message, EXIT_CODES.usage, details);
}

/** The exit code an error maps to. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) return EXIT_CODES.usage;
  if (error instanceof MedchainError && BAD_INPUT_CODES.has(error.code)) return EXIT_CODES.usage;
  return EXIT_CODES.failure;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly details?: ErrorDetails;
}

function describeError(error: unknown): ErrorReport {
  if (error instanceof MedchainError) {
    const details = Object.keys(error.details).length > 0 ? { details: error.details } : {};
    return { code: error.code, message: oneLine(error.message), ...details };
  }
  if (error instanceof CommanderError) {
    return { code: 'USAGE', message: oneLine(error.message.replace(/^error: /, '')) };
  }
  if (error instanceof Error) return { code: 'INTERNAL', message: oneLine(error.message) };
  return { code: 'INTERNAL', message: oneLine(String(error)) };
}

function stackOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (current instanceof Error) {
      parts.push((depth === 0 ? '' : 'caused by: ') + (current.stack ?? current.message));
      current = current.cause;
    } else {
      parts.push(`caused by: a thrown ${typeof current}`);
      break;
    }
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------------------
// I/O

export interface TextSink {
  write(text: string): unknown;
}

/** Everything a command touches outside itself; tests pass their own. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

export interface GlobalOptions {
  /** Machine output: exactly one JSON document on stdout. */
  readonly json: boolean;
  /** Stack traces on errors. */
  readonly verbose: boolean;
}

interface RunState {
  readonly io: CliIo;
  /** `medchain keys generate`: the deepest command commander dispatched to. */
  commandPath: string;
  printed: boolean;
  exitCode: ExitCode;
}

const RUN_STATES = new WeakMap<Command, RunState>();

function rootOf(command: Command): Command {
  let current = command;
  for (let depth = 0; depth < 16 && current.parent !== null; depth++) current = current.parent;
  return current;
}

function commandPathOf(command: Command): string {
  const names: string[] = [];
  let current: Command | null = command;
  for (let depth = 0; depth < 16 && current !== null; depth++) {
    names.unshift(current.name());
    current = current.parent;
  }
  return names.join(' ');
}

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/** What a command handler gets: options, globals, output helpers, I/O. */
export class CommandContext<Options> {
  readonly options: Options;
  /** Positional arguments, in declaration order. */
  readonly args: readonly string[];
  readonly global: GlobalOptions;
  readonly io: CliIo;
  /** `medchain keys generate` */
  readonly commandPath: string;
  private readonly state: RunState;

  constructor(
    state: RunState,
    command: Command,
    options: Options,
    args: readonly string[],
    global: GlobalOptions,
  ) {
    this.state = state;
    this.io = state.io;
    this.options = options;
    this.args = args;
    this.global = global;
    this.commandPath = commandPathOf(command);
  }

  get json(): boolean {
    return this.global.json;
  }

  /**
   * The command's one result: `value` as JSON with `--json`, else `human()`
   * (text; a trailing newline is added if missing). Call it once.
   */
  result(value: JsonValue, human: () => string): void {
    if (this.state.printed) {
      throw new InvariantError(`${this.commandPath} printed its result twice`);
    }
    this.state.printed = true;
    const text = this.global.json ? JSON.stringify(value, null, 2) : human();
    if (text.length > 0) this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Human-only progress text on stdout (nothing with `--json`, whose stdout is one document). */
  progress(line: string): void {
    if (!this.global.json) this.io.stdout.write(`${line}\n`);
  }

  /** A warning on stderr, in both modes. */
  warn(message: string): void {
    this.io.stderr.write(`medchain: warning: ${oneLine(message)}\n`);
  }
}

// ---------------------------------------------------------------------------
// declaring commands

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandSpec {
  /** Name plus positional arguments, commander syntax: `show <keystore>`. */
  readonly name: string;
  /** One line. */
  readonly description: string;
  /** At least one full command line, without the `$ ` prompt. */
  readonly examples: readonly string[];
  /** More help text after the examples (profiles, exit codes, …). */
  readonly notes?: string;
}

/** A subcommand of `parent` with its description and examples in `--help`. */
export function defineCommand(parent: Command, spec: CommandSpec): Command {
  if (spec.examples.length === 0) {
    throw new InvariantError(`command ${spec.name} needs an example for --help`);
  }
  const command = parent.command(spec.name).description(spec.description);
  const examples = spec.examples.map((line) => `  $ ${line}`).join('\n');
  const plural = spec.examples.length > 1 ? 'Examples' : 'Example';
  const notes = spec.notes === undefined ? '' : `\n${spec.notes.replace(/\n*$/, '')}\n`;
  command.addHelpText('after', `\n${plural}:\n${examples}\n${notes}`);
  return command;
}

/**
 * Run `handler` for `command`. It returns the exit code (default 0) or throws;
 * `options` are commander's parsed options of this command, typed by the caller.
 */
export function setAction<Options>(
  command: Command,
  handler: (ctx: CommandContext<Options>) => Promise<ExitCode | undefined> | ExitCode | undefined,
): Command {
  return command.action(async (...params: unknown[]) => {
    const self = params[params.length - 1];
    if (!(self instanceof Command)) throw new InvariantError('commander passed no command');
    const state = RUN_STATES.get(rootOf(self));
    if (state === undefined) throw new InvariantError('command run outside runCli');
    const globals = self.optsWithGlobals<{ json?: boolean; verbose?: boolean }>();
    const ctx = new CommandContext<Options>(
      state,
      self,
      self.opts<Options & Record<string, unknown>>(),
      self.args.slice(0, self.registeredArguments.length),
      { json: globals.json === true, verbose: globals.verbose === true },
    );
    state.exitCode = (await handler(ctx)) ?? EXIT_CODES.ok;
  });
}

// ---------------------------------------------------------------------------
// option parsers (throw commander's InvalidArgumentError → one-line usage error)

export function integerOption(
  min: number,
  max: number,
): (value: string, previous?: unknown) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected an integer');
    const number = Number(value.trim());
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return number;
  };
}

/** Repeatable option: collects every value in order. */
export function collectOption(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

// ---------------------------------------------------------------------------
// running

export function createProgram(modules: readonly CommandModule[]): Command {
  const program = new Command('medchain');
  program
    .description(
      'medchain: permissioned PBFT blockchain node for regional medical alliances (医联体)',
    )
    .option('--json', 'machine output: exactly one JSON document on stdout')
    .option('--verbose', 'print stack traces on errors')
    .exitOverride()
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure, 2 usage or bad input, 3 simulation found a violation.\n' +
        'Run "medchain <command> --help" for the options and an example of each command.\n',
    );
  for (const module of modules) module.register(program);
  return program;
}

function configure(command: Command, state: RunState, stderrBuffer: { text: string }): void {
  command
    .exitOverride()
    .helpCommand(false) // one way to get help: --help
    .configureOutput({
      writeOut: (text) => state.io.stdout.write(text),
      // implicit help on a missing subcommand, and commander's own messages: we decide what to print
      writeErr: (text) => {
        stderrBuffer.text += text;
      },
      outputError: () => undefined,
    })
    .hook('preSubcommand', (_self, sub) => {
      state.commandPath = commandPathOf(sub);
    });
  for (const sub of command.commands) configure(sub, state, stderrBuffer);
}

function scanFlag(argv: readonly string[], flag: string): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes(flag);
}

/**
 * Parse `argv` (without `node` and the script), run the command and return the
 * exit code. Every error goes through here.
 */
export async function runCli(
  argv: readonly string[],
  modules: readonly CommandModule[],
  io: CliIo,
): Promise<ExitCode> {
  const state: RunState = { io, commandPath: 'medchain', printed: false, exitCode: 0 };
  const program = createProgram(modules);
  RUN_STATES.set(program, state);
  const stderrBuffer = { text: '' };
  configure(program, state, stderrBuffer);
  const json = scanFlag(argv, '--json');
  const verbose = scanFlag(argv, '--verbose');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (caught) {
    let error = caught;
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
        return EXIT_CODES.ok;
      }
      if (error.code === 'commander.help') {
        error = usageError(
          `missing command for "${state.commandPath}" (run "${state.commandPath} --help")`,
        );
      } else {
        const hint = ` (see "${state.commandPath} --help")`;
        error = new CommanderError(error.exitCode, error.code, error.message + hint);
      }
    }
    const report = describeError(error);
    io.stderr.write(`medchain: ${report.message}\n`);
    if (verbose) io.stderr.write(`${stackOf(caught)}\n`);
    if (json && !state.printed) {
      state.printed = true;
      io.stdout.write(`${JSON.stringify({ error: report }, null, 2)}\n`);
    }
    return exitCodeOf(error);
  }
}

// ---------------------------------------------------------------------------
// human output

/** Columns padded to the widest cell; `align` 'right' for numbers. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ('left' | 'right')[] = [],
): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return align[i] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `label: value` lines with the values aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width + 1)} ${value}`).join('\n');
}

// ---------------------------------------------------------------------------
// files

function errnoOf(error: unknown): string {
  if (typeof error !== 'object' || error === null || !('code' in error)) return 'unknown';
  return typeof error.code === 'string' ? error.code : 'unknown';
}

/** Read a text file the user named; a missing file is a usage error (exit 2). */
export async function readInputFile(path: string, what: string, maxBytes: number): Promise<string> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CliError('INPUT_FILE', `${what} ${path}: not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const errno = errnoOf(error);
    if (errno === 'ENOENT') throw new CliError('INPUT_FILE', `${what} ${path}: no such file`);
    throw new CliError(
      'FILE_IO',
      `${what} ${path}: cannot read (${errno})`,
      EXIT_CODES.failure,
      {},
      { cause: error },
    );
  }
  if (size > maxBytes) {
    throw new CliError('INPUT_FILE', `${what} ${path}: ${size} bytes, more than ${maxBytes}`);
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(
      'FILE_IO',
      `${what} ${path}: cannot read (${errnoOf(error)})`,
      EXIT_CODES.failure,
      {},
      { cause: error },
    );
  }
}

/** JSON for `.json` files, YAML (a superset of JSON) otherwise. */
export function parseStructuredText(text: string, path: string, what: string): unknown {
  const isJson = extname(path).toLowerCase() === '.json';
  try {
    return isJson
      ? (JSON.parse(text) as unknown)
      : (parseYaml(text, { maxAliasCount: 50 }) as unknown);
  } catch (error) {
    const first = error instanceof Error ? (error.message.split('\n')[0] ?? '') : 'parse error';
    const detail = first.replace(/:\s*$/, '');
    throw new CliError(
      'INPUT_INVALID',
      `${what} ${path}: not valid ${isJson ? 'JSON' : 'YAML'} (${detail})`,
      EXIT_CODES.usage,
      {},
      { cause: error },
    );
  }
}

/**
 * Write `text` to `path` atomically (temporary file in the same folder, fsync,
 * rename). Refuses to replace an existing file unless `overwrite`.
 */
export async function writeOutputFile(
  path: string,
  text: string,
  options: { readonly overwrite: boolean; readonly mode?: number },
): Promise<void> {
  if (!options.overwrite) await assertAbsent(path);
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', options.mode ?? 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new CliError(
      'FILE_IO',
      `cannot write ${path} (${errnoOf(error)})`,
      EXIT_CODES.failure,
      {},
      { cause: error },
    );
  }
}

/** Throws `FILE_EXISTS` (exit 1) if `path` exists: output files are never replaced silently. */
export async function assertAbsent(path: string): Promise<void> {
  const exists = await stat(path).then(
    () => true,
    (error: unknown) => {
      if (errnoOf(error) === 'ENOENT') return false;
      throw new CliError('FILE_IO', `cannot inspect ${path} (${errnoOf(error)})`, 1);
    },
  );
  if (exists) {
    throw new CliError(
      'FILE_EXISTS',
      `${path} already exists; pass --force to replace it`,
      EXIT_CODES.failure,
    );
  }
}

// ---------------------------------------------------------------------------
// passphrases: never from a flag

export const PASSPHRASE_ENV = 'MEDCHAIN_PASSPHRASE';
const MAX_PASSPHRASE_FILE_BYTES = 4096;

export interface PassphraseRequest {
  /** `--passphrase-file` value, if given. */
  readonly file?: string;
  /** What it unlocks, for the prompt: "the new keystore node.key.json". */
  readonly purpose: string;
  /** Prompt twice and compare (new keystores). */
  readonly confirm?: boolean;
}

/**
 * The passphrase from, in order: `--passphrase-file` (one trailing newline
 * stripped), `MEDCHAIN_PASSPHRASE`, or a prompt without echo when stdin is a
 * terminal. Never from a flag value, never logged.
 */
export async function readPassphrase(io: CliIo, request: PassphraseRequest): Promise<string> {
  if (request.file !== undefined) {
    const text = await readInputFile(request.file, 'passphrase file', MAX_PASSPHRASE_FILE_BYTES);
    const passphrase = text.replace(/\r?\n$/, '');
    if (passphrase.length === 0) {
      throw new CliError('PASSPHRASE_MISSING', `passphrase file ${request.file} is empty`);
    }
    return passphrase;
  }
  const fromEnv = io.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  if (io.stdin.isTTY !== true) {
    throw new CliError(
      'PASSPHRASE_MISSING',
      `no passphrase for ${request.purpose}: pass --passphrase-file <path> or set ${PASSPHRASE_ENV} (standard input is not a terminal, so there is no prompt)`,
    );
  }
  const prompts = [`Passphrase for ${request.purpose}: `];
  if (request.confirm === true) prompts.push('Repeat the passphrase: ');
  const [first = '', again] = await promptHidden(io, prompts);
  if (first.length === 0) throw new CliError('PASSPHRASE_MISSING', 'empty passphrase');
  if (again !== undefined && again !== first) {
    throw new CliError('PASSPHRASE_MISMATCH', 'the two passphrases differ');
  }
  return first;
}

/**
 * One line per prompt from a terminal, without echo: readline reads the
 * terminal but writes its echo into a muted sink; the prompts go to stderr.
 */
function promptHidden(io: CliIo, prompts: readonly string[]): Promise<string[]> {
  const muted = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  const rl = createInterface({ input: io.stdin, output: muted, terminal: true });
  const answers: string[] = [];
  return new Promise<string[]>((resolve, reject) => {
    const ask = (): void => {
      const prompt = prompts[answers.length];
      if (prompt === undefined) {
        rl.close();
        return;
      }
      io.stderr.write(prompt);
      rl.question('', (answer) => {
        io.stderr.write('\n');
        answers.push(answer);
        ask();
      });
    };
    rl.on('SIGINT', () => {
      rl.close();
    });
    rl.on('close', () => {
      if (answers.length === prompts.length) resolve(answers);
      else {
        io.stderr.write('\n');
        reject(new CliError('PASSPHRASE_MISSING', 'no passphrase entered (aborted)'));
      }
    });
    ask();
  });
}
