/**
 * Waits for particular transactions to commit: fed every stored block by the
 * node (`NodeContext.onStored`), it resolves each waiter with its
 * transaction's receipt. Bounded: every wait has a deadline and an abort
 * signal, and at most `maxWaiters` waits are pending at once.
 */
import { toHex } from '../codec/index.js';
import type { Receipt } from '../ledger/types.js';
import { MedicalError, MedicalErrorCode } from './errors.js';

interface Waiter {
  resolve(receipt: Receipt): void;
}

export class CommitWatcher {
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #maxWaiters: number;
  #pending = 0;

  constructor(maxWaiters = 1024) {
    this.#maxWaiters = maxWaiters;
  }

  get pending(): number {
    return this.#pending;
  }

  /** Hand it each stored block: `txHashes[i]` has `receipts[i]`. */
  onCommitted(block: {
    readonly txHashes: readonly Uint8Array[];
    readonly receipts: readonly Receipt[];
  }): void {
    if (this.#waiters.size === 0) return;
    block.txHashes.forEach((hash, i) => {
      const hex = toHex(hash);
      const waiters = this.#waiters.get(hex);
      const receipt = block.receipts[i];
      if (waiters === undefined || receipt === undefined) return;
      this.#waiters.delete(hex);
      for (const waiter of waiters) waiter.resolve(receipt);
    });
  }

  /**
   * The receipt of `txHash` once it commits. Rejects with
   * `MEDICAL_ACCESS_LOG_TIMEOUT` after `timeoutMs`, or with the signal's reason.
   * Register the wait *before* submitting the transaction.
   */
  wait(txHash: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<Receipt> {
    if (this.#pending >= this.#maxWaiters) {
      return Promise.reject(
        new MedicalError(
          MedicalErrorCode.accessLogTimeout,
          'too many fetches are waiting for their access.log to commit',
        ),
      );
    }
    const hex = toHex(txHash);
    return new Promise<Receipt>((resolve, reject) => {
      let done = false;
      const finish = (): void => {
        done = true;
        this.#pending--;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.#waiters.get(hex);
        set?.delete(waiter);
        if (set?.size === 0) this.#waiters.delete(hex);
      };
      const waiter: Waiter = {
        resolve: (receipt) => {
          if (done) return;
          finish();
          resolve(receipt);
        },
      };
      const onAbort = (): void => {
        if (done) return;
        finish();
        reject(
          signal?.reason instanceof Error
            ? signal.reason
            : new MedicalError(MedicalErrorCode.accessLogTimeout, 'aborted'),
        );
      };
      const timer = setTimeout(() => {
        if (done) return;
        finish();
        reject(
          new MedicalError(
            MedicalErrorCode.accessLogTimeout,
            `the access.log transaction ${hex.slice(0, 16)}… did not commit within ${timeoutMs} ms; the document was not served`,
            { txHash: hex, timeoutMs },
          ),
        );
      }, timeoutMs);
      this.#pending++;
      let set = this.#waiters.get(hex);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(hex, set);
      }
      set.add(waiter);
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
