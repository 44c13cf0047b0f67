/**
 * `medchain devnet`: the embedded default — a whole local alliance (four
 * hospitals and a regulator observer) as separate node processes on
 * 127.0.0.1, with generated keys and genesis, running until Ctrl-C.
 */
import path from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { SUITE_IDS } from '../../src/crypto/suite.js';
import type { SuiteId } from '../../src/crypto/suite.js';
import { DEFAULT_SCRYPT_PARAMS } from '../../src/crypto/keystore.js';
import { bootstrapDevnet } from '../../src/devnet/bootstrap.js';
import { DEFAULT_DEVNET_BASE_PORT, DEVNET_MANIFEST, initDevnet } from '../../src/devnet/layout.js';
import type { DevnetManifest } from '../../src/devnet/layout.js';
import {
  DevnetProcesses,
  fetchStatus,
  waitForApis,
  waitForHeight,
} from '../../src/devnet/processes.js';
import {
  CliError,
  defineCommand,
  EXIT_CODES,
  formatTable,
  integerOption,
  setAction,
} from '../common.js';
import type { JsonValue } from '../common.js';
import { waitForStopSignal } from '../signals.js';
import { demoJson, demoSummary, playDemo } from './demo.js';

interface DevnetOptions {
  readonly nodes: number;
  readonly suite: SuiteId;
  readonly dataDir: string;
  readonly basePort: number;
  readonly reset?: boolean;
  readonly scryptLogN?: number;
  readonly demo?: boolean;
}

const READY_TIMEOUT_MS = 90_000;
const DEFAULT_SCRYPT_LOG_N = Math.log2(DEFAULT_SCRYPT_PARAMS.N);

export function register(program: Command): void {
  const command = defineCommand(program, {
    name: 'devnet',
    description:
      'start a local alliance: hospitals + a regulator observer as separate processes on 127.0.0.1',
    examples: [
      'medchain devnet',
      'medchain devnet --nodes 7 --suite gm --data-dir /tmp/alliance --reset',
      'medchain devnet --demo',
    ],
    notes:
      'Creates keys, genesis and one config per node under --data-dir (reused on the next run, so\n' +
      'the chain continues; --reset starts a new one), starts every node, certifies an admin and a\n' +
      'doctor per institution (the first blocks), waits until every node has committed them, prints\n' +
      'the endpoints and writes them to <data-dir>/devnet.json. Ctrl-C or SIGTERM stops every node.\n' +
      'Ports: node i listens for p2p on base-port + 2i and for HTTP on base-port + 2i + 1.',
  })
    .addOption(
      new Option('--nodes <n>', 'voting institutions (validators)')
        .argParser(integerOption(1, 64))
        .default(4),
    )
    .addOption(
      new Option('--suite <suite>', 'crypto suite of the chain').choices(SUITE_IDS).default('intl'),
    )
    .option('--data-dir <dir>', 'where keys, genesis, configs, databases and logs go', '.devnet')
    .addOption(
      new Option('--base-port <port>', 'first port')
        .argParser(integerOption(1024, 65_000))
        .default(DEFAULT_DEVNET_BASE_PORT),
    )
    .option('--reset', 'delete an existing devnet in --data-dir first')
    .option('--demo', 'once the alliance is up, play the referral demo (see medchain demo --help)')
    .addOption(
      new Option('--scrypt-log-n <n>', 'keystore cost as log2(N); lower is weaker — tests only')
        .argParser(integerOption(10, 22))
        .hideHelp(),
    );

  setAction<DevnetOptions>(command, async (ctx) => {
    const o = ctx.options;
    const stop = waitForStopSignal();
    const logN = o.scryptLogN ?? DEFAULT_SCRYPT_LOG_N;
    const scrypt = { ...DEFAULT_SCRYPT_PARAMS, N: 2 ** logN };
    ctx.progress(`medchain devnet: preparing ${o.nodes} validators + 1 observer in ${o.dataDir} …`);
    const manifest = await initDevnet({
      dir: o.dataDir,
      validators: o.nodes,
      suite: o.suite,
      basePort: o.basePort,
      scrypt,
      ...(o.reset === true ? { reset: true } : {}),
    });
    const processes = new DevnetProcesses(manifest);
    let stopping = false;
    try {
      await processes.startAll();
      for (const node of manifest.nodes) {
        void processes.exited(node.id).then((code) => {
          if (!stopping)
            ctx.warn(`node ${node.id} exited (code ${String(code)}); its log: ${node.logFile}`);
        });
      }
      ctx.progress('starting nodes …');
      await Promise.race([
        waitForApis(manifest.nodes, READY_TIMEOUT_MS, 200),
        stop.signal.then(() => {
          throw new CliError(
            'INTERRUPTED',
            'interrupted before the devnet was ready',
            EXIT_CODES.failure,
          );
        }),
        firstExit(processes, manifest),
      ]);
      ctx.progress('certifying an admin and a doctor per institution (the first blocks) …');
      await bootstrapDevnet(manifest, { scrypt });
      const { height } = (await fetchStatus(manifest.nodes[0]?.apiUrl ?? '')) ?? { height: 1 };
      await waitForHeight(manifest.nodes, Math.max(1, height), READY_TIMEOUT_MS);
      const statuses = await Promise.all(manifest.nodes.map((n) => fetchStatus(n.apiUrl)));
      const summary = (): string =>
        [
          `alliance ${manifest.chainId} (suite ${manifest.suite}) is up and committing blocks:`,
          '',
          formatTable(
            ['institution', 'role', 'api', 'height'],
            manifest.nodes.map((n, i) => [
              n.id,
              n.voting ? 'validator' : 'observer',
              n.apiUrl,
              String(statuses[i]?.height ?? '?'),
            ]),
          ),
          '',
          `endpoints written to ${path.join(path.resolve(o.dataDir), DEVNET_MANIFEST)}; logs in <node>/node.log`,
          `try: curl ${manifest.nodes[0]?.apiUrl ?? ''}/v1/status`,
        ].join('\n');
      const heights = statuses.map((s) => s?.height ?? 0);
      if (o.demo === true) {
        ctx.progress(`${summary()}\n`);
        const demo = await Promise.race([
          playDemo(ctx, o.dataDir, logN),
          stop.signal.then(() => {
            throw new CliError('INTERRUPTED', 'interrupted during the demo', EXIT_CODES.failure);
          }),
        ]);
        ctx.result(
          {
            ...(manifestJson(manifest, heights) as Record<string, JsonValue>),
            demo: demoJson(demo),
          },
          () => `${demoSummary(demo)}\n\nThe alliance keeps running; Ctrl-C stops every node.`,
        );
      } else {
        ctx.result(manifestJson(manifest, heights), () => `${summary()}\nCtrl-C stops every node.`);
      }
      await stop.signal;
      ctx.progress('stopping …');
      return EXIT_CODES.ok;
    } finally {
      stopping = true;
      await processes.stopAll();
      stop.dispose();
    }
  });
}

function firstExit(processes: DevnetProcesses, manifest: DevnetManifest): Promise<never> {
  return Promise.race(
    manifest.nodes.map((n) =>
      processes.exited(n.id).then((code) => {
        throw new CliError(
          'DEVNET_NODE_FAILED',
          `node ${n.id} exited during start-up (code ${String(code)}); see ${n.logFile}`,
          EXIT_CODES.failure,
        );
      }),
    ),
  );
}

function manifestJson(manifest: DevnetManifest, heights: readonly number[]): JsonValue {
  return {
    chainId: manifest.chainId,
    suite: manifest.suite,
    genesisHash: manifest.genesisHash,
    nodes: manifest.nodes.map((n, i) => ({
      id: n.id,
      name: n.name,
      role: n.voting ? 'validator' : 'observer',
      apiUrl: n.apiUrl,
      p2pPort: n.p2pPort,
      height: heights[i] ?? 0,
    })),
  };
}
