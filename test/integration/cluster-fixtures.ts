/**
 * A real devnet for integration tests: node processes (`node dist/cli/main.js
 * start`) on 127.0.0.1, talking over real libp2p with real LevelDB, driven
 * through their HTTP API. Requires `npm run build` (npm test runs it first).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MedchainClient } from '../../src/api/client.js';
import type { BlockJson } from '../../src/api/json.js';
import { getSuite } from '../../src/crypto/index.js';
import { MedchainError } from '../../src/errors.js';
import type { KeyPair } from '../../src/crypto/suite.js';
import { loadInstitutionKey } from '../../src/devnet/bootstrap.js';
import { initDevnet } from '../../src/devnet/layout.js';
import type { DevnetManifest, DevnetNode, DevnetOptions } from '../../src/devnet/layout.js';
import { CLI_MAIN, DevnetProcesses, waitFor, waitForApis } from '../../src/devnet/processes.js';
import { signTransaction } from '../../src/ledger/sign.js';
import type { Transaction } from '../../src/ledger/types.js';
import { buildMemberCertify, unsignedTransaction } from '../../src/records/builders.js';

export const TEST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 } as const;

export interface Cluster {
  readonly dir: string;
  readonly manifest: DevnetManifest;
  readonly processes: DevnetProcesses;
  client(id: string): MedchainClient;
  node(id: string): DevnetNode;
  validators(): DevnetNode[];
  destroy(): Promise<void>;
}

export async function startCluster(
  name: string,
  options: Omit<DevnetOptions, 'dir'>,
): Promise<Cluster> {
  if (!existsSync(CLI_MAIN)) {
    throw new MedchainError(
      'TEST_SETUP',
      `${CLI_MAIN} is missing: run npm run build (npm test does) before the integration tests`,
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `medchain-${name}-`));
  const manifest = await initDevnet({ scrypt: TEST_SCRYPT, ...options, dir });
  const processes = new DevnetProcesses(manifest, { env: { MEDCHAIN_LOG_LEVEL: 'info' } });
  await processes.startAll();
  await waitForApis(manifest.nodes, 60_000);
  const clients = new Map(manifest.nodes.map((n) => [n.id, new MedchainClient(n.apiUrl)]));
  return {
    dir,
    manifest,
    processes,
    client: (id) => {
      const c = clients.get(id);
      if (!c) throw new MedchainError('TEST_SETUP', `no node ${id}`);
      return c;
    },
    node: (id) => processes.node(id),
    validators: () => manifest.nodes.filter((n) => n.voting),
    destroy: async () => {
      await processes.stopAll('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { waitForApis };

/** Signs `member.certify` transactions with an institution's key (valid without any set-up). */
export class CertifyWorkload {
  readonly #suite;
  readonly #manifest: DevnetManifest;
  readonly #keys = new Map<string, KeyPair>();
  #nonce = Date.now() * 1000;
  #seq = 0;

  constructor(manifest: DevnetManifest) {
    this.#manifest = manifest;
    this.#suite = getSuite(manifest.suite);
  }

  async tx(institution: DevnetNode, height: number): Promise<Transaction> {
    let key = this.#keys.get(institution.id);
    if (!key) {
      key = await loadInstitutionKey(this.#manifest, institution);
      this.#keys.set(institution.id, key);
    }
    this.#seq++;
    const body = buildMemberCertify(this.#suite, {
      memberId: `test-doctor-${this.#seq}`,
      publicKey: this.#suite.generateKeyPair().publicKey,
      role: 'doctor',
      institution: institution.id,
      notBefore: 0,
      notAfter: height + 1_000_000,
      patient: null,
    });
    return signTransaction(
      this.#suite,
      unsignedTransaction({
        chainId: this.#manifest.chainId,
        body,
        signer: key.publicKey,
        nonce: ++this.#nonce,
        validUntilHeight: height + 10_000,
      }),
      key.privateKey,
    );
  }
}

/** Waits until `client` has committed the transaction; returns its receipt code and height. */
export async function waitForCommitted(
  client: MedchainClient,
  hash: string,
  timeoutMs: number,
): Promise<{ code: string; height: number }> {
  return waitFor(
    `transaction ${hash.slice(0, 12)}… to commit at ${client.baseUrl}`,
    async () => {
      const found = await client.getTransaction(hash).catch(() => null);
      if (found?.status !== 'committed' || !found.receipt || found.height === null) return null;
      return { code: found.receipt.code, height: found.height };
    },
    timeoutMs,
    100,
  );
}

/** Block `height` as every listed node has it (throws if a node lacks it). */
export async function blocksAt(
  clients: readonly MedchainClient[],
  height: number,
): Promise<BlockJson[]> {
  return Promise.all(clients.map((c) => c.getBlock(height)));
}
