/**
 * PrePrepareAssembler (src/node/pre-prepare-assembler.ts): a compact
 * pre-prepare becomes the full one from the mempool's transactions at once,
 * after their bundles arrive, or after asking its proposer; otherwise it is
 * dropped. Timers are vitest's fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { simTransaction } from '../../consensus/sim/index.js';
import type { PrePrepareMessage } from '../../consensus/types.js';
import type { CompactPrePrepare } from '../../consensus/wire.js';
import { toHex } from '../../src/codec/index.js';
import { getSuite } from '../../src/crypto/index.js';
import { hashTransaction } from '../../src/ledger/hashing.js';
import type { HashedTransaction } from '../../src/ledger/hashing.js';
import { silentLogger } from '../../src/logger.js';
import { PrePrepareAssembler } from '../../src/node/pre-prepare-assembler.js';
import type {
  PrePrepareAssemblerOptions,
  PrePrepareAssemblerStats,
} from '../../src/node/pre-prepare-assembler.js';

const suite = getSuite('intl');
const txs: HashedTransaction[] = [1, 2, 3, 4].map((i) =>
  hashTransaction(suite, simTransaction('medchain-unit', i)),
);
const tx = (i: number): HashedTransaction => {
  const t = txs[i];
  if (!t) throw new TypeError(`no tx ${i}`);
  return t;
};
const header = {
  chainId: 'medchain-unit',
  height: 7,
  prevHash: new Uint8Array(32).fill(1),
  txRoot: new Uint8Array(32).fill(2),
  stateRoot: new Uint8Array(32).fill(3),
  proposer: 2,
  view: 1,
  timestamp: 1_700_000_000_000,
  validatorSetHash: new Uint8Array(32).fill(4),
};

function compact(hashed: readonly HashedTransaction[], height = 7): CompactPrePrepare {
  return {
    kind: 'pre-prepare-compact',
    from: 2,
    view: 1,
    height,
    header: { ...header, height },
    txHashes: hashed.map((h) => h.hash),
    signature: new Uint8Array(64).fill(9),
  };
}

interface Harness {
  readonly assembler: PrePrepareAssembler;
  readonly pool: Map<string, HashedTransaction>;
  readonly delivered: { message: PrePrepareMessage; txs: readonly HashedTransaction[] }[];
  readonly fetches: { from: number; hashes: string[] }[];
}

function harness(
  fetch: PrePrepareAssemblerOptions['fetch'] = () => Promise.resolve([]),
  maxPending = 8,
): Harness {
  const pool = new Map<string, HashedTransaction>();
  const delivered: Harness['delivered'] = [];
  const fetches: Harness['fetches'] = [];
  const assembler = new PrePrepareAssembler({
    lookup: (hex) => pool.get(hex),
    deliver: (message, found) => {
      delivered.push({ message, txs: found });
    },
    fetch: (from, hashes) => {
      fetches.push({ from, hashes: hashes.map(toHex) });
      return fetch(from, hashes);
    },
    // The test's "signature": authentic unless its first byte is 0.
    isAuthentic: (c) => c.signature[0] !== 0,
    graceMs: 25,
    maxPending,
    logger: silentLogger(),
  });
  return { assembler, pool, delivered, fetches };
}

/** Assembler stats: the given outcomes, every other one 0. */
const outcomes = (counts: Partial<PrePrepareAssemblerStats>): PrePrepareAssemblerStats => ({
  complete: 0,
  waited: 0,
  fetched: 0,
  dropped: 0,
  refused: 0,
  ...counts,
});

const admit = (h: Harness, htx: HashedTransaction): void => {
  h.pool.set(toHex(htx.hash), htx);
  h.assembler.admitted(htx);
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PrePrepareAssembler', () => {
  it('delivers at once, with the mempool’s own transactions, when every one is here', () => {
    const h = harness();
    for (const t of txs) h.pool.set(toHex(t.hash), t);
    h.assembler.receive(compact([tx(2), tx(0), tx(1)]));
    expect(h.delivered).toHaveLength(1);
    const [d] = h.delivered;
    expect(d?.message).toMatchObject({ kind: 'pre-prepare', from: 2, view: 1, height: 7 });
    expect(d?.message.block.header).toEqual(header);
    expect(d?.message.block.txs).toEqual([tx(2).tx, tx(0).tx, tx(1).tx]);
    expect(d?.txs).toEqual([tx(2), tx(0), tx(1)]);
    expect(d?.txs[0]).toBe(tx(2)); // the very objects: nothing decoded or hashed again
    expect(h.assembler.stats).toEqual(outcomes({ complete: 1 }));
    expect(h.assembler.pendingCount).toBe(0);
  });

  it('waits for missing transactions and delivers when their bundles arrive, without fetching', async () => {
    const h = harness();
    admit(h, tx(0));
    h.assembler.receive(compact([tx(0), tx(1), tx(2)]));
    expect(h.delivered).toHaveLength(0);
    admit(h, tx(3)); // not named: changes nothing
    admit(h, tx(1));
    expect(h.delivered).toHaveLength(0);
    admit(h, tx(2));
    expect(h.delivered).toHaveLength(1);
    expect(h.delivered[0]?.txs).toEqual([tx(0), tx(1), tx(2)]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.fetches).toHaveLength(0);
    expect(h.assembler.stats).toEqual(outcomes({ waited: 1 }));
  });

  it('after the grace period asks the proposer for exactly the missing ones, and delivers what it supplies', async () => {
    const h = harness((_from, hashes) =>
      Promise.resolve(txs.filter((t) => hashes.some((x) => toHex(x) === toHex(t.hash)))),
    );
    admit(h, tx(1));
    h.assembler.receive(compact([tx(0), tx(1), tx(2), tx(0)]));
    await vi.advanceTimersByTimeAsync(24);
    expect(h.fetches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.fetches).toEqual([{ from: 2, hashes: [toHex(tx(0).hash), toHex(tx(2).hash)] }]);
    expect(h.delivered).toHaveLength(1);
    // A hash named twice is filled at both places.
    expect(h.delivered[0]?.message.block.txs).toEqual([tx(0).tx, tx(1).tx, tx(2).tx, tx(0).tx]);
    expect(h.assembler.stats).toEqual(outcomes({ fetched: 1 }));
  });

  it('drops a pre-prepare whose proposer supplies only some, or fails to answer', async () => {
    const partial = harness(() => Promise.resolve([tx(0)]));
    partial.assembler.receive(compact([tx(0), tx(1)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(partial.delivered).toHaveLength(0);
    expect(partial.assembler.stats.dropped).toBe(1);
    expect(partial.assembler.pendingCount).toBe(0);

    const failing = harness(() => Promise.reject(new Error('no route to proposer')));
    failing.assembler.receive(compact([tx(0)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(failing.delivered).toHaveLength(0);
    expect(failing.assembler.stats.dropped).toBe(1);
    // A transaction arriving later no longer completes it.
    admit(failing, tx(0));
    expect(failing.delivered).toHaveLength(0);
  });

  it('completes by bundle while the fetch is in flight, and does not deliver twice', async () => {
    let answer: (txs: readonly HashedTransaction[]) => void = () => undefined;
    const h = harness(
      () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
    );
    h.assembler.receive(compact([tx(0)]));
    await vi.advanceTimersByTimeAsync(25);
    expect(h.fetches).toHaveLength(1);
    admit(h, tx(0));
    expect(h.delivered).toHaveLength(1);
    answer([tx(0)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.delivered).toHaveLength(1);
    expect(h.assembler.stats).toEqual(outcomes({ fetched: 1 }));
  });

  it('keeps at most maxPending waiting (the oldest is dropped) and replaces a resent one', () => {
    const h = harness(undefined, 2);
    h.assembler.receive(compact([tx(0)], 7));
    h.assembler.receive(compact([tx(0)], 7)); // the same (from, view, height) again
    expect(h.assembler.pendingCount).toBe(1);
    h.assembler.receive(compact([tx(1)], 8));
    h.assembler.receive(compact([tx(2)], 9));
    expect(h.assembler.pendingCount).toBe(2);
    expect(h.assembler.stats.dropped).toBe(1);
    admit(h, tx(0)); // height 7 was pushed out
    expect(h.delivered).toHaveLength(0);
    admit(h, tx(1));
    admit(h, tx(2));
    expect(h.delivered.map((d) => d.message.height)).toEqual([8, 9]);
  });

  it('refuses one not signed by the validator it names before waiting or asking anyone', async () => {
    const h = harness();
    const unsigned = { ...compact([tx(0)]), signature: new Uint8Array(64) };
    h.assembler.receive(unsigned);
    await vi.advanceTimersByTimeAsync(1000);
    admit(h, tx(0));
    expect(h.fetches).toHaveLength(0);
    expect(h.delivered).toHaveLength(0);
    expect(h.assembler.stats).toEqual(outcomes({ refused: 1 }));
    // Complete on arrival it goes on to the replica, which checks every signature itself.
    h.assembler.receive(unsigned);
    expect(h.delivered).toHaveLength(1);
  });

  it('after stop, delivers nothing and fetches nothing', async () => {
    const h = harness();
    h.assembler.receive(compact([tx(0)]));
    h.assembler.stop();
    await vi.advanceTimersByTimeAsync(1000);
    admit(h, tx(0));
    h.assembler.receive(compact([tx(0)], 8));
    expect(h.fetches).toHaveLength(0);
    expect(h.delivered).toHaveLength(0);
  });
});
