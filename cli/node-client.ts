/**
 * How commands that talk to a running node find it: `--node <url>`, else
 * $MEDCHAIN_NODE, else the first devnet node (http://127.0.0.1:7101).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { MedchainClient } from '../src/api/client.js';
import type { CliIo, JsonValue } from './common.js';

export const NODE_ENV = 'MEDCHAIN_NODE';
export const DEFAULT_NODE_URL = 'http://127.0.0.1:7101';

export function addNodeOption(command: Command): Command {
  return command.addOption(
    new Option('--node <url>', `node API base URL (default $${NODE_ENV} or ${DEFAULT_NODE_URL})`),
  );
}

export function nodeClient(io: CliIo, url: string | undefined): MedchainClient {
  return new MedchainClient(url ?? io.env[NODE_ENV] ?? DEFAULT_NODE_URL);
}

/** API responses are JSON already: hand them to `ctx.result` as they are. */
export function asJson(value: unknown): JsonValue {
  return value as JsonValue;
}
