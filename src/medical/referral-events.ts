/**
 * `GET /v1/medical/events`: a WebSocket that tells an institution's systems
 * about referrals the moment they commit — above all a referral addressed to
 * this node's institution (`direction: "incoming"`), and the later steps of
 * referrals it sent or received. Messages are JSON text frames:
 *
 *     {"type":"hello","institution","height"}
 *     {"type":"referral","direction":"incoming"|"outgoing","event":{…contract event…}}
 *
 * Memory is bounded per client: one whose unsent data passes
 * `maxBufferedBytes` is dropped (it can reconnect and read the inbox).
 */
import type { WebSocket } from 'ws';
import type { ContractEvent } from '../contracts/index.js';
import { eventToJson } from '../contracts/index.js';
import type { Json } from '../contracts/index.js';
import type { Logger } from '../logger.js';

export type ReferralSocket = Pick<
  WebSocket,
  'readyState' | 'bufferedAmount' | 'send' | 'close' | 'terminate' | 'on'
>;

export interface ReferralHubOptions {
  readonly maxClients: number;
  readonly maxBufferedBytes: number;
}

export const DEFAULT_REFERRAL_HUB_OPTIONS: ReferralHubOptions = {
  maxClients: 32,
  maxBufferedBytes: 1024 * 1024,
};

const OPEN = 1;
const CLOSE_GRACE_MS = 1000;

export interface ReferralMessage {
  readonly type: 'referral';
  readonly direction: 'incoming' | 'outgoing';
  readonly event: Json;
}

/** The referral messages a block's events imply for `institutionId`. */
export function referralMessagesFor(
  institutionId: string,
  events: readonly ContractEvent[],
): ReferralMessage[] {
  const out: ReferralMessage[] = [];
  for (const event of events) {
    if (
      event.type !== 'referral.created' &&
      event.type !== 'referral.accepted' &&
      event.type !== 'referral.rejected' &&
      event.type !== 'referral.completed'
    ) {
      continue;
    }
    if (event.to === institutionId)
      out.push({ type: 'referral', direction: 'incoming', event: eventToJson(event) });
    else if (event.from === institutionId) {
      out.push({ type: 'referral', direction: 'outgoing', event: eventToJson(event) });
    }
  }
  return out;
}

export class ReferralEventHub {
  readonly #clients = new Set<ReferralSocket>();
  readonly #institutionId: string;
  readonly #options: ReferralHubOptions;
  readonly #logger: Logger;
  #closed = false;

  constructor(institutionId: string, options: ReferralHubOptions, logger: Logger) {
    this.#institutionId = institutionId;
    this.#options = options;
    this.#logger = logger;
  }

  get size(): number {
    return this.#clients.size;
  }

  get full(): boolean {
    return this.#clients.size >= this.#options.maxClients;
  }

  add(socket: ReferralSocket, height: number): void {
    if (this.#closed || this.full) {
      socket.terminate();
      return;
    }
    this.#clients.add(socket);
    const remove = (): void => {
      this.#clients.delete(socket);
    };
    socket.on('close', remove);
    socket.on('error', remove);
    socket.send(JSON.stringify({ type: 'hello', institution: this.#institutionId, height }));
  }

  /** Called for every stored block (never throws: it runs in the node's commit path). */
  onCommitted(events: readonly ContractEvent[]): void {
    if (this.#clients.size === 0) return;
    let messages: string[];
    try {
      messages = referralMessagesFor(this.#institutionId, events).map((m) => JSON.stringify(m));
    } catch (err) {
      this.#logger.error({ err: (err as Error).message }, 'cannot serialise referral events');
      return;
    }
    for (const message of messages) {
      for (const socket of [...this.#clients]) {
        if (socket.readyState !== OPEN) continue;
        if (socket.bufferedAmount + Buffer.byteLength(message) > this.#options.maxBufferedBytes) {
          this.#clients.delete(socket);
          socket.terminate();
          this.#logger.warn({ reason: 'slow' }, 'dropped a referral event client');
          continue;
        }
        socket.send(message);
      }
    }
  }

  close(): void {
    this.#closed = true;
    const sockets = [...this.#clients];
    this.#clients.clear();
    for (const socket of sockets) socket.close(1001, 'server shutting down');
    if (sockets.length > 0) {
      // whoever has not answered the close frame by then is cut
      setTimeout(() => {
        for (const socket of sockets) socket.terminate();
      }, CLOSE_GRACE_MS).unref();
    }
  }
}
