import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../storage/errors.js';
import {
  BUCKET,
  RETIRED_BUCKET_IDS,
  encodeHeight,
  heightKey,
  heightOfKey,
  indexKey,
  indexPrefix,
  parseIndexKey,
  positionKey,
} from '../../storage/keys.js';
import { compareBytes, prefixEnd, prefixRange } from '../../storage/kv.js';

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  return key.length >= prefix.length && compareBytes(key.subarray(0, prefix.length), prefix) === 0;
}

describe('bucket table', () => {
  it('gives every bucket a distinct one-byte id that was never retired', () => {
    const ids = Object.values(BUCKET);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(Number.isInteger(id) && id > 0 && id < 0x100).toBe(true);
      expect(RETIRED_BUCKET_IDS).not.toContain(id);
    }
  });

  it('pins the ids of existing buckets (changing one orphans data on disk)', () => {
    expect(BUCKET).toEqual({
      meta: 0x01,
      blockByHeight: 0x02,
      certificateByHeight: 0x03,
      heightByBlockHash: 0x04,
      txIndex: 0x05,
      receipt: 0x06,
      state: 0x07,
      index: 0x08,
      consensusWal: 0x09,
      vault: 0x0a,
    });
  });
});

describe('height keys', () => {
  it('are 8-byte big-endian after the bucket id, up to 2^53 - 1', () => {
    expect(heightKey(BUCKET.blockByHeight, 0x0102)).toEqual(
      Uint8Array.of(0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x02),
    );
    const max = heightKey(BUCKET.blockByHeight, Number.MAX_SAFE_INTEGER);
    expect(heightOfKey(max)).toBe(Number.MAX_SAFE_INTEGER);
    expect(encodeHeight(2 ** 32)).toEqual(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0));
  });

  it('order bytewise exactly as heights order numerically (property)', () => {
    const height = fc.oneof(
      fc.nat({ max: 1000 }),
      fc.nat({ max: 2 ** 40 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
    fc.assert(
      fc.property(height, height, (a, b) => {
        const order = Math.sign(
          compareBytes(heightKey(BUCKET.receipt, a), heightKey(BUCKET.receipt, b)),
        );
        expect(order).toBe(Math.sign(a - b));
        expect(heightOfKey(heightKey(BUCKET.receipt, a))).toBe(a);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('reject negative, fractional and unsafe heights with INVALID_ARGUMENT', () => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity]) {
      expect(() => heightKey(BUCKET.blockByHeight, bad)).toThrow(StorageError);
    }
    expect(() => positionKey(BUCKET.receipt, 1, -1)).toThrow(/index/);
    expect(() => positionKey(BUCKET.receipt, 1, 2 ** 32)).toThrow(/index/);
  });

  it('order receipts by (height, index)', () => {
    const keys = [
      positionKey(BUCKET.receipt, 2, 0),
      positionKey(BUCKET.receipt, 1, 300),
      positionKey(BUCKET.receipt, 1, 2),
    ];
    keys.sort(compareBytes);
    expect(keys.map((k) => [heightOfKey(k), new DataView(k.buffer).getUint32(9)])).toEqual([
      [1, 2],
      [1, 300],
      [2, 0],
    ]);
  });
});

describe('index keys', () => {
  it('keep (name, key) prefixes apart even when one name or key extends another', () => {
    const a = Uint8Array.of(1, 2);
    const ab = Uint8Array.of(1, 2, 3);
    expect(startsWith(indexKey('x', ab, Uint8Array.of()), indexPrefix('x', a))).toBe(false);
    expect(startsWith(indexKey('x', a, Uint8Array.of(3)), indexPrefix('x', ab))).toBe(false);
    expect(startsWith(indexKey('xy', a, Uint8Array.of()), indexPrefix('x', a))).toBe(false);
    expect(startsWith(indexKey('x', a, Uint8Array.of(9, 9)), indexPrefix('x', a))).toBe(true);
  });

  it('round-trip through parseIndexKey', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9._-]{1,64}$/),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }),
        (name, key, suffix) => {
          expect(parseIndexKey(indexKey(name, key, suffix))).toEqual({ name, key, suffix });
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it('reject bad index names', () => {
    for (const bad of ['', 'UPPER', 'has space', 'x'.repeat(65), 'ümlaut']) {
      expect(() => indexPrefix(bad, Uint8Array.of(1))).toThrow(/index name/);
    }
  });
});

describe('prefix ranges', () => {
  it('cover exactly the keys under a prefix', () => {
    expect(prefixEnd(Uint8Array.of(1, 2))).toEqual(Uint8Array.of(1, 3));
    expect(prefixEnd(Uint8Array.of(1, 0xff))).toEqual(Uint8Array.of(2));
    expect(prefixEnd(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    expect(prefixRange(Uint8Array.of(0xff))).toEqual({ gte: Uint8Array.of(0xff) });
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        fc.uint8Array({ maxLength: 6 }),
        (prefix, key) => {
          const range = prefixRange(prefix);
          const inside =
            range.gte !== undefined &&
            compareBytes(key, range.gte) >= 0 &&
            (range.lt === undefined || compareBytes(key, range.lt) < 0);
          expect(inside).toBe(startsWith(key, prefix));
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });
});
