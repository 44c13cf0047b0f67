/** `medchain tx submit | show`: send a signed transaction to a node, look one up. */
import { Option } from 'commander';
import type { Command } from 'commander';
import { fromHex } from '../../src/codec/index.js';
import {
  CliError,
  defineCommand,
  EXIT_CODES,
  formatFields,
  integerOption,
  readInputFile,
  setAction,
  usageError,
} from '../common.js';
import { addNodeOption, asJson, nodeClient } from '../node-client.js';

const MAX_TX_FILE_BYTES = 1024 * 1024;

interface SubmitOptions {
  readonly node?: string;
  readonly wait?: boolean;
  readonly timeoutMs: number;
}

/** A transaction file: lower-case hex of the canonical bytes (whitespace ignored). */
async function readTx(file: string): Promise<Uint8Array> {
  const text = (await readInputFile(file, 'transaction file', MAX_TX_FILE_BYTES)).replace(
    /\s+/g,
    '',
  );
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) {
    throw usageError(`${file}: expected the hex of a canonical transaction`);
  }
  return fromHex(text, 'transaction');
}

export function register(program: Command): void {
  const tx = defineCommand(program, {
    name: 'tx',
    description: 'submit signed transactions and look them up',
    examples: ['medchain tx submit signed-tx.hex --wait', 'medchain tx show 8352d2f4…'],
  });

  const submit = addNodeOption(
    defineCommand(tx, {
      name: 'submit <file>',
      description: 'submit a signed transaction (hex of its canonical bytes) to a node',
      examples: ['medchain tx submit signed-tx.hex --wait --node http://127.0.0.1:7103'],
      notes:
        'Exit codes: 0 accepted (and with --wait: committed with receipt OK), 1 committed with a\n' +
        'failed receipt or not committed in time, 2 refused by the node (malformed, bad signature).',
    }),
  )
    .option('--wait', 'wait until the transaction is committed and print its receipt')
    .addOption(
      new Option('--timeout-ms <ms>', 'how long --wait waits')
        .argParser(integerOption(1, 3_600_000))
        .default(30_000),
    );
  setAction<SubmitOptions>(submit, async (ctx) => {
    const client = nodeClient(ctx.io, ctx.options.node);
    const bytes = await readTx(ctx.args[0] ?? '');
    const submitted = await client.submitTransaction(bytes);
    if (ctx.options.wait !== true) {
      ctx.result(asJson(submitted), () =>
        formatFields([
          ['hash', submitted.hash],
          ['status', submitted.duplicate ? 'already known' : 'accepted'],
        ]),
      );
      return undefined;
    }
    const deadline = Date.now() + ctx.options.timeoutMs;
    for (;;) {
      const found = await client.getTransaction(submitted.hash).catch(() => null);
      if (found?.status === 'committed' && found.receipt) {
        const receipt = found.receipt;
        ctx.result(asJson({ hash: submitted.hash, height: found.height, receipt }), () =>
          formatFields([
            ['hash', submitted.hash],
            ['height', String(found.height)],
            ['receipt', receipt.code === 'OK' ? 'OK' : `${receipt.code}: ${receipt.reason}`],
          ]),
        );
        return receipt.code === 'OK' ? EXIT_CODES.ok : EXIT_CODES.failure;
      }
      if (Date.now() > deadline) {
        throw new CliError(
          'NOT_COMMITTED',
          `transaction ${submitted.hash} was not committed within ${ctx.options.timeoutMs} ms`,
          EXIT_CODES.failure,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  const show = addNodeOption(
    defineCommand(tx, {
      name: 'show <hash>',
      description: 'show a transaction: pending, or committed with its height and receipt',
      examples: [
        'medchain tx show 8352d2f443d47e66d8227d7a72a3b00657f637128faca4595c681c5be8b66a38 --json',
      ],
    }),
  );
  setAction<{ node?: string }>(show, async (ctx) => {
    const found = await nodeClient(ctx.io, ctx.options.node).getTransaction(ctx.args[0] ?? '');
    ctx.result(asJson(found), () =>
      formatFields([
        ['hash', found.hash],
        ['type', found.tx.type],
        ['status', found.status],
        ['height', found.height === null ? '—' : String(found.height)],
        ['receipt', found.receipt ? `${found.receipt.code} ${found.receipt.reason}`.trim() : '—'],
      ]),
    );
    return undefined;
  });
}
