/**
 * Host life cycle on real sockets: a peer that goes away and comes back (same
 * key, same port) is redialled, consensus and gossip flow again; stop() is
 * idempotent and leaves no sockets or timers behind.
 */
import { describe, expect, it } from 'vitest';
import { P2pError, P2pErrorCode } from '../../p2p/errors.js';
import {
  createNode,
  memberOf,
  numbered,
  startAlliance,
  stopAll,
  testPeerKey,
  waitFor,
  waitForGossipMesh,
} from './p2p-fixtures.js';
import type { TestNode } from './p2p-fixtures.js';

/** Active handles by kind, without the test runner's own pipes and TTYs. */
function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (name === 'TTYWrap' || name === 'PipeWrap' || name === 'FSReqCallback') continue;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe('redial', () => {
  it('reconnects to a peer restarted with the same key and port; messages flow again', async () => {
    const nodes = await startAlliance(3);
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    try {
      await waitForGossipMesh(nodes);
      b.host.sendConsensus(a.key.peerId, numbered(1));
      await waitFor('first message', () => a.handlers.consensus.length === 1);
      const bAddrs = b.host.listenAddresses();
      const port = /\/tcp\/(\d+)\//.exec(bAddrs[0] ?? '')?.[1] ?? expect.fail('no tcp port');
      const redialsBefore = a.host.stats.redials;

      await b.host.stop();
      await waitFor('a notices b is gone', () => !a.host.connectedPeers().includes(b.key.peerId));
      // Messages queued while b is down wait in a's outbox.
      a.host.sendConsensus(b.key.peerId, numbered(2));

      const members = [memberOf(a), memberOf(b, bAddrs), memberOf(c)];
      const b2 = await createNode(b.key, members, { listen: [`/ip4/127.0.0.1/tcp/${port}`] });
      nodes[1] = b2;
      await b2.host.start();
      await waitFor(
        'a and c redial the new b',
        () =>
          a.host.connectedPeers().includes(b.key.peerId) &&
          c.host.connectedPeers().includes(b.key.peerId),
      );
      expect(a.host.stats.redials).toBeGreaterThan(redialsBefore);

      // Consensus both ways, including what was queued while b was down.
      await waitFor('queued message delivered', () => b2.handlers.consensus.length === 1);
      expect(b2.handlers.consensus[0]?.from).toBe(a.key.peerId);
      b2.host.sendConsensus(a.key.peerId, numbered(3));
      await waitFor('b2 reaches a', () => a.handlers.consensus.length === 2);

      // Gossip resubscribed on the new connections.
      await waitForGossipMesh([a, b2, c]);
      await a.host.publishBlock(numbered(4, 512));
      await waitFor('block reaches the new b', () => b2.handlers.blocks.length === 1);
      await b2.host.publishTxBundle(numbered(5, 512));
      await waitFor(
        'bundle from the new b reaches a and c',
        () => a.handlers.txBundles.length === 1 && c.handlers.txBundles.length === 1,
      );
    } finally {
      await stopAll(nodes);
    }
  });
});

describe('stop', () => {
  it('is idempotent, refuses further use, and leaves no sockets or timers behind', async () => {
    // Sockets closed by earlier tests disappear a tick after their close.
    await waitFor('no sockets from earlier tests', () => {
      const now = liveHandles();
      return (now['TCPServerWrap'] ?? 0) === 0 && (now['TCPSocketWrap'] ?? 0) === 0;
    });
    const before = liveHandles();
    const nodes = await startAlliance(3);
    await waitForGossipMesh(nodes);
    const [a, b] = nodes as [TestNode, TestNode];
    a.host.sendConsensus(b.key.peerId, numbered(1));
    await a.host.publishTxBundle(numbered(2));
    await waitFor(
      'traffic flowed',
      () => b.handlers.consensus.length === 1 && b.handlers.txBundles.length === 1,
    );
    // Something in flight while stopping: a request that never gets an answer.
    b.handlers.sync = () => new Promise(() => undefined);
    const pending = a.host
      .request('sync', b.key.peerId, new Uint8Array([1]), { timeoutMs: 60_000 })
      .catch((e: unknown) => e);
    await waitFor('request reached b', () => b.handlers.syncRequests.length === 1);
    // The probe sees the hosts' listeners and sockets while they run.
    const during = liveHandles();
    expect(during['TCPServerWrap'] ?? 0).toBeGreaterThanOrEqual((before['TCPServerWrap'] ?? 0) + 3);
    expect(during['TCPSocketWrap'] ?? 0).toBeGreaterThanOrEqual((before['TCPSocketWrap'] ?? 0) + 6);

    await Promise.all([stopAll(nodes), stopAll(nodes)]);
    await a.host.stop();
    const err = await pending;
    expect(err).toBeInstanceOf(P2pError);

    // libp2p itself leaves a few short timers (an address-manager debounce,
    // AbortSignal.timeout) that expire within a second: wait for them, then
    // nothing may be left that was not there before the hosts existed.
    await waitFor(
      'sockets and timers released',
      () => {
        const now = liveHandles();
        return Object.keys(now).every((name) => (now[name] ?? 0) <= (before[name] ?? 0));
      },
      5000,
    );
    expect(liveHandles()['TCPServerWrap'] ?? 0).toBe(0);
    expect(liveHandles()['TCPSocketWrap'] ?? 0).toBe(0);
    expect(() => {
      a.host.sendConsensus(b.key.peerId, new Uint8Array([1]));
    }).not.toThrow();
    await expect(a.host.publishBlock(new Uint8Array([1]))).rejects.toMatchObject({
      code: P2pErrorCode.notStarted,
    });
    await expect(a.host.start()).rejects.toMatchObject({ code: P2pErrorCode.notStarted });
    expect(a.host.connectedPeers()).toEqual([]);
  });
});

describe('start', () => {
  it('fails with P2P_LISTEN_FAILED naming the address when the port is taken', async () => {
    const [a] = await startAlliance(1);
    const nodes: TestNode[] = [a as TestNode];
    try {
      const port =
        /\/tcp\/(\d+)\//.exec(a?.host.listenAddresses()[0] ?? '')?.[1] ?? expect.fail('no port');
      const listen = `/ip4/127.0.0.1/tcp/${port}`;
      const b = await createNode(await testPeerKey(7), [], { listen: [listen] });
      nodes.push(b);
      const err: unknown = await b.host.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(P2pError);
      expect((err as P2pError).code).toBe(P2pErrorCode.listenFailed);
      expect((err as P2pError).message).toContain(listen);
      expect((err as P2pError).message).toMatch(/EADDRINUSE|in use/i);
      // The failed host is stopped and says so.
      await expect(b.host.publishBlock(new Uint8Array([1]))).rejects.toMatchObject({
        code: P2pErrorCode.notStarted,
      });
    } finally {
      await stopAll(nodes);
    }
  });
});
