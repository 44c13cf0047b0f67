/**
 * The API's JSON mapping: payload values round-trip exactly (property test),
 * the `$bytes` / `$bigint` / `$map` tags are unambiguous, the inverse names
 * the bad field, and ledger objects survive JSON and back byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, toHex } from '../../src/codec/index.js';
import type { CodecValue } from '../../src/codec/index.js';
import { InvalidInputError } from '../../src/errors.js';
import {
  encodeBlockHeader,
  encodeCommitCertificate,
  encodeReceipt,
  encodeTransaction,
} from '../../src/ledger/index.js';
import {
  blockHeaderFromJson,
  blockHeaderToJson,
  blockLookupToJson,
  certificateFromJson,
  certificateToJson,
  MAX_PAYLOAD_DEPTH,
  payloadFromJson,
  payloadToJson,
  payloadValueFromJson,
  payloadValueToJson,
  receiptFromJson,
  receiptToJson,
  transactionFromJson,
  transactionToJson,
} from '../../src/api/json.js';
import { FakeNode, newTx } from './api-fake-node.js';

/** Codec values the canonical encoder accepts (no floats, safe ints, 64-bit bigints). */
const codecValue: fc.Arbitrary<CodecValue> = fc.letrec<{ value: CodecValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string(),
    fc.constantFrom('$bytes', '$map', '$bigint', '$x'),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('$bytes', '$map', '$bigint', '$', '$a', '__proto__')),
      tie('value'),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value;

/** Through actual JSON text, as on the wire. */
function viaJsonText(value: CodecValue): CodecValue {
  return payloadValueFromJson(JSON.parse(JSON.stringify(payloadValueToJson(value))));
}

describe('payload values', () => {
  it('round-trip exactly: same canonical bytes after JSON text and back', () => {
    fc.assert(
      fc.property(codecValue, (value) => {
        let bytes: Uint8Array;
        try {
          bytes = encode(value);
        } catch {
          return; // outside the codec's subset (e.g. a lone surrogate string)
        }
        expect(encode(viaJsonText(value))).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('maps bytes, bigints and tag-shaped maps to tags', () => {
    expect(payloadValueToJson(Uint8Array.of(0xde, 0xad))).toEqual({ $bytes: 'dead' });
    expect(payloadValueToJson(2n ** 60n)).toEqual({ $bigint: '1152921504606846976' });
    expect(payloadValueToJson({ $bytes: 'ab' })).toEqual({ $map: { $bytes: 'ab' } });
    expect(payloadValueToJson({ $bytes: 'ab', other: 1 })).toEqual({ $bytes: 'ab', other: 1 });
    expect(payloadValueToJson({ plain: Uint8Array.of(1) })).toEqual({ plain: { $bytes: '01' } });
    expect(payloadValueToJson({})).toEqual({});
  });

  it('reads tags back, and a $map-wrapped map as data', () => {
    expect(payloadValueFromJson({ $bytes: 'DEAD' })).toEqual(Uint8Array.of(0xde, 0xad));
    expect(payloadValueFromJson({ $bytes: '' })).toEqual(new Uint8Array(0));
    expect(payloadValueFromJson({ $bigint: '-18446744073709551615' })).toBe(-(2n ** 64n) + 1n);
    expect(payloadValueFromJson({ $map: { $bytes: 'not hex!' } })).toEqual({ $bytes: 'not hex!' });
    expect(payloadValueFromJson({ $map: { $map: { $bigint: '1' } } })).toEqual({ $map: 1n });
  });

  it('keeps a "__proto__" key as data, never as a prototype', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"$bytes": "01"}, "a": 1}');
    const value = payloadValueFromJson(parsed) as Record<string, CodecValue>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual(Uint8Array.of(1));
    expect(decode(encode(value))).toEqual(value);
  });

  it('rejects what has no codec value, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: 1.5 }, /^payload\.a: numbers must be safe integers/],
      [{ a: 2 ** 60 }, /^payload\.a: numbers must be safe integers/],
      [{ a: [1, { $bytes: 'abc' }] }, /^payload\.a\[1\]\.\$bytes: not an even-length hex string/],
      [{ a: { $bytes: 12 } }, /^payload\.a\.\$bytes: expected a hex string/],
      [{ a: { $bigint: '01' } }, /^payload\.a\.\$bigint: expected a decimal integer string/],
      [{ a: { $bigint: 5 } }, /decimal integer string/],
      [{ a: { $map: [1] } }, /^payload\.a\.\$map: expected an object, got an array/],
      [{ a: { $date: '2026' } }, /^payload\.a\.\$date: "\$date" is a reserved tag/],
    ];
    for (const [json, message] of cases) {
      expect(() => payloadFromJson(json)).toThrow(InvalidInputError);
      expect(() => payloadFromJson(json)).toThrow(message);
    }
    expect(() => payloadFromJson([1])).toThrow(/^payload: expected a map/);
    expect(() => payloadFromJson({ $bytes: '00' })).toThrow(/expected a map, got a byte string/);
  });

  it('bounds nesting depth', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_PAYLOAD_DEPTH + 2; i++) deep = [deep];
    expect(() => payloadValueFromJson(deep)).toThrow(/nested deeper than/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_PAYLOAD_DEPTH - 1; i++) ok = [ok];
    expect(() => payloadValueFromJson(ok)).not.toThrow();
  });
});

describe('ledger objects', () => {
  it('transactions survive JSON text and back byte for byte', () => {
    const tx = newTx({
      payload: {
        recordId: 'rec-1',
        contentHash: new Uint8Array(32).fill(7),
        big: 2n ** 62n,
        nested: { $bytes: 'literal' },
        list: [1, 'two', null, true, Uint8Array.of(3)],
      },
    });
    const json = JSON.parse(JSON.stringify(transactionToJson(tx))) as unknown;
    const back = transactionFromJson(json);
    expect(encodeTransaction(back)).toEqual(encodeTransaction(tx));
    expect(payloadToJson(tx.payload)).toMatchObject({ nested: { $map: { $bytes: 'literal' } } });
  });

  it('blocks, headers, certificates and receipts survive JSON and back', async () => {
    const node = new FakeNode();
    await node.submitTransaction(encodeTransaction(newTx()));
    const lookup = node.commitBlock();
    const json = JSON.parse(JSON.stringify(blockLookupToJson(lookup))) as ReturnType<
      typeof blockLookupToJson
    >;
    expect(encodeBlockHeader(blockHeaderFromJson(json.header))).toEqual(
      encodeBlockHeader(lookup.block.header),
    );
    expect(encodeCommitCertificate(certificateFromJson(json.certificate))).toEqual(
      encodeCommitCertificate(lookup.certificate),
    );
    const receipt = lookup.receipts[0];
    if (receipt === undefined) throw new RangeError('no receipt');
    expect(encodeReceipt(receiptFromJson(json.receipts[0]))).toEqual(encodeReceipt(receipt));
    expect(blockHeaderToJson(lookup.block.header).prevHash).toBe(
      toHex(lookup.block.header.prevHash),
    );
    expect(certificateToJson(lookup.certificate).signers).toEqual([0, 1, 2]);
    expect(receiptToJson(receipt).txHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the inverse names the bad field', () => {
    const good = transactionToJson(newTx());
    const cases: [unknown, RegExp][] = [
      [{ ...good, signer: 'XYZ' }, /^signer: not an even-length lower-case hex string/],
      [{ ...good, nonce: -1 }, /^nonce: must be at least 0/],
      [{ ...good, type: 'record.delete' }, /^type: unknown transaction type/],
      [{ ...good, extra: 1 }, /^extra: unknown field/],
      [{ ...good, payload: { a: 0.5 } }, /^payload\.a: numbers must be safe integers/],
      [(({ signature: _s, ...rest }) => rest)(good), /^signature: missing/],
    ];
    for (const [json, message] of cases) expect(() => transactionFromJson(json)).toThrow(message);
    expect(() =>
      receiptFromJson({ txHash: 'ab', height: 1, index: 0, code: 'OK', reason: '' }),
    ).toThrow(/^txHash: expected 32 bytes of hex, got 1/);
  });
});
