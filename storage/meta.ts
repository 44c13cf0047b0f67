/**
 * Node metadata: the storage schema version, which chain the directory belongs
 * to, and the head (last committed height and block hash). The head is written
 * only by `ChainStore.commitBlock`, in the same batch as the block.
 */
import type { KvBatchOp, KvStore } from './kv.js';
import { metaKey } from './keys.js';
import { decodeStored, encodeStored, storedFields } from './values.js';
import type { ValueSource } from './values.js';

/** Version of the key layout and value shapes in this file tree; bump on any incompatible change. */
export const SCHEMA_VERSION = 1;

/** Names of the metadata keys. Like bucket ids, a name is never reused for another meaning. */
export const META_KEY = {
  schemaVersion: 'schema-version',
  chain: 'chain',
  head: 'head',
} as const;

export interface ChainIdentity {
  readonly chainId: string;
  readonly genesisHash: Uint8Array;
}

export interface ChainHead {
  readonly height: number;
  readonly blockHash: Uint8Array;
}

const source = (name: string): ValueSource => ({
  what: `metadata ${name}`,
  details: { bucket: 'meta', name },
});

export class MetaRepository {
  constructor(private readonly kv: KvStore) {}

  async getSchemaVersion(): Promise<number | undefined> {
    const bytes = await this.kv.get(metaKey(META_KEY.schemaVersion));
    if (bytes === undefined) return undefined;
    const s = source(META_KEY.schemaVersion);
    return storedFields(s).integer(decodeStored(bytes, s), 'version', { min: 1 });
  }

  async setSchemaVersion(version: number): Promise<void> {
    await this.kv.put(metaKey(META_KEY.schemaVersion), encodeStored(version, 'version'), {
      sync: true,
    });
  }

  async getChainIdentity(): Promise<ChainIdentity | undefined> {
    const bytes = await this.kv.get(metaKey(META_KEY.chain));
    if (bytes === undefined) return undefined;
    const s = source(META_KEY.chain);
    const read = storedFields(s);
    const m = read.record(decodeStored(bytes, s), 'chain', ['chainId', 'genesisHash']);
    return {
      chainId: read.string(m.chainId, 'chain.chainId', { minLength: 1, maxLength: 64 }),
      genesisHash: read.bytes(m.genesisHash, 'chain.genesisHash', { minLength: 1, maxLength: 64 }),
    };
  }

  async setChainIdentity(identity: ChainIdentity): Promise<void> {
    const value = encodeStored(
      { chainId: identity.chainId, genesisHash: identity.genesisHash },
      'chain',
    );
    await this.kv.put(metaKey(META_KEY.chain), value, { sync: true });
  }

  /** The last committed block, or `undefined` before the first commit. */
  async getHead(): Promise<ChainHead | undefined> {
    const bytes = await this.kv.get(metaKey(META_KEY.head));
    if (bytes === undefined) return undefined;
    const s = source(META_KEY.head);
    const read = storedFields(s);
    const m = read.record(decodeStored(bytes, s), 'head', ['height', 'blockHash']);
    return {
      height: read.integer(m.height, 'head.height', { min: 1 }),
      blockHash: read.bytes(m.blockHash, 'head.blockHash', { minLength: 1, maxLength: 64 }),
    };
  }

  /** Height of the last committed block; 0 before the first commit (genesis). */
  async lastCommittedHeight(): Promise<number> {
    return (await this.getHead())?.height ?? 0;
  }
}

/** The head update that goes into a commit batch. */
export function headOps(head: ChainHead): KvBatchOp[] {
  return [
    {
      type: 'put',
      key: metaKey(META_KEY.head),
      value: encodeStored({ height: head.height, blockHash: head.blockHash }, 'head'),
    },
  ];
}
