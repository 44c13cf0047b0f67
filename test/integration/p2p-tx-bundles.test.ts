/**
 * Transaction bundles on direct streams: each peer gets exactly one copy (no
 * mesh forwarding), in order, batched; a 'reject' verdict is counted without
 * banning; oversize bundles are refused locally. And a host that does not
 * subscribe to the blocks topic receives no blocks, while its publishes still
 * reach the hosts that do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P2pError, P2pErrorCode } from '../../p2p/errors.js';
import { numbered, indexOf, startAlliance, stopAll, waitFor } from './p2p-fixtures.js';
import type { TestNode } from './p2p-fixtures.js';

describe('transaction bundles on direct streams (4 hosts)', () => {
  let nodes: TestNode[];
  beforeAll(async () => {
    // Hosts 1 and 2 play validators (no blocks topic); 3 an observer; 0 the sender.
    nodes = await startAlliance(4, [
      { limits: { maxGossipMessageBytes: 64 * 1024 } },
      { subscribe: { txs: false, blocks: false } },
      { subscribe: { txs: false, blocks: false } },
      { subscribe: { txs: false, blocks: true } },
    ]);
  });
  afterAll(async () => {
    await stopAll(nodes);
  });

  it('delivers every bundle once per peer, in order, in few stream writes', async () => {
    const [a, ...others] = nodes as [TestNode, ...TestNode[]];
    const count = 300;
    for (let i = 0; i < count; i++) {
      for (const n of others) a.host.sendTxBundle(n.key.peerId, numbered(i, 512, 0x44));
    }
    await waitFor('every bundle at every peer', () =>
      others.every((n) => n.handlers.txBundles.length === count),
    );
    for (const n of others) {
      expect(n.handlers.txBundles.map((r) => indexOf(r.bytes))).toEqual(
        Array.from({ length: count }, (_, i) => i),
      );
      expect(new Set(n.handlers.txBundles.map((r) => r.from))).toEqual(new Set([a.key.peerId]));
    }
    expect(a.host.stats.txBundles.messagesOut).toBe(count * others.length);
    expect(a.host.stats.txBundles.streamWrites).toBeLessThan(count);
  });

  it('counts a rejected bundle without banning the sender, and refuses oversize ones locally', async () => {
    const [a, b] = nodes as [TestNode, TestNode, ...TestNode[]];
    b.handlers.verdict = () => 'reject';
    const before = b.handlers.txBundles.length;
    for (let i = 0; i < 8; i++) a.host.sendTxBundle(b.key.peerId, numbered(1000 + i, 64));
    await waitFor('the rejected bundles counted', () => b.host.stats.drops.invalidBundles === 8);
    expect(b.handlers.txBundles.length).toBe(before + 8);
    expect(b.host.connectedPeers()).toContain(a.key.peerId);
    b.handlers.verdict = () => 'accept';
    expect(() => {
      a.host.sendTxBundle(b.key.peerId, new Uint8Array(64 * 1024 + 1));
    }).toThrow(expect.objectContaining({ code: P2pErrorCode.messageTooLarge }) as P2pError);
  });

  it('gives blocks only to hosts subscribed to the topic', async () => {
    const [sender, validator, other, observer] = nodes as [TestNode, TestNode, TestNode, TestNode];
    await waitFor('the observer in the blocks mesh', () =>
      validator.host.gossipSubscribers('blocks').includes(observer.key.peerId),
    );
    await validator.host.publishBlock(numbered(7, 2048, 0x55));
    // Host 0 subscribes by default, like the observer; hosts 1 and 2 do not.
    await waitFor(
      'the block at the subscribed hosts',
      () => observer.handlers.blocks.length === 1 && sender.handlers.blocks.length === 1,
    );
    expect(other.handlers.blocks).toHaveLength(0);
    expect(validator.handlers.blocks).toHaveLength(0);
  });
});
