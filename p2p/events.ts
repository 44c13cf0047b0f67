/**
 * Typed events of the p2p host (namespaced names, STYLE.md §10). A tiny
 * emitter owned by each host; there is no global bus. A listener that throws
 * is logged and does not disturb the host or other listeners.
 */
import type { Logger } from 'pino';

export type P2pMisbehaviour = 'oversize' | 'garbage' | 'gossip-reject' | 'invalid-bundle';

export interface P2pEvents {
  /** First connection to a member opened. */
  'p2p.peer-connected': { readonly peerId: string };
  /** Last connection to a member closed. */
  'p2p.peer-disconnected': { readonly peerId: string };
  /** The gater refused a Noise-authenticated peer that is not a member. */
  'p2p.stranger-refused': { readonly peerId: string; readonly direction: 'inbound' | 'outbound' };
  /** A member broke a protocol rule; its stream was reset or its message penalised. */
  'p2p.peer-misbehaved': {
    readonly peerId: string;
    readonly protocol: string;
    readonly reason: P2pMisbehaviour;
  };
  /** A member was banned for repeated misbehaviour until `untilMs` (epoch ms). */
  'p2p.peer-banned': { readonly peerId: string; readonly untilMs: number };
}

export type P2pEventName = keyof P2pEvents;
export type P2pListener<K extends P2pEventName> = (event: P2pEvents[K]) => void;

export class P2pEmitter {
  private readonly listeners = new Map<P2pEventName, Set<(event: never) => void>>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  on<K extends P2pEventName>(name: K, listener: P2pListener<K>): void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
  }

  off<K extends P2pEventName>(name: K, listener: P2pListener<K>): void {
    this.listeners.get(name)?.delete(listener);
  }

  emit<K extends P2pEventName>(name: K, event: P2pEvents[K]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as P2pListener<K>)(event);
      } catch (err) {
        this.logger.error({ err, event: name }, 'p2p event listener threw');
      }
    }
  }
}
