/**
 * The mempool (DESIGN.md §2, §10): transactions waiting for a block.
 *
 * Admission runs the ledger's transaction rules once — chain id, type, size,
 * expiry, signer key and the signature — and remembers the verdict by hash, so
 * a transaction verified here is not verified again when it arrives inside a
 * block (`isVerified`). Limits: total count and bytes, per-signer count, and a
 * maximum lifetime (`validUntilHeight` at most `maxTxLifetimeHeights` ahead),
 * so the pool and its dedup state stay bounded. Order is arrival order (FIFO).
 */
import { toHex } from '../codec/index.js';
import type { HashedTransaction } from '../ledger/hashing.js';
import { LedgerError } from '../ledger/errors.js';
import type { LedgerRules } from '../ledger/validate.js';
import { validateTransaction } from '../ledger/validate.js';
import { MempoolError, MempoolErrorCode } from './errors.js';

export interface MempoolOptions {
  readonly maxTxs: number;
  readonly maxBytes: number;
  readonly maxTxsPerSender: number;
  /** A transaction may be valid for at most this many heights beyond the current head. */
  readonly maxTxLifetimeHeights: number;
  /** How many signature verdicts to remember (FIFO eviction). */
  readonly verdictCacheSize: number;
}

export const DEFAULT_MEMPOOL_OPTIONS: MempoolOptions = {
  maxTxs: 50_000,
  maxBytes: 128 * 1024 * 1024,
  maxTxsPerSender: 20_000,
  maxTxLifetimeHeights: 100_000,
  verdictCacheSize: 200_000,
};

export type AdmitStatus = 'added' | 'duplicate';

interface Entry {
  readonly htx: HashedTransaction;
  readonly sender: string;
}

export interface MempoolStats {
  added: number;
  duplicates: number;
  rejected: number;
  expired: number;
  committed: number;
  signatureChecks: number;
}

/** Whether a transaction hash is already on chain (or committed and being stored). */
export type CommittedCheck = (txHash: Uint8Array) => boolean;

export class Mempool {
  readonly stats: MempoolStats = {
    added: 0,
    duplicates: 0,
    rejected: 0,
    expired: 0,
    committed: 0,
    signatureChecks: 0,
  };
  readonly #rules: LedgerRules;
  readonly #options: MempoolOptions;
  readonly #isCommitted: CommittedCheck;
  readonly #entries = new Map<string, Entry>();
  readonly #perSender = new Map<string, number>();
  readonly #verified = new Set<string>();
  #bytes = 0;

  constructor(rules: LedgerRules, options: MempoolOptions, isCommitted: CommittedCheck) {
    this.#rules = rules;
    this.#options = options;
    this.#isCommitted = isCommitted;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(hashHex: string): boolean {
    return this.#entries.has(hashHex);
  }

  /** The pending transaction with this hash (hex), if any. */
  get(hashHex: string): HashedTransaction | undefined {
    return this.#entries.get(hashHex)?.htx;
  }

  /**
   * Admit a transaction for inclusion after `headHeight`. Returns whether it
   * was added or already pending; throws a `LedgerError` (invalid) or a
   * `MempoolError` (limits, already committed) otherwise.
   */
  add(htx: HashedTransaction, headHeight: number): AdmitStatus {
    const key = toHex(htx.hash);
    if (this.#entries.has(key)) {
      this.stats.duplicates++;
      return 'duplicate';
    }
    try {
      return this.#admit(htx, key, headHeight);
    } catch (err) {
      this.stats.rejected++;
      throw err;
    }
  }

  #admit(htx: HashedTransaction, key: string, headHeight: number): AdmitStatus {
    const maxUntil = headHeight + this.#options.maxTxLifetimeHeights;
    if (htx.tx.validUntilHeight > maxUntil) {
      throw new MempoolError(
        MempoolErrorCode.lifetimeTooLong,
        `validUntilHeight ${htx.tx.validUntilHeight} is more than ${this.#options.maxTxLifetimeHeights} heights ahead of the head (${headHeight}); use at most ${maxUntil}`,
        { field: 'validUntilHeight', maxValidUntilHeight: maxUntil },
      );
    }
    if (this.#isCommitted(htx.hash)) {
      throw new MempoolError(MempoolErrorCode.committed, 'transaction is already committed', {
        txHash: key,
      });
    }
    const wasVerified = this.#verified.has(key);
    const verdict = validateTransaction(this.#rules, htx, headHeight + 1, {
      isVerified: () => wasVerified,
    });
    if (!wasVerified) this.stats.signatureChecks++;
    if (!verdict.ok) throw verdict.error;
    this.markVerified(htx.hash, key);

    const sender = toHex(htx.tx.signer);
    const fromSender = this.#perSender.get(sender) ?? 0;
    if (fromSender >= this.#options.maxTxsPerSender) {
      throw new MempoolError(
        MempoolErrorCode.senderLimit,
        `signer has ${fromSender} pending transactions, the limit is ${this.#options.maxTxsPerSender}`,
        { maxTxsPerSender: this.#options.maxTxsPerSender },
      );
    }
    if (
      this.#entries.size >= this.#options.maxTxs ||
      this.#bytes + htx.bytes.length > this.#options.maxBytes
    ) {
      throw new MempoolError(MempoolErrorCode.full, 'mempool is full; retry later', {
        maxTxs: this.#options.maxTxs,
        maxBytes: this.#options.maxBytes,
      });
    }
    this.#entries.set(key, { htx, sender });
    this.#perSender.set(sender, fromSender + 1);
    this.#bytes += htx.bytes.length;
    this.stats.added++;
    return 'added';
  }

  /** Whether this exact transaction (hash) already passed signature verification here. */
  isVerified(hash: Uint8Array): boolean {
    return this.#verified.has(toHex(hash));
  }

  /** Remember a verified signature (block validation verifies transactions not seen before). */
  markVerified(hash: Uint8Array, hashHex = toHex(hash)): void {
    if (this.#verified.has(hashHex)) return;
    this.#verified.add(hashHex);
    if (this.#verified.size > this.#options.verdictCacheSize) {
      const oldest = this.#verified.values().next();
      if (oldest.done !== true) this.#verified.delete(oldest.value);
    }
  }

  /**
   * Up to `maxTxs` / `maxBytes` of transactions in arrival order that are valid
   * at `height` and for which `skip` is false (e.g. already in an in-flight block).
   */
  select(
    height: number,
    maxTxs: number,
    maxBytes: number,
    skip: (hashHex: string) => boolean,
  ): HashedTransaction[] {
    const out: HashedTransaction[] = [];
    let bytes = 0;
    for (const [key, { htx }] of this.#entries) {
      if (out.length >= maxTxs) break;
      if (htx.tx.validUntilHeight < height || skip(key)) continue;
      if (bytes + htx.bytes.length > maxBytes) {
        if (bytes === 0) continue; // larger than a whole block on its own: skip, try smaller ones
        break;
      }
      out.push(htx);
      bytes += htx.bytes.length;
    }
    return out;
  }

  /** Count and bytes of pending transactions, less those in `exclude` (hex hashes). */
  pending(exclude: Iterable<string>): { txCount: number; bytes: number } {
    let txCount = this.#entries.size;
    let bytes = this.#bytes;
    for (const key of exclude) {
      const e = this.#entries.get(key);
      if (e) {
        txCount--;
        bytes -= e.htx.bytes.length;
      }
    }
    return { txCount, bytes };
  }

  /** Drop transactions that were committed. */
  removeCommitted(hashes: readonly Uint8Array[]): void {
    for (const hash of hashes) if (this.#remove(toHex(hash))) this.stats.committed++;
  }

  /** Drop transactions that can no longer be included at `height`. */
  evictExpired(height: number): number {
    let n = 0;
    for (const [key, { htx }] of this.#entries) {
      if (htx.tx.validUntilHeight < height && this.#remove(key)) n++;
    }
    this.stats.expired += n;
    return n;
  }

  /** Every pending transaction, in arrival order (e.g. to re-gossip after a restart). */
  *entries(): IterableIterator<HashedTransaction> {
    for (const { htx } of this.#entries.values()) yield htx;
  }

  #remove(key: string): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    this.#entries.delete(key);
    this.#bytes -= e.htx.bytes.length;
    const left = (this.#perSender.get(e.sender) ?? 1) - 1;
    if (left <= 0) this.#perSender.delete(e.sender);
    else this.#perSender.set(e.sender, left);
    return true;
  }
}

/** Whether an error from `Mempool.add` is the sender's fault (bad tx) rather than load. */
export function isInvalidTransaction(err: unknown): boolean {
  return (
    err instanceof LedgerError ||
    (err instanceof MempoolError && err.code === MempoolErrorCode.lifetimeTooLong)
  );
}
