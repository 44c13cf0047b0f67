/**
 * `medchain start --config <node.yaml>`: run a node until SIGINT/SIGTERM.
 * Logs are pino JSON on stdout; a halt (broken invariant, disk) exits 1.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../src/node/config.js';
import { medicalExtension } from '../../src/medical/extension.js';
import { MedchainNode } from '../../src/node/node.js';
import { CliError, defineCommand, EXIT_CODES, setAction } from '../common.js';
import { waitForStopSignal } from '../signals.js';

interface StartOptions {
  readonly config: string;
}

export function register(program: Command): void {
  const command = defineCommand(program, {
    name: 'start',
    description: 'run a node from its config file until SIGINT or SIGTERM',
    examples: [
      'medchain start --config /etc/medchain/node.yaml',
      'MEDCHAIN_API_PORT=8201 MEDCHAIN_LOG_LEVEL=debug medchain start --config node.yaml',
    ],
    notes:
      'Every config field can be overridden by a MEDCHAIN_* environment variable\n' +
      '(api.port → MEDCHAIN_API_PORT); see docs/config.md. The keystore passphrase comes from\n' +
      'the config field passphraseFile or $MEDCHAIN_PASSPHRASE, never from a flag.\n' +
      'Exit codes: 0 stopped cleanly, 1 the node halted or failed to start, 2 bad config.',
  }).requiredOption('--config <file>', 'the node config (YAML or JSON)');

  setAction<StartOptions>(command, async (ctx) => {
    const config = await loadConfig(ctx.options.config, { env: ctx.io.env });
    const node = new MedchainNode({ config, extensions: [medicalExtension] });
    const stop = waitForStopSignal();
    try {
      await node.start();
      const outcome = await Promise.race([
        stop.signal.then((signal) => ({ signal })),
        node.halted.then((error) => ({ error })),
      ]);
      await node.stop();
      if ('error' in outcome) {
        throw new CliError(
          'NODE_HALTED',
          `node halted: ${outcome.error.message}`,
          EXIT_CODES.failure,
        );
      }
      ctx.result({ stopped: true, signal: outcome.signal }, () => '');
      return EXIT_CODES.ok;
    } finally {
      stop.dispose();
    }
  });
}
