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
import * as record from './commands/record.js';
import * as consent from './commands/consent.js';
import * as referral from './commands/referral.js';
import * as access from './commands/access.js';
import * as audit from './commands/audit.js';
import * as member from './commands/member.js';
import * as demo from './commands/demo.js';

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
  record,
  consent,
  referral,
  access,
  audit,
  member,
  demo,
];

process.exitCode = await runCli(process.argv.slice(2), COMMANDS, processIo());
