import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode as decodeRaw, encode, fromHex, toHex } from '../../src/codec/index.js';
import type { CodecValue } from '../../src/codec/index.js';
import {
  blockEncodedLength,
  blockToCodec,
  decodeBlock,
  decodeBlockHeader,
  decodeCommitCertificate,
  decodeReceipt,
  decodeTransaction,
  decodeUnsignedTransaction,
  DEFAULT_LEDGER_LIMITS,
  encodeBlock,
  encodeBlockHeader,
  encodeCommitCertificate,
  encodeReceipt,
  encodeTransaction,
  encodeUnsignedTransaction,
  LedgerError,
  LedgerErrorCode,
  noteTransactionBytes,
  transactionToCodec,
  TX_TYPES,
} from '../../src/ledger/index.js';
import type {
  Block,
  BlockHeader,
  CommitCertificate,
  Receipt,
  Transaction,
} from '../../src/ledger/index.js';
import { CHAIN_ID } from './ledger-fixtures.js';

const hash = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

const tx: Transaction = {
  chainId: CHAIN_ID,
  type: 'consent.grant',
  payload: {
    grantee: 'hospital-b',
    scope: { levels: ['L2', 'L3'] },
    until: 2_000_000,
    wrap: hash(3),
  },
  signer: new Uint8Array(32).fill(4),
  nonce: 7,
  validUntilHeight: 1000,
  signature: new Uint8Array(64).fill(5),
};
const header: BlockHeader = {
  chainId: CHAIN_ID,
  height: 12,
  prevHash: hash(1),
  txRoot: hash(2),
  stateRoot: hash(3),
  proposer: 2,
  view: 1,
  timestamp: 1_767_225_600_123,
  validatorSetHash: hash(4),
};
const block: Block = { header, txs: [tx, { ...tx, nonce: 8 }] };
const cert: CommitCertificate = {
  chainId: CHAIN_ID,
  height: 12,
  view: 1,
  blockHash: hash(9),
  signatures: [
    { validator: 0, signature: new Uint8Array(64).fill(1) },
    { validator: 2, signature: new Uint8Array(64).fill(2) },
  ],
};
const receipt: Receipt = {
  txHash: hash(6),
  height: 12,
  index: 1,
  code: 'CONSENT_EXPIRED',
  reason: '授权已过期',
};

function expectLedgerError(fn: () => unknown, code: string, field?: string): LedgerError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(LedgerError);
  const error = caught as LedgerError;
  expect(error.code).toBe(code);
  if (field !== undefined) {
    expect(error.details.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  }
  return error;
}

/** Encode a map exactly as given, bypassing the ledger encoders (to build invalid objects). */
const raw = (value: Record<string, CodecValue>): Uint8Array => encode(value);
/** `base` with `changes` applied: a value replaces or adds a field, `undefined` removes it. */
function withChanges(
  base: Record<string, CodecValue>,
  changes: Record<string, CodecValue | undefined>,
): Record<string, CodecValue> {
  const merged = { ...base, ...changes };
  return Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, CodecValue] => entry[1] !== undefined),
  );
}
const txMap = (changes: Record<string, CodecValue | undefined>): Uint8Array =>
  raw(withChanges(transactionToCodec(tx), changes));

describe('ledger encoding: round trips', () => {
  it('round-trips every object and re-encodes to the same bytes', () => {
    const cases: [string, Uint8Array, (b: Uint8Array) => unknown, unknown][] = [
      ['transaction', encodeTransaction(tx), (b) => decodeTransaction(b), tx],
      [
        'unsigned transaction',
        encodeUnsignedTransaction(tx),
        (b) => decodeUnsignedTransaction(b),
        (({ signature: _, ...u }) => u)(tx),
      ],
      ['header', encodeBlockHeader(header), decodeBlockHeader, header],
      ['block', encodeBlock(block), (b) => decodeBlock(b), block],
      ['certificate', encodeCommitCertificate(cert), decodeCommitCertificate, cert],
      ['receipt', encodeReceipt(receipt), decodeReceipt, receipt],
    ];
    for (const [what, bytes, decodeFn, expected] of cases) {
      expect(decodeFn(bytes), what).toEqual(expected);
    }
    expect(toHex(encodeTransaction(decodeTransaction(encodeTransaction(tx))))).toBe(
      toHex(encodeTransaction(tx)),
    );
    expect(toHex(encodeBlock(decodeBlock(encodeBlock(block))))).toBe(toHex(encodeBlock(block)));
  });

  it('encodes only the declared fields, whatever else the object carries', () => {
    const extra = { ...tx, fee: 10, hash: hash(0) } as Transaction;
    expect(toHex(encodeTransaction(extra))).toBe(toHex(encodeTransaction(tx)));
    // the unsigned encoding leaves the signature out
    expect(toHex(encodeUnsignedTransaction(tx))).toBe(
      toHex(encode((({ signature: _, ...u }) => u)(transactionToCodec(tx)))),
    );
  });

  const arbitraryTx = fc.record({
    chainId: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
    type: fc.constantFrom(...TX_TYPES),
    payload: fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.oneof(
        fc.integer(),
        fc.string({ maxLength: 20 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.boolean(),
      ),
      { maxKeys: 5, noNullPrototype: true },
    ),
    signer: fc.uint8Array({ minLength: 1, maxLength: 65 }),
    nonce: fc.maxSafeNat(),
    validUntilHeight: fc.maxSafeNat(),
    signature: fc.uint8Array({ minLength: 1, maxLength: 72 }),
  });

  it('round-trips arbitrary transactions', () => {
    fc.assert(
      fc.property(arbitraryTx, (t) => {
        const bytes = encodeTransaction(t);
        expect(decodeTransaction(bytes)).toEqual(t);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes a block with its transactions copied as their known bytes, byte for byte as a plain encode', () => {
    fc.assert(
      fc.property(fc.array(arbitraryTx, { maxLength: 30 }), fc.boolean(), (txs, received) => {
        // Transactions as a node holds them: decoded from bytes it received, or built here.
        const held = received
          ? txs.map((t) => decodeTransaction(encode(transactionToCodec(t))))
          : txs;
        const b: Block = { header, txs: held };
        expect(toHex(encodeBlock(b))).toBe(toHex(encode(blockToCodec(b))));
        expect(decodeBlock(encodeBlock(b))).toEqual(b);
      }),
      { numRuns: 200 },
    );
  });

  it('encodes a transaction once and then hands out the bytes it was decoded from', () => {
    const bytes = encode(transactionToCodec(tx));
    const decoded = decodeTransaction(bytes);
    noteTransactionBytes(decoded, bytes);
    expect(encodeTransaction(decoded)).toBe(bytes);
    const built = { ...tx, nonce: 77 };
    const first = encodeTransaction(built);
    expect(encodeTransaction(built)).toBe(first);
    expect(toHex(first)).toBe(toHex(encode(transactionToCodec(built))));
  });

  it('computes the exact encoded block length without encoding the block', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryTx, { maxLength: 30 }),
        fc.nat({ max: 2 ** 40 }),
        (txs, timestamp) => {
          const b: Block = { header: { ...header, timestamp }, txs };
          const length = blockEncodedLength(
            encodeBlockHeader(b.header).length,
            txs.map((t) => encodeTransaction(t).length),
          );
          expect(length).toBe(encodeBlock(b).length);
        },
      ),
      { numRuns: 200 },
    );
    // array heads of 1, 2 and 3 bytes
    for (const count of [23, 24, 255, 256]) {
      const txs = Array.from({ length: count }, (_, i) => ({ ...tx, nonce: i }));
      const length = blockEncodedLength(
        encodeBlockHeader(header).length,
        txs.map((t) => encodeTransaction(t).length),
      );
      expect(length).toBe(encodeBlock({ header, txs }).length);
    }
  });
});

describe('ledger encoding: strict decoding', () => {
  it('rejects non-canonical bytes', () => {
    const canonical = toHex(encodeTransaction({ ...tx, nonce: 24 }));
    // "nonce" followed by 24 in its shortest form (18 18), rewritten with a two-byte head
    const nonceKey = toHex(encode('nonce'));
    expect(canonical).toContain(`${nonceKey}1818`);
    const longNonce = fromHex(canonical.replace(`${nonceKey}1818`, `${nonceKey}190018`));
    expectLedgerError(() => decodeTransaction(longNonce), LedgerErrorCode.malformed);
    // trailing bytes
    expectLedgerError(
      () => decodeTransaction(fromHex(`${canonical}00`)),
      LedgerErrorCode.malformed,
    );
    // a float where an integer belongs
    const floatNonce = fromHex(canonical.replace(`${nonceKey}1818`, `${nonceKey}f94e00`));
    expectLedgerError(() => decodeTransaction(floatNonce), LedgerErrorCode.malformed);
    // a map length in a longer head than needed
    const headerHex = toHex(encodeBlockHeader(header));
    expect(headerHex.startsWith('a9')).toBe(true);
    expectLedgerError(
      () => decodeBlockHeader(fromHex(`b90009${headerHex.slice(2)}`)),
      LedgerErrorCode.malformed,
    );
    // keys out of canonical order
    const entries = Object.entries(decodeAsMap(encodeBlockHeader(header))).sort(([a], [b]) =>
      toHex(encode(a)) < toHex(encode(b)) ? -1 : 1,
    );
    const sorted = entries.map(([k]) => k);
    expect(sorted.slice(0, 2)).toEqual(['view', 'height']); // shorter keys first
    expect(toHex(mapInOrder(entries))).toBe(headerHex);
    const [first, second, ...rest] = entries;
    if (first === undefined || second === undefined) throw new RangeError('header has fields');
    expectLedgerError(
      () => decodeBlockHeader(mapInOrder([second, first, ...rest])),
      LedgerErrorCode.malformed,
    );
  });

  const txFieldCases: [string, Record<string, CodecValue | undefined>, string, string][] = [
    ['an unknown field', { fee: 1 }, LedgerErrorCode.malformed, 'fee'],
    ['a missing field', { nonce: undefined }, LedgerErrorCode.malformed, 'nonce'],
    ['a missing signature', { signature: undefined }, LedgerErrorCode.malformed, 'signature'],
    ['a string nonce', { nonce: '7' }, LedgerErrorCode.malformed, 'nonce'],
    ['a negative nonce', { nonce: -1 }, LedgerErrorCode.malformed, 'nonce'],
    ['a nonce beyond 2^53', { nonce: 2n ** 60n }, LedgerErrorCode.malformed, 'nonce'],
    ['a negative expiry', { validUntilHeight: -5 }, LedgerErrorCode.malformed, 'validUntilHeight'],
    ['an unknown type', { type: 'record.delete' }, LedgerErrorCode.unknownTxType, 'type'],
    ['a type that is not a string', { type: 3 }, LedgerErrorCode.malformed, 'type'],
    ['an upper-case chain id', { chainId: 'Test' }, LedgerErrorCode.malformed, 'chainId'],
    ['an empty chain id', { chainId: '' }, LedgerErrorCode.malformed, 'chainId'],
    ['a chain id with a slash', { chainId: 'a/b' }, LedgerErrorCode.malformed, 'chainId'],
    ['a payload that is an array', { payload: [1] }, LedgerErrorCode.malformed, 'payload'],
    [
      'a payload that is bytes',
      { payload: new Uint8Array(1) },
      LedgerErrorCode.malformed,
      'payload',
    ],
    ['an empty signer', { signer: new Uint8Array(0) }, LedgerErrorCode.malformed, 'signer'],
    ['an oversize signer', { signer: new Uint8Array(129) }, LedgerErrorCode.malformed, 'signer'],
    ['a signer as text', { signer: 'ab' }, LedgerErrorCode.malformed, 'signer'],
    [
      'an oversize signature',
      { signature: new Uint8Array(129) },
      LedgerErrorCode.malformed,
      'signature',
    ],
  ];
  for (const [what, changes, code, field] of txFieldCases) {
    it(`rejects a transaction with ${what}, naming the field`, () => {
      expectLedgerError(() => decodeTransaction(txMap(changes)), code, field);
    });
  }

  it('rejects a signed transaction where an unsigned one is expected', () => {
    expectLedgerError(
      () => decodeUnsignedTransaction(encodeTransaction(tx)),
      LedgerErrorCode.malformed,
      'signature',
    );
  });

  it('rejects input that is not a map', () => {
    expectLedgerError(() => decodeTransaction(encode([1, 2])), LedgerErrorCode.malformed, '(root)');
  });

  it('enforces maxTxBytes before decoding', () => {
    const bytes = encodeTransaction(tx);
    expect(decodeTransaction(bytes, { maxTxBytes: bytes.length })).toEqual(tx);
    const error = expectLedgerError(
      () => decodeTransaction(bytes, { maxTxBytes: bytes.length - 1 }),
      LedgerErrorCode.txTooLarge,
    );
    expect(error.details).toMatchObject({ length: bytes.length, maxBytes: bytes.length - 1 });
  });

  it('enforces block size and transaction count', () => {
    const bytes = encodeBlock(block);
    expect(decodeBlock(bytes, { maxBlockBytes: bytes.length, maxBlockTxs: 2 })).toEqual(block);
    expectLedgerError(
      () => decodeBlock(bytes, { maxBlockBytes: bytes.length - 1, maxBlockTxs: 2 }),
      LedgerErrorCode.blockTooLarge,
    );
    expectLedgerError(
      () => decodeBlock(bytes, { maxBlockBytes: bytes.length, maxBlockTxs: 1 }),
      LedgerErrorCode.tooManyTxs,
      'txs',
    );
  });

  it('names nested fields: txs[i].… and header.…', () => {
    const badTx = { ...transactionToCodec(tx), signer: new Uint8Array(0) };
    const blockMap = (h: Record<string, CodecValue>, txs: CodecValue[]): Uint8Array =>
      raw({ header: h, txs });
    const headerMap = (): Record<string, CodecValue> => decodeAsMap(encodeBlockHeader(header));
    expectLedgerError(
      () => decodeBlock(blockMap(headerMap(), [transactionToCodec(tx), badTx])),
      LedgerErrorCode.malformed,
      'txs[1].signer',
    );
    expectLedgerError(
      () => decodeBlock(blockMap({ ...headerMap(), height: 0 }, [])),
      LedgerErrorCode.malformed,
      'header.height',
    );
    expectLedgerError(
      () => decodeBlock(blockMap({ ...headerMap(), txRoot: new Uint8Array(31) }, [])),
      LedgerErrorCode.malformed,
      'header.txRoot',
    );
    expectLedgerError(
      () => decodeBlock(raw({ header: headerMap(), txs: [], extra: null })),
      LedgerErrorCode.malformed,
      'extra',
    );
    expectLedgerError(
      () => decodeBlock(blockMap(headerMap(), [{ ...transactionToCodec(tx), type: 'x.y' }])),
      LedgerErrorCode.unknownTxType,
      'txs[0].type',
    );
  });

  it('checks header fields', () => {
    const base = decodeAsMap(encodeBlockHeader(header));
    const cases: [Record<string, CodecValue | undefined>, string][] = [
      [{ proposer: -1 }, 'proposer'],
      [{ proposer: 1024 }, 'proposer'],
      [{ view: 'one' }, 'view'],
      [{ timestamp: -1 }, 'timestamp'],
      [{ prevHash: new Uint8Array(33) }, 'prevHash'],
      [{ stateRoot: null }, 'stateRoot'],
      [{ validatorSetHash: undefined }, 'validatorSetHash'],
      [{ round: 1 }, 'round'],
    ];
    for (const [changes, field] of cases) {
      expectLedgerError(
        () => decodeBlockHeader(raw(withChanges(base, changes))),
        LedgerErrorCode.malformed,
        field,
      );
    }
    expectLedgerError(() => decodeBlockHeader(new Uint8Array(2000)), LedgerErrorCode.tooLarge);
  });

  it('checks certificate fields', () => {
    const base = decodeAsMap(encodeCommitCertificate(cert));
    const sig = { validator: 0, signature: new Uint8Array(64) };
    const cases: [Record<string, CodecValue>, string][] = [
      [{ height: 0 }, 'height'],
      [{ blockHash: new Uint8Array(31) }, 'blockHash'],
      [{ signatures: {} }, 'signatures'],
      [{ signatures: [{ ...sig, validator: 1024 }] }, 'signatures[0].validator'],
      [{ signatures: [sig, { ...sig, validator: -1 }] }, 'signatures[1].validator'],
      [{ signatures: [{ ...sig, signature: new Uint8Array(0) }] }, 'signatures[0].signature'],
      [{ signatures: [{ ...sig, extra: 1 }] }, 'signatures[0].extra'],
      [{ signatures: Array.from({ length: 1025 }, () => sig) }, 'signatures'],
    ];
    for (const [changes, field] of cases) {
      expectLedgerError(
        () => decodeCommitCertificate(raw({ ...base, ...changes })),
        LedgerErrorCode.malformed,
        field,
      );
    }
  });

  it('checks receipt fields', () => {
    const base = decodeAsMap(encodeReceipt(receipt));
    const cases: [Record<string, CodecValue>, string][] = [
      [{ code: 'ok' }, 'code'],
      [{ code: '' }, 'code'],
      [{ reason: 'x'.repeat(1025) }, 'reason'],
      [{ index: -1 }, 'index'],
      [{ txHash: new Uint8Array(0) }, 'txHash'],
    ];
    for (const [changes, field] of cases) {
      expectLedgerError(
        () => decodeReceipt(raw({ ...base, ...changes })),
        LedgerErrorCode.malformed,
        field,
      );
    }
    expect(decodeReceipt(raw({ ...base, code: 'OK', reason: '' }))).toMatchObject({ code: 'OK' });
  });

  it('throws only LedgerError on random bytes and mutated encodings', () => {
    const decoders: ((b: Uint8Array) => unknown)[] = [
      (b) => decodeTransaction(b),
      (b) => decodeBlock(b),
      decodeBlockHeader,
      decodeCommitCertificate,
      decodeReceipt,
    ];
    const samples = [
      encodeTransaction(tx),
      encodeBlock(block),
      encodeBlockHeader(header),
      encodeCommitCertificate(cert),
      encodeReceipt(receipt),
    ];
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc
        .record({ sample: fc.constantFrom(...samples), at: fc.nat(), byte: fc.nat({ max: 255 }) })
        .map(({ sample, at, byte }) => {
          const copy = Uint8Array.from(sample);
          copy[at % copy.length] = byte;
          return copy;
        }),
    );
    fc.assert(
      fc.property(input, fc.nat({ max: decoders.length - 1 }), (bytes, which) => {
        try {
          decoders[which]?.(bytes);
        } catch (err) {
          if (!(err instanceof LedgerError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('has defaults that fit a full-size transaction in a block', () => {
    expect(blockEncodedLength(1024, [DEFAULT_LEDGER_LIMITS.maxTxBytes])).toBeLessThanOrEqual(
      DEFAULT_LEDGER_LIMITS.maxBlockBytes,
    );
  });
});

/** A CBOR map with the entries in exactly this order (fewer than 24 entries). */
function mapInOrder(entries: readonly [string, CodecValue][]): Uint8Array {
  const parts = entries.map(([k, v]) => toHex(encode(k)) + toHex(encode(v)));
  return fromHex((0xa0 + entries.length).toString(16) + parts.join(''));
}

function decodeAsMap(bytes: Uint8Array): Record<string, CodecValue> {
  const value = decodeRaw(bytes);
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    value instanceof Uint8Array
  ) {
    throw new TypeError('not a map');
  }
  return { ...(value as Record<string, CodecValue>) };
}
