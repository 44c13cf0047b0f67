/**
 * Transactions travel in bundles (DESIGN.md §6, FACTS.md): a node collects the
 * transactions its own clients submitted and sends them every `intervalMs`, or
 * sooner when a bundle is full by count or bytes, on the direct stream to each
 * validator — one copy each. One network message per transaction would cap
 * throughput far below the signature-verification bound, and gossipsub's mesh
 * forwarding would deliver every bundle several times over.
 */
import { encodeTxBundle } from './wire.js';

export interface TxGossipOptions {
  /** Hand one bundle to the network (queued per peer; never blocks). */
  readonly publish: (bundle: Uint8Array) => void;
  readonly maxTxs: number;
  /** Keep every bundle under the gossip message limit. */
  readonly maxBytes: number;
  readonly intervalMs: number;
}

/** CBOR framing per transaction inside a bundle (byte-string head), and the map around it. */
const PER_TX_OVERHEAD_BYTES = 5;
const BUNDLE_OVERHEAD_BYTES = 16;

export class TxGossip {
  readonly #o: TxGossipOptions;
  #queue: Uint8Array[] = [];
  #queuedBytes = BUNDLE_OVERHEAD_BYTES;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  bundlesPublished = 0;
  txsPublished = 0;

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
    this.#o.publish(encodeTxBundle(txs));
    this.bundlesPublished++;
    this.txsPublished += txs.length;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue = [];
  }
}
