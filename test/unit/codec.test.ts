import { encode as cborgEncode, rfc8949EncodeOptions } from 'cborg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesEqual,
  CodecError,
  CodecErrorCode,
  decode,
  DEFAULT_MAX_DECODE_BYTES,
  encode,
  Encoded,
  encodeSpliced,
  fromHex,
  ownedBytes,
  toHex,
} from '../../src/codec/index.js';
import type { CodecValue, SplicedValue } from '../../src/codec/index.js';

const U64_MAX = 2n ** 64n - 1n;
const NEG_U64_MIN = -(2n ** 64n);
const SAFE_LIMIT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Every value the codec accepts, in the form `decode` returns it: integers in
 * the safe range are numbers, integers outside it (up to the 64-bit CBOR
 * range) are bigints.
 */
const { value: codecValue } = fc.letrec<{ value: CodecValue; leaf: CodecValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), tie('value'), {
      maxKeys: 6,
      noNullPrototype: true,
    }),
  ),
  leaf: fc.oneof(
    fc.integer(),
    fc.maxSafeInteger(),
    fc.constantFrom(0, -1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32),
    fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    fc.bigInt({ min: SAFE_LIMIT + 1n, max: U64_MAX }),
    fc.bigInt({ min: NEG_U64_MIN, max: -SAFE_LIMIT - 1n }),
    fc.constantFrom(U64_MAX, NEG_U64_MIN, SAFE_LIMIT + 1n, -SAFE_LIMIT - 1n),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.boolean(),
    fc.constant(null),
  ),
}));

function expectCodecError(fn: () => unknown, code?: string): CodecError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CodecError);
  const error = caught as CodecError;
  if (code !== undefined) expect(error.code).toBe(code);
  return error;
}

const hex = (h: string): Uint8Array => fromHex(h.replace(/\s+/g, ''));

describe('codec: round trip', () => {
  it('decode(encode(v)) equals v and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(codecValue, (value) => {
        const bytes = encode(value);
        const back = decode(bytes);
        expect(back).toEqual(value);
        expect(bytesEqual(encode(back), bytes)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('orders map keys exactly as RFC 8949 (bytewise over the encoded keys) does', () => {
    // The codec uses cborg's faster length-first sorter; for text keys the two agree.
    const key = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({ unit: 'grapheme', minLength: 20, maxLength: 300 }),
    );
    const map = fc.dictionary(key, codecValue, { maxKeys: 12, noNullPrototype: true });
    fc.assert(
      fc.property(fc.oneof(map, fc.array(map, { maxLength: 3 })), (value) => {
        expect(toHex(encode(value))).toBe(toHex(cborgEncode(value, rfc8949EncodeOptions)));
      }),
      { numRuns: 500 },
    );
  });

  it('is independent of object key insertion order', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), codecValue, {
          maxKeys: 8,
          noNullPrototype: true,
        }),
        (object) => {
          const reversed = Object.fromEntries(Object.entries(object).reverse()) as CodecValue;
          expect(toHex(encode(reversed))).toBe(toHex(encode(object)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('round-trips any well-formed UTF-16 string and rejects the others', () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u));
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, maxLength: 8 }), (s) => {
        if (s.isWellFormed()) expect(decode(encode(s))).toBe(s);
        else expectCodecError(() => encode(s), CodecErrorCode.encode);
      }),
      { numRuns: 1000 },
    );
  });

  it('encodes a bigint in the safe range exactly like the number', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(toHex(encode(BigInt(n)))).toBe(toHex(encode(n)));
      }),
    );
  });

  it('matches known RFC 8949 encodings', () => {
    const cases: [CodecValue, string][] = [
      [0, '00'],
      [23, '17'],
      [24, '1818'],
      [256, '190100'],
      [-1, '20'],
      [-25, '3818'],
      [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
      [U64_MAX, '1bffffffffffffffff'],
      [NEG_U64_MIN, '3bffffffffffffffff'],
      ['', '60'],
      ['a', '6161'],
      ['水', '63e6b0b4'],
      [new Uint8Array([1, 2]), '420102'],
      [[], '80'],
      [{}, 'a0'],
      [true, 'f5'],
      [false, 'f4'],
      [null, 'f6'],
      // keys sort by encoded bytes: shorter first, then bytewise
      [{ b: 1, aa: 2, a: 3 }, 'a3616103616201626161 02'.replace(' ', '')],
    ];
    for (const [value, expected] of cases) expect(toHex(encode(value))).toBe(expected);
  });

  it('round-trips "__proto__" as an ordinary key without touching the prototype', () => {
    const value = JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as CodecValue;
    const back = decode(encode(value)) as Record<string, CodecValue>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back).sort()).toEqual(['__proto__', 'a']);
    expect(Object.prototype.hasOwnProperty.call(back, '__proto__')).toBe(true);
  });

  it('returns byte strings that do not alias the input', () => {
    const input = encode(new Uint8Array([7, 7, 7]));
    const out = decode(input) as Uint8Array;
    input[1] = 0;
    expect(Array.from(out)).toEqual([7, 7, 7]);
  });
});

describe('codec: decoding arbitrary bytes', () => {
  it('never throws anything but CodecError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const value = decode(bytes);
          // anything accepted is canonical: it re-encodes to exactly the input
          expect(toHex(encode(value))).toBe(toHex(bytes));
        } catch (err) {
          if (!(err instanceof CodecError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but CodecError on mutated valid encodings', () => {
    const mutation = fc.record({
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      kind: fc.constantFrom('replace', 'insert', 'delete', 'truncate'),
    });
    fc.assert(
      fc.property(codecValue, mutation, (value, { at, byte, kind }) => {
        const bytes = Array.from(encode(value));
        const i = at % bytes.length;
        if (kind === 'replace') bytes[i] = byte;
        else if (kind === 'insert') bytes.splice(i, 0, byte);
        else if (kind === 'delete') bytes.splice(i, 1);
        else bytes.length = i;
        const mutated = Uint8Array.from(bytes);
        try {
          expect(toHex(encode(decode(mutated)))).toBe(toHex(mutated));
        } catch (err) {
          if (!(err instanceof CodecError)) throw err;
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('turns pathological nesting into a CodecError', () => {
    const deep = new Uint8Array(200_000).fill(0x81);
    deep[deep.length - 1] = 0x00;
    expectCodecError(() => decode(deep));
  });
});

describe('codec: rejects non-canonical input', () => {
  const nonCanonical: [string, string][] = [
    ['1805', 'uint 5 in one extra byte'],
    ['190005', 'uint 5 in two bytes'],
    ['1a00000005', 'uint 5 in four bytes'],
    ['1b0000000000000005', 'uint 5 in eight bytes'],
    ['190017', 'uint 23 in two bytes'],
    ['1a0000ffff', 'uint 65535 in four bytes'],
    ['1b00000000ffffffff', 'uint 2^32-1 in eight bytes'],
    ['3800', 'negint -1 in one extra byte'],
    ['58 01 aa', 'byte string with a one-byte length it does not need'],
    ['78 01 61', 'text string with a long-form length'],
    ['98 01 01', 'array with a long-form length'],
    ['b8 01 6161 01', 'map with a long-form length'],
    ['a2 6162 01 6161 02', 'unsorted map keys {b, a}'],
    ['a2 626161 01 6162 02', 'keys in lexical instead of length-first order {aa, b}'],
    ['a2 6161 01 6161 02', 'duplicate map key'],
    ['f9 3c00', 'half-precision float 1.0'],
    ['fa 3f800000', 'single-precision float 1.0'],
    ['fb 3ff0000000000000', 'double-precision float 1.0'],
    ['fb 3ff8000000000000', 'float 1.5'],
    ['f9 8000', 'float -0'],
    ['f9 7e00', 'NaN'],
    ['f9 7c00', 'Infinity'],
    ['f9 fc00', '-Infinity'],
    ['5f 41aa ff', 'indefinite-length byte string'],
    ['7f 6161 ff', 'indefinite-length text string'],
    ['9f 01 ff', 'indefinite-length array'],
    ['bf 6161 01 ff', 'indefinite-length map'],
    ['c0 6161', 'tag 0'],
    ['c1 01', 'tag 1 (epoch time)'],
    ['c2 49 010000000000000000', 'tag 2 (bignum)'],
    ['d8 18 41 00', 'tag 24 (embedded CBOR)'],
    ['01 02', 'trailing byte after an integer'],
    ['a0 00', 'trailing byte after a map'],
    ['f7', 'undefined'],
    ['e0', 'simple value 0'],
    ['f8 20', 'simple value 32'],
    ['62 c328', 'text string that is not valid UTF-8'],
    ['63 eda080', 'text string holding an encoded surrogate'],
    ['a1 01 01', 'map with an integer key'],
    ['', 'empty input'],
    ['82 01', 'array with a missing element'],
    ['43 0102', 'byte string shorter than its length'],
    ['ff', 'lone break'],
  ];
  for (const [h, what] of nonCanonical) {
    it(`rejects ${what} (${h || 'empty'})`, () => {
      const error = expectCodecError(() => decode(hex(h)));
      expect([CodecErrorCode.decode, CodecErrorCode.nonCanonical]).toContain(error.code);
    });
  }

  it('with canonical: false, accepts only the re-encoding gaps and keeps every strict check', () => {
    // Key order is what only the re-encode catches: allowed when the caller opts out.
    expect(decode(hex('a2 6162 01 6161 02'), { canonical: false })).toEqual({ b: 1, a: 2 });
    expect(() => decode(hex('a2 6162 01 6161 02'))).toThrow(CodecError);
    // cborg's own strictness still applies.
    for (const h of ['1805', 'a2 6161 01 6161 02', '5f 41aa ff', '01 02', 'f7']) {
      expect(() => decode(hex(h), { canonical: false }), h).toThrow(CodecError);
    }
  });

  it('rejects every non-shortest head of an integer or a length', () => {
    const widths = [
      { ai: 24, bytes: 1, max: 0xff },
      { ai: 25, bytes: 2, max: 0xffff },
      { ai: 26, bytes: 4, max: 0xffff_ffff },
      { ai: 27, bytes: 8, max: Number.MAX_SAFE_INTEGER },
    ];
    const head = (major: number, n: number, width: (typeof widths)[number]): number[] => {
      const out = [(major << 5) | width.ai];
      for (let b = width.bytes - 1; b >= 0; b--)
        out.push(Number((BigInt(n) >> BigInt(8 * b)) & 0xffn));
      return out;
    };
    const item = fc.oneof(
      // uint and negint: the head is the whole item
      fc.record({ major: fc.constantFrom(0, 1), n: fc.integer({ min: 0, max: 0xffff_ffff }) }),
      // bytes, text, array: a body of the announced length so only the head is wrong
      fc.record({ major: fc.constantFrom(2, 3, 4), n: fc.integer({ min: 0, max: 300 }) }),
    );
    fc.assert(
      fc.property(item, ({ major, n }) => {
        const body = major < 2 ? [] : new Array<number>(n).fill(major === 4 ? 0x00 : 0x61);
        const canonical = n < 24 ? -1 : widths.findIndex((w) => n <= w.max);
        for (const width of widths.slice(canonical + 1)) {
          expectCodecError(() => decode(Uint8Array.from([...head(major, n, width), ...body])));
        }
        // the shortest form itself is accepted
        const width = widths[canonical];
        const shortest = width === undefined ? [(major << 5) | n] : head(major, n, width);
        expect(() => decode(Uint8Array.from([...shortest, ...body]))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('enforces maxBytes before decoding', () => {
    const bytes = encode(new Uint8Array(100));
    expect(decode(bytes, { maxBytes: bytes.length })).toEqual(new Uint8Array(100));
    const error = expectCodecError(
      () => decode(bytes, { maxBytes: bytes.length - 1 }),
      CodecErrorCode.tooLarge,
    );
    expect(error.details).toMatchObject({ length: bytes.length, maxBytes: bytes.length - 1 });
    expectCodecError(
      () => decode(new Uint8Array(DEFAULT_MAX_DECODE_BYTES + 1)),
      CodecErrorCode.tooLarge,
    );
  });

  it('rejects input that is not a byte array', () => {
    expectCodecError(() => decode('a1' as unknown as Uint8Array), CodecErrorCode.decode);
  });
});

describe('codec: rejects values outside the canonical subset on encode', () => {
  const bad: [string, unknown][] = [
    ['a float', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['an unsafe number', 2 ** 53],
    ['a negative unsafe number', -(2 ** 53)],
    ['a nested float', { a: [1, 2.5] }],
    ['a bigint above 2^64-1', 2n ** 64n],
    ['a bigint below -2^64', -(2n ** 64n) - 1n],
    ['undefined', undefined],
    ['an undefined property', { a: undefined }],
    ['a sparse array', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['a Map', new Map([['a', 1]])],
    ['a Set', new Set([1])],
    ['a Date', new Date(0)],
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate in a key', { '\udc00': 1 }],
    ['a Uint16Array', new Uint16Array([1])],
    ['a DataView', new DataView(new ArrayBuffer(2))],
    ['an ArrayBuffer', new ArrayBuffer(2)],
    [
      'a class instance',
      new (class Point {
        x = 1;
      })(),
    ],
  ];
  for (const [what, value] of bad) {
    it(`rejects ${what}`, () => {
      expectCodecError(() => encode(value as CodecValue), CodecErrorCode.encode);
    });
  }

  it('rejects circular structures', () => {
    const a: CodecValue[] = [];
    a.push(a);
    expectCodecError(() => encode(a), CodecErrorCode.encode);
  });

  it('accepts a Buffer as bytes and an object with a null prototype as a map', () => {
    expect(toHex(encode(Buffer.from([1, 2])))).toBe('420102');
    const bare = Object.create(null) as Record<string, CodecValue>;
    bare.a = 1;
    expect(toHex(encode(bare))).toBe('a1616101');
  });
});

describe('codec: hex helpers', () => {
  it('round-trips bytes through hex', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(bytesEqual(fromHex(toHex(bytes)), bytes)).toBe(true);
      }),
    );
  });

  it('hexes a subarray view, not its whole buffer', () => {
    const whole = Uint8Array.from([1, 2, 3, 4]);
    expect(toHex(whole.subarray(1, 3))).toBe('0203');
  });

  it('rejects odd-length and non-hex strings, naming the field', () => {
    expectCodecError(() => fromHex('abc'), CodecErrorCode.decode);
    const error = expectCodecError(() => fromHex('zz', 'signer'), CodecErrorCode.decode);
    expect(error.message).toContain('signer');
  });

  it('compares bytes by length and content', () => {
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([2]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});

/** `value` with the subtrees `pick` chooses (in depth-first order) replaced by their encodings. */
function splice(value: CodecValue, pick: () => boolean): SplicedValue {
  if (pick()) return new Encoded(encode(value));
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return (value as readonly CodecValue[]).map((v) => splice(v, pick));
  const record = value as { readonly [key: string]: CodecValue };
  return Object.fromEntries(Object.keys(record).map((k) => [k, splice(record[k] ?? null, pick)]));
}

describe('codec: encodeSpliced', () => {
  it('gives the bytes of encode for any tree with any subtrees already encoded', () => {
    fc.assert(
      fc.property(
        codecValue,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        (value, picks) => {
          let i = 0;
          const spliced = splice(value, () => picks[i++ % picks.length] === true);
          expect(toHex(encodeSpliced(spliced))).toBe(toHex(encode(value)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes the shortest head for every container length', () => {
    for (const n of [0, 23, 24, 255, 256, 65_535, 65_536]) {
      const items = Array.from({ length: n }, (_, i) => i % 7);
      const spliced = items.map((v) => new Encoded(encode(v)));
      expect(toHex(encodeSpliced(spliced))).toBe(toHex(encode(items)));
      const keys = Array.from({ length: Math.min(n, 300) }, (_, i) => [`k${i}`, i] as const);
      const map = Object.fromEntries(keys);
      const splicedMap = Object.fromEntries(keys.map(([k, v]) => [k, new Encoded(encode(v))]));
      expect(toHex(encodeSpliced(splicedMap))).toBe(toHex(encode(map)));
    }
  });

  it('refuses what encode refuses around the encoded parts', () => {
    const part = new Encoded(encode(1));
    expectCodecError(
      () => encodeSpliced({ a: part, b: undefined } as never),
      CodecErrorCode.encode,
    );
    expectCodecError(() => encodeSpliced({ a: part, b: 0.5 }), CodecErrorCode.encode);
    class Holder {
      constructor(readonly a: Encoded) {}
    }
    expectCodecError(() => encodeSpliced(new Holder(part) as never), CodecErrorCode.encode);
    expectCodecError(() => encode({ a: part } as never), CodecErrorCode.encode);
  });
});

describe('codec: ownedBytes', () => {
  it('returns a view that is its whole buffer as is, and copies any other', () => {
    const whole = Uint8Array.from([1, 2, 3]);
    expect(ownedBytes(whole)).toBe(whole);
    const slab = new Uint8Array(64).fill(9);
    const view = slab.subarray(8, 12);
    const owned = ownedBytes(view);
    expect(owned).toEqual(view);
    expect(owned.buffer.byteLength).toBe(4);
    slab[8] = 0;
    expect(owned[0]).toBe(9);
  });
});
