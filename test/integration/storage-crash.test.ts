/**
 * Crash consistency of ChainStore.commitBlock on real LevelDB.
 *
 * A child process (test/fixtures/storage-crash-writer.js, running the built
 * dist/storage) commits blocks of the deterministic test chain — each with 20
 * transactions, ~200 state changes and ~50 index entries — and prints each
 * height once its commit resolved. Six writers in turn work on one directory,
 * each SIGKILLed after about ten more blocks: by the test as soon as the
 * target height shows up (the writer is then inside the next commit), or by
 * itself at a fixed point of the commit's write (before, during, right after),
 * which does not depend on timing.
 *
 * After every kill the directory must hold exactly the state after committing
 * blocks 1..H, with H the last reported height or one more: compared entry by
 * entry with a model built by committing 1..H into a MemoryKvStore, plus
 * direct checks that block H+1 left no trace. A commit written in two batches
 * fails the `after-write` round every time; the negative controls at the end
 * build such torn commits directly and show that the verifier reports them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainStore } from '../../storage/chain-store.js';
import { BUCKET, bucketPrefix, heightKey, heightOfKey, indexPrefix } from '../../storage/keys.js';
import { collect, prefixRange } from '../../storage/kv.js';
import type { KvBatchOp, KvEntry, KvStore } from '../../storage/kv.js';
import { LevelKvStore } from '../../storage/level-kv.js';
import { MemoryKvStore } from '../../storage/memory-kv.js';
import {
  blockOps,
  certificateOps,
  indexOps,
  receiptOps,
  stateOps,
  txIndexOps,
} from '../../storage/repositories.js';
import {
  CHAIN_ID,
  CRASH_SHAPE,
  GENESIS_HASH,
  INDEX_PER_BLOCK,
  blockHashOf,
  makeCommit,
  perBlockIndexKey,
  txHashOf,
  uniqueStateKey,
} from '../fixtures/storage-chain.js';
import { assertDistIsFresh, spawnFixture } from '../fixtures/storage-child.js';

const CHAIN = { chainId: CHAIN_ID, genesisHash: GENESIS_HASH };
/**
 * One writer per entry, each killed after committing about BLOCKS_PER_ROUND
 * more blocks: `parent` — the test SIGKILLs it as soon as it reports the
 * target height (it is then inside the next commit); the others — the writer
 * SIGKILLs itself inside the commit of the target height, before, during or
 * right after its write (see storage-crash-writer.js).
 */
const KILLS = [
  'parent',
  'after-write',
  'parent',
  'during-write',
  'before-write',
  'parent',
] as const;
const BLOCKS_PER_ROUND = 10;
const DEADLINE_MS = 20_000;
/** Upper bound on blocks one writer may commit (it is killed long before). */
const WRITER_MAX_BLOCKS = 100_000;

const BUCKET_NAMES = new Map<number, string>(
  Object.entries(BUCKET).map(([name, id]) => [id, name]),
);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The expected database after committing 1..H, grown on demand. */
class Model {
  #kv = new MemoryKvStore();
  #store: ChainStore | undefined;

  async entriesAt(height: number): Promise<KvEntry[]> {
    if (this.#store === undefined || this.#store.latestHeight() > height) {
      await this.#store?.close();
      this.#kv = new MemoryKvStore();
      this.#store = await ChainStore.open(this.#kv, { chain: CHAIN });
    }
    for (let h = this.#store.latestHeight() + 1; h <= height; h++) {
      await this.#store.commitBlock(makeCommit(h, CRASH_SHAPE));
    }
    return collect(this.#kv);
  }
}

function describeKey(key: Uint8Array): string {
  return `${BUCKET_NAMES.get(key[0] ?? -1) ?? 'unknown bucket'} ${hex(key.subarray(1))}`;
}

/** Differences between the directory and the model, as readable lines (empty: identical). */
function diff(actual: readonly KvEntry[], expected: readonly KvEntry[], max = 5): string[] {
  const problems: string[] = [];
  const want = new Map(expected.map((e) => [hex(e.key), e]));
  const have = new Map(actual.map((e) => [hex(e.key), e]));
  for (const [k, e] of have) {
    if (problems.length >= max) break;
    const w = want.get(k);
    if (w === undefined) problems.push(`unexpected entry: ${describeKey(e.key)}`);
    else if (hex(w.value) !== hex(e.value)) problems.push(`different value: ${describeKey(e.key)}`);
  }
  for (const [k, w] of want) {
    if (problems.length >= max) break;
    if (!have.has(k)) problems.push(`missing entry: ${describeKey(w.key)}`);
  }
  return problems;
}

/**
 * Checks that `kv` holds exactly blocks 1..height of the test chain with all
 * their parts and nothing of height+1. Returns the problems found.
 */
async function verifyPrefix(kv: KvStore, height: number, model: Model): Promise<string[]> {
  const problems: string[] = [];
  const heightsIn = async (
    bucket: typeof BUCKET.blockByHeight | typeof BUCKET.certificateByHeight,
  ): Promise<number[]> =>
    (await collect(kv, prefixRange(bucketPrefix(bucket)))).map((e) => heightOfKey(e.key));
  const expectedHeights = Array.from({ length: height }, (_, i) => i + 1).join(',');
  for (const bucket of [BUCKET.blockByHeight, BUCKET.certificateByHeight] as const) {
    const found = (await heightsIn(bucket)).join(',');
    if (found !== expectedHeights) {
      problems.push(
        `${BUCKET_NAMES.get(bucket) ?? ''} holds heights [${found}], expected [${expectedHeights}]`,
      );
    }
  }
  // Nothing of the next block: no block, hash, tx, receipt, state or index entry.
  const next = height + 1;
  const [nextBlock, nextHash, nextTx] = await kv.getMany([
    heightKey(BUCKET.blockByHeight, next),
    Uint8Array.of(BUCKET.heightByBlockHash, ...blockHashOf(next)),
    Uint8Array.of(BUCKET.txIndex, ...txHashOf(next, 0)),
  ]);
  if (nextBlock !== undefined || nextHash !== undefined || nextTx !== undefined) {
    problems.push(`block ${next} left a block, hash or tx index entry`);
  }
  const nextReceipts = await collect(kv, prefixRange(heightKey(BUCKET.receipt, next)));
  if (nextReceipts.length > 0) problems.push(`block ${next} left ${nextReceipts.length} receipts`);
  const nextState = await collect(
    kv,
    prefixRange(Uint8Array.of(BUCKET.state, ...uniqueStateKey(next, 0).subarray(0, -1))),
  );
  if (nextState.length > 0) problems.push(`block ${next} left ${nextState.length} state entries`);
  const nextIndex = await collect(
    kv,
    prefixRange(indexPrefix(INDEX_PER_BLOCK, perBlockIndexKey(next))),
  );
  if (nextIndex.length > 0) problems.push(`block ${next} left index entries`);
  // And exactly everything of 1..height, byte for byte.
  problems.push(...diff(await collect(kv), await model.entriesAt(height)));
  return problems;
}

async function openAndVerify(
  dir: string,
  model: Model,
): Promise<{ height: number; problems: string[] }> {
  const kv = await LevelKvStore.open(dir);
  try {
    let height: number;
    try {
      const store = await ChainStore.open(kv, { chain: CHAIN });
      height = store.latestHeight();
    } catch (err) {
      return { height: -1, problems: [`ChainStore.open failed: ${(err as Error).message}`] };
    }
    return { height, problems: await verifyPrefix(kv, height, model) };
  } finally {
    await kv.close();
  }
}

describe('ChainStore crash consistency (SIGKILL during commits)', () => {
  let dir: string;
  const model = new Model();

  beforeAll(async () => {
    await assertDistIsFresh();
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-crash-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds exactly a prefix of complete blocks after every kill', async () => {
    const data = path.join(dir, 'data');
    let committed = 0;
    for (const [round, kill] of KILLS.entries()) {
      const target = committed + BLOCKS_PER_ROUND;
      const args = [data, String(WRITER_MAX_BLOCKS)];
      if (kill !== 'parent') args.push(`${target}:${kill}`);
      const writer = spawnFixture('storage-crash-writer.js', args);
      try {
        const opened = await writer.waitForLine(
          (l) => l.startsWith('opened '),
          'the writer to open',
          DEADLINE_MS,
        );
        expect(Number(opened.split(' ')[1])).toBe(committed);
        if (kill === 'parent') {
          await writer.waitForLine(
            (l) => l.startsWith('committed ') && Number(l.split(' ')[1]) >= target,
            `height ${target}`,
            DEADLINE_MS,
          );
        }
      } finally {
        if (kill === 'parent') writer.process.kill('SIGKILL');
      }
      const exit = await writer.exited;
      expect(exit.signal, writer.stderr()).toBe('SIGKILL');
      const reported = Math.max(
        committed,
        ...writer.lines
          .filter((l) => l.startsWith('committed '))
          .map((l) => Number(l.split(' ')[1])),
      );

      const { height, problems } = await openAndVerify(data, model);
      const context = `round ${round} (${kill}), reported ${reported}, head ${height}`;
      expect(problems, context).toEqual([]);
      // Everything reported is kept; at most the commit in flight also landed.
      expect(height, context).toBeGreaterThanOrEqual(reported);
      expect(height, context).toBeLessThanOrEqual(reported + 1);
      if (kill !== 'parent') {
        expect(reported, context).toBe(target - 1);
        if (kill === 'before-write') expect(height, context).toBe(target - 1);
        if (kill === 'after-write') expect(height, context).toBe(target);
      }
      committed = height;
    }
    // A round that dies before (or during) its write ends one short of its target.
    expect(committed).toBeGreaterThanOrEqual(KILLS.length * (BLOCKS_PER_ROUND - 1));
  });

  describe('negative controls: a commit split in two batches is caught', () => {
    async function tornStore(firstHalf: (height: number) => KvBatchOp[]): Promise<string> {
      const torn = await mkdtemp(path.join(dir, 'torn-'));
      const kv = await LevelKvStore.open(torn);
      const store = await ChainStore.open(kv, { chain: CHAIN });
      for (let h = 1; h <= 3; h++) await store.commitBlock(makeCommit(h, CRASH_SHAPE));
      // The first of two batches of block 4; the process "dies" before the second.
      await kv.batch(firstHalf(4), { sync: true });
      await store.close();
      return torn;
    }

    it('block and certificate written, state and head not', async () => {
      const torn = await tornStore((h) => {
        const c = makeCommit(h, CRASH_SHAPE);
        return [...blockOps(c.block, c.blockHash), ...certificateOps(c.certificate)];
      });
      const { problems } = await openAndVerify(torn, model);
      expect(problems.join('\n')).toMatch(
        /ChainStore.open failed: .*head height 3 but holds blocks up to 4/,
      );
      // The verifier alone (without the open check) sees it too.
      const kv = await LevelKvStore.open(torn);
      try {
        expect((await verifyPrefix(kv, 3, model)).join('\n')).toMatch(
          /blockByHeight holds heights \[1,2,3,4\]/,
        );
      } finally {
        await kv.close();
      }
    });

    it('state, indexes and receipts written, block and head not', async () => {
      const torn = await tornStore((h) => {
        const c = makeCommit(h, CRASH_SHAPE);
        return [
          ...txIndexOps(h, c.txHashes),
          ...receiptOps(c.receipts),
          ...stateOps(c.stateChanges),
          ...indexOps(c.indexEntries, []),
        ];
      });
      const { height, problems } = await openAndVerify(torn, model);
      expect(height).toBe(3);
      const text = problems.join('\n');
      expect(text).toContain('block 4 left a block, hash or tx index entry');
      expect(text).toContain('block 4 left 20 receipts');
      expect(text).toContain('block 4 left 200 state entries');
      expect(text).toContain('block 4 left index entries');
    });

    it('everything but the head written', async () => {
      const torn = await tornStore((h) => {
        const c = makeCommit(h, CRASH_SHAPE);
        const all = [
          ...blockOps(c.block, c.blockHash),
          ...certificateOps(c.certificate),
          ...txIndexOps(h, c.txHashes),
          ...receiptOps(c.receipts),
          ...stateOps(c.stateChanges),
          ...indexOps(c.indexEntries, []),
        ];
        return all;
      });
      expect((await openAndVerify(torn, model)).problems.length).toBeGreaterThan(0);
    });
  });
});
