/**
 * MemoryKvStore and LevelKvStore must be interchangeable under ChainStore: the
 * same commits leave byte-identical databases and give the same answers.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChainStore } from '../../storage/chain-store.js';
import type { CommitBlockInput } from '../../storage/chain-store.js';
import { collect } from '../../storage/kv.js';
import type { KvStore } from '../../storage/kv.js';
import { LevelKvStore } from '../../storage/level-kv.js';
import { MemoryKvStore } from '../../storage/memory-kv.js';
import {
  CHAIN_ID,
  GENESIS_HASH,
  blockHashOf,
  makeCommit,
  txHashOf,
} from '../fixtures/storage-chain.js';

const INDEX = 'parity.idx';
const keyArb = fc.uint8Array({ minLength: 1, maxLength: 3 });

/** A block's worth of extra writes over a small key space, so keys collide across blocks. */
const extrasArb = fc.record({
  state: fc.array(
    fc.record({ key: keyArb, value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }) }),
    {
      maxLength: 12,
    },
  ),
  puts: fc.array(
    fc.record({ key: keyArb, suffix: fc.uint8Array({ maxLength: 2 }), value: fc.nat(1000) }),
    {
      maxLength: 6,
    },
  ),
  removals: fc.array(fc.record({ key: keyArb, suffix: fc.uint8Array({ maxLength: 2 }) }), {
    maxLength: 3,
  }),
});
type Extras = typeof extrasArb extends fc.Arbitrary<infer T> ? T : never;

function commitFor(height: number, extras: Extras): CommitBlockInput {
  const base = makeCommit(height, { txs: height % 3, stateKeys: 2, indexEntries: 1 });
  return {
    ...base,
    stateChanges: [...base.stateChanges, ...extras.state],
    indexEntries: [
      ...base.indexEntries,
      ...extras.puts.map((p) => ({ index: INDEX, key: p.key, suffix: p.suffix, value: p.value })),
    ],
    indexRemovals: extras.removals.map((r) => ({ index: INDEX, key: r.key, suffix: r.suffix })),
  };
}

async function snapshot(store: ChainStore, kv: KvStore, keys: Uint8Array[]): Promise<unknown> {
  const height = store.latestHeight();
  const blocks = [];
  for await (const block of store.blocks.range({ fromHeight: 1 })) blocks.push(block);
  const state = [];
  for await (const entry of store.state.scan(new Uint8Array(0))) state.push(entry);
  const index = [];
  for await (const row of store.indexes.scanAll(INDEX)) index.push(row);
  return {
    height,
    head: store.head(),
    blocks,
    certificate: await store.getCertificate(height),
    byHash: await store.getBlockByHash(blockHashOf(height)),
    tx: await store.getTransaction(txHashOf(height, 0)),
    receipts: await store.receipts.forBlock(height),
    state,
    gets: await store.state.getMany(keys),
    index,
    raw: (await collect(kv)).map((e) => [
      Buffer.from(e.key).toString('hex'),
      Buffer.from(e.value).toString('hex'),
    ]),
  };
}

describe('ChainStore parity: memory vs level', () => {
  it('same commits give byte-identical stores and the same reads (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(extrasArb, { minLength: 1, maxLength: 12 }), async (blocks) => {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-parity-'));
        const memoryKv = new MemoryKvStore();
        const levelKv = await LevelKvStore.open(dir);
        const chain = { chainId: CHAIN_ID, genesisHash: GENESIS_HASH };
        const memory = await ChainStore.open(memoryKv, { chain });
        const level = await ChainStore.open(levelKv, { chain });
        try {
          const probes = blocks.flatMap((b) => b.state.map((s) => s.key));
          for (const [i, extras] of blocks.entries()) {
            const input = commitFor(i + 1, extras);
            await memory.commitBlock(input);
            await level.commitBlock(input);
          }
          // A rejected commit must leave both unchanged in the same way.
          const wrong = commitFor(
            blocks.length + 5,
            blocks[0] ?? { state: [], puts: [], removals: [] },
          );
          await expect(memory.commitBlock(wrong)).rejects.toMatchObject({
            code: 'HEIGHT_MISMATCH',
          });
          await expect(level.commitBlock(wrong)).rejects.toMatchObject({ code: 'HEIGHT_MISMATCH' });
          expect(await snapshot(level, levelKv, probes)).toEqual(
            await snapshot(memory, memoryKv, probes),
          );
        } finally {
          await memory.close();
          await level.close();
          await rm(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 8, seed: 4242 },
    );
  });
});
