/**
 * Hostile peers against real node processes: a stranger with a valid Noise
 * key is refused; a member that sends garbage, oversize consensus frames and
 * a garbage transaction bundle is dropped and counted, and the alliance keeps
 * committing.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P2pHost } from '../../p2p/host.js';
import { generatePeerKeyPair, peerKeyFromSeed } from '../../p2p/peer-key.js';
import { loadKeystore } from '../../src/crypto/keystore.js';
import { readDevnetPassphrase } from '../../src/devnet/bootstrap.js';
import type { DevnetNode } from '../../src/devnet/layout.js';
import { fetchStatus, waitFor } from '../../src/devnet/processes.js';
import { prePrepareVoteBytes } from '../../consensus/votes.js';
import { encode, fromHex } from '../../src/codec/index.js';
import { DOMAIN, getSuite } from '../../src/crypto/index.js';
import { blockHash } from '../../src/ledger/hashing.js';
import { blockHeaderToCodec, encodeTransaction } from '../../src/ledger/encoding.js';
import { silentLogger } from '../../src/logger.js';
import { decodeTxBundle, encodeTxsRequest } from '../../src/node/wire.js';
import { CertifyWorkload, startCluster, waitForCommitted } from './cluster-fixtures.js';
import type { Cluster } from './cluster-fixtures.js';

let cluster: Cluster;
const hosts: P2pHost[] = [];

beforeAll(async () => {
  cluster = await startCluster('hostile', { validators: 4, observers: 1, basePort: 17900 });
}, 90_000);

afterAll(async () => {
  for (const h of hosts) await h.stop();
  await (cluster as Cluster | undefined)?.destroy();
});

const handlers = {
  onConsensusMessage: () => undefined,
  onTxBundle: () => 'ignore' as const,
  onBlock: () => 'ignore' as const,
  onSyncRequest: () => Promise.resolve(new Uint8Array()),
  onVaultRequest: () => Promise.resolve(new Uint8Array()),
};

function members(): { peerId: string; addrs: string[]; voting: boolean }[] {
  return cluster.validators().map((n) => ({
    peerId: peerIdOf(n),
    addrs: [`/ip4/127.0.0.1/tcp/${n.p2pPort}`],
    voting: true,
  }));
}

const peerIds = new Map<string, string>();
function peerIdOf(node: DevnetNode): string {
  const id = peerIds.get(node.id);
  if (!id) throw new TypeError(`no peer id for ${node.id}`);
  return id;
}

/** One series of a node's /metrics, by its exact labels (`reason="oversize"`). */
async function series(node: DevnetNode, name: string, labels: string): Promise<number> {
  const text = await cluster.client(node.id).metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** A series of `medchain_p2p_dropped` / `medchain_consensus_dropped` from a node's /metrics. */
function metric(node: DevnetNode, name: string, reason: string): Promise<number> {
  return series(node, name, `reason="${reason}"`);
}

/** A p2p host with the observer's own key (its process stopped), connected to `target`. */
async function impersonateObserver(target: DevnetNode): Promise<P2pHost> {
  const observer = cluster.node('health-commission');
  await cluster.processes.stop(observer.id);
  const seed = await loadKeystore(
    path.join(observer.dir, 'keys', 'p2p.json'),
    await readDevnetPassphrase(cluster.manifest),
  );
  const host = await P2pHost.create(
    {
      chainId: cluster.manifest.chainId,
      peerKey: await peerKeyFromSeed(seed.privateKey),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      members: members(),
      logger: silentLogger(),
      redialIntervalMs: 100,
      limits: { maxConsensusMessageBytes: 128 * 1024 * 1024 },
    },
    handlers,
  );
  hosts.push(host);
  await host.start();
  const targetPeer = peerIdOf(target);
  await waitFor(
    'a connection to the target',
    () => host.connectedPeers().includes(targetPeer),
    20_000,
  );
  return host;
}

/** One workload for the file: its member ids never repeat. */
let workloadOnce: CertifyWorkload | null = null;
function workload(): CertifyWorkload {
  workloadOnce ??= new CertifyWorkload(cluster.manifest);
  return workloadOnce;
}

async function stillCommits(via: DevnetNode): Promise<void> {
  const height = (await fetchStatus(via.apiUrl))?.height ?? 0;
  const { hash } = await cluster.client(via.id).submitTransaction(await workload().tx(via, height));
  for (const n of cluster.validators()) {
    expect((await waitForCommitted(cluster.client(n.id), hash, 30_000)).code).toBe('OK');
  }
}

describe('hostile peers against real nodes', () => {
  it('refuses a stranger with a valid Noise key before any protocol runs', async () => {
    const genesis = JSON.parse(
      await import('node:fs/promises').then((fs) =>
        fs.readFile(cluster.manifest.genesisFile, 'utf8'),
      ),
    ) as { institutions: { id: string; peerId: string }[] };
    for (const i of genesis.institutions) peerIds.set(i.id, i.peerId);

    const target = cluster.node('community-centre');
    const before = await metric(target, 'medchain_p2p_dropped', 'stranger');
    const stranger = await P2pHost.create(
      {
        chainId: cluster.manifest.chainId,
        peerKey: await peerKeyFromSeed(generatePeerKeyPair().privateKey),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        members: members(),
        logger: silentLogger(),
        redialIntervalMs: 100,
      },
      handlers,
    );
    hosts.push(stranger);
    await stranger.start();
    await waitFor(
      'the node to count the refused stranger',
      async () => (await metric(target, 'medchain_p2p_dropped', 'stranger')) > before,
      20_000,
    );
    // (The stranger's own dial may resolve for a moment before the node aborts it: judge by the node.)
    const peers = await cluster.client(target.id).peers();
    expect(peers.map((p) => p.peerId)).not.toContain(stranger.peerId);
    await stranger.stop();
    await stillCommits(target);
  }, 60_000);

  it('drops garbage and oversize messages from a member and keeps committing', async () => {
    const target = cluster.node('district-hospital');
    const bad = await impersonateObserver(target);
    const targetPeer = peerIdOf(target);

    const malformedBefore = await metric(target, 'medchain_consensus_dropped', 'malformed');
    const oversizeBefore = await metric(target, 'medchain_p2p_dropped', 'oversize');

    bad.sendConsensus(targetPeer, new TextEncoder().encode('definitely not CBOR'));
    bad.sendConsensus(
      targetPeer,
      new Uint8Array([0xa1, 0x64, 0x6b, 0x69, 0x6e, 0x64, 0x63, 0x66, 0x6f, 0x6f]),
    );
    await waitFor(
      'the malformed consensus messages to be counted',
      async () =>
        (await metric(target, 'medchain_consensus_dropped', 'malformed')) >= malformedBefore + 2,
      20_000,
    );
    // Beyond any limit a node sets (at most 255 MiB; 80 MiB for this genesis policy).
    bad.sendConsensus(targetPeer, new Uint8Array(100 * 1024 * 1024).fill(7));
    await waitFor(
      'the oversize frame to be dropped',
      async () => (await metric(target, 'medchain_p2p_dropped', 'oversize')) > oversizeBefore,
      20_000,
    );
    const invalidBefore = await metric(target, 'medchain_p2p_dropped', 'invalid-bundle');
    bad.sendTxBundle(targetPeer, new TextEncoder().encode('garbage bundle'));
    await waitFor(
      'the garbage bundle to be rejected',
      async () => (await metric(target, 'medchain_p2p_dropped', 'invalid-bundle')) > invalidBefore,
      20_000,
    );
    await bad.stop();
    expect((await cluster.client(target.id).health()).ok).toBe(true);
    await stillCommits(target);
  }, 90_000);

  it('refuses an unsigned compact pre-prepare, asks the named proposer for the transactions of a signed one, drops it when they do not exist, and serves committed ones', async () => {
    const target = cluster.node('county-hospital');
    const bad = await impersonateObserver(target);
    // The proposer it names is another validator: the target must ask that node.
    const validators = cluster.validators();
    const from = validators.findIndex((n) => n.id !== target.id);
    const asked = validators[from];
    if (!asked) expect.fail('no other validator');
    const servedBefore = await series(
      asked,
      'medchain_p2p_messages',
      'protocol="sync",direction="in"',
    );
    const header = {
      chainId: cluster.manifest.chainId,
      height: 1_000_000,
      prevHash: new Uint8Array(32).fill(1),
      txRoot: new Uint8Array(32).fill(2),
      stateRoot: new Uint8Array(32).fill(3),
      proposer: from,
      view: 0,
      timestamp: Date.now(),
      validatorSetHash: new Uint8Array(32).fill(4),
    };
    const compact = (signature: Uint8Array): Uint8Array =>
      encode({
        kind: 'pre-prepare-compact',
        from,
        view: 0,
        height: 1_000_000,
        header: blockHeaderToCodec(header),
        txHashes: [new Uint8Array(32).fill(0xab)],
        signature,
      });
    // Unsigned: refused before anybody is asked anything.
    /** Sends `bytes` to the target and waits until its count of `outcome` rises. */
    const expectOutcome = async (bytes: Uint8Array, outcome: string): Promise<void> => {
      const read = (): Promise<number> =>
        series(target, 'medchain_consensus_compact_pre_prepares', `outcome="${outcome}"`);
      const before = await read();
      bad.sendConsensus(peerIdOf(target), bytes);
      await waitFor(
        `the target to count the compact pre-prepare as ${outcome}`,
        async () => (await read()) > before,
        20_000,
      );
    };
    await expectOutcome(compact(new Uint8Array(64)), 'refused');
    // Signed with the named validator's own key (read from its keystore): the target asks it.
    const suite = getSuite(cluster.manifest.suite);
    const signing = await loadKeystore(
      path.join(asked.dir, 'keys', 'signing.json'),
      await readDevnetPassphrase(cluster.manifest),
    );
    const signature = suite.sign(
      DOMAIN.consensus,
      cluster.manifest.chainId,
      prePrepareVoteBytes(1_000_000, 0, blockHash(suite, header)),
      signing.privateKey,
    );
    await expectOutcome(compact(signature), 'dropped');
    // It asked the proposer it names (over the sync protocol) before giving up.
    expect(
      await series(asked, 'medchain_p2p_messages', 'protocol="sync",direction="in"'),
    ).toBeGreaterThan(servedBefore);

    // A validator also serves transactions it has committed (a lagging backup asks for those).
    const height = (await fetchStatus(asked.apiUrl))?.height ?? 0;
    const tx = await workload().tx(asked, height);
    const { hash } = await cluster.client(asked.id).submitTransaction(tx);
    expect((await waitForCommitted(cluster.client(asked.id), hash, 30_000)).code).toBe('OK');
    const answer = decodeTxBundle(
      await bad.request('sync', peerIdOf(asked), encodeTxsRequest([fromHex(hash)])),
      1024 * 1024,
      10,
    );
    expect(answer.map((b) => Buffer.from(b).toString('hex'))).toEqual([
      Buffer.from(encodeTransaction(tx)).toString('hex'),
    ]);
    await bad.stop();
    await stillCommits(target);
  }, 90_000);
});
