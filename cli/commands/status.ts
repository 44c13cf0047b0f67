/** `medchain status`: a running node's height, view, primary, peers and sync state. */
import type { Command } from 'commander';
import { defineCommand, formatFields, setAction } from '../common.js';
import { addNodeOption, asJson, nodeClient } from '../node-client.js';

export function register(program: Command): void {
  const command = addNodeOption(
    defineCommand(program, {
      name: 'status',
      description: "show a running node's chain height, view, primary, peers and sync state",
      examples: ['medchain status', 'medchain status --node http://127.0.0.1:7103 --json'],
    }),
  );
  setAction<{ node?: string }>(command, async (ctx) => {
    const s = await nodeClient(ctx.io, ctx.options.node).status();
    ctx.result(asJson(s), () =>
      formatFields([
        ['institution', `${s.institutionId} (${s.role})`],
        ['chain', `${s.chainId} (suite ${s.suite})`],
        ['height', String(s.height)],
        ['latest block', s.latestBlockHash ?? '—'],
        ['state root', s.stateRoot ?? '—'],
        ['view', `${s.view} (primary ${s.primary.institutionId})`],
        [
          'validators',
          `${s.validators.connected} of ${s.validators.total - (s.role === 'validator' ? 1 : 0)} others connected`,
        ],
        ['peers', String(s.peers)],
        ['sync', `${s.sync.state} (target ${s.sync.targetHeight})`],
        ['mempool', `${s.mempool.size} txs, ${s.mempool.bytes} bytes`],
        ['version', s.version],
      ]),
    );
    return undefined;
  });
}
