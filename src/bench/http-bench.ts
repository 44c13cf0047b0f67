/**
 * HTTP client benchmark: the CPU the API client spends per `submitBatch`,
 * over its default transport (`node:http`, src/api/http-transport.ts) and
 * over the global `fetch`, side by side in one run (alternating rounds, after
 * a warm-up of each). The answering server runs in a child process, so the
 * CPU measured here is the client's alone — what a load generator (or a
 * hospital system) spends to send, on the same cores as the nodes when both
 * run on one machine.
 *
 * Usage: node dist/src/bench/http-bench.js [--json] [--requests=2000] [--rounds=3] [--txs=2]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { MedchainClient } from '../api/client.js';
import { InvariantError } from '../errors.js';
import { numberArg } from './micro.js';
import { median } from './stats.js';

export interface HttpBenchOptions {
  /** Timed requests per transport per round. */
  readonly requests: number;
  readonly rounds: number;
  /** Transactions (1 KB each) per batch. */
  readonly txs: number;
}

export type HttpTransportName = 'node:http' | 'fetch';

export interface HttpBenchRow {
  readonly transport: HttpTransportName;
  readonly round: number;
  /** Client CPU (user + system) per request, microseconds. */
  readonly cpuUs: number;
  /** Wall time per request (one in flight), microseconds. */
  readonly wallUs: number;
}

export interface HttpBenchResult {
  readonly txsPerBatch: number;
  readonly requestsPerRound: number;
  readonly rows: readonly HttpBenchRow[];
  /** Median over rounds of each transport's CPU per request. */
  readonly nodeHttpCpuUs: number;
  readonly fetchCpuUs: number;
  /** fetchCpuUs ÷ nodeHttpCpuUs. */
  readonly fetchOverNodeHttp: number;
}

/** The answering server: reads each request whole, answers the node's batch shape for `txs` transactions. */
const SERVER_SOURCE = `
const http = require('node:http');
const txs = Number(process.argv[1]);
const answer = JSON.stringify({ accepted: txs, duplicates: 0, rejected: 0,
  results: Array.from({ length: txs }, (_, index) => ({ index, status: 'accepted', hash: 'ab'.repeat(32) })) });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(answer); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

async function startServer(txs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', SERVER_SOURCE, String(txs)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const stdout = child.stdout;
  if (stdout === null) throw new InvariantError('the bench server has no stdout');
  let text = '';
  for await (const chunk of stdout) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  const port = Number(text.trim());
  if (!Number.isSafeInteger(port) || port <= 0) {
    child.kill();
    throw new InvariantError('the bench server did not report its port', { output: text });
  }
  return { child, port };
}

/** Summarises rows: each transport's median CPU per request over rounds, and their ratio. */
export function summarizeHttpBench(
  rows: readonly HttpBenchRow[],
): Pick<HttpBenchResult, 'nodeHttpCpuUs' | 'fetchCpuUs' | 'fetchOverNodeHttp'> {
  const of = (t: HttpTransportName): number =>
    median(rows.filter((r) => r.transport === t).map((r) => r.cpuUs)) ?? 0;
  const nodeHttpCpuUs = of('node:http');
  const fetchCpuUs = of('fetch');
  return { nodeHttpCpuUs, fetchCpuUs, fetchOverNodeHttp: fetchCpuUs / nodeHttpCpuUs };
}

export async function runHttpBench(options: HttpBenchOptions): Promise<HttpBenchResult> {
  const { child, port } = await startServer(options.txs);
  try {
    const url = `http://127.0.0.1:${port}`;
    const clients: Record<HttpTransportName, MedchainClient> = {
      'node:http': new MedchainClient(url),
      fetch: new MedchainClient(url, { fetch }),
    };
    const batch = Array.from({ length: options.txs }, (_, i) => new Uint8Array(1024).fill(i));
    const send = async (client: MedchainClient): Promise<void> => {
      const reply = await client.submitBatch(batch);
      if (reply.results.length !== options.txs) {
        throw new InvariantError('the bench server answered the wrong batch size');
      }
    };
    const transports = ['node:http', 'fetch'] as const;
    // warm-up: both paths compiled before anything is timed
    for (const transport of transports) {
      for (let i = 0; i < options.requests; i++) await send(clients[transport]);
    }
    const rows: HttpBenchRow[] = [];
    for (let round = 0; round < options.rounds; round++) {
      for (const transport of transports) {
        const client = clients[transport];
        const cpu = process.cpuUsage();
        const start = performance.now();
        for (let i = 0; i < options.requests; i++) await send(client);
        const wallMs = performance.now() - start;
        const used = process.cpuUsage(cpu);
        rows.push({
          transport,
          round,
          cpuUs: (used.user + used.system) / options.requests,
          wallUs: (wallMs * 1000) / options.requests,
        });
      }
    }
    return {
      txsPerBatch: options.txs,
      requestsPerRound: options.requests,
      rows,
      ...summarizeHttpBench(rows),
    };
  } finally {
    child.kill();
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

function parseArgs(argv: readonly string[]): HttpBenchOptions & { json: boolean } {
  return {
    json: argv.includes('--json'),
    requests: Math.round(numberArg(argv, 'requests', 2000, 10, 100_000)),
    rounds: Math.round(numberArg(argv, 'rounds', 3, 1, 20)),
    txs: Math.round(numberArg(argv, 'txs', 2, 1, 1000)),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const r = await runHttpBench(options);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const lines = [
    `client CPU per submitBatch of ${r.txsPerBatch} × 1 KB, ${r.requestsPerRound} requests per round, server in another process`,
    `${'round'.padEnd(7)}${'transport'.padEnd(11)}${'cpu µs'.padStart(9)}${'wall µs'.padStart(9)}`,
    ...r.rows.map(
      (row) =>
        `${String(row.round).padEnd(7)}${row.transport.padEnd(11)}${row.cpuUs.toFixed(0).padStart(9)}${row.wallUs.toFixed(0).padStart(9)}`,
    ),
    `median: node:http ${r.nodeHttpCpuUs.toFixed(0)} µs, fetch ${r.fetchCpuUs.toFixed(0)} µs: fetch costs ${r.fetchOverNodeHttp.toFixed(2)}× node:http`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1]?.endsWith('http-bench.js') === true) {
  main().catch((err: unknown) => {
    console.error(`http-bench: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
