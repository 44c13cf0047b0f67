/**
 * The collector's measurements on synthetic events: a fixed schedule, send
 * reports and block events at chosen times, with the expected rates,
 * latencies, series and counts worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { BenchCollector } from '../../src/bench/collector.js';
import { SEND_OUTCOME } from '../../src/bench/generator-protocol.js';

const HASH = 32;

function hashOf(i: number): Uint8Array {
  const h = new Uint8Array(HASH);
  new DataView(h.buffer).setUint32(0, i + 1);
  return h;
}

function hashes(n: number, offset = 0): Uint8Array {
  const all = new Uint8Array(n * HASH);
  for (let i = 0; i < n; i++) all.set(hashOf(i + offset), i * HASH);
  return all;
}

/** 4 nodes, 100 tx at 10 tx/s from t=0, all to node (i % 4). */
function setup(): BenchCollector {
  const c = new BenchCollector(4, 3);
  c.addStepTxs({
    step: 0,
    generator: 0,
    startAtMs: 0,
    ratePerSec: 10,
    hashes: hashes(100),
    hashLength: HASH,
    targets: Uint16Array.from({ length: 100 }, (_, i) => i % 4),
  });
  c.onSent(0, 0, {
    indexes: Uint32Array.from({ length: 100 }, (_, i) => i),
    outcomes: Uint8Array.from({ length: 100 }, (_, i) =>
      i === 99 ? SEND_OUTCOME.rejected : SEND_OUTCOME.accepted,
    ),
    sentAtMs: Float64Array.from({ length: 100 }, (_, i) => i * 100 + 1),
    nodes: Uint16Array.from({ length: 100 }, (_, i) => i % 4),
  });
  return c;
}

/** One block per second per node with the 10 transactions scheduled in the previous second, seen 250 ms (+ node ms) after that second ends. */
function commitEverySecond(c: BenchCollector, nodes: readonly number[], seconds: number): void {
  for (let s = 0; s < seconds; s++) {
    const receipts = Array.from({ length: 10 }, (_, k) => ({
      txHash: toHex(hashOf(s * 10 + k)),
      code: 'OK',
    })).filter((_, k) => s * 10 + k !== 99);
    for (const node of nodes) {
      c.onBlock(
        node,
        { height: s + 1, view: 0, txCount: receipts.length, receipts },
        (s + 1) * 1000 + 250 + node,
      );
    }
  }
}

describe('BenchCollector', () => {
  it('offered, submitted and committed rates over the window; latency from the schedule', () => {
    const c = setup();
    commitEverySecond(c, [0, 1, 2, 3], 10);
    const m = c.measure(0, { startMs: 2000, endMs: 8000 });
    expect(m.windowSeconds).toBe(6);
    expect(m.offeredTps).toBe(10);
    expect(m.submittedTps).toBe(10);
    // blocks seen at 2250…7253 fall in the window: 6 blocks of 10
    expect(m.committedTpsPerNode).toEqual([10, 10, 10, 10]);
    expect(m.committedTps).toBe(10);
    expect(m.blocksPerSec).toBe(1);
    expect(m.txsPerBlock).toBe(10);
    // tx i scheduled at 100 i, committed at its target node (i % 4) at 1000 (floor(i/10)+1) + 250 + i % 4
    const latencies: number[] = [];
    for (let i = 20; i < 80; i++)
      latencies.push((Math.floor(i / 10) + 1) * 1000 + 250 + (i % 4) - i * 100);
    latencies.sort((a, b) => a - b);
    expect(m.latencyMs.count).toBe(60);
    expect(m.latencyMs.min).toBeCloseTo(latencies[0] ?? 0, 0);
    expect(Math.abs((m.latencyMs.max ?? 0) - (latencies[59] ?? 0))).toBeLessThan(2);
    expect(Math.abs((m.latencyMs.p50 ?? 0) - (latencies[29] ?? 0))).toBeLessThan(2);
    expect(m.counts).toMatchObject({
      scheduled: 100,
      sent: 100,
      accepted: 99,
      rejected: 1,
      committed: 99,
      uncommitted: 0,
    });
    expect(m.receiptCodes).toEqual({ OK: 99 });
    expect(c.pending(0)).toBe(0);
  });

  it('the quorum rate ignores one silent node, not two', () => {
    const one = setup();
    commitEverySecond(one, [0, 1, 2], 10);
    expect(one.measure(0, { startMs: 2000, endMs: 8000 }).committedTps).toBe(10);
    const two = setup();
    commitEverySecond(two, [0, 1], 10);
    expect(two.measure(0, { startMs: 2000, endMs: 8000 }).committedTps).toBe(0);
  });

  it('repeated heights are ignored; unknown transactions are counted apart', () => {
    const c = setup();
    const receipts = [{ txHash: toHex(hashOf(0)), code: 'OK' }];
    c.onBlock(0, { height: 1, view: 0, txCount: 1, receipts }, 500);
    c.onBlock(0, { height: 1, view: 0, txCount: 1, receipts }, 600);
    c.onBlock(
      0,
      { height: 2, view: 0, txCount: 1, receipts: [{ txHash: 'ff'.repeat(32), code: 'OK' }] },
      700,
    );
    expect(c.sightings).toHaveLength(2);
    expect(c.otherTxs).toBe(1);
    expect(c.heightAt(0)).toBe(2);
    expect(c.maxHeight).toBe(2);
  });

  it('a transaction is pending until a quorum of live nodes has committed it', () => {
    const c = setup();
    expect(c.pending(0)).toBe(99);
    commitEverySecond(c, [0, 1], 10);
    expect(c.pending(0)).toBe(99);
    commitEverySecond(c, [2], 10);
    expect(c.pending(0)).toBe(0);
  });

  it('after a crash, latency falls back to the first commit anywhere and the quorum shrinks', () => {
    const c = setup();
    c.markCrashed(0, 50);
    commitEverySecond(c, [1, 2, 3], 10);
    const m = c.measure(0, { startMs: 0, endMs: 10_000 });
    // the 25 transactions of node 0 get their latency from node 1's sighting
    expect(m.latencyMs.count).toBe(99);
    expect(m.counts.committed).toBe(99);
    expect(c.pending(0)).toBe(0);
  });

  it('per-second series: offered, accepted, committed, latency, view, window flag', () => {
    const c = setup();
    commitEverySecond(c, [0, 1, 2, 3], 10);
    const series = c.series(0, 0, 12, { startMs: 2000, endMs: 8000 });
    expect(series).toHaveLength(12);
    expect(series.slice(0, 10).map((p) => p.offered)).toEqual(new Array(10).fill(10));
    expect(series[10]?.offered).toBe(0);
    expect(series[0]?.submitted).toBe(10);
    expect(series[9]?.submitted).toBe(9); // the rejected one is not "submitted"
    expect(series[0]?.committed).toBe(0);
    expect(series[1]?.committed).toBe(10);
    expect(series[1]?.committedPerNode).toEqual([10, 10, 10, 10]);
    expect(series[1]?.blocks).toBe(1);
    expect(series[1]?.view).toBe(0);
    expect(series[0]?.latencyP50Ms).toBeNull();
    expect(series[1]?.latencyP99Ms).toBeGreaterThan(250);
    expect(series.map((p) => p.inWindow)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it('refuses mismatched hash arrays', () => {
    const c = new BenchCollector(4, 3);
    expect(() => {
      c.addStepTxs({
        step: 0,
        generator: 0,
        startAtMs: 0,
        ratePerSec: 1,
        hashes: new Uint8Array(31),
        hashLength: 32,
        targets: new Uint16Array(1),
      });
    }).toThrow(/hashes/);
  });

  it('viewBefore is the highest view committed before a time', () => {
    const c = new BenchCollector(4, 3);
    c.onBlock(0, { height: 1, view: 0, txCount: 0, receipts: [] }, 100);
    c.onBlock(1, { height: 1, view: 2, txCount: 0, receipts: [] }, 300);
    expect(c.viewBefore(200)).toBe(0);
    expect(c.viewBefore(400)).toBe(2);
  });
});
