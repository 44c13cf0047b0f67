/** Runs the CLI in-process with captured stdout/stderr, for the cli-*.test.ts unit tests. */
import { PassThrough } from 'node:stream';
import { runCli } from '../../cli/common.js';
import type { CliIo, CommandModule } from '../../cli/common.js';
import * as genesis from '../../cli/commands/genesis.js';
import * as keys from '../../cli/commands/keys.js';
import * as sim from '../../cli/commands/sim.js';

/** The modules cli/main.ts lists. */
export const ALL_COMMANDS: readonly CommandModule[] = [keys, genesis, sim];

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stderr split into lines, without the final empty one. */
  readonly stderrLines: readonly string[];
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly modules?: readonly CommandModule[];
  readonly stdin?: CliIo['stdin'];
}

export async function cli(argv: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: options.stdin ?? new PassThrough(),
    env: options.env ?? {},
  };
  const code = await runCli(argv, options.modules ?? ALL_COMMANDS, io);
  const stderrLines = stderr
    .split('\n')
    .filter((line, i, all) => i < all.length - 1 || line !== '');
  return { code, stdout, stderr, stderrLines };
}

/** stdout parsed as exactly one JSON document. */
export function jsonOf(run: CliRun): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}
