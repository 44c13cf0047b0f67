/**
 * Floor benchmark: what a validator cannot avoid per transaction, measured
 * side by side with the signature verification the bound counts, and so the
 * highest fraction of the bound that any node of this design could reach on
 * this machine. A node that commits a `record.register` must at least
 *
 *   - move its bytes over an authenticated, encrypted connection once
 *     (TCP + Noise + Yamux, in bundles of 20, both ends: ./p2p-bench.ts),
 *   - decode and hash them (`decodeHashedTransaction`, with the canonical
 *     check that makes the hash unique),
 *   - verify its signature (the bound's operation),
 *   - store it durably: its block, and the record it registers, in LevelDB
 *     with one synchronous batch per block (durable commits),
 *
 * and in a product with an audit trail also index the event once more. The
 * floor adds these up, nothing else — no contract execution, mempool,
 * consensus messages, API ingress, events or GC — so the real pipeline costs
 * more than the floor, never less.
 *
 * Usage: node dist/src/bench/floor-bench.js [--json] [--suite=intl|gm] [--blocks=2000] [--txs=30] [--seconds=1]
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decode, encode } from '../codec/index.js';
import { DOMAIN, getSuite, isSuiteId } from '../crypto/index.js';
import type { SuiteId } from '../crypto/index.js';
import { InvalidInputError, InvariantError } from '../errors.js';
import {
  encodeBlock,
  encodeUnsignedTransaction,
  transactionFromCodec,
} from '../ledger/encoding.js';
import { decodeHashedTransaction } from '../ledger/hashing.js';
import type { Block, Transaction } from '../ledger/types.js';
import { BUCKET, encodeHeight, LevelKvStore } from '../../storage/index.js';
import type { KvBatchOp } from '../../storage/index.js';
import { microsPerCall, numberArg, oneDoctorRecords } from './micro.js';
import { runP2pBench } from './p2p-bench.js';

export interface FloorBenchOptions {
  readonly suite: SuiteId;
  /** Blocks written to LevelDB per storage row. */
  readonly blocks: number;
  /** Transactions per block. */
  readonly txs: number;
  /** Time budget of each in-memory measurement, seconds. */
  readonly seconds: number;
  /** Skip the transport row (tests): its cost is then 0 and `transportMeasured` false. */
  readonly transport: boolean;
}

export type FloorPart = 'transport' | 'decode + hash' | 'verify' | 'store block + record';

export interface FloorRow {
  readonly part: FloorPart;
  /** Process CPU (user + system, all threads) per transaction, µs. */
  readonly us: number;
  readonly ofVerification: number;
}

export interface FloorBenchResult {
  readonly suite: SuiteId;
  readonly txBytes: number;
  readonly txsPerBlock: number;
  readonly blocks: number;
  readonly transportMeasured: boolean;
  readonly rows: readonly FloorRow[];
  /** One more durable index entry per transaction (the audit trail), µs per transaction. */
  readonly auditIndexUs: number;
  /**
   * Decode and hash without the canonical check (which encodes the value
   * again): what a decoder that checked canonical form for free would cost.
   */
  readonly decodeUncheckedUs: number;
  /** The rows' sum, in verifications. */
  readonly floorInVerifications: number;
  /** 1 ÷ floorInVerifications: the highest fraction of the bound a node doing only this reaches. */
  readonly ceilingOfBound: number;
  /** The same with the audit index entry. */
  readonly ceilingWithAuditOfBound: number;
  /** The ceiling with `decodeUncheckedUs` in place of decode + hash. */
  readonly ceilingUncheckedDecodeOfBound: number;
}

/** The rows' arithmetic: each part in verifications, the floor and the ceilings. */
export function floorArithmetic(
  parts: Readonly<Record<FloorPart, number>>,
  auditIndexUs: number,
): Pick<
  FloorBenchResult,
  'rows' | 'floorInVerifications' | 'ceilingOfBound' | 'ceilingWithAuditOfBound'
> {
  const verify = parts.verify;
  if (!(verify > 0)) throw new InvalidInputError('verify', 'must be positive');
  const order: FloorPart[] = ['transport', 'decode + hash', 'verify', 'store block + record'];
  const rows = order.map((part) => ({
    part,
    us: parts[part],
    ofVerification: parts[part] / verify,
  }));
  const floorInVerifications = rows.reduce((a, r) => a + r.ofVerification, 0);
  return {
    rows,
    floorInVerifications,
    ceilingOfBound: 1 / floorInVerifications,
    ceilingWithAuditOfBound: 1 / (floorInVerifications + auditIndexUs / verify),
  };
}

/** A key of `bucket` that spreads like a hash (record ids and index keys do). */
function spreadKey(bucket: number, hash: Uint8Array, tag: number): Uint8Array {
  const key = new Uint8Array(2 + hash.length);
  key[0] = bucket;
  key[1] = tag;
  key.set(hash, 2);
  return key;
}

/**
 * CPU per transaction of writing `blocks` blocks, one synchronous batch each,
 * with `perTx` entries per transaction besides the block. Every block and
 * record is distinct (fresh keys), as on a growing chain.
 */
async function storeCost(
  blocks: readonly Block[],
  perTx: (tx: Transaction, index: number) => KvBatchOp[],
): Promise<number> {
  const dir = path.join(os.tmpdir(), `medchain-floor-${randomUUID()}`);
  const store = await LevelKvStore.open(dir);
  try {
    const batches = blocks.map((block) => {
      const ops: KvBatchOp[] = [
        {
          type: 'put',
          key: Uint8Array.of(BUCKET.blockByHeight, ...encodeHeight(block.header.height)),
          value: encodeBlock(block),
        },
      ];
      block.txs.forEach((tx, i) => ops.push(...perTx(tx, block.header.height * 1000 + i)));
      return ops;
    });
    const since = process.cpuUsage();
    for (const ops of batches) await store.batch(ops, { sync: true });
    const used = process.cpuUsage(since);
    const txs = blocks.reduce((a, b) => a + b.txs.length, 0);
    return (used.user + used.system) / txs;
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const cpuTime = (op: () => unknown, seconds: number): number =>
  microsPerCall(op, seconds, 'cpu', 50);

export async function runFloorBench(options: FloorBenchOptions): Promise<FloorBenchResult> {
  if (!Number.isSafeInteger(options.blocks) || options.blocks < 1) {
    throw new InvalidInputError('blocks', 'must be a positive integer');
  }
  if (!Number.isSafeInteger(options.txs) || options.txs < 1) {
    throw new InvalidInputError('txs', 'must be a positive integer');
  }
  const suite = getSuite(options.suite);
  const chainId = 'bench-floor';
  const distinct = Math.min(options.blocks * options.txs, 3000);
  const { doctorKey, txs: prepared } = oneDoctorRecords(suite, chainId, distinct);
  // Nodes register certified members' keys (the known-key basis of the bound).
  suite.registerKnownSigner(doctorKey);
  const received = prepared.map((p) => decodeHashedTransaction(suite, p.bytes));

  let next = 0;
  const pick = <T>(items: readonly T[]): T => {
    const item = items[next++ % items.length];
    if (item === undefined) throw new InvariantError('empty benchmark input');
    return item;
  };
  const decodeUs = cpuTime(
    () => decodeHashedTransaction(suite, pick(prepared).bytes),
    options.seconds,
  );
  const decodeUncheckedUs = cpuTime(() => {
    const { bytes } = pick(prepared);
    return [transactionFromCodec(decode(bytes, { canonical: false })), suite.hash(bytes)];
  }, options.seconds);
  const signed = received.map(({ tx }) => ({ tx, unsigned: encodeUnsignedTransaction(tx) }));
  const verifyUs = cpuTime(() => {
    const one = pick(signed);
    if (!suite.verify(DOMAIN.tx, chainId, one.unsigned, one.tx.signature, one.tx.signer)) {
      throw new InvariantError('a benchmark transaction does not verify');
    }
  }, options.seconds);

  // Before any LevelDB work: its background compaction would count as this process's CPU.
  let transportUs = 0;
  if (options.transport) {
    const p2p = await runP2pBench({
      json: false,
      txs: 4000,
      txBytes: prepared[0]?.bytes.length ?? 1000,
    });
    transportUs = p2p.rows.find((r) => r.txsPerBundle === 20)?.cpuMicrosPerTx ?? 0;
  }

  const bytes32 = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
  const blocks: Block[] = Array.from({ length: options.blocks }, (_, b) => ({
    header: {
      chainId,
      height: b + 1,
      prevHash: bytes32(1),
      txRoot: bytes32(2),
      stateRoot: bytes32(3),
      proposer: 0,
      view: 0,
      timestamp: 1_800_000_000_000 + b,
      validatorSetHash: bytes32(4),
    },
    txs: Array.from({ length: options.txs }, () => pick(received).tx),
  }));
  // The record as its transaction carries it, under a key spread like a record id.
  const hashOf = new Map(received.map((r) => [r.tx, r.hash]));
  const recordPut = (tx: Transaction, n: number): KvBatchOp => {
    // distinct per write, still spread: the hash's leading bytes, a counter at the end
    const hash = new Uint8Array(hashOf.get(tx) ?? bytes32(0));
    new DataView(hash.buffer).setUint32(hash.length - 4, n);
    return { type: 'put', key: spreadKey(BUCKET.state, hash, 0), value: encode(tx.payload) };
  };
  const storeUs = await storeCost(blocks, (tx, n) => [recordPut(tx, n)]);
  const withAuditUs = await storeCost(blocks, (tx, n) => {
    const record = recordPut(tx, n);
    return [
      record,
      { type: 'put', key: spreadKey(BUCKET.index, record.key, 1), value: new Uint8Array(0) },
    ];
  });

  const parts = {
    transport: transportUs,
    'decode + hash': decodeUs,
    verify: verifyUs,
    'store block + record': storeUs,
  };
  const auditIndexUs = Math.max(0, withAuditUs - storeUs);
  return {
    suite: options.suite,
    txBytes: prepared[0]?.bytes.length ?? 0,
    txsPerBlock: options.txs,
    blocks: options.blocks,
    transportMeasured: options.transport,
    auditIndexUs,
    decodeUncheckedUs,
    ...floorArithmetic(parts, auditIndexUs),
    ceilingUncheckedDecodeOfBound: floorArithmetic(
      { ...parts, 'decode + hash': decodeUncheckedUs },
      auditIndexUs,
    ).ceilingOfBound,
  };
}

function parseArgs(argv: readonly string[]): FloorBenchOptions & { json: boolean } {
  const suiteArg = argv.find((a) => a.startsWith('--suite='))?.slice('--suite='.length) ?? 'intl';
  if (!isSuiteId(suiteArg))
    throw new InvalidInputError('suite', `expected intl or gm, got ${suiteArg}`);
  return {
    json: argv.includes('--json'),
    suite: suiteArg,
    blocks: Math.round(numberArg(argv, 'blocks', 2000, 1, 100_000)),
    txs: Math.round(numberArg(argv, 'txs', 30, 1, 2000)),
    seconds: numberArg(argv, 'seconds', 1, 0.01, 30),
    transport: true,
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const r = await runFloorBench(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const lines = [
    `the floor of one validator per ${r.suite} record.register (${r.txBytes} B), blocks of ${r.txsPerBlock}, ${r.blocks} blocks written durably`,
    `${'part'.padEnd(22)}${'µs CPU/tx'.padStart(10)}${'÷ verify'.padStart(10)}`,
    ...r.rows.map(
      (row) =>
        `${row.part.padEnd(22)}${row.us.toFixed(1).padStart(10)}${row.ofVerification.toFixed(3).padStart(10)}`,
    ),
    `floor: ${r.floorInVerifications.toFixed(2)} verifications per transaction → at most ${r.ceilingOfBound.toFixed(2)} of the bound`,
    `with one audit index entry (${r.auditIndexUs.toFixed(1)} µs): at most ${r.ceilingWithAuditOfBound.toFixed(2)} of the bound`,
    `decoding without the canonical check (${r.decodeUncheckedUs.toFixed(1)} µs instead of ${(r.rows.find((row) => row.part === 'decode + hash')?.us ?? 0).toFixed(1)}): at most ${r.ceilingUncheckedDecodeOfBound.toFixed(2)} of the bound`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1]?.endsWith('floor-bench.js') === true) {
  main().catch((err: unknown) => {
    console.error(`floor-bench: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
