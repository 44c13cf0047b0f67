/**
 * Encoding benchmark: what a node pays per transaction to encode a block of
 * received `record.register` transactions, the plain way (every transaction
 * encoded again) and spliced (its received bytes copied; src/codec
 * `encodeSpliced`), for the three places a node encodes each block — its WAL
 * record, the stored block, the certified block it gossips — side by side
 * with one intl signature verification in the same run. Before timing it
 * checks that both ways give the same bytes.
 *
 * Usage: node dist/src/bench/encode-bench.js [--json] [--seconds=0.5] [--txs=30]
 */
import { encodeWalRecord, walRecordToCodec } from '../../consensus/wire.js';
import type { WalRecord } from '../../consensus/types.js';
import { bytesEqual, encode } from '../codec/index.js';
import { DOMAIN, getSuite } from '../crypto/index.js';
import { InvariantError } from '../errors.js';
import {
  blockToCodec,
  commitCertificateToCodec,
  encodeBlock,
  encodeUnsignedTransaction,
} from '../ledger/encoding.js';
import { decodeHashedTransaction } from '../ledger/hashing.js';
import type { Block, CommitCertificate } from '../ledger/types.js';
import { encodeCertifiedBlock } from '../node/wire.js';
import { microsPerCall, numberArg, oneDoctorRecords } from './micro.js';

export interface EncodeBenchOptions {
  /** Time budget per measurement, seconds. */
  readonly seconds: number;
  /** Transactions per block. */
  readonly txs: number;
}

export interface EncodeBenchRow {
  readonly what: 'WAL record' | 'stored block' | 'certified block';
  /** Microseconds per transaction, every transaction encoded again. */
  readonly plainUs: number;
  /** Microseconds per transaction, transactions copied as their bytes. */
  readonly splicedUs: number;
}

export interface EncodeBenchResult {
  readonly txsPerBlock: number;
  readonly txBytes: number;
  /** One intl verification, microseconds. */
  readonly verifyUs: number;
  readonly rows: readonly EncodeBenchRow[];
  /** Per transaction and block, the three encodes together, in verifications. */
  readonly plainInVerifies: number;
  readonly splicedInVerifies: number;
}

const time = (op: () => unknown, seconds: number): number => microsPerCall(op, seconds, 'wall');

const bytes32 = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

export function runEncodeBench(options: EncodeBenchOptions): EncodeBenchResult {
  const suite = getSuite('intl');
  const chainId = 'bench-encode';
  const prepared = oneDoctorRecords(suite, chainId, options.txs).txs;
  // As a node holds them: decoded from the bytes it received.
  const txs = prepared.map((p) => decodeHashedTransaction(suite, p.bytes).tx);
  const block: Block = {
    header: {
      chainId,
      height: 5,
      prevHash: bytes32(1),
      txRoot: bytes32(2),
      stateRoot: bytes32(3),
      proposer: 0,
      view: 0,
      timestamp: 1_800_000_000_000,
      validatorSetHash: bytes32(4),
    },
    txs,
  };
  const signatures = [0, 1, 2].map((validator) => ({
    validator,
    signature: new Uint8Array(64).fill(validator),
  }));
  const certificate: CommitCertificate = {
    chainId,
    height: 5,
    view: 0,
    blockHash: bytes32(5),
    signatures,
  };
  const record: WalRecord = {
    type: 'prepared',
    certificate: {
      height: 5,
      view: 0,
      block,
      prePrepareSignature: new Uint8Array(64),
      prepares: signatures,
    },
  };
  const cases: {
    what: EncodeBenchRow['what'];
    plain: () => Uint8Array;
    spliced: () => Uint8Array;
  }[] = [
    {
      what: 'WAL record',
      plain: () => encode(walRecordToCodec(record)),
      spliced: () => encodeWalRecord(record),
    },
    {
      what: 'stored block',
      plain: () => encode(blockToCodec(block)),
      spliced: () => encodeBlock(block),
    },
    {
      what: 'certified block',
      plain: () =>
        encode({ block: blockToCodec(block), certificate: commitCertificateToCodec(certificate) }),
      spliced: () => encodeCertifiedBlock({ block, certificate }),
    },
  ];
  for (const c of cases) {
    if (!bytesEqual(c.plain(), c.spliced())) {
      throw new InvariantError('spliced and plain encodings differ', { what: c.what });
    }
  }
  const n = options.txs;
  const rows = cases.map((c) => ({
    what: c.what,
    plainUs: time(c.plain, options.seconds) / n,
    splicedUs: time(c.spliced, options.seconds) / n,
  }));
  // The verification alone: its signed bytes encoded beforehand.
  const signed = txs.map((tx) => ({ tx, unsigned: encodeUnsignedTransaction(tx) }));
  let next = 0;
  const verifyUs = time(() => {
    const one = signed[next++ % signed.length];
    if (
      one === undefined ||
      !suite.verify(DOMAIN.tx, one.tx.chainId, one.unsigned, one.tx.signature, one.tx.signer)
    ) {
      throw new InvariantError('a benchmark transaction does not verify');
    }
  }, options.seconds);
  const sum = (f: (r: EncodeBenchRow) => number): number => rows.reduce((a, r) => a + f(r), 0);
  return {
    txsPerBlock: n,
    txBytes: prepared[0]?.bytes.length ?? 0,
    verifyUs,
    rows,
    plainInVerifies: sum((r) => r.plainUs) / verifyUs,
    splicedInVerifies: sum((r) => r.splicedUs) / verifyUs,
  };
}

function parseArgs(argv: readonly string[]): EncodeBenchOptions & { json: boolean } {
  return {
    json: argv.includes('--json'),
    seconds: numberArg(argv, 'seconds', 0.5, 0.01, 30),
    txs: Math.round(numberArg(argv, 'txs', 30, 1, 2000)),
  };
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const r = runEncodeBench(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const lines = [
    `encoding a block of ${r.txsPerBlock} record.register transactions (${r.txBytes} B each), µs per transaction`,
    `${'encode'.padEnd(16)}${'plain'.padStart(9)}${'spliced'.padStart(9)}`,
    ...r.rows.map(
      (row) =>
        `${row.what.padEnd(16)}${row.plainUs.toFixed(2).padStart(9)}${row.splicedUs.toFixed(2).padStart(9)}`,
    ),
    `one intl verification: ${r.verifyUs.toFixed(1)} µs`,
    `the three encodes per transaction: ${r.plainInVerifies.toFixed(3)} verifications plain, ${r.splicedInVerifies.toFixed(3)} spliced`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1]?.endsWith('encode-bench.js') === true) {
  try {
    main();
  } catch (err) {
    console.error(`encode-bench: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
