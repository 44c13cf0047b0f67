#!/usr/bin/env node
import '../src/polyfill.js';
/**
 * Entry point of the `medchain` command. To add a command, write
 * cli/commands/<name>.ts exporting `register(program)` and list it below
 * (one import, one entry).
 */
import { processIo, runCli } from './common.js';
import type { CommandModule } from './common.js';
import * as genesis from './commands/genesis.js';
import * as keys from './commands/keys.js';
import * as bench from './commands/bench.js';
import * as devnet from './commands/devnet.js';
import * as sim from './commands/sim.js';
import * as init from './commands/init.js';
import * as start from './commands/start.js';
import * as status from './commands/status.js';
import * as tx from './commands/tx.js';

// `medchain … | head`: a closed pipe ends the output, not in a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const COMMANDS: readonly CommandModule[] = [
  keys,
  genesis,
  init,
  start,
  status,
  tx,
  devnet,
  sim,
  bench,
];

process.exitCode = await runCli(process.argv.slice(2), COMMANDS, processIo());
