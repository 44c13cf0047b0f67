import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/codec/index.js';
import { ChainStore } from '../../storage/chain-store.js';
import type { CommitBlockInput } from '../../storage/chain-store.js';
import { StorageError } from '../../storage/errors.js';
import { BUCKET, heightKey, indexKey, metaKey, positionKey } from '../../storage/keys.js';
import { collect } from '../../storage/kv.js';
import type { KvEntry, KvStore } from '../../storage/kv.js';
import { LevelKvStore } from '../../storage/level-kv.js';
import { MemoryKvStore } from '../../storage/memory-kv.js';
import { META_KEY } from '../../storage/meta.js';
import {
  CHAIN_ID,
  COUNTER_KEY,
  GENESIS_HASH,
  INDEX_BY_BUCKET,
  INDEX_PER_BLOCK,
  blockHashOf,
  byBucketIndexKey,
  makeCommit,
  perBlockIndexKey,
  rollingStateKey,
  txHashOf,
  u64,
  uniqueStateKey,
  uniqueStateValue,
} from '../fixtures/storage-chain.js';

const chain = { chainId: CHAIN_ID, genesisHash: GENESIS_HASH };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Backend {
  open(): Promise<KvStore>;
  reopen(kv: KvStore): Promise<KvStore>;
  cleanup(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'memory',
    () => {
      let current = new MemoryKvStore();
      return Promise.resolve({
        open: () => Promise.resolve(current),
        // Callers close the store first (through ChainStore.close).
        reopen: () => {
          current = current.reopen();
          return Promise.resolve(current);
        },
        cleanup: () => Promise.resolve(),
      });
    },
  ],
  [
    'level',
    async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-chain-'));
      return {
        open: () => LevelKvStore.open(dir),
        reopen: () => LevelKvStore.open(dir),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
];

async function rejection(promise: Promise<unknown>, code: string): Promise<StorageError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  return err as StorageError;
}

function dump(entries: readonly KvEntry[]): string[] {
  return entries.map(
    (e) => `${Buffer.from(e.key).toString('hex')}=${Buffer.from(e.value).toString('hex')}`,
  );
}

describe.each(backends)('ChainStore over %s', (_name, makeBackend) => {
  let backend: Backend;
  let kv: KvStore;
  let store: ChainStore;

  beforeEach(async () => {
    backend = await makeBackend();
    kv = await backend.open();
    store = await ChainStore.open(kv, { chain });
  });

  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  async function commitUpTo(height: number): Promise<void> {
    for (let h = store.latestHeight() + 1; h <= height; h++) await store.commitBlock(makeCommit(h));
  }

  async function reopen(options = { chain }): Promise<ChainStore> {
    await store.close();
    kv = await backend.reopen(kv);
    store = await ChainStore.open(kv, options);
    return store;
  }

  it('starts empty at height 0', async () => {
    expect(store.latestHeight()).toBe(0);
    expect(store.head()).toBeUndefined();
    expect(await store.getBlock(1)).toBeUndefined();
    expect(await store.meta.lastCommittedHeight()).toBe(0);
    expect(await store.meta.getSchemaVersion()).toBe(1);
    expect(await store.meta.getChainIdentity()).toEqual(chain);
  });

  it('commits blocks and reads back every part', async () => {
    await commitUpTo(3);
    expect(store.latestHeight()).toBe(3);
    expect(store.head()).toEqual({ height: 3, blockHash: blockHashOf(3) });
    expect(await store.meta.getHead()).toEqual({ height: 3, blockHash: blockHashOf(3) });
    expect(await store.blocks.latestHeight()).toBe(3);

    const two = makeCommit(2);
    expect(await store.getBlock(2)).toEqual(two.block);
    expect(await store.getBlockByHash(blockHashOf(2))).toEqual(two.block);
    expect(await store.blocks.heightOf(blockHashOf(2))).toBe(2);
    expect(await store.getBlockByHash(utf8('no such hash'))).toBeUndefined();
    expect(await store.getCertificate(2)).toEqual(two.certificate);

    expect(await store.getTxLocation(txHashOf(2, 1))).toEqual({ height: 2, index: 1 });
    expect(await store.getTransaction(txHashOf(2, 1))).toEqual({
      tx: two.block.txs[1],
      location: { height: 2, index: 1 },
    });
    expect(await store.getTransaction(txHashOf(9, 9))).toBeUndefined();
    expect(await store.getReceipt(txHashOf(2, 3))).toEqual(two.receipts[3]);
    expect(await store.receipts.forBlock(2)).toEqual(two.receipts);
    expect(await store.receipts.get(2, 0)).toEqual(two.receipts[0]);
    expect(await store.txIndex.getMany([txHashOf(1, 0), txHashOf(4, 0)])).toEqual([
      { height: 1, index: 0 },
      undefined,
    ]);
    // The synchronous reads used on hot paths agree with the async ones.
    expect(store.txIndex.getSync(txHashOf(2, 1))).toEqual({ height: 2, index: 1 });
    expect(store.txIndex.getSync(txHashOf(4, 0))).toBeUndefined();
    expect(store.blocks.getSync(2)).toEqual(two.block);
    expect(store.blocks.getSync(4)).toBeUndefined();
    expect(store.certificates.getSync(2)).toEqual(two.certificate);
    expect(store.state.getSync(COUNTER_KEY)).toEqual(u64(3));
    expect(store.state.getSync(uniqueStateKey(2, 0))).toBeUndefined();

    // State: written, overwritten, deleted.
    expect(await store.getState(COUNTER_KEY)).toEqual(u64(3));
    expect(await store.getState(uniqueStateKey(2, 5))).toEqual(uniqueStateValue(2, 5));
    expect(await store.getState(uniqueStateKey(2, 0))).toBeUndefined(); // deleted by block 3
    expect(await store.getState(uniqueStateKey(3, 0))).toEqual(uniqueStateValue(3, 0));
    expect(await store.getState(rollingStateKey(1))).toEqual(u64(1));
    const under2: string[] = [];
    for await (const e of store.state.scan(utf8('s/2/')))
      under2.push(new TextDecoder().decode(e.key));
    expect(under2).toEqual(['s/2/1', 's/2/2', 's/2/3', 's/2/4', 's/2/5', 's/2/6', 's/2/7']);
    const firstTwo = [];
    for await (const e of store.state.scan(utf8('s/'), { limit: 2, reverse: true }))
      firstTwo.push(e);
    expect(firstTwo.map((e) => new TextDecoder().decode(e.key))).toEqual(['s/3/7', 's/3/6']);

    // Indexes.
    const hits = [];
    for await (const hit of store.indexes.scan(INDEX_PER_BLOCK, perBlockIndexKey(2)))
      hits.push(hit);
    expect(hits).toEqual([0, 1, 2, 3].map((i) => ({ suffix: u64(i), value: { height: 2, i } })));
    expect(await store.indexes.get(INDEX_BY_BUCKET, byBucketIndexKey(3), u64(3))).toBe(3);
    expect(await store.indexes.get(INDEX_BY_BUCKET, byBucketIndexKey(3), u64(4))).toBeUndefined();
    const rows = [];
    for await (const row of store.indexes.scanAll(INDEX_BY_BUCKET)) rows.push(row);
    expect(rows.map((r) => r.value)).toEqual([1, 2, 3]);
    expect(rows[0]?.key).toEqual(byBucketIndexKey(1));

    // Ranges.
    const heights = async (
      it: AsyncIterable<{ header: { height: number } }>,
    ): Promise<number[]> => {
      const out: number[] = [];
      for await (const block of it) out.push(block.header.height);
      return out;
    };
    expect(await heights(store.blocks.range({ fromHeight: 1 }))).toEqual([1, 2, 3]);
    expect(await heights(store.blocks.range({ fromHeight: 2, toHeight: 3 }))).toEqual([2, 3]);
    expect(await heights(store.blocks.range({ fromHeight: 0, reverse: true, limit: 2 }))).toEqual([
      3, 2,
    ]);
    const certs = [];
    for await (const cert of store.certificates.range({ fromHeight: 2, toHeight: 2 }))
      certs.push(cert);
    expect(certs).toEqual([makeCommit(2).certificate]);
  });

  it('removes index entries listed in indexRemovals', async () => {
    await commitUpTo(1);
    const input = makeCommit(2);
    await store.commitBlock({
      ...input,
      indexRemovals: [{ index: INDEX_PER_BLOCK, key: perBlockIndexKey(1), suffix: u64(0) }],
    });
    expect(await store.indexes.get(INDEX_PER_BLOCK, perBlockIndexKey(1), u64(0))).toBeUndefined();
    expect(await store.indexes.get(INDEX_PER_BLOCK, perBlockIndexKey(1), u64(1))).toEqual({
      height: 1,
      i: 1,
    });
  });

  it('rejects a commit at the wrong height with HEIGHT_MISMATCH and changes nothing', async () => {
    await commitUpTo(2);
    const before = dump(await collect(kv));
    for (const height of [0, 1, 2, 4, 100]) {
      const input = makeCommit(height === 0 ? 1 : height);
      const bad = {
        ...input,
        block: { ...input.block, header: { ...input.block.header, height } },
      };
      const err = await rejection(store.commitBlock(bad), 'HEIGHT_MISMATCH');
      expect(err.message).toContain('the next height is 3');
    }
    expect(dump(await collect(kv))).toEqual(before);
    expect(store.latestHeight()).toBe(2);
    await store.commitBlock(makeCommit(3));
    expect(store.latestHeight()).toBe(3);
  });

  it('rejects parts that do not belong together with INVALID_COMMIT and changes nothing', async () => {
    await commitUpTo(2);
    const before = dump(await collect(kv));
    const good = makeCommit(3);
    const tamper: [string, CommitBlockInput][] = [
      ['certificate height', { ...good, certificate: { ...good.certificate, height: 4 } }],
      [
        'certificate hash',
        { ...good, certificate: { ...good.certificate, blockHash: blockHashOf(9) } },
      ],
      ['block hash', { ...good, blockHash: blockHashOf(9) }],
      ['empty block hash', { ...good, blockHash: new Uint8Array(0) }],
      [
        'prevHash',
        {
          ...good,
          block: { ...good.block, header: { ...good.block.header, prevHash: blockHashOf(1) } },
        },
      ],
      [
        'chain id',
        { ...good, block: { ...good.block, header: { ...good.block.header, chainId: 'other' } } },
      ],
      ['certificate chain id', { ...good, certificate: { ...good.certificate, chainId: 'other' } }],
      ['missing tx hash', { ...good, txHashes: good.txHashes.slice(1) }],
      ['missing receipt', { ...good, receipts: good.receipts.slice(1) }],
      ['receipt order', { ...good, receipts: [...good.receipts].reverse() }],
      ['receipt height', { ...good, receipts: good.receipts.map((r) => ({ ...r, height: 2 })) }],
      [
        'duplicate tx',
        {
          ...good,
          txHashes: good.txHashes.map(() => txHashOf(3, 0)),
          receipts: good.receipts.map((r) => ({ ...r, txHash: txHashOf(3, 0) })),
        },
      ],
      [
        'tx already committed',
        {
          ...good,
          txHashes: [txHashOf(1, 0), ...good.txHashes.slice(1)],
          receipts: [
            { ...good.receipts[0], txHash: txHashOf(1, 0) } as CommitBlockInput['receipts'][number],
            ...good.receipts.slice(1),
          ],
        },
      ],
      [
        'state value type',
        { ...good, stateChanges: [{ key: utf8('k'), value: 'v' as unknown as Uint8Array }] },
      ],
    ];
    for (const [what, input] of tamper) {
      const err: unknown = await store.commitBlock(input).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(StorageError);
      expect((err as StorageError).code, what).toBe('INVALID_COMMIT');
    }
    // A block hash that is already committed (here reused with a consistent certificate).
    const reused = {
      ...good,
      blockHash: blockHashOf(1),
      certificate: { ...good.certificate, blockHash: blockHashOf(1) },
    };
    await rejection(store.commitBlock(reused), 'INVALID_COMMIT');
    expect(dump(await collect(kv))).toEqual(before);
    expect(store.latestHeight()).toBe(2);
  });

  it('rejects malformed keys and values with INVALID_ARGUMENT and changes nothing', async () => {
    await commitUpTo(1);
    const before = dump(await collect(kv));
    const good = makeCommit(2);
    const bad: CommitBlockInput[] = [
      {
        ...good,
        stateChanges: [...good.stateChanges, { key: new Uint8Array(0), value: utf8('x') }],
      },
      { ...good, indexEntries: [{ index: 'Bad Name', key: utf8('k'), suffix: utf8('s') }] },
      { ...good, indexEntries: [{ index: 'ok', key: utf8('k'), suffix: utf8('s'), value: 1.5 }] },
      {
        ...good,
        block: { ...good.block, txs: good.block.txs.map((tx) => ({ ...tx, payload: { x: 0.5 } })) },
      },
    ];
    // Shapes the ledger decoders would refuse to read back are refused on write.
    const shortHash = blockHashOf(2).subarray(0, 20);
    bad.push(
      { ...good, blockHash: shortHash, certificate: { ...good.certificate, blockHash: shortHash } },
      { ...good, receipts: good.receipts.map((r) => ({ ...r, code: 'not upper case' })) },
      {
        ...good,
        block: { ...good.block, header: { ...good.block.header, txRoot: new Uint8Array(0) } },
      },
    );
    for (const input of bad) await rejection(store.commitBlock(input), 'INVALID_ARGUMENT');
    expect(dump(await collect(kv))).toEqual(before);
    await store.commitBlock(good);
  });

  it('requires block 1 to extend the genesis when the chain is known', async () => {
    const first = makeCommit(1);
    const orphan = {
      ...first,
      block: { ...first.block, header: { ...first.block.header, prevHash: blockHashOf(5) } },
    };
    const err = await rejection(store.commitBlock(orphan), 'INVALID_COMMIT');
    expect(err.message).toContain('is not the hash of the genesis');
    await store.commitBlock(first);
  });

  it('serialises concurrent commits: in-order calls all land, a duplicate height is rejected', async () => {
    const results = await Promise.allSettled([
      store.commitBlock(makeCommit(1)),
      store.commitBlock(makeCommit(2)),
      store.commitBlock(makeCommit(2)),
      store.commitBlock(makeCommit(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const rejected = results[2];
    expect(rejected.status === 'rejected' && (rejected.reason as StorageError).code).toBe(
      'HEIGHT_MISMATCH',
    );
    expect(store.latestHeight()).toBe(3);
  });

  it('keeps everything across reopen and refuses another chain', async () => {
    await commitUpTo(3);
    await reopen();
    expect(store.latestHeight()).toBe(3);
    expect(store.head()).toEqual({ height: 3, blockHash: blockHashOf(3) });
    expect(await store.getBlock(3)).toEqual(makeCommit(3).block);
    await store.commitBlock(makeCommit(4));
    await store.close();
    kv = await backend.reopen(kv);
    const err = await rejection(
      ChainStore.open(kv, { chain: { chainId: 'other-chain', genesisHash: GENESIS_HASH } }),
      'CHAIN_MISMATCH',
    );
    expect(err.message).toContain(`belongs to chain ${CHAIN_ID}`);
    await rejection(
      ChainStore.open(kv, { chain: { chainId: CHAIN_ID, genesisHash: blockHashOf(1) } }),
      'CHAIN_MISMATCH',
    );
    store = await ChainStore.open(kv);
    expect(store.chainIdentity()).toEqual(chain);
    expect(store.latestHeight()).toBe(4);
  });

  it('refuses a store that is not medchain data, or of another schema version', async () => {
    await store.close();
    kv = await backend.reopen(kv);
    await kv.put(metaKey(META_KEY.schemaVersion), encode(99));
    const err = await rejection(ChainStore.open(kv), 'SCHEMA_MISMATCH');
    expect(err.message).toContain('version 99');
    await kv.del(metaKey(META_KEY.schemaVersion));
    await rejection(ChainStore.open(kv), 'SCHEMA_MISMATCH');
    await kv.put(metaKey(META_KEY.schemaVersion), encode(1));
    store = await ChainStore.open(kv);
  });

  it('refuses to open when the head does not match the stored blocks', async () => {
    await commitUpTo(2);
    await store.close();
    kv = await backend.reopen(kv);
    await kv.del(heightKey(BUCKET.blockByHeight, 2));
    const err = await rejection(ChainStore.open(kv), 'CORRUPT_DATABASE');
    expect(err.message).toContain('head height 2 but holds blocks up to 1');
    await kv.put(heightKey(BUCKET.blockByHeight, 2), encode(makeCommit(2).block as never));
    store = await ChainStore.open(kv);
  });

  it('reports a corrupted stored value as CORRUPT_VALUE naming the record', async () => {
    await commitUpTo(3);
    await kv.put(heightKey(BUCKET.blockByHeight, 2), Uint8Array.of(0xff, 0x00, 0x13));
    let err = await rejection(store.getBlock(2), 'CORRUPT_VALUE');
    expect(err.message).toMatch(/^stored block at height 2 is corrupt: malformed CBOR/);
    expect(err.details.height).toBe(2);

    // Well-formed CBOR of the wrong shape: the message names the field.
    const { header, txs } = makeCommit(3).block;
    const { timestamp: _dropped, ...headerWithout } = header;
    await kv.put(
      heightKey(BUCKET.blockByHeight, 3),
      encode({ header: headerWithout, txs } as never),
    );
    err = await rejection(store.getBlock(3), 'CORRUPT_VALUE');
    expect(err.message).toContain('header.timestamp: missing');

    // A value moved under the wrong key.
    await kv.put(
      heightKey(BUCKET.certificateByHeight, 1),
      (await kv.get(heightKey(BUCKET.certificateByHeight, 3))) ?? new Uint8Array(),
    );
    err = await rejection(store.getCertificate(1), 'CORRUPT_VALUE');
    expect(err.message).toContain('wrong key');

    // Non-canonical encoding (an integer in a longer form than needed).
    await kv.put(positionKey(BUCKET.receipt, 1, 0), Uint8Array.of(0x18, 0x01));
    err = await rejection(store.receipts.get(1, 0), 'CORRUPT_VALUE');
    expect(err.message).toContain('receipt 0 at height 1');

    await kv.put(indexKey(INDEX_BY_BUCKET, byBucketIndexKey(1), u64(1)), Uint8Array.of(0xa1));
    await rejection(
      store.indexes.get(INDEX_BY_BUCKET, byBucketIndexKey(1), u64(1)),
      'CORRUPT_VALUE',
    );

    await kv.put(metaKey(META_KEY.head), encode({ height: -1, blockHash: blockHashOf(1) }));
    await store.close();
    kv = await backend.reopen(kv);
    err = await rejection(ChainStore.open(kv), 'CORRUPT_VALUE');
    expect(err.message).toContain('metadata head');
    await kv.put(metaKey(META_KEY.head), encode({ height: 3, blockHash: blockHashOf(3) }));
    store = await ChainStore.open(kv);
  });

  it('rejects commits after close with CLOSED', async () => {
    await store.close();
    await rejection(store.commitBlock(makeCommit(1)), 'CLOSED');
    kv = await backend.reopen(kv);
    store = await ChainStore.open(kv);
  });

  describe('consensus WAL', () => {
    it('reads entries back in append order and truncates below a height', async () => {
      expect(await store.wal.readAll()).toEqual([]);
      expect(await store.wal.append(5, { kind: 'prepare', view: 0 })).toBe(0);
      expect(await store.wal.append(4, { kind: 'commit', view: 1 })).toBe(1);
      expect(
        await store.wal.appendMany([
          { height: 6, entry: 'a' },
          { height: 5, entry: utf8('b') },
        ]),
      ).toEqual([2, 3]);
      expect((await store.wal.readAll()).map((e) => [e.sequence, e.height, e.entry])).toEqual([
        [0, 5, { kind: 'prepare', view: 0 }],
        [1, 4, { kind: 'commit', view: 1 }],
        [2, 6, 'a'],
        [3, 5, utf8('b')],
      ]);
      expect(await store.wal.truncateBelow(5)).toBe(1);
      expect(await store.wal.truncateBelow(5)).toBe(0);
      expect((await store.wal.readAll()).map((e) => e.sequence)).toEqual([0, 2, 3]);
      expect(await store.wal.truncateBelow(6)).toBe(2);
      expect((await store.wal.readAll()).map((e) => e.entry)).toEqual(['a']);
    });

    it('removes exactly the named entries', async () => {
      await store.wal.appendMany([
        { height: 1, entry: 'a' },
        { height: 1, entry: 'b' },
        { height: 2, entry: 'c' },
      ]);
      const [a, , c] = await store.wal.readAll();
      await store.wal.remove([a, c].filter((e) => e !== undefined));
      expect((await store.wal.readAll()).map((e) => e.entry)).toEqual(['b']);
      await store.wal.remove([]);
      expect(await store.wal.readAll()).toHaveLength(1);
    });

    it('continues its sequence after reopen and writes nothing for a bad entry', async () => {
      await store.wal.append(1, 'x');
      await store.wal.append(2, 'y');
      await reopen();
      await rejection(
        store.wal.appendMany([
          { height: 3, entry: 'ok' },
          { height: 3, entry: 0.5 },
        ]),
        'INVALID_ARGUMENT',
      );
      expect(await store.wal.append(3, 'z')).toBe(2);
      expect((await store.wal.readAll()).map((e) => e.entry)).toEqual(['x', 'y', 'z']);
    });
  });

  it('stores vault documents as opaque bytes', async () => {
    const id = utf8('doc-1');
    expect(await store.vault.has(id)).toBe(false);
    await store.vault.put(id, Uint8Array.of(1, 2, 3));
    expect(await store.vault.get(id)).toEqual(Uint8Array.of(1, 2, 3));
    await store.vault.delete(id);
    expect(await store.vault.get(id)).toBeUndefined();
  });
});
