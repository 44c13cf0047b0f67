/**
 * The open-loop sender against a fake node: everything is sent once, each
 * signer's transactions reach its node in schedule (nonce) order even with
 * several lanes, slow answers make batches larger instead of slowing the
 * schedule, failures and rejections are counted with their codes, and a
 * retarget moves a crashed node's signers without reordering them.
 */
import { describe, expect, it } from 'vitest';
import { nowMs } from '../../src/bench/clock.js';
import { SEND_OUTCOME } from '../../src/bench/generator-protocol.js';
import type { SendOutcome } from '../../src/bench/generator-protocol.js';
import { OpenLoopSender } from '../../src/bench/open-loop.js';
import type { BatchResult, SentRecord } from '../../src/bench/open-loop.js';

const SIGNERS = 8;
const NODES = 2;

/** tx i is the 4-byte index; signer i % 8 sends to node signer % 2. */
function txs(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, i);
    return b;
  });
}

const indexOf = (tx: Uint8Array): number => new DataView(tx.buffer, tx.byteOffset).getUint32(0);

interface FakeNode {
  readonly received: { node: number; index: number }[];
  requests: number;
  submit(node: number, batch: readonly Uint8Array[]): Promise<BatchResult>;
}

function fakeNode(
  options: { delayMs?: number; outcome?: (i: number) => SendOutcome } = {},
): FakeNode {
  const fake: FakeNode = {
    received: [],
    requests: 0,
    async submit(node, batch) {
      fake.requests++;
      for (const tx of batch) fake.received.push({ node, index: indexOf(tx) });
      if (options.delayMs !== undefined) await new Promise((r) => setTimeout(r, options.delayMs));
      const outcomes = batch.map((tx) => options.outcome?.(indexOf(tx)) ?? SEND_OUTCOME.accepted);
      return {
        outcomes,
        errorCodes: outcomes
          .filter((o) => o !== SEND_OUTCOME.accepted)
          .map((o) => (o === SEND_OUTCOME.rejected ? 'MEMPOOL_FULL' : 'API_UNREACHABLE')),
      };
    },
  };
  return fake;
}

function sender(fake: FakeNode, n: number, ratePerSec: number, sent: SentRecord[]): OpenLoopSender {
  return new OpenLoopSender({
    txs: txs(n),
    signerOf: Array.from({ length: n }, (_, i) => i % SIGNERS),
    signerNode: Array.from({ length: SIGNERS }, (_, s) => s % NODES),
    nodes: NODES,
    lanesPerNode: 2,
    ratePerSec,
    startAtMs: nowMs() + 20,
    tickMs: 5,
    maxBatchTxs: 50,
    submit: (node, batch) => fake.submit(node, batch),
    now: nowMs,
    onSent: (r) => sent.push(r),
  });
}

describe('OpenLoopSender schedule length', () => {
  it('sends a schedule whose transactions fall due faster than its tick, to the end', async () => {
    // 1000 tx/s is one due every millisecond: every wait ends at the next due
    // time, long before the 100 ms tick. (A loop bounded by deadline ÷ tick
    // stopped after a fraction of such a schedule, silently.)
    const fake = fakeNode();
    const sent: SentRecord[] = [];
    const n = 600;
    const result = await new OpenLoopSender({
      txs: txs(n),
      signerOf: Array.from({ length: n }, (_, i) => i % SIGNERS),
      signerNode: Array.from({ length: SIGNERS }, (_, s) => s % NODES),
      nodes: NODES,
      lanesPerNode: 2,
      ratePerSec: 1000,
      startAtMs: nowMs() + 20,
      tickMs: 100,
      overrunMs: 200,
      maxBatchTxs: 50,
      submit: (node, batch) => fake.submit(node, batch),
      now: nowMs,
      onSent: (r) => sent.push(r),
    }).run();
    expect(result.sent).toBe(n);
    expect(result.accepted).toBe(n);
    expect(fake.received).toHaveLength(n);
  });
});

function expectSignerOrder(received: readonly { node: number; index: number }[]): void {
  const last = new Map<number, number>();
  for (const { node, index } of received) {
    const signer = index % SIGNERS;
    expect(node, `signer ${signer} stays on its node`).toBe(signer % NODES);
    expect(index).toBeGreaterThan(last.get(signer) ?? -1);
    last.set(signer, index);
  }
}

describe('OpenLoopSender', () => {
  it('sends every transaction once, in signer order, and reports the counts', async () => {
    const fake = fakeNode();
    const sent: SentRecord[] = [];
    const result = await sender(fake, 400, 2000, sent).run();
    expect(result.scheduled).toBe(400);
    expect(result.sent).toBe(400);
    expect(result.accepted).toBe(400);
    expect(new Set(fake.received.map((r) => r.index)).size).toBe(400);
    expect(sent).toHaveLength(400);
    expectSignerOrder(fake.received);
    expect(result.lagP50Ms).not.toBeNull();
    expect(result.sentPerSec).toBeGreaterThan(0);
  });

  it('slow answers make larger batches, never more than one request per lane in flight', async () => {
    const fake = fakeNode({ delayMs: 40 });
    let inFlight = 0;
    let maxInFlight = 0;
    const wrapped: FakeNode = {
      received: fake.received,
      requests: 0,
      async submit(node, batch) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await fake.submit(node, batch);
        } finally {
          inFlight--;
        }
      },
    };
    const sent: SentRecord[] = [];
    const result = await sender(wrapped, 400, 4000, sent).run();
    expect(result.sent).toBe(400);
    expect(maxInFlight).toBeLessThanOrEqual(NODES * 2);
    // 400 tx in ~100 ms against 40 ms answers: far fewer requests than transactions
    expect(fake.requests).toBeLessThan(100);
    expectSignerOrder(fake.received);
    expect(result.lagMaxMs ?? 0).toBeGreaterThan(0);
  });

  it('counts rejections and failures with their codes', async () => {
    const fake = fakeNode({
      outcome: (i) =>
        i % 10 === 0
          ? SEND_OUTCOME.rejected
          : i % 10 === 1
            ? SEND_OUTCOME.failed
            : SEND_OUTCOME.accepted,
    });
    const sent: SentRecord[] = [];
    const result = await sender(fake, 100, 2000, sent).run();
    expect(result).toMatchObject({ sent: 100, accepted: 80, rejected: 10, failed: 10 });
    expect(result.errorCodes).toEqual({ MEMPOOL_FULL: 10, API_UNREACHABLE: 10 });
    expect(sent.filter((s) => s.outcome === SEND_OUTCOME.rejected)).toHaveLength(10);
  });

  it('retarget moves a node’s signers and their backlog to another node in order', async () => {
    const fake = fakeNode({ delayMs: 10 });
    const sent: SentRecord[] = [];
    const s = sender(fake, 300, 1500, sent);
    const running = s.run();
    // after the first answers, node 1 "crashes"
    await new Promise((r) => setTimeout(r, 60));
    s.retarget(1, 0);
    const result = await running;
    expect(result.sent).toBe(300);
    const switchAt = fake.received.findIndex((r, k) => k > 0 && r.node === 0 && r.index % 2 === 1);
    expect(switchAt).toBeGreaterThan(0);
    // after the switch nothing more goes to node 1 (except batches already in flight)
    const late = fake.received.slice(switchAt + 20).filter((r) => r.node === 1);
    expect(late).toHaveLength(0);
    const last = new Map<number, number>();
    for (const { index } of fake.received) {
      const signer = index % SIGNERS;
      expect(index).toBeGreaterThan(last.get(signer) ?? -1);
      last.set(signer, index);
    }
  });

  it('refuses inconsistent options', () => {
    const fake = fakeNode();
    expect(
      () =>
        new OpenLoopSender({
          txs: txs(2),
          signerOf: [0],
          signerNode: [0],
          nodes: 1,
          lanesPerNode: 1,
          ratePerSec: 1,
          startAtMs: 0,
          tickMs: 5,
          maxBatchTxs: 1,
          submit: (node, batch) => fake.submit(node, batch),
          now: nowMs,
          onSent: () => undefined,
        }),
    ).toThrow(/signerOf/);
  });
});
