/**
 * Turns compact pre-prepares (consensus/wire.ts) back into full ones.
 *
 * A compact pre-prepare names its transactions by hash. Nearly all of them are
 * in this node's mempool already — the submitting node's bundle reached every
 * validator (the proposer flushes its own bundle before it proposes, on the
 * same connection, so its own clients' transactions arrive first). Those are
 * taken from the mempool with their bytes, hash and verdict, so nothing is
 * decoded, hashed or verified again.
 *
 * A pre-prepare that names transactions not here yet must be signed by the
 * validator it names (else it is refused: nobody is asked for anything); it
 * waits `graceMs` for their
 * bundles, then asks its proposer for the rest (`fetch`: the sync protocol's
 * transactions request). Those go into the block without passing the mempool —
 * a full mempool must not stop a backup from following its primary — and block
 * validation verifies them, as it verifies any transaction it has no verdict
 * for. If some are still missing after the fetch, the pre-prepare is dropped
 * and counted: the proposer retransmits, and if it cannot supply them the view
 * changes, as for any pre-prepare that never arrives.
 */
import { toHex } from '../codec/index.js';
import type { CompactPrePrepare } from '../../consensus/wire.js';
import { expandCompactPrePrepare } from '../../consensus/wire.js';
import type { PrePrepareMessage } from '../../consensus/types.js';
import type { HashedTransaction } from '../ledger/hashing.js';
import type { Logger } from '../logger.js';

export interface PrePrepareAssemblerOptions {
  /** A pending transaction by hash (hex): the mempool. */
  readonly lookup: (hashHex: string) => HashedTransaction | undefined;
  /** Hand the full pre-prepare on, with its transactions as found. */
  readonly deliver: (message: PrePrepareMessage, txs: readonly HashedTransaction[]) => void;
  /**
   * Ask validator `from` for these transactions. Resolves with those it sent
   * that decode and hash as asked — not verified: block validation verifies
   * every transaction without a verdict here.
   */
  readonly fetch: (
    from: number,
    txHashes: readonly Uint8Array[],
  ) => Promise<readonly HashedTransaction[]>;
  /**
   * Whether the pre-prepare is signed by the validator it names (`from`),
   * checked before waiting or asking anyone: a member must not be able to make
   * this node ask third parties for transactions it invented.
   */
  readonly isAuthentic: (message: CompactPrePrepare) => boolean;
  readonly graceMs: number;
  /** Pre-prepares waiting at once; the oldest is dropped beyond this. */
  readonly maxPending: number;
  readonly logger: Logger;
}

export interface PrePrepareAssemblerStats {
  /** Every transaction was here on arrival. */
  complete: number;
  /** Completed by bundles that arrived during the grace period. */
  waited: number;
  /** Completed after asking the proposer. */
  fetched: number;
  /** Given up: transactions still missing after the fetch, or pushed out by newer ones. */
  dropped: number;
  /** Missing transactions and not signed by the validator it names: nothing asked. */
  refused: number;
}

interface Pending {
  readonly compact: CompactPrePrepare;
  readonly found: (HashedTransaction | undefined)[];
  /** Missing hash (hex) → its positions in the block. */
  readonly missing: Map<string, number[]>;
  timer: NodeJS.Timeout | null;
  fetched: boolean;
}

export class PrePrepareAssembler {
  readonly stats: PrePrepareAssemblerStats = {
    complete: 0,
    waited: 0,
    fetched: 0,
    dropped: 0,
    refused: 0,
  };
  readonly #o: PrePrepareAssemblerOptions;
  readonly #pending = new Map<string, Pending>();
  #stopped = false;

  constructor(options: PrePrepareAssemblerOptions) {
    this.#o = options;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  receive(compact: CompactPrePrepare): void {
    if (this.#stopped) return;
    const found: (HashedTransaction | undefined)[] = [];
    const missing = new Map<string, number[]>();
    compact.txHashes.forEach((hash, i) => {
      const hex = toHex(hash);
      const htx = this.#o.lookup(hex);
      found.push(htx);
      if (!htx) {
        const at = missing.get(hex);
        if (at) at.push(i);
        else missing.set(hex, [i]);
      }
    });
    if (missing.size === 0) {
      this.stats.complete++;
      this.#deliver(compact, found);
      return;
    }
    if (!this.#o.isAuthentic(compact)) {
      this.stats.refused++;
      this.#o.logger.warn(
        { from: compact.from, view: compact.view, height: compact.height },
        'compact pre-prepare refused: not signed by the validator it names',
      );
      return;
    }
    const key = `${compact.from}/${compact.view}/${compact.height}`;
    const previous = this.#pending.get(key);
    if (previous) this.#forget(key, previous);
    if (this.#pending.size >= this.#o.maxPending) {
      const oldest = this.#pending.entries().next();
      if (oldest.done !== true) {
        this.stats.dropped++;
        this.#forget(oldest.value[0], oldest.value[1]);
      }
    }
    const pending: Pending = { compact, found, missing, timer: null, fetched: false };
    pending.timer = setTimeout(() => {
      pending.timer = null;
      void this.#fetch(key, pending);
    }, this.#o.graceMs);
    this.#pending.set(key, pending);
  }

  /** A transaction entered the mempool: complete whatever waited for it. */
  admitted(htx: HashedTransaction): void {
    if (this.#pending.size === 0) return;
    const hex = toHex(htx.hash);
    for (const [key, pending] of [...this.#pending]) {
      if (!this.#fill(pending, htx, hex) || pending.missing.size > 0) continue;
      if (pending.fetched) this.stats.fetched++;
      else this.stats.waited++;
      this.#forget(key, pending);
      this.#deliver(pending.compact, pending.found);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const [key, pending] of [...this.#pending]) this.#forget(key, pending);
  }

  async #fetch(key: string, pending: Pending): Promise<void> {
    pending.fetched = true;
    const { compact } = pending;
    const wanted = [...pending.missing.values()]
      .map((at) => compact.txHashes[at[0] ?? -1])
      .filter((h): h is Uint8Array => h !== undefined);
    let supplied: readonly HashedTransaction[] = [];
    let failure: string | null = null;
    try {
      supplied = await this.#o.fetch(compact.from, wanted);
    } catch (err) {
      failure = (err as Error).message;
    }
    // Completed meanwhile by bundles (`admitted`), replaced, or stopped.
    if (this.#pending.get(key) !== pending) return;
    for (const htx of supplied) this.#fill(pending, htx, toHex(htx.hash));
    this.#forget(key, pending);
    if (pending.missing.size === 0) {
      this.stats.fetched++;
      this.#deliver(compact, pending.found);
      return;
    }
    this.stats.dropped++;
    this.#o.logger.warn(
      {
        from: compact.from,
        view: compact.view,
        height: compact.height,
        missing: pending.missing.size,
        asked: wanted.length,
        supplied: supplied.length,
        ...(failure === null ? {} : { err: failure }),
      },
      'pre-prepare dropped: its proposer did not supply all of its transactions',
    );
  }

  /** Put `htx` where `pending` names it; false if it names it nowhere (or not any more). */
  #fill(pending: Pending, htx: HashedTransaction, hex: string): boolean {
    const at = pending.missing.get(hex);
    if (!at) return false;
    for (const i of at) pending.found[i] = htx;
    pending.missing.delete(hex);
    return true;
  }

  #forget(key: string, pending: Pending): void {
    if (pending.timer) clearTimeout(pending.timer);
    pending.timer = null;
    this.#pending.delete(key);
  }

  #deliver(compact: CompactPrePrepare, found: readonly (HashedTransaction | undefined)[]): void {
    const txs = found.filter((h): h is HashedTransaction => h !== undefined);
    this.#o.deliver(
      expandCompactPrePrepare(
        compact,
        txs.map((h) => h.tx),
      ),
      txs,
    );
  }
}
