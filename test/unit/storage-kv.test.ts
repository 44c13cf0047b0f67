import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LevelKvStore } from '../../storage/level-kv.js';
import { MemoryKvStore } from '../../storage/memory-kv.js';
import type { KvStore } from '../../storage/kv.js';
import { kvStoreContract } from './storage-contract.js';

kvStoreContract('MemoryKvStore', () => {
  let current = new MemoryKvStore();
  return Promise.resolve({
    open: () => Promise.resolve(current),
    reopen: async () => {
      await current.close();
      current = current.reopen();
      return current;
    },
    cleanup: () => Promise.resolve(),
  });
});

kvStoreContract('LevelKvStore', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-kv-'));
  return {
    open: () => LevelKvStore.open(dir),
    reopen: async (store: KvStore) => {
      await store.close();
      return LevelKvStore.open(dir);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
