/**
 * Gossipsub topics between real hosts: a transaction bundle and a block
 * reach every other host; oversize publishes are refused locally; verdicts
 * are counted and a 'reject' lowers the forwarder's score.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P2pError, P2pErrorCode } from '../../p2p/errors.js';
import { numbered, startAlliance, stopAll, waitFor, waitForGossipMesh } from './p2p-fixtures.js';
import type { TestNode } from './p2p-fixtures.js';

describe('gossip (4 hosts)', () => {
  let nodes: TestNode[];
  beforeAll(async () => {
    nodes = await startAlliance(4, [{ limits: { maxGossipMessageBytes: 64 * 1024 } }]);
    await waitForGossipMesh(nodes);
  });
  afterAll(async () => {
    await stopAll(nodes);
  });

  it('delivers a transaction bundle and a block from one host to all others', async () => {
    const [a, ...others] = nodes as [TestNode, ...TestNode[]];
    const bundle = numbered(1, 4096, 0x11);
    const block = numbered(2, 8192, 0x22);
    await a.host.publishTxBundle(bundle);
    await a.host.publishBlock(block);
    await waitFor('bundle and block everywhere', () =>
      others.every((n) => n.handlers.txBundles.length === 1 && n.handlers.blocks.length === 1),
    );
    for (const n of others) {
      expect(n.handlers.txBundles[0]?.bytes).toEqual(bundle);
      expect(n.handlers.blocks[0]?.bytes).toEqual(block);
      // The first copy comes from the publisher or from a peer that forwarded it.
      const sender = n.handlers.txBundles[0]?.from ?? '';
      expect(nodes.filter((m) => m !== n).map((m) => m.key.peerId)).toContain(sender);
      expect(n.host.stats.txs.accepted).toBe(1);
      expect(n.host.stats.blocks.accepted).toBe(1);
    }
    expect(a.handlers.txBundles).toHaveLength(0); // no echo to self
    expect(a.host.stats.txs.messagesOut).toBe(1);
    expect(a.host.stats.blocks.bytesOut).toBe(8192);
  });

  it('delivers a burst of bundles, each exactly once per host', async () => {
    const [, b, ...rest] = nodes as [TestNode, TestNode, ...TestNode[]];
    const count = 200;
    const started = performance.now();
    for (let i = 0; i < count; i++) await b.host.publishTxBundle(numbered(1000 + i, 1024, 0x33));
    const receivers = nodes.filter((n) => n !== b);
    await waitFor('burst delivered', () =>
      receivers.every(
        (n) => n.handlers.txBundles.filter((r) => r.bytes[5] === 0x33).length === count,
      ),
    );
    const elapsedMs = performance.now() - started;
    process.stdout.write(
      `[p2p] ${count} gossip bundles of 1 KiB to 3 hosts in ${elapsedMs.toFixed(0)} ms ` +
        `(${Math.round((count * receivers.length) / (elapsedMs / 1000))} deliveries/s)\n`,
    );
    expect(rest.length).toBeGreaterThan(0);
  });

  it('refuses a publish over the gossip limit locally, naming the limit', async () => {
    const [a] = nodes as [TestNode];
    const limit = a.host.limits.maxGossipMessageBytes;
    const refusedBefore = a.host.stats.blocks.publishRefused;
    const err: unknown = await a.host
      .publishBlock(new Uint8Array(limit + 1))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(P2pError);
    expect((err as P2pError).code).toBe(P2pErrorCode.messageTooLarge);
    expect((err as P2pError).message).toMatch(
      new RegExp(`${limit + 1} bytes exceeds the gossip limit of ${limit}`),
    );
    expect(a.host.stats.blocks.publishRefused).toBe(refusedBefore + 1);
    // A message of exactly the limit goes through.
    await a.host.publishBlock(new Uint8Array(limit).fill(0x44));
    await waitFor('limit-sized block delivered', () =>
      nodes.slice(1).every((n) => n.handlers.blocks.some((r) => r.bytes.length === limit)),
    );
  });

  it("counts 'reject' and 'ignore' verdicts; a reject lowers the forwarder's score", async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    b.handlers.verdict = (bytes) =>
      bytes[4] === 0xee ? 'reject' : bytes[4] === 0xdd ? 'ignore' : 'accept';
    c.handlers.verdict = b.handlers.verdict;
    const scoreBefore = b.host.peerScore(a.key.peerId);
    const rejectedBefore = b.host.stats.txs.rejected;
    const ignoredBefore = b.host.stats.txs.ignored;
    await a.host.publishTxBundle(numbered(5000, 64, 0xee));
    await a.host.publishTxBundle(numbered(5001, 64, 0xdd));
    await waitFor(
      'verdicts counted on b',
      () =>
        b.host.stats.txs.rejected === rejectedBefore + 1 &&
        b.host.stats.txs.ignored === ignoredBefore + 1,
    );
    await waitFor(
      "a's score on b drops",
      () => b.host.peerScore(a.key.peerId) < Math.min(scoreBefore, 0),
    );
    // One invalid delivery costs 10 points (P4), far more than the first-delivery credit.
    expect(b.host.peerScore(a.key.peerId)).toBeLessThan(-5);
  });
});
