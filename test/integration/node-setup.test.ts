/**
 * The README's "run a node for a real institution" walk-through, as real
 * commands: `init` per institution → `genesis create` from their descriptors →
 * `start` each node → `status` → `tx submit --wait`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { getSuite } from '../../src/crypto/index.js';
import { loadKeystore } from '../../src/crypto/keystore.js';
import { DevnetProcesses, CLI_MAIN, fetchStatus, waitFor } from '../../src/devnet/processes.js';
import type { DevnetManifest, DevnetNode } from '../../src/devnet/layout.js';
import { encodeTransaction } from '../../src/ledger/encoding.js';
import { signTransaction } from '../../src/ledger/sign.js';
import { buildMemberCertify, unsignedTransaction } from '../../src/records/builders.js';

const run = promisify(execFile);
const PASSPHRASE = 'synthetic test passphrase';
const BASE_PORT = 17700;
const institutions = [
  { id: 'hospital-a', role: 'hospital' },
  { id: 'hospital-b', role: 'hospital' },
  { id: 'centre-c', role: 'health-centre' },
  { id: 'hospital-d', role: 'hospital' },
  { id: 'regulator', role: 'regulator', observer: true },
] as const;

let dir: string;
let processes: DevnetProcesses | undefined;

async function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, MEDCHAIN_PASSPHRASE: PASSPHRASE },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-setup-'));
}, 30_000);

afterAll(async () => {
  await processes?.stopAll('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('setting up an alliance with init → genesis create → start', () => {
  it('runs, commits a submitted transaction and reports status', async () => {
    const descriptors: string[] = [];
    for (const [i, inst] of institutions.entries()) {
      const { stdout } = await cli([
        'init',
        '--json',
        '--id',
        inst.id,
        '--role',
        inst.role,
        '--dir',
        path.join(dir, inst.id),
        '--p2p-port',
        String(BASE_PORT + 2 * i),
        '--api-port',
        String(BASE_PORT + 2 * i + 1),
        '--scrypt-log-n',
        '12',
        ...('observer' in inst ? ['--observer'] : []),
      ]);
      const out = JSON.parse(stdout) as { descriptorFile: string; peerId: string };
      expect(out.peerId).toMatch(/^12D3KooW/);
      descriptors.push(out.descriptorFile);
    }
    const genesisFile = path.join(dir, 'genesis.json');
    const created = JSON.parse(
      (
        await cli([
          'genesis',
          'create',
          '--json',
          '--chain-id',
          'setup-test',
          ...descriptors.flatMap((d) => ['--institution', d]),
          '--out',
          genesisFile,
        ])
      ).stdout,
    ) as { hash: string };
    expect(created.hash).toMatch(/^[0-9a-f]{64}$/);

    // The leader distributes genesis.json; each node's config points at ./genesis.json.
    const nodes: DevnetNode[] = [];
    for (const [i, inst] of institutions.entries()) {
      const nodeDir = path.join(dir, inst.id);
      await writeFile(path.join(nodeDir, 'genesis.json'), await readFile(genesisFile));
      nodes.push({
        id: inst.id,
        name: inst.id,
        role: inst.role,
        voting: !('observer' in inst),
        p2pPort: BASE_PORT + 2 * i,
        apiPort: BASE_PORT + 2 * i + 1,
        apiUrl: `http://127.0.0.1:${BASE_PORT + 2 * i + 1}`,
        dir: nodeDir,
        configFile: path.join(nodeDir, 'node.yaml'),
        logFile: path.join(nodeDir, 'node.log'),
      });
    }
    const manifest: DevnetManifest = {
      chainId: 'setup-test',
      suite: 'intl',
      genesisFile,
      genesisHash: created.hash,
      passphraseFile: '',
      nodes,
    };
    processes = new DevnetProcesses(manifest, { env: { MEDCHAIN_PASSPHRASE: PASSPHRASE } });
    await processes.startAll();
    await waitFor(
      'every node to answer',
      async () =>
        (await Promise.all(nodes.map((n) => fetchStatus(n.apiUrl)))).every((s) => s !== null),
      60_000,
    );

    // A transaction signed with hospital-a's institution key, submitted to the observer.
    const suite = getSuite('intl');
    const key = await loadKeystore(
      path.join(dir, 'hospital-a', 'keys', 'signing.json'),
      PASSPHRASE,
    );
    const tx = signTransaction(
      suite,
      unsignedTransaction({
        chainId: 'setup-test',
        body: buildMemberCertify(suite, {
          memberId: 'doctor-1',
          publicKey: suite.generateKeyPair().publicKey,
          role: 'doctor',
          institution: 'hospital-a',
          notBefore: 0,
          notAfter: 1_000_000,
          patient: null,
        }),
        signer: key.publicKey,
        nonce: 1,
        validUntilHeight: 1000,
      }),
      key.privateKey,
    );
    const txFile = path.join(dir, 'tx.hex');
    await writeFile(txFile, toHex(encodeTransaction(tx)) + '\n');
    const regulatorUrl = nodes[4]?.apiUrl ?? '';
    const submitted = JSON.parse(
      (await cli(['tx', 'submit', txFile, '--wait', '--json', '--node', regulatorUrl])).stdout,
    ) as { height: number; receipt: { code: string } };
    expect(submitted.receipt.code).toBe('OK');
    expect(submitted.height).toBe(1);

    const status = JSON.parse(
      (await cli(['status', '--json', '--node', nodes[1]?.apiUrl ?? ''])).stdout,
    ) as { institutionId: string; height: number; validators: { total: number } };
    expect(status.institutionId).toBe('hospital-b');
    expect(status.validators.total).toBe(4);
    await waitFor(
      'hospital-b at height 1',
      async () => ((await fetchStatus(nodes[1]?.apiUrl ?? ''))?.height ?? 0) >= 1,
      30_000,
    );

    // A refused transaction: one line, exit 2.
    await writeFile(txFile, 'zz\n');
    const bad = await cli(['tx', 'submit', txFile, '--node', regulatorUrl]).catch(
      (e: unknown) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
  }, 150_000);
});
