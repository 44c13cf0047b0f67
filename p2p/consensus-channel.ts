/**
 * `/medchain/<chainId>/consensus/1`: long-lived, one-way, length-prefixed
 * streams. Each host opens one outbound stream per peer and only writes to it;
 * it only reads the streams its peers open to it. Per peer, messages leave in
 * the order they were queued.
 *
 * Writes are batched: `enqueue` never blocks; a flush scheduled with
 * `setImmediate` concatenates everything queued since (up to
 * `CONSENSUS_MAX_BATCH_BYTES`) into one `stream.send`. Backpressure follows
 * FACTS.md: while the stream's `writeBufferLength` is over
 * `CONSENSUS_HIGH_WATER_BYTES`, stop and wait for 'drain'. The outbox is
 * bounded (count and bytes); when a peer is unreachable for long the oldest
 * messages are dropped and counted — PBFT retransmits what matters.
 *
 * Inbound, a `FrameDecoder` with the consensus limit checks every frame; a
 * garbage or oversize frame is dropped, counted, and the stream is reset (the
 * peer opens a new one). Nothing a peer sends can throw out of here.
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import type { Logger } from 'pino';
import {
  CONSENSUS_HIGH_WATER_BYTES,
  CONSENSUS_MAX_BATCH_BYTES,
  CONSENSUS_QUEUE_MAX_BYTES,
  CONSENSUS_QUEUE_MAX_MESSAGES,
} from './config.js';
import { P2pError, P2pErrorCode } from './errors.js';
import { FrameDecoder, FrameError, encodeFrames, varintLength } from './framing.js';
import type { ConsensusCounters } from './stats.js';

/** Delay before retrying to open a stream that failed to open. */
export const CONSENSUS_REOPEN_DELAY_MS = 250;

export interface OutboxDeps {
  /** Opens a stream on an existing connection; `null` when the peer is not connected. */
  openStream(peerId: string): Promise<Stream | null>;
  readonly counters: ConsensusCounters;
  onStreamReset(): void;
  readonly logger: Logger;
  readonly maxQueuedMessages?: number;
  readonly maxQueuedBytes?: number;
}

const EMPTY = new Uint8Array(0);

/** The outbound side for one peer. */
export class ConsensusOutbox {
  readonly peerId: string;
  private readonly deps: OutboxDeps;
  private readonly maxQueuedMessages: number;
  private readonly maxQueuedBytes: number;
  private queue: Uint8Array[] = [];
  private head = 0;
  private queuedBytes = 0;
  private stream: Stream | null = null;
  private opening = false;
  private waitingForDrain = false;
  private flushHandle: NodeJS.Immediate | null = null;
  private reopenTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastBatchPayloadBytes = 0;

  constructor(peerId: string, deps: OutboxDeps) {
    this.peerId = peerId;
    this.deps = deps;
    this.maxQueuedMessages = deps.maxQueuedMessages ?? CONSENSUS_QUEUE_MAX_MESSAGES;
    this.maxQueuedBytes = deps.maxQueuedBytes ?? CONSENSUS_QUEUE_MAX_BYTES;
  }

  isClosed(): boolean {
    return this.closed;
  }

  get queuedMessages(): number {
    return this.queue.length - this.head;
  }

  enqueue(bytes: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    while (
      this.queuedMessages > 0 &&
      (this.queuedMessages > this.maxQueuedMessages || this.queuedBytes > this.maxQueuedBytes)
    ) {
      const dropped = this.shift();
      if (dropped === undefined) break;
      this.deps.counters.queueDrops++;
    }
    this.schedule();
  }

  /** A connection to the peer opened: start (or resume) sending. */
  onConnected(): void {
    this.schedule();
  }

  /** Stops sending; closes the stream; clears every timer. Queued messages are discarded. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushHandle !== null) clearImmediate(this.flushHandle);
    if (this.reopenTimer !== null) clearTimeout(this.reopenTimer);
    this.flushHandle = null;
    this.reopenTimer = null;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    const stream = this.stream;
    this.stream = null;
    if (stream !== null) {
      stream.close().catch((err: unknown) => {
        stream.abort(
          err instanceof Error ? err : new P2pError(P2pErrorCode.requestFailed, 'close failed'),
        );
      });
    }
  }

  private shift(): Uint8Array | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head];
    // Release the slot: a sent message left in the array stayed alive (with
    // the 8 KiB pool slab it is a view of) until the next compaction.
    this.queue[this.head] = EMPTY;
    this.head++;
    if (item !== undefined) this.queuedBytes -= item.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  private unshiftAll(items: readonly Uint8Array[]): void {
    this.queue = [...items, ...this.queue.slice(this.head)];
    this.head = 0;
    for (const item of items) this.queuedBytes += item.length;
  }

  private schedule(): void {
    if (this.closed || this.flushHandle !== null || this.waitingForDrain || this.opening) return;
    if (this.queuedMessages === 0) return;
    this.flushHandle = setImmediate(() => {
      this.flushHandle = null;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.queuedMessages === 0) return;
    const stream = this.stream;
    if (stream === null || stream.status !== 'open' || stream.writeStatus !== 'writable') {
      this.stream = null;
      void this.open();
      return;
    }
    while (this.queuedMessages > 0) {
      if (stream.writeBufferLength >= CONSENSUS_HIGH_WATER_BYTES) {
        this.waitForDrain(stream);
        return;
      }
      const batch = this.takeBatch();
      const bytes = encodeFrames(batch);
      try {
        stream.send(bytes);
      } catch (err) {
        // Nothing of this batch was written: keep it for the next stream.
        this.unshiftAll(batch);
        this.deps.logger.debug({ peerId: this.peerId, err }, 'consensus stream write failed');
        if (this.stream === stream) this.stream = null;
        stream.abort(
          err instanceof Error ? err : new P2pError(P2pErrorCode.requestFailed, 'write failed'),
        );
        this.scheduleReopen();
        return;
      }
      const counters = this.deps.counters;
      counters.streamWrites++;
      counters.messagesOut += batch.length;
      counters.bytesOut += this.lastBatchPayloadBytes;
    }
  }

  private takeBatch(): Uint8Array[] {
    const batch: Uint8Array[] = [];
    let bytes = 0;
    this.lastBatchPayloadBytes = 0;
    while (this.queuedMessages > 0) {
      const next = this.queue[this.head];
      if (next === undefined) break;
      const size = varintLength(next.length) + next.length;
      if (batch.length > 0 && bytes + size > CONSENSUS_MAX_BATCH_BYTES) break;
      this.shift();
      batch.push(next);
      bytes += size;
      this.lastBatchPayloadBytes += next.length;
    }
    return batch;
  }

  private waitForDrain(stream: Stream): void {
    this.waitingForDrain = true;
    const resume = (): void => {
      stream.removeEventListener('drain', resume);
      stream.removeEventListener('idle', resume);
      stream.removeEventListener('close', resume);
      this.waitingForDrain = false;
      this.schedule();
    };
    stream.addEventListener('drain', resume);
    stream.addEventListener('idle', resume);
    stream.addEventListener('close', resume);
  }

  private scheduleReopen(): void {
    if (this.closed || this.reopenTimer !== null) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.schedule();
    }, CONSENSUS_REOPEN_DELAY_MS);
  }

  private async open(): Promise<void> {
    if (this.opening || this.closed) return;
    this.opening = true;
    let stream: Stream | null = null;
    try {
      stream = await this.deps.openStream(this.peerId);
    } catch (err) {
      this.deps.logger.debug({ peerId: this.peerId, err }, 'could not open consensus stream');
      this.opening = false;
      this.scheduleReopen();
      return;
    }
    this.opening = false;
    // Not connected: `onConnected` resumes sending.
    if (stream === null) return;
    if (this.isClosed()) {
      stream.abort(new P2pError(P2pErrorCode.notStarted, 'outbox closed'));
      return;
    }
    const opened = stream;
    this.stream = opened;
    opened.addEventListener('close', (evt: StreamCloseEvent) => {
      if (evt.error !== undefined) {
        this.deps.onStreamReset();
        this.deps.logger.debug({ peerId: this.peerId, err: evt.error }, 'consensus stream reset');
      }
      if (this.stream === opened) {
        this.stream = null;
        this.scheduleReopen();
      }
    });
    this.schedule();
  }
}

export interface InboundDeps {
  readonly maxMessageBytes: number;
  readonly counters: ConsensusCounters;
  deliver(fromPeerId: string, bytes: Uint8Array): void;
  onFrameError(fromPeerId: string, error: FrameError): void;
  onStreamReset(): void;
  readonly logger: Logger;
}

/** Reads one inbound consensus stream from `fromPeerId` until it ends. */
export function acceptConsensusStream(stream: Stream, fromPeerId: string, deps: InboundDeps): void {
  const decoder = new FrameDecoder(deps.maxMessageBytes);
  const counters = deps.counters;
  const state = { rejected: false };
  // We never write on an inbound stream.
  stream.close().catch(() => undefined);
  const onMessage = (evt: StreamMessageEvent): void => {
    let frames: Uint8Array[];
    try {
      frames = decoder.push(evt.data);
    } catch (err) {
      stream.removeEventListener('message', onMessage);
      state.rejected = true;
      if (err instanceof FrameError) {
        deps.onFrameError(fromPeerId, err);
        stream.abort(err);
      } else {
        stream.abort(
          err instanceof Error ? err : new P2pError(P2pErrorCode.malformedFrame, 'decode failed'),
        );
      }
      return;
    }
    for (const frame of frames) {
      counters.messagesIn++;
      counters.bytesIn += frame.length;
      try {
        deps.deliver(fromPeerId, frame);
      } catch (err) {
        counters.handlerErrors++;
        deps.logger.error({ peerId: fromPeerId, err }, 'consensus message handler threw');
      }
    }
  };
  stream.addEventListener('message', onMessage);
  stream.addEventListener('close', (evt: StreamCloseEvent) => {
    stream.removeEventListener('message', onMessage);
    if (evt.error !== undefined && !state.rejected) deps.onStreamReset();
  });
}
