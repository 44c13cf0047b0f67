/**
 * Transport benchmark: the CPU it costs to move transactions over one libp2p
 * connection as the nodes do (TCP + Noise + Yamux on 127.0.0.1, both ends in
 * this process), in bundles of 1, 5, 20 and 100 transactions, side by side
 * with the intl suite's signature verification in the same process. The ratio
 * says how much of the signature-verification bound the transport alone would
 * use if every transaction crossed one connection once per node.
 *
 * Usage: node dist/src/bench/p2p-bench.js [--json] [--txs=20000] [--tx-bytes=1000]
 *   --json      print one JSON object instead of the table
 *   --txs       transactions sent per bundle size (default 20000)
 *   --tx-bytes  bytes per transaction (default 1000, a `record.register` is about 1 KB)
 */
import '../polyfill.js';
import { randomBytes } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { DOMAIN, getSuite } from '../crypto/index.js';

const PROTOCOL = '/medchain-bench/p2p/1';
const BUNDLE_SIZES = [1, 5, 20, 100] as const;
/** Stop queueing while the stream holds more than this (docs: FACTS.md backpressure). */
const HIGH_WATER_BYTES = 1024 * 1024;
const TIMEOUT_MS = 120_000;

interface Options {
  readonly json: boolean;
  readonly txs: number;
  readonly txBytes: number;
}

function intArg(argv: readonly string[], name: string, fallback: number, max: number): number {
  const match = new RegExp(`^--${name}=(\\d+)$`).exec(
    argv.find((a) => a.startsWith(`--${name}=`)) ?? '',
  );
  return match?.[1] === undefined ? fallback : Math.min(max, Math.max(1, Number(match[1])));
}

export function parseP2pBenchArgs(argv: readonly string[]): Options {
  return {
    json: argv.includes('--json'),
    txs: intArg(argv, 'txs', 20_000, 1_000_000),
    txBytes: intArg(argv, 'tx-bytes', 1000, 1024 * 1024),
  };
}

function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

export interface P2pBenchRow {
  readonly txsPerBundle: number;
  /** CPU (both ends, all threads of this process) per transaction, µs. */
  readonly cpuMicrosPerTx: number;
  /** The same per message (bundle). */
  readonly cpuMicrosPerMessage: number;
  /** cpuMicrosPerTx ÷ one verification's CPU. */
  readonly ofVerification: number;
}

export interface P2pBenchReport {
  readonly txBytes: number;
  readonly txsPerRow: number;
  readonly verifyMicros: number;
  readonly rows: readonly P2pBenchRow[];
}

async function connectedPair(): Promise<{
  nodes: Libp2p[];
  send: (bytes: Uint8Array) => Promise<void>;
  received: () => number;
  waitFor: (bytes: number) => Promise<void>;
}> {
  const make = (): Promise<Libp2p> =>
    createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    });
  const [a, b] = await Promise.all([make(), make()]);
  let got = 0;
  let waiter: { bytes: number; resolve: () => void } | null = null;
  await b.handle(PROTOCOL, (stream) => {
    stream.addEventListener('message', (evt) => {
      got += evt.data.byteLength;
      if (waiter && got >= waiter.bytes) {
        waiter.resolve();
        waiter = null;
      }
    });
  });
  const addr = b.getMultiaddrs()[0];
  if (!addr) throw new RangeError('the receiving host has no listen address');
  const stream = await a.dialProtocol(addr, PROTOCOL);
  return {
    nodes: [a, b],
    send: async (bytes) => {
      stream.send(bytes);
      while (stream.writeBufferLength > HIGH_WATER_BYTES) {
        await new Promise<void>((resolve) => {
          stream.addEventListener(
            'drain',
            () => {
              resolve();
            },
            { once: true },
          );
        });
      }
    },
    received: () => got,
    waitFor: (bytes) =>
      got >= bytes
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              reject(new RangeError(`received ${got} of ${bytes} bytes in ${TIMEOUT_MS} ms`));
            }, TIMEOUT_MS);
            waiter = {
              bytes,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            };
          }),
  };
}

/** Verification CPU per signature (intl, an 880-byte message, 64 keys), µs. */
function verifyMicros(count: number): number {
  const suite = getSuite('intl');
  const keys = Array.from({ length: 64 }, () => suite.generateKeyPair());
  const message = randomBytes(880);
  const signed = keys.map((k) => ({
    key: k.publicKey,
    sig: suite.sign(DOMAIN.tx, 'bench-chain', message, k.privateKey),
  }));
  const since = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const s = signed[i % signed.length];
    if (s && !suite.verify(DOMAIN.tx, 'bench-chain', message, s.sig, s.key)) {
      throw new RangeError('a benchmark signature did not verify');
    }
  }
  return cpuMicros(since) / count;
}

export async function runP2pBench(options: Options): Promise<P2pBenchReport> {
  const pair = await connectedPair();
  try {
    const verify = verifyMicros(Math.min(options.txs, 20_000));
    const rows: P2pBenchRow[] = [];
    for (const txsPerBundle of BUNDLE_SIZES) {
      const bundle = randomBytes(options.txBytes * txsPerBundle);
      const messages = Math.max(1, Math.floor(options.txs / txsPerBundle));
      // Warm-up: JIT, stream windows.
      const warm = pair.received() + bundle.length * 20;
      for (let i = 0; i < 20; i++) await pair.send(bundle);
      await pair.waitFor(warm);
      const target = pair.received() + bundle.length * messages;
      const since = process.cpuUsage();
      for (let i = 0; i < messages; i++) await pair.send(bundle);
      await pair.waitFor(target);
      const perMessage = cpuMicros(since) / messages;
      rows.push({
        txsPerBundle,
        cpuMicrosPerTx: perMessage / txsPerBundle,
        cpuMicrosPerMessage: perMessage,
        ofVerification: perMessage / txsPerBundle / verify,
      });
    }
    return { txBytes: options.txBytes, txsPerRow: options.txs, verifyMicros: verify, rows };
  } finally {
    for (const n of pair.nodes) await n.stop();
  }
}

export function formatP2pBench(r: P2pBenchReport): string {
  const lines = [
    `medchain p2p bench — ${r.txsPerRow} transactions of ${r.txBytes} bytes per row over one TCP + Noise + Yamux stream (both ends in this process)`,
    `one intl signature verification: ${r.verifyMicros.toFixed(1)} µs CPU`,
    `${'txs/bundle'.padEnd(12)}${'µs CPU/msg'.padStart(12)}${'µs CPU/tx'.padStart(12)}${'÷ verify'.padStart(10)}`,
  ];
  for (const row of r.rows) {
    lines.push(
      `${String(row.txsPerBundle).padEnd(12)}${row.cpuMicrosPerMessage.toFixed(1).padStart(12)}${row.cpuMicrosPerTx.toFixed(1).padStart(12)}${row.ofVerification.toFixed(3).padStart(10)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseP2pBenchArgs(process.argv.slice(2));
  const report = await runP2pBench(options);
  console.log(options.json ? JSON.stringify(report) : formatP2pBench(report));
}

if (process.argv[1]?.endsWith('p2p-bench.js') === true) {
  main().catch((err: unknown) => {
    console.error(`p2p-bench: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
