/**
 * The `KvStore` contract: one suite every implementation must pass
 * (invoked for MemoryKvStore and LevelKvStore in storage-kv.test.ts).
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../storage/errors.js';
import { collect, prefixRange } from '../../storage/kv.js';
import type { KvBatchOp, KvEntry, KvStore } from '../../storage/kv.js';

export interface KvStoreHarness {
  /** Opens the store under test (called once per test). */
  open(): Promise<KvStore>;
  /** Closes `store` and opens the same data again. */
  reopen(store: KvStore): Promise<KvStore>;
  /** Releases everything (temp directories); the store may already be closed. */
  cleanup(): Promise<void>;
}

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Reference order: bytewise, shorter first on a common prefix (written out, not Buffer.compare). */
function referenceCompare(x: Uint8Array, y: Uint8Array): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function keysOf(entries: readonly KvEntry[]): string[] {
  return entries.map((e) => hex(e.key));
}

async function expectStorageError(promise: Promise<unknown>, code: string): Promise<StorageError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}

export function kvStoreContract(name: string, createHarness: () => Promise<KvStoreHarness>): void {
  describe(`KvStore contract: ${name}`, () => {
    let harness: KvStoreHarness;
    let store: KvStore;

    beforeEach(async () => {
      harness = await createHarness();
      store = await harness.open();
    });

    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    it('gets what was put, undefined for missing keys, and overwrites', async () => {
      expect(await store.get(b(1))).toBeUndefined();
      await store.put(b(1), b(10));
      await store.put(b(2), new Uint8Array(0));
      expect(await store.get(b(1))).toEqual(b(10));
      expect(await store.get(b(2))).toEqual(new Uint8Array(0));
      await store.put(b(1), b(11, 12), { sync: true });
      expect(await store.get(b(1))).toEqual(b(11, 12));
    });

    it('returns plain Uint8Array values that do not alias stored data', async () => {
      const key = b(5);
      const value = b(1, 2, 3);
      await store.put(key, value);
      value[0] = 99;
      key[0] = 6;
      const got = await store.get(b(5));
      expect(got?.constructor).toBe(Uint8Array);
      expect(got).toEqual(b(1, 2, 3));
      if (got !== undefined) got[1] = 42;
      expect(await store.get(b(5))).toEqual(b(1, 2, 3));
      expect(await store.get(b(6))).toBeUndefined();
    });

    it('deletes, and deleting a missing key is a no-op', async () => {
      await store.put(b(1), b(1));
      await store.del(b(1));
      await store.del(b(1), { sync: true });
      await store.del(b(7));
      expect(await store.get(b(1))).toBeUndefined();
    });

    it('getMany answers in order, with undefined for missing keys', async () => {
      await store.batch([
        { type: 'put', key: b(1), value: b(1) },
        { type: 'put', key: b(3), value: b(3) },
      ]);
      expect(await store.getMany([b(3), b(2), b(1), b(3)])).toEqual([b(3), undefined, b(1), b(3)]);
      expect(await store.getMany([])).toEqual([]);
    });

    it('getSync sees exactly what get sees, including the latest write', async () => {
      expect(store.getSync(b(4))).toBeUndefined();
      await store.put(b(4), b(40));
      expect(store.getSync(b(4))).toEqual(b(40));
      await store.batch([
        { type: 'put', key: b(4), value: b(41) },
        { type: 'put', key: b(5), value: b(5) },
      ]);
      expect(store.getSync(b(4))).toEqual(await store.get(b(4)));
      expect(store.getSync(b(5))).toEqual(b(5));
      await store.del(b(5));
      expect(store.getSync(b(5))).toBeUndefined();
      expect(() => store.getSync(new Uint8Array(0))).toThrow(/key/);
    });

    it('rejects empty and non-byte keys and non-byte values with INVALID_ARGUMENT', async () => {
      await expectStorageError(store.put(new Uint8Array(0), b(1)), 'INVALID_ARGUMENT');
      await expectStorageError(store.get(new Uint8Array(0)), 'INVALID_ARGUMENT');
      await expectStorageError(store.put('k' as unknown as Uint8Array, b(1)), 'INVALID_ARGUMENT');
      await expectStorageError(store.put(b(1), 'v' as unknown as Uint8Array), 'INVALID_ARGUMENT');
      await expectStorageError(store.getMany([b(1), new Uint8Array(0)]), 'INVALID_ARGUMENT');
      await expectStorageError(store.del(new Uint8Array(0)), 'INVALID_ARGUMENT');
      expect(await collect(store)).toEqual([]);
    });

    it('applies a batch in order: the last operation on a key wins', async () => {
      await store.put(b(9), b(9));
      await store.batch(
        [
          { type: 'put', key: b(1), value: b(1) },
          { type: 'del', key: b(1) },
          { type: 'del', key: b(2) },
          { type: 'put', key: b(2), value: b(2) },
          { type: 'put', key: b(3), value: b(3) },
          { type: 'put', key: b(3), value: b(33) },
          { type: 'del', key: b(9) },
        ],
        { sync: true },
      );
      expect(await store.getMany([b(1), b(2), b(3), b(9)])).toEqual([
        undefined,
        b(2),
        b(33),
        undefined,
      ]);
      await store.batch([]);
    });

    it('writes nothing of a batch that holds one invalid operation', async () => {
      await store.put(b(1), b(1));
      const ops: KvBatchOp[] = [
        { type: 'put', key: b(2), value: b(2) },
        { type: 'del', key: b(1) },
        { type: 'put', key: new Uint8Array(0), value: b(3) },
      ];
      await expectStorageError(store.batch(ops), 'INVALID_ARGUMENT');
      const badType = [{ type: 'merge', key: b(4), value: b(4) }] as unknown as KvBatchOp[];
      await expectStorageError(store.batch(badType), 'INVALID_ARGUMENT');
      expect(keysOf(await collect(store))).toEqual([hex(b(1))]);
    });

    it('iterates in bytewise order (unsigned bytes, shorter key first)', async () => {
      const keys = [
        b(0x80),
        b(0x01, 0x00),
        b(0xff),
        b(0x01),
        b(0x00, 0xff),
        b(0x7f, 0xff, 0xff),
        b(0xff, 0x00),
        b(0x01, 0x00, 0x00),
        b(0x00),
      ];
      await store.batch(keys.map((key) => ({ type: 'put', key, value: key })));
      const expected = [...keys].sort(referenceCompare).map(hex);
      const entries = await collect(store);
      expect(keysOf(entries)).toEqual(expected);
      for (const entry of entries) expect(entry.value).toEqual(entry.key);
      expect(keysOf(await collect(store, { reverse: true }))).toEqual([...expected].reverse());
    });

    it('honours gte (inclusive), lt (exclusive), limit and reverse', async () => {
      await store.batch(
        Array.from({ length: 10 }, (_, i) => ({ type: 'put' as const, key: b(i), value: b(i) })),
      );
      const range = async (options: Parameters<KvStore['iterate']>[0]): Promise<number[]> =>
        (await collect(store, options)).map((e) => e.key[0] ?? -1);
      expect(await range({ gte: b(3), lt: b(6) })).toEqual([3, 4, 5]);
      expect(await range({ gte: b(3, 0), lt: b(6) })).toEqual([4, 5]);
      expect(await range({ gte: b(8) })).toEqual([8, 9]);
      expect(await range({ lt: b(2) })).toEqual([0, 1]);
      expect(await range({ lt: b(2, 0) })).toEqual([0, 1, 2]);
      expect(await range({ gte: b(3), lt: b(6), reverse: true })).toEqual([5, 4, 3]);
      expect(await range({ gte: b(3), limit: 2 })).toEqual([3, 4]);
      expect(await range({ lt: b(7), limit: 2, reverse: true })).toEqual([6, 5]);
      expect(await range({ limit: 0 })).toEqual([]);
      expect(await range({ gte: b(6), lt: b(3) })).toEqual([]);
      expect(await range({ gte: b(5), lt: b(5) })).toEqual([]);
      expect(await range({ gte: b(20) })).toEqual([]);
      await expectStorageError(collect(store, { limit: -1 }), 'INVALID_ARGUMENT');
      await expectStorageError(collect(store, { limit: 1.5 }), 'INVALID_ARGUMENT');
    });

    it('scans a prefix, including prefixes ending in 0xff', async () => {
      const keys = [b(1), b(1, 0), b(1, 0xff), b(1, 0xff, 0), b(1, 0xff, 0xff), b(2), b(0xff, 1)];
      await store.batch(keys.map((key) => ({ type: 'put', key, value: b() })));
      expect(keysOf(await collect(store, prefixRange(b(1, 0xff))))).toEqual(
        [b(1, 0xff), b(1, 0xff, 0), b(1, 0xff, 0xff)].map(hex),
      );
      expect(keysOf(await collect(store, prefixRange(b(0xff))))).toEqual([hex(b(0xff, 1))]);
      expect(await collect(store, prefixRange(b(3)))).toEqual([]);
    });

    it('iterates a snapshot: writes made while iterating are not seen', async () => {
      const count = 600;
      const key = (i: number): Uint8Array => b(i >> 8, i & 0xff);
      await store.batch(
        Array.from({ length: count }, (_, i) => ({
          type: 'put' as const,
          key: key(i),
          value: b(0),
        })),
      );
      const seen: string[] = [];
      for await (const entry of store.iterate()) {
        if (seen.length === 0) {
          await store.batch([
            { type: 'del', key: key(count - 1) },
            { type: 'put', key: b(0, 0, 1), value: b(1) },
            { type: 'put', key: key(500), value: b(2) },
          ]);
        }
        seen.push(hex(entry.key));
        if (hex(entry.key) === hex(key(500))) expect(entry.value).toEqual(b(0));
      }
      expect(seen).toEqual(Array.from({ length: count }, (_, i) => hex(key(i))));
      const after = await collect(store);
      expect(after).toHaveLength(count);
      expect(await store.get(key(500))).toEqual(b(2));
    });

    it('stops with ABORTED when the signal aborts, and before starting if already aborted', async () => {
      await store.batch(
        Array.from({ length: 50 }, (_, i) => ({ type: 'put' as const, key: b(i), value: b(i) })),
      );
      const controller = new AbortController();
      let n = 0;
      const run = async (): Promise<void> => {
        for await (const _entry of store.iterate({ signal: controller.signal })) {
          if (++n === 3) controller.abort();
        }
      };
      await expectStorageError(run(), 'ABORTED');
      expect(n).toBe(3);
      await expectStorageError(collect(store, { signal: AbortSignal.abort() }), 'ABORTED');
    });

    it('releases an iterator when the loop breaks early', async () => {
      await store.batch(
        Array.from({ length: 20 }, (_, i) => ({ type: 'put' as const, key: b(i), value: b(i) })),
      );
      for (let round = 0; round < 5; round++) {
        for await (const entry of store.iterate()) {
          expect(entry.key).toEqual(b(0));
          break;
        }
      }
      await store.put(b(100), b(1));
      expect(await store.get(b(100))).toEqual(b(1));
    });

    it('rejects every call after close with CLOSED; close is idempotent', async () => {
      await store.put(b(1), b(1));
      await store.close();
      await store.close();
      await expectStorageError(store.get(b(1)), 'CLOSED');
      await expectStorageError(store.getMany([b(1)]), 'CLOSED');
      expect(() => store.getSync(b(1))).toThrow(
        expect.objectContaining({ code: 'CLOSED' }) as Error,
      );
      await expectStorageError(store.put(b(1), b(1)), 'CLOSED');
      await expectStorageError(store.del(b(1)), 'CLOSED');
      await expectStorageError(store.batch([{ type: 'del', key: b(1) }]), 'CLOSED');
      await expectStorageError(collect(store), 'CLOSED');
    });

    it('keeps its data across close and reopen', async () => {
      await store.batch([
        { type: 'put', key: utf8('a'), value: utf8('1') },
        { type: 'put', key: utf8('b'), value: utf8('2') },
      ]);
      await store.put(utf8('c'), utf8('3'), { sync: true });
      await store.del(utf8('a'));
      store = await harness.reopen(store);
      expect(keysOf(await collect(store))).toEqual([utf8('b'), utf8('c')].map(hex));
      expect(await store.get(utf8('c'))).toEqual(utf8('3'));
    });

    it('round-trips a 1 MiB value', async () => {
      const big = new Uint8Array(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await store.put(b(1), big);
      const got = await store.get(b(1));
      // Buffer.compare: element-wise toEqual on a megabyte takes seconds.
      expect(got === undefined ? -2 : Buffer.compare(got, big)).toBe(0);
    });

    it('serves concurrent writes and reads consistently', async () => {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => store.put(b(1, i), b(i), { sync: i % 10 === 0 })),
      );
      const values = await Promise.all(Array.from({ length: 100 }, (_, i) => store.get(b(1, i))));
      expect(values).toEqual(Array.from({ length: 100 }, (_, i) => b(i)));
    });

    it('behaves like a sorted map under random operations (property)', async () => {
      type Op =
        | { kind: 'put'; key: number[]; value: number[] }
        | { kind: 'del'; key: number[] }
        | { kind: 'batch'; ops: { key: number[]; value: number[] | null }[] };
      const keyArb = fc.array(fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff), {
        minLength: 1,
        maxLength: 3,
      });
      const valueArb = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 });
      const opArb: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ kind: fc.constant('put' as const), key: keyArb, value: valueArb }),
        fc.record({ kind: fc.constant('del' as const), key: keyArb }),
        fc.record({
          kind: fc.constant('batch' as const),
          ops: fc.array(fc.record({ key: keyArb, value: fc.option(valueArb, { nil: null }) }), {
            maxLength: 6,
          }),
        }),
      );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { maxLength: 25 }),
          keyArb,
          keyArb,
          async (ops, lo, hi) => {
            // Each run writes under its own prefix so runs do not see each other.
            const prefix = b(0xfe, run >> 8, run & 0xff);
            run++;
            const k = (key: number[]): Uint8Array => Uint8Array.from([...prefix, ...key]);
            const model = new Map<string, Uint8Array>();
            for (const op of ops) {
              if (op.kind === 'put') {
                await store.put(k(op.key), Uint8Array.from(op.value));
                model.set(hex(k(op.key)), Uint8Array.from(op.value));
              } else if (op.kind === 'del') {
                await store.del(k(op.key));
                model.delete(hex(k(op.key)));
              } else {
                await store.batch(
                  op.ops.map((o): KvBatchOp =>
                    o.value === null
                      ? { type: 'del', key: k(o.key) }
                      : { type: 'put', key: k(o.key), value: Uint8Array.from(o.value) },
                  ),
                );
                for (const o of op.ops) {
                  if (o.value === null) model.delete(hex(k(o.key)));
                  else model.set(hex(k(o.key)), Uint8Array.from(o.value));
                }
              }
            }
            const expected = [...model.keys()]
              .map((h) => Uint8Array.from(Buffer.from(h, 'hex')))
              .sort(referenceCompare);
            const all = await collect(store, prefixRange(prefix));
            expect(keysOf(all)).toEqual(expected.map(hex));
            for (const entry of all) expect(entry.value).toEqual(model.get(hex(entry.key)));
            const gte = k(lo);
            const lt = k(hi);
            const inRange = expected.filter(
              (key) => referenceCompare(key, gte) >= 0 && referenceCompare(key, lt) < 0,
            );
            expect(keysOf(await collect(store, { gte, lt, reverse: true, limit: 3 }))).toEqual(
              inRange.reverse().slice(0, 3).map(hex),
            );
          },
        ),
        { numRuns: 40, seed: 20261122 },
      );
    });
  });
}
