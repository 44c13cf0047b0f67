/**
 * Storage (DESIGN.md §7): one `KvStore` interface with LevelDB and in-memory
 * implementations, typed repositories over it, and the `ChainStore` that
 * commits each block atomically. See keys.ts for the key layout.
 */
export { StorageError, StorageErrorCode } from './errors.js';
export type {
  KvBatchOp,
  KvDel,
  KvEntry,
  KvIterateOptions,
  KvPut,
  KvRange,
  KvStore,
  KvWriteOptions,
} from './kv.js';
export { collect, compareBytes, prefixEnd, prefixRange } from './kv.js';
export { LevelKvStore } from './level-kv.js';
export type { LevelKvStoreOptions } from './level-kv.js';
export { MemoryKvStore } from './memory-kv.js';
export { BUCKET, RETIRED_BUCKET_IDS, encodeHeight } from './keys.js';
export type { BucketId, BucketName } from './keys.js';
export { ChainStore } from './chain-store.js';
export type { ChainStoreOptions, CommitBlockInput, StateChange } from './chain-store.js';
export { META_KEY, MetaRepository, SCHEMA_VERSION } from './meta.js';
export type { ChainHead, ChainIdentity } from './meta.js';
export {
  BlockRepository,
  CertificateRepository,
  IndexRepository,
  ReceiptRepository,
  StateRepository,
  TxIndexRepository,
} from './repositories.js';
export type {
  HeightRange,
  IndexEntry,
  IndexEntryRef,
  IndexHit,
  IndexRow,
  ScanOptions,
  StateEntry,
} from './repositories.js';
export type { TxLocation } from './values.js';
export { VaultRepository } from './vault.js';
export { WalRepository } from './wal.js';
export type { WalAppend, WalEntry, WalWriteOptions } from './wal.js';
