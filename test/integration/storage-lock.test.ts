/**
 * A data directory held by another process: opening it must fail with
 * StorageError('DB_LOCKED') and a message that says what is going on — checked
 * against a real second process holding the LevelDB lock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainStore } from '../../storage/chain-store.js';
import { StorageError } from '../../storage/errors.js';
import { LevelKvStore } from '../../storage/level-kv.js';
import { spawnFixture } from '../fixtures/storage-child.js';
import type { FixtureChild } from '../fixtures/storage-child.js';

const DEADLINE_MS = 15_000;

describe('LevelKvStore lock held by another process', () => {
  let dir: string;
  let holder: FixtureChild | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-lock-'));
  });

  afterEach(async () => {
    if (
      holder !== undefined &&
      holder.process.exitCode === null &&
      holder.process.signalCode === null
    ) {
      holder.process.kill('SIGKILL');
      await holder.exited;
    }
    holder = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('fails with DB_LOCKED naming the directory while another process holds it', async () => {
    const location = path.join(dir, 'data');
    holder = spawnFixture('storage-lock-holder.js', [location]);
    await holder.waitForLine(
      (line) => line === 'ready',
      'the holder to open the database',
      DEADLINE_MS,
    );

    const err: unknown = await LevelKvStore.open(location).then(
      async (store) => {
        await store.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    const storageError = err as StorageError;
    expect(storageError.code).toBe('DB_LOCKED');
    expect(storageError.message).toBe(
      `database ${location} is already in use by another process (is another medchain node running with this data directory?)`,
    );
    expect(storageError.details.location).toBe(location);

    // Once the holder lets go, the directory opens.
    holder.process.stdin?.end();
    await holder.waitForLine((line) => line === 'closed', 'the holder to close', DEADLINE_MS);
    expect((await holder.exited).code).toBe(0);
    const store = await ChainStore.open(await LevelKvStore.open(location));
    expect(store.latestHeight()).toBe(0);
    await store.close();
  });

  it('is released when the holder is killed', async () => {
    const location = path.join(dir, 'data');
    holder = spawnFixture('storage-lock-holder.js', [location]);
    await holder.waitForLine(
      (line) => line === 'ready',
      'the holder to open the database',
      DEADLINE_MS,
    );
    holder.process.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    const store = await LevelKvStore.open(location);
    await store.close();
  });
});
