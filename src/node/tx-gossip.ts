/**
 * Transactions travel in bundles (DESIGN.md §6, FACTS.md): a node collects the
 * transactions its own clients submitted and publishes them on the gossip
 * topic every `intervalMs`, or sooner when a bundle is full by count or bytes.
 * One gossip message per transaction would cap throughput far below the
 * signature-verification bound.
 */
import type { Logger } from '../logger.js';
import { encodeTxBundle } from './wire.js';

export interface TxGossipOptions {
  readonly publish: (bundle: Uint8Array) => Promise<void>;
  readonly maxTxs: number;
  /** Keep every bundle under the gossip message limit. */
  readonly maxBytes: number;
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** CBOR framing per transaction inside a bundle (byte-string head), and the map around it. */
const PER_TX_OVERHEAD_BYTES = 5;
const BUNDLE_OVERHEAD_BYTES = 16;
const MAX_PUBLISH_ATTEMPTS = 30;
const RETRY_DELAY_MS = 1000;

export class TxGossip {
  readonly #o: TxGossipOptions;
  #queue: Uint8Array[] = [];
  #queuedBytes = BUNDLE_OVERHEAD_BYTES;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  readonly #retries = new Set<NodeJS.Timeout>();
  bundlesPublished = 0;
  txsPublished = 0;
  publishFailures = 0;

  constructor(options: TxGossipOptions) {
    this.#o = options;
  }

  /** Queue the canonical bytes of a transaction this node admitted from a client. */
  add(txBytes: Uint8Array): void {
    if (this.#stopped) return;
    const size = txBytes.length + PER_TX_OVERHEAD_BYTES;
    if (this.#queue.length > 0 && this.#queuedBytes + size > this.#o.maxBytes) this.flush();
    this.#queue.push(txBytes);
    this.#queuedBytes += size;
    if (this.#queue.length >= this.#o.maxTxs) this.flush();
    else
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.flush();
      }, this.#o.intervalMs);
  }

  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#queue.length === 0) return;
    const txs = this.#queue;
    this.#queue = [];
    this.#queuedBytes = BUNDLE_OVERHEAD_BYTES;
    this.#publish(txs, 0);
  }

  #publish(txs: Uint8Array[], attempt: number): void {
    this.#o.publish(encodeTxBundle(txs)).then(
      () => {
        this.bundlesPublished++;
        this.txsPublished += txs.length;
      },
      (err: unknown) => {
        // No peer subscribed yet (start-up), or the network is down: try again
        // a bounded number of times. The transactions stay in our mempool
        // meanwhile and reach a block whenever this node is primary.
        this.publishFailures++;
        this.#o.logger.debug(
          { err: (err as Error).message, txs: txs.length, attempt },
          'tx bundle not published',
        );
        if (this.#stopped || attempt + 1 >= MAX_PUBLISH_ATTEMPTS) return;
        const retry = setTimeout(() => {
          this.#retries.delete(retry);
          if (!this.#stopped) this.#publish(txs, attempt + 1);
        }, RETRY_DELAY_MS);
        this.#retries.add(retry);
      },
    );
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#retries) clearTimeout(t);
    this.#retries.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue = [];
  }
}
