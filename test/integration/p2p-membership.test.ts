/**
 * The allowlist on real connections: a stranger with a valid Noise key is
 * refused at the encrypted-connection hook (no handler of ours ever sees it),
 * a member removed with setMembers is disconnected and kept out, and a member
 * that sends garbage or oversize consensus frames is dropped and counted
 * while the receiver keeps working.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p, Stream, StreamCloseEvent } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../p2p/framing.js';
import type { PeerKey } from '../../p2p/peer-key.js';
import {
  CHAIN_ID,
  createNode,
  indexOf,
  memberOf,
  numbered,
  startAlliance,
  stopAll,
  testPeerKey,
  waitFor,
} from './p2p-fixtures.js';
import type { TestNode } from './p2p-fixtures.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A bare libp2p node (TCP + Noise + Yamux, nothing else) with the given identity. */
async function rawNode(key: PeerKey): Promise<Libp2p> {
  const node = await createLibp2p({
    privateKey: key.privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
  });
  cleanup.push(async () => {
    await node.stop();
  });
  return node;
}

/** Resolves with the close event (`null` if the stream was already closed). */
function closed(stream: Stream): Promise<StreamCloseEvent | null> {
  return new Promise((resolve) => {
    if (stream.status !== 'open') {
      resolve(null);
      return;
    }
    stream.addEventListener('close', resolve, { once: true });
  });
}

describe('connection gater', () => {
  it('refuses a stranger with a valid Noise key before any protocol runs', async () => {
    const nodes = await startAlliance(2);
    cleanup.push(() => stopAll(nodes));
    const [a, b] = nodes as [TestNode, TestNode];
    const connectedOnA: string[] = [];
    a.host.on('p2p.peer-connected', (e) => connectedOnA.push(e.peerId));
    const refusedOnA: string[] = [];
    a.host.on('p2p.stranger-refused', (e) => refusedOnA.push(`${e.direction}:${e.peerId}`));

    // The stranger is a full medchain host that believes a is its peer.
    const strangerKey = await testPeerKey(99);
    const stranger = await createNode(strangerKey, [memberOf(a)]);
    cleanup.push(() => stranger.host.stop());
    await stranger.host.start();
    await waitFor('a refuses the stranger', () => a.host.stats.drops.refusedStrangers >= 1);
    expect(refusedOnA).toContain(`inbound:${strangerKey.peerId}`);

    // Whatever the stranger tries, nothing reaches a's handlers.
    stranger.host.sendConsensus(a.key.peerId, new Uint8Array([1, 2, 3]));
    await stranger.host.publishTxBundle(new Uint8Array([4, 5, 6]));
    await expect(
      stranger.host.request('sync', a.key.peerId, new Uint8Array([7])),
    ).rejects.toThrow();
    // a's peer b still gets through, which shows a is processing traffic meanwhile.
    b.host.sendConsensus(a.key.peerId, new Uint8Array([9]));
    await waitFor('b reaches a', () => a.handlers.consensus.length === 1);
    await waitFor(
      'the stranger keeps being refused on redial',
      () => a.host.stats.drops.refusedStrangers >= 3,
    );
    expect(a.handlers.allSenders()).toEqual(new Set([b.key.peerId]));
    expect(connectedOnA).not.toContain(strangerKey.peerId);
    expect(a.host.connectedPeers()).toEqual([b.key.peerId]);
    await waitFor(
      'the stranger holds no connection to a',
      () => stranger.host.connectedPeers().length === 0,
    );
  });

  it('refuses a stranger that opens a protocol stream directly, at the Noise layer', async () => {
    const nodes = await startAlliance(1);
    cleanup.push(() => stopAll(nodes));
    const [a] = nodes as [TestNode];
    const raw = await rawNode(await testPeerKey(98));
    const addr = multiaddr(a.host.listenAddresses()[0] ?? expect.fail('no listen address'));
    // The dialer's own dial may resolve for a moment before a aborts it (FACTS.md).
    const attempt = raw
      .dialProtocol(addr, a.host.protocols.consensus)
      .then((stream) => {
        stream.send(encodeFrame(new Uint8Array([1])));
        return 'opened';
      })
      .catch(() => 'refused');
    await attempt;
    await waitFor('a counts the refusal', () => a.host.stats.drops.refusedStrangers >= 1);
    await waitFor('the raw stranger is disconnected', () => raw.getConnections().length === 0);
    expect(a.handlers.consensus).toHaveLength(0);
    expect(a.host.connectedPeers()).toEqual([]);
  });

  it('disconnects a member removed with setMembers and keeps it out', async () => {
    const nodes = await startAlliance(3);
    cleanup.push(() => stopAll(nodes));
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const gone: string[] = [];
    a.host.on('p2p.peer-disconnected', (e) => gone.push(e.peerId));
    a.host.setMembers([memberOf(a), memberOf(c)]);
    // connectedPeers() lists members only, so b leaves it at once; the connection closes soon after.
    expect(a.host.connectedPeers()).toEqual([c.key.peerId]);
    await waitFor('b is disconnected from a', () => gone.length > 0);
    expect(gone).toEqual([b.key.peerId]);
    await waitFor(
      'a is disconnected from b',
      () => !b.host.connectedPeers().includes(a.key.peerId),
    );
    expect(a.host.stats.membershipDisconnects).toBe(1);
    // b still lists a and redials every 100 ms: each attempt is refused.
    const refusedBefore = a.host.stats.drops.refusedStrangers;
    await waitFor(
      'b is refused again',
      () => a.host.stats.drops.refusedStrangers >= refusedBefore + 2,
    );
    expect(a.host.connectedPeers()).toEqual([c.key.peerId]);
    // b's consensus messages never arrive; c's do.
    b.host.sendConsensus(a.key.peerId, numbered(1));
    c.host.sendConsensus(a.key.peerId, numbered(2));
    await waitFor('c reaches a', () => a.handlers.consensus.length === 1);
    expect(a.handlers.consensus[0]?.from).toBe(c.key.peerId);
    // Re-admitting b lets it back in.
    a.host.setMembers([memberOf(a), memberOf(b), memberOf(c)]);
    await waitFor('b is back', () => a.host.connectedPeers().includes(b.key.peerId));
  });
});

describe('inbound consensus frames from a member', () => {
  it('drops and counts oversize and garbage frames, resets the stream, keeps serving', async () => {
    const rawKey = await testPeerKey(50);
    const keyA = await testPeerKey(0);
    const keyB = await testPeerKey(1);
    const members = [keyA, keyB, rawKey].map((k) => ({
      peerId: k.peerId,
      addrs: [],
      voting: true,
    }));
    const a = await createNode(keyA, members, { limits: { maxConsensusMessageBytes: 1024 } });
    const b = await createNode(keyB, members);
    cleanup.push(() => stopAll([a, b]));
    await Promise.all([a.host.start(), b.host.start()]);
    b.host.setMembers([
      memberOf(a),
      memberOf(b),
      { peerId: rawKey.peerId, addrs: [], voting: true },
    ]);
    await waitFor('a and b connected', () => a.host.connectedPeers().includes(b.key.peerId));

    const misbehaviour: string[] = [];
    a.host.on('p2p.peer-misbehaved', (e) => misbehaviour.push(e.reason));
    const raw = await rawNode(rawKey);
    const addr = multiaddr(a.host.listenAddresses()[0] ?? expect.fail('no listen address'));
    const protocol = `/medchain/${CHAIN_ID}/consensus/1`;

    // 1. A frame over a's limit (1024): only its length prefix matters.
    const oversize = await raw.dialProtocol(addr, protocol);
    const oversizeClosed = closed(oversize);
    oversize.send(encodeFrame(new Uint8Array(1025)));
    const oversizeEvent = await oversizeClosed;
    expect(oversizeEvent?.error).toBeDefined();
    expect(a.host.stats.drops.oversize).toBe(1);

    // 2. Garbage: a length prefix that never ends.
    const garbage = await raw.dialProtocol(addr, protocol);
    const garbageClosed = closed(garbage);
    garbage.send(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]));
    expect((await garbageClosed)?.error).toBeDefined();
    expect(a.host.stats.drops.garbage).toBe(1);
    expect(misbehaviour).toEqual(['oversize', 'garbage']);

    // Nothing of it reached the handler; the peer may open a new stream and be heard.
    expect(a.handlers.consensus).toHaveLength(0);
    const fresh = await raw.dialProtocol(addr, protocol);
    fresh.send(encodeFrame(numbered(7, 64)));
    await waitFor('a valid frame after the resets', () => a.handlers.consensus.length === 1);
    expect(a.handlers.consensus[0]?.from).toBe(rawKey.peerId);

    // Other peers were never disturbed.
    b.host.sendConsensus(a.key.peerId, numbered(8, 64));
    await waitFor('b reaches a', () => a.handlers.consensus.length === 2);
    expect(a.handlers.consensus.map((r) => indexOf(r.bytes))).toEqual([7, 8]);
  });
});

describe('repeated misbehaviour', () => {
  it('bans a member after five malformed frames, refuses it while banned, admits it after', async () => {
    const rawKey = await testPeerKey(51);
    const keyA = await testPeerKey(0);
    const members = [keyA, rawKey].map((k) => ({ peerId: k.peerId, addrs: [], voting: true }));
    const banMs = 800;
    const a = await createNode(keyA, members, { peerBanMs: banMs });
    cleanup.push(() => a.host.stop());
    await a.host.start();
    const bans: string[] = [];
    a.host.on('p2p.peer-banned', (e) => bans.push(e.peerId));
    const raw = await rawNode(rawKey);
    const addr = multiaddr(a.host.listenAddresses()[0] ?? expect.fail('no listen address'));
    const protocol = a.host.protocols.consensus;

    for (let i = 0; i < 5; i++) {
      const stream = await raw.dialProtocol(addr, protocol);
      const done = closed(stream);
      stream.send(new Uint8Array([0x00])); // an empty frame: garbage
      await done;
    }
    expect(a.host.stats.drops.garbage).toBe(5);
    expect(bans).toEqual([rawKey.peerId]);
    expect(a.host.stats.peerBans).toBe(1);
    await waitFor('the banned peer is disconnected', () => raw.getConnections().length === 0);
    const bannedAt = Date.now();

    // While banned: refused at the Noise layer like a stranger, counted apart.
    await raw.dial(addr).catch(() => undefined);
    await waitFor('a refuses the banned member', () => a.host.stats.drops.refusedBanned >= 1);
    expect(a.host.stats.drops.refusedStrangers).toBe(0);
    await waitFor('refused connection closed', () => raw.getConnections().length === 0);

    // After the ban it is a member like any other.
    await waitFor('ban over', () => Date.now() - bannedAt > banMs, banMs + 2000);
    const stream = await raw.dialProtocol(addr, protocol);
    stream.send(encodeFrame(numbered(9, 32)));
    await waitFor('heard after the ban', () => a.handlers.consensus.length === 1);
    expect(a.handlers.consensus[0]?.from).toBe(rawKey.peerId);
  });
});
