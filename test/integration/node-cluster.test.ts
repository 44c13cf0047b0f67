/**
 * Issue 4's acceptance on real processes: 4 validators + 1 observer on
 * 127.0.0.1. Scenarios run in order on one alliance (each leaves it healthy
 * for the next): commit everywhere with identical hashes and state roots;
 * kill -9 of a backup; kill -9 of the primary (view change); restart and catch
 * up; SIGTERM everything, restart, nothing lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStatus, waitFor, waitForHeight } from '../../src/devnet/processes.js';
import type { DevnetNode } from '../../src/devnet/layout.js';
import {
  CertifyWorkload,
  startCluster,
  waitForApis,
  waitForCommitted,
} from './cluster-fixtures.js';
import type { Cluster } from './cluster-fixtures.js';

let cluster: Cluster;
let workload: CertifyWorkload;

beforeAll(async () => {
  cluster = await startCluster('cluster', { validators: 4, observers: 1, basePort: 17100 });
  workload = new CertifyWorkload(cluster.manifest);
}, 90_000);

afterAll(async () => {
  await (cluster as Cluster | undefined)?.destroy();
});

async function heightOf(node: DevnetNode): Promise<number> {
  return (await fetchStatus(node.apiUrl))?.height ?? -1;
}

/** Submit `count` txs through `via` (signed by `signer`'s institution key); returns their hashes. */
async function submit(via: DevnetNode, signer: DevnetNode, count: number): Promise<string[]> {
  const client = cluster.client(via.id);
  const height = await heightOf(via);
  const txs = [];
  for (let i = 0; i < count; i++) txs.push(await workload.tx(signer, height));
  const result = await client.submitBatch(txs);
  return result.results.map((r) => {
    if (!('hash' in r)) expect.fail(`submission refused: ${JSON.stringify(r)}`);
    return r.hash;
  });
}

/** Every listed node has the same block hash and state root at every height up to `height`. */
async function expectSameChain(nodes: readonly DevnetNode[], height: number): Promise<void> {
  await waitForHeight(nodes, height, 30_000);
  for (let h = 1; h <= height; h++) {
    const blocks = await Promise.all(nodes.map((n) => cluster.client(n.id).getBlock(h)));
    expect(new Set(blocks.map((b) => b.hash)).size, `block hashes at height ${h}`).toBe(1);
  }
  // State roots: wait until all report the same height, then compare their own roots.
  const statuses = await waitFor(
    'all nodes at one height',
    async () => {
      const s = await Promise.all(nodes.map((n) => fetchStatus(n.apiUrl)));
      const heights = new Set(s.map((x) => x?.height));
      return heights.size === 1 && s.every((x) => x !== null) ? s : null;
    },
    30_000,
  );
  const roots = statuses.map((s) => s.stateRoot);
  expect(roots[0]).toMatch(/^[0-9a-f]{64}$/);
  expect(new Set(roots).size, 'state roots').toBe(1);
}

describe('a 4-validator + observer alliance of real processes', () => {
  it('commits transactions submitted to any node on every node, identically', async () => {
    const nodes = cluster.manifest.nodes;
    const hashes: string[] = [];
    // Through every node, observer included (it gossips them to the validators).
    for (const [i, via] of nodes.entries()) {
      const signer = cluster.validators()[i % 4] as DevnetNode;
      hashes.push(...(await submit(via, signer, 5)));
    }
    for (const node of nodes) {
      for (const hash of hashes) {
        const { code } = await waitForCommitted(cluster.client(node.id), hash, 30_000);
        expect(code).toBe('OK');
      }
    }
    const top = Math.min(...(await Promise.all(nodes.map(heightOf))));
    await expectSameChain(nodes, top);
    // Pre-prepares travel compact (hashes, not transactions) and backups assemble them.
    const assembled = await Promise.all(
      cluster.validators().map(async (n) => {
        const text = await cluster.client(n.id).metrics();
        return text
          .split('\n')
          .filter((l) => l.startsWith('medchain_consensus_compact_pre_prepares{'))
          .filter((l) => !l.includes('outcome="dropped"'))
          .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      }),
    );
    expect(assembled.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('keeps committing after kill -9 of a backup, which then restarts and catches up', async () => {
    const backup = cluster.node('county-hospital');
    const rest = cluster.manifest.nodes.filter((n) => n.id !== backup.id);
    await cluster.processes.kill(backup.id);
    const before = await heightOf(rest[0] as DevnetNode);
    const hashes = await submit(rest[1] as DevnetNode, rest[1] as DevnetNode, 10);
    for (const h of hashes) await waitForCommitted(cluster.client(rest[0]?.id ?? ''), h, 30_000);
    expect(await heightOf(rest[0] as DevnetNode)).toBeGreaterThan(before);

    await cluster.processes.start(backup.id);
    await waitForApis([backup], 30_000);
    const target = await heightOf(rest[0] as DevnetNode);
    await waitForHeight([backup], target, 30_000);
    for (const h of hashes)
      expect((await waitForCommitted(cluster.client(backup.id), h, 5000)).code).toBe('OK');
    await expectSameChain(cluster.manifest.nodes, target);
  }, 120_000);

  it('changes view after kill -9 of the primary and makes progress; the old primary rejoins', async () => {
    const status = await cluster.client('district-hospital').status();
    const primary = cluster.node(status.primary.institutionId);
    const others = cluster.manifest.nodes.filter((n) => n.id !== primary.id);
    const validator = others.find((n) => n.voting) as DevnetNode;
    await cluster.processes.kill(primary.id);
    const hashes = await submit(validator, validator, 5);
    for (const h of hashes) await waitForCommitted(cluster.client(validator.id), h, 60_000);
    const after = await cluster.client(validator.id).status();
    expect(after.view).toBeGreaterThan(status.view);
    expect(after.primary.institutionId).not.toBe(primary.id);

    await cluster.processes.start(primary.id);
    await waitForApis([primary], 30_000);
    await waitForHeight([primary], after.height, 30_000);
    // It votes again: the chain keeps going with all five up.
    const more = await submit(primary, primary, 3);
    for (const n of cluster.manifest.nodes) {
      for (const h of more)
        expect((await waitForCommitted(cluster.client(n.id), h, 60_000)).code).toBe('OK');
    }
    await expectSameChain(cluster.manifest.nodes, await heightOf(validator));
  }, 180_000);

  it('continues from where it was after SIGTERM of every node and a restart, losing nothing', async () => {
    const nodes = cluster.manifest.nodes;
    const hashes = await submit(nodes[0] as DevnetNode, nodes[2] as DevnetNode, 5);
    for (const h of hashes) await waitForCommitted(cluster.client(nodes[0]?.id ?? ''), h, 30_000);
    await waitForHeight(nodes, await heightOf(nodes[0] as DevnetNode), 30_000);
    const before = await Promise.all(nodes.map((n) => cluster.client(n.id).status()));
    const codes = await Promise.all(nodes.map((n) => cluster.processes.stop(n.id, 'SIGTERM')));
    expect(codes).toEqual(nodes.map(() => 0));

    await cluster.processes.startAll();
    await waitForApis(nodes, 60_000);
    const after = await Promise.all(nodes.map((n) => cluster.client(n.id).status()));
    for (const [i, s] of after.entries()) {
      expect(s.height).toBeGreaterThanOrEqual(before[i]?.height ?? Infinity);
      const block = await cluster.client(s.institutionId).getBlock(before[i]?.height ?? 1);
      expect(block.hash).toBe(before[i]?.latestBlockHash);
    }
    for (const n of nodes) {
      for (const h of hashes)
        expect((await waitForCommitted(cluster.client(n.id), h, 10_000)).code).toBe('OK');
    }
    const more = await submit(nodes[3] as DevnetNode, nodes[3] as DevnetNode, 3);
    for (const h of more) await waitForCommitted(cluster.client(nodes[4]?.id ?? ''), h, 60_000);
    await expectSameChain(nodes, await heightOf(nodes[0] as DevnetNode));
  }, 180_000);
});
