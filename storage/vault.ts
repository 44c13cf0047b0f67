/**
 * The document vault (DESIGN.md §4): record content kept by the owner
 * institution's node. Storage keeps opaque bytes under a document id; the
 * caller encrypts before `put` and decrypts after `get` (storage holds no
 * keys and knows no crypto suite), so content is encrypted at rest.
 */
import type { KvStore } from './kv.js';
import { BUCKET, bytesKey } from './keys.js';
import { checkValue } from './kv.js';

export class VaultRepository {
  constructor(private readonly kv: KvStore) {}

  /** Stores an (already encrypted) document; durable when the promise resolves. */
  async put(documentId: Uint8Array, ciphertext: Uint8Array): Promise<void> {
    checkValue(ciphertext, 'ciphertext');
    await this.kv.put(bytesKey(BUCKET.vault, documentId, 'documentId'), ciphertext, { sync: true });
  }

  get(documentId: Uint8Array): Promise<Uint8Array | undefined> {
    return this.kv.get(bytesKey(BUCKET.vault, documentId, 'documentId'));
  }

  async has(documentId: Uint8Array): Promise<boolean> {
    return (await this.get(documentId)) !== undefined;
  }

  async delete(documentId: Uint8Array): Promise<void> {
    await this.kv.del(bytesKey(BUCKET.vault, documentId, 'documentId'), { sync: true });
  }
}
