import { describe, expect, it } from 'vitest';
import { StateCache } from '../../src/node/state-cache.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** A store whose reads are counted. */
function store(entries: [Uint8Array, Uint8Array][]): {
  data: Map<string, Uint8Array>;
  reads: number;
  read: (key: Uint8Array) => Uint8Array | undefined;
} {
  const s = {
    data: new Map(entries.map(([k, v]) => [Buffer.from(k).toString('hex'), v])),
    reads: 0,
    read: (key: Uint8Array): Uint8Array | undefined => {
      s.reads++;
      return s.data.get(Buffer.from(key).toString('hex'));
    },
  };
  return s;
}

describe('StateCache', () => {
  it('reads a key from the store once, present or absent', () => {
    const s = store([[bytes(1), bytes(10)]]);
    const cache = new StateCache(s.read);
    expect(cache.get(bytes(1))).toEqual(bytes(10));
    expect(cache.get(bytes(1))).toEqual(bytes(10));
    expect(cache.get(bytes(2))).toBeUndefined();
    expect(cache.get(bytes(2))).toBeUndefined();
    expect(s.reads).toBe(2);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 2 });
  });

  it('tells keys apart by every byte, including views into larger buffers', () => {
    const s = store([
      [bytes(0, 1), bytes(1)],
      [bytes(1, 0), bytes(2)],
    ]);
    const cache = new StateCache(s.read);
    const backing = bytes(9, 0, 1, 0, 9);
    expect(cache.get(backing.subarray(1, 3))).toEqual(bytes(1));
    expect(cache.get(backing.subarray(2, 4))).toEqual(bytes(2));
  });

  it('applies stored changes to the keys it holds: updates, deletes and creations', () => {
    const s = store([[bytes(1), bytes(10)]]);
    const cache = new StateCache(s.read);
    cache.get(bytes(1));
    cache.get(bytes(2));
    cache.apply([
      { key: bytes(1), value: null },
      { key: bytes(2), value: bytes(20) },
      { key: bytes(3), value: bytes(30) },
    ]);
    s.data.clear(); // the cache must not need the store for keys it holds
    expect(cache.get(bytes(1))).toBeUndefined();
    expect(cache.get(bytes(2))).toEqual(bytes(20));
    expect(s.reads).toBe(2);
    // a key it did not hold is read from the store, which has the truth
    s.data.set('03', bytes(30));
    expect(cache.get(bytes(3))).toEqual(bytes(30));
    expect(s.reads).toBe(3);
  });

  it('holds at most its bound, dropping the oldest entry first', () => {
    const s = store([]);
    const cache = new StateCache(s.read, 2);
    cache.get(bytes(1));
    cache.get(bytes(2));
    cache.get(bytes(3));
    expect(cache.size).toBe(2);
    const before = s.reads;
    cache.get(bytes(3));
    cache.get(bytes(2));
    expect(s.reads).toBe(before);
    cache.get(bytes(1));
    expect(s.reads).toBe(before + 1);
  });

  it('holds owned copies, never views that keep a larger buffer alive', () => {
    const slab = new Uint8Array(8192);
    slab.set([7, 8, 9], 100);
    const view = slab.subarray(100, 103);
    const s = store([[bytes(1), view]]);
    const cache = new StateCache(s.read);
    expect(cache.get(bytes(1))).toBe(view); // a miss hands back what was read
    const cached = cache.get(bytes(1)) as Uint8Array;
    expect(cached).toEqual(bytes(7, 8, 9));
    expect(cached.buffer.byteLength).toBe(3);
    cache.apply([{ key: bytes(1), value: slab.subarray(200, 202) }]);
    const applied = cache.get(bytes(1)) as Uint8Array;
    expect(applied.buffer.byteLength).toBe(2);
    const whole = Uint8Array.from([5]);
    cache.apply([{ key: bytes(1), value: whole }]);
    expect(cache.get(bytes(1))).toBe(whole); // already owned: not copied
  });
});
