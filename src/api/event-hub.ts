/**
 * The `/v1/events` fan-out: every committed block is serialised once and
 * queued to each open WebSocket client. Memory is bounded per client: a
 * client whose unsent data (`bufferedAmount`) would pass
 * `maxBufferedBytes` is disconnected and counted, so one slow reader can
 * never hold the node's memory or delay the other clients. Dead clients are
 * found by ping/pong.
 */
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { blockEventToJson } from './json.js';
import type { EventJson } from './json.js';
import type { NodeMetrics, WsDropReason } from './metrics.js';
import type { CommittedBlockEvent } from './types.js';

export interface EventHubOptions {
  readonly maxBufferedBytes: number;
  /** 0 disables pings. */
  readonly pingIntervalMs: number;
}

/** The part of a `ws` WebSocket the hub uses. */
export type EventSocket = Pick<
  WebSocket,
  'readyState' | 'bufferedAmount' | 'send' | 'ping' | 'close' | 'terminate' | 'on'
>;

interface Client {
  readonly socket: EventSocket;
  alive: boolean;
}

/** WebSocket close code sent when the server shuts down. */
export const WS_CLOSE_GOING_AWAY = 1001;

export class EventHub {
  private readonly clients = new Set<Client>();
  private pingTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: EventHubOptions,
    private readonly metrics: NodeMetrics,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Adopt an upgraded socket and send it `hello` first. */
  add(socket: EventSocket, hello: EventJson): void {
    if (this.closed) {
      socket.terminate();
      return;
    }
    const client: Client = { socket, alive: true };
    this.clients.add(client);
    this.metrics.wsClientsOpen(this.clients.size);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('close', () => {
      this.remove(client);
    });
    socket.on('error', () => {
      this.remove(client);
    });
    socket.send(JSON.stringify(hello));
    this.startPings();
  }

  /** Queue one block event to every client; never throws (it runs in the node's commit path). */
  broadcast(event: CommittedBlockEvent): void {
    if (this.clients.size === 0) return;
    let message: string;
    try {
      message = JSON.stringify(blockEventToJson(event));
    } catch (err) {
      this.logger.error({ err, height: event.height }, 'cannot serialise block event');
      return;
    }
    const messageBytes = Buffer.byteLength(message);
    let queued = 0;
    for (const client of [...this.clients]) {
      const { socket } = client;
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (socket.bufferedAmount + messageBytes > this.options.maxBufferedBytes) {
        this.drop(client, 'slow', { bufferedBytes: socket.bufferedAmount });
        continue;
      }
      socket.send(message);
      queued++;
    }
    this.metrics.wsEventsQueued(queued);
  }

  /**
   * Stop accepting clients and close every one with 1001; whoever has not
   * answered the close frame after `graceMs` is cut (the HTTP server's close
   * waits for these sockets).
   */
  close(graceMs: number): void {
    this.closed = true;
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    for (const client of [...this.clients]) {
      client.socket.close(WS_CLOSE_GOING_AWAY, 'server shutting down');
    }
    if (this.clients.size > 0) {
      this.graceTimer = setTimeout(() => {
        this.terminateAll();
      }, graceMs);
      this.graceTimer.unref();
    }
  }

  /** Destroy every remaining client now. */
  terminateAll(): void {
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    for (const client of [...this.clients]) {
      client.socket.terminate();
      this.remove(client);
    }
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    this.metrics.wsClientsOpen(this.clients.size);
    if (this.clients.size === 0 && this.pingTimer !== undefined) {
      clearInterval(this.pingTimer);
      this.pingTimer = undefined;
    }
  }

  private drop(
    client: Client,
    reason: WsDropReason,
    fields: Readonly<Record<string, number>> = {},
  ): void {
    this.remove(client);
    client.socket.terminate();
    this.metrics.wsClientDropped(reason);
    this.logger.warn({ reason, ...fields }, 'dropped a WebSocket client');
  }

  private startPings(): void {
    if (this.options.pingIntervalMs <= 0 || this.pingTimer !== undefined) return;
    this.pingTimer = setInterval(() => {
      for (const client of [...this.clients]) {
        if (!client.alive) {
          this.drop(client, 'timeout');
          continue;
        }
        client.alive = false;
        if (client.socket.readyState === WebSocket.OPEN) client.socket.ping();
      }
    }, this.options.pingIntervalMs);
    this.pingTimer.unref();
  }
}
