import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, toHex } from '../../src/codec/index.js';
import { decode } from '../../src/codec/index.js';
import { InvariantError } from '../../src/errors.js';
import { blockHeaderToCodec } from '../../src/ledger/encoding.js';
import {
  ConsensusError,
  decodeMessage,
  decodeWireMessage,
  encodeCompactPrePrepare,
  encodeMessage,
  expandCompactPrePrepare,
  messageToCodec,
  walRecordFromCodec,
  walRecordHeight,
  walRecordSurvives,
  walRecordToCodec,
  encodeWalRecord,
  DEFAULT_WIRE_LIMITS,
} from '../../consensus/index.js';
import type { ConsensusMessage, SignedVoteMessage, WalRecord } from '../../consensus/index.js';
import { simTransaction } from '../../consensus/sim/index.js';

/** The value, or a failed test when it is missing. */
function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) {
    throw new ConsensusError('CONSENSUS_SIMULATION', 'expected a value');
  }
  return value;
}

const h = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const sig = (b: number): Uint8Array => new Uint8Array(64).fill(b);
const block = {
  header: {
    chainId: 'medchain-unit',
    height: 3,
    prevHash: h(1),
    txRoot: h(2),
    stateRoot: h(3),
    proposer: 1,
    view: 1,
    timestamp: 1_700_000_000_000,
    validatorSetHash: h(4),
  },
  txs: [simTransaction('medchain-unit', 1), simTransaction('medchain-unit', 2)],
};
const checkpoint = {
  height: 8,
  blockHash: h(5),
  stateRoot: h(6),
  signatures: [0, 1, 2].map((validator) => ({ validator, signature: sig(validator) })),
};
const prepared = {
  height: 9,
  view: 1,
  block: { ...block, header: { ...block.header, height: 9 } },
  prePrepareSignature: sig(7),
  prepares: [2, 3].map((validator) => ({ validator, signature: sig(validator) })),
};
const certified = {
  block,
  certificate: {
    chainId: 'medchain-unit',
    height: 3,
    view: 1,
    blockHash: h(9),
    signatures: checkpoint.signatures,
  },
};
const vc = {
  kind: 'view-change',
  from: 2,
  newView: 2,
  checkpoint,
  committed: [certified],
  prepared: [prepared],
  signature: sig(8),
} as const;

const samples: ConsensusMessage[] = [
  { kind: 'pre-prepare', from: 1, view: 1, height: 3, block, signature: sig(1) },
  { kind: 'prepare', from: 2, view: 1, height: 3, digest: h(9), signature: sig(2) },
  { kind: 'commit', from: 3, view: 1, height: 3, digest: h(9), signature: sig(3) },
  { kind: 'checkpoint', from: 0, height: 8, blockHash: h(5), stateRoot: h(6), signature: sig(4) },
  vc,
  {
    kind: 'new-view',
    from: 2,
    view: 2,
    viewChanges: [vc, { ...vc, from: 3, checkpoint: null, committed: [], prepared: [] }],
    reproposals: [{ height: 9, digest: h(10), signature: sig(11) }],
    signature: sig(12),
  },
  { kind: 'sync-request', from: 1, fromHeight: 4, toHeight: 20, signature: sig(13) },
  {
    kind: 'sync-response',
    from: 0,
    entries: [certified],
    checkpoint,
  },
];

describe('consensus wire format', () => {
  it('round-trips every message kind exactly', () => {
    expect(new Set(samples.map((m) => m.kind)).size).toBe(8);
    for (const m of samples) {
      const bytes = encodeMessage(m);
      const back = decodeMessage(bytes);
      expect(back).toEqual(m);
      expect(encodeMessage(back)).toEqual(bytes);
      // Blocks are written with their transactions copied as bytes: the same bytes.
      expect(toHex(bytes)).toBe(toHex(encode(messageToCodec(m))));
    }
  });

  it('rejects unknown kinds, extra or missing keys, wrong types and out-of-range values', () => {
    const prepare = messageToCodec(must(samples[1])) as Record<string, unknown>;
    const bad: unknown[] = [
      { ...prepare, kind: 'vote' },
      { ...prepare, extra: 1 },
      { kind: 'prepare', from: 2, view: 1, height: 3, digest: h(9) },
      { ...prepare, view: -1 },
      { ...prepare, from: 5000 },
      { ...prepare, digest: 'abc' },
      { ...prepare, digest: new Uint8Array(0) },
      { ...prepare, signature: new Uint8Array(500) },
      [1, 2, 3],
    ];
    for (const value of bad) {
      expect(() => decodeMessage(encode(value as never)), JSON.stringify(value)).toThrow(
        ConsensusError,
      );
    }
    const pp = messageToCodec(must(samples[0])) as Record<string, unknown>;
    const header = { ...block.header, txRoot: 7 };
    expect(() => decodeMessage(encode({ ...pp, block: { header, txs: [] } }))).toThrow(
      ConsensusError,
    );
  });

  it('stores each block of a new-view once, however many view-changes carry it', () => {
    const one = encodeMessage(vc).length;
    const newView = (copies: number): ConsensusMessage => ({
      kind: 'new-view',
      from: 2,
      view: 2,
      viewChanges: Array.from({ length: copies }, (_, from) => ({ ...vc, from })),
      reproposals: [],
      signature: sig(12),
    });
    const three = encodeMessage(newView(3));
    expect(decodeMessage(three)).toEqual(newView(3));
    expect(toHex(three)).toBe(toHex(encode(messageToCodec(newView(3)))));
    // Two more copies add their own signatures and certificates, not two more copies of the blocks.
    expect(three.length - encodeMessage(newView(1)).length).toBeLessThan(one);
    const value = messageToCodec(newView(1)) as Record<string, unknown>;
    // A reference to a block the table does not hold is malformed.
    const broken = { ...value, blocks: [] };
    expect(() => decodeMessage(encode(broken as never))).toThrow(ConsensusError);
  });

  it('never throws anything but ConsensusError on random or mutated bytes', () => {
    const valid = samples.map(encodeMessage);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(fc.nat(valid.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }))
            .map(([i, pos, x]) => {
              const b = new Uint8Array(must(valid[i]));
              const at = pos % b.length;
              b[at] = (b[at] ?? 0) ^ x;
              return b;
            }),
        ),
        (bytes) => {
          try {
            decodeMessage(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(ConsensusError);
          }
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('compact pre-prepares', () => {
  const full = {
    kind: 'pre-prepare',
    from: 1,
    view: 1,
    height: 3,
    block,
    signature: sig(1),
  } as const;
  const hashes = [h(21), h(22)];
  const expected = {
    kind: 'pre-prepare-compact',
    from: 1,
    view: 1,
    height: 3,
    header: block.header,
    txHashes: hashes,
    signature: sig(1),
  } as const;

  it('carry the header and the transaction hashes, and expand back to the same pre-prepare', () => {
    const bytes = encodeCompactPrePrepare(full, hashes);
    const compact = decodeWireMessage(bytes);
    expect(compact).toEqual(expected);
    if (compact.kind !== 'pre-prepare-compact') expect.fail('not compact');
    expect(expandCompactPrePrepare(compact, block.txs)).toEqual(full);
    // Each transaction costs its hash (plus two bytes of framing), not its encoding.
    expect(bytes.length).toBeLessThan(encodeMessage(full).length);
  });

  it('decode like any other message otherwise', () => {
    for (const m of samples) expect(decodeWireMessage(encodeMessage(m))).toEqual(m);
    expect(() => decodeMessage(encodeCompactPrePrepare(full, hashes))).toThrow(ConsensusError);
  });

  it('are checked field by field', () => {
    const value = { ...expected, header: blockHeaderToCodec(block.header) };
    expect(decodeWireMessage(encode(value)).kind).toBe('pre-prepare-compact');
    const broken: Record<string, unknown>[] = [
      { ...value, extra: 1 },
      { ...value, header: { ...blockHeaderToCodec(block.header), height: -1 } },
      { ...value, txHashes: [new Uint8Array(65)] },
      { ...value, txHashes: 'not a list' },
      { ...value, from: 2000 },
    ];
    for (const b of broken)
      expect(() => decodeWireMessage(encode(b as never))).toThrow(ConsensusError);
    const limits = { ...DEFAULT_WIRE_LIMITS, maxBlockTxs: 1 };
    expect(() => decodeWireMessage(encode(value), limits)).toThrow(ConsensusError);
  });

  it('refuse a hash count that does not match the transactions', () => {
    expect(() => encodeCompactPrePrepare(full, [h(21)])).toThrow(InvariantError);
    const compact = decodeWireMessage(encodeCompactPrePrepare(full, hashes));
    if (compact.kind !== 'pre-prepare-compact') expect.fail('not compact');
    expect(() => expandCompactPrePrepare(compact, block.txs.slice(1))).toThrow(InvariantError);
  });
});

describe('WAL record format', () => {
  const signed = samples.filter(
    (m): m is SignedVoteMessage => m.kind !== 'sync-request' && m.kind !== 'sync-response',
  );
  const records: WalRecord[] = [
    ...signed.map((message) => ({ type: 'signed', message }) as const),
    { type: 'prepared', certificate: prepared },
    { type: 'stable-checkpoint', certificate: checkpoint },
    { type: 'view', view: 4 },
  ];

  it('round-trips every record type through canonical bytes', () => {
    expect(records).toHaveLength(9);
    for (const r of records) {
      const bytes = encode(walRecordToCodec(r));
      expect(walRecordFromCodec(decode(bytes))).toEqual(r);
      expect(toHex(encodeWalRecord(r))).toBe(toHex(bytes));
    }
  });

  it('rejects records that are not WAL records', () => {
    const bad: unknown[] = [
      { type: 'signed', message: messageToCodec(must(samples[6])) }, // sync-request is never signed into the WAL
      { type: 'view', view: -1 },
      { type: 'view', view: 1, extra: true },
      { type: 'stable-checkpoint', certificate: null },
      { type: 'gossip' },
      'view',
    ];
    for (const value of bad) {
      expect(() => walRecordFromCodec(value as never), JSON.stringify(value)).toThrow(
        ConsensusError,
      );
    }
  });

  it('keys records by height and keeps exactly what a truncation keeps', () => {
    const byType = (r: WalRecord): string => (r.type === 'signed' ? r.message.kind : r.type);
    expect(records.map((r) => [byType(r), walRecordHeight(r)])).toEqual([
      ['pre-prepare', 3],
      ['prepare', 3],
      ['commit', 3],
      ['checkpoint', 8],
      ['view-change', 0],
      ['new-view', 0],
      ['prepared', 9],
      ['stable-checkpoint', 8],
      ['view', 0],
    ]);
    const kept = records.filter((r) => walRecordSurvives(r, { throughHeight: 8, belowView: 3 }));
    expect(kept.map(byType)).toEqual(['prepared', 'stable-checkpoint', 'view']);
  });
});
