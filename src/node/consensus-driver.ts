/**
 * The adapter between the pure replica and the world (consensus/README.md,
 * "Host contract"). One loop serialises every input — consensus messages,
 * ticks, executed blocks — and performs the replica's effects:
 *
 * - `persist`: appended to the WAL and fsynced before anything produced after it
 *   leaves the node. Inputs that queued up while the last fsync ran are handled
 *   together, and their WAL records share one synced batch (group commit): sends
 *   only move later, never ahead of the record they depend on.
 * - `wal-truncate`: applied to the in-memory mirror in order with the persists,
 *   then the dropped records are deleted from LevelDB.
 * - `send` / `broadcast`: encoded once, queued on p2p (batched writes there);
 *   pre-prepares in the compact form with `encodePrePrepare` (consensus/wire.ts).
 * - `execute`: handed to the executor (strict height order); it calls back
 *   `executed` once the block is durably stored.
 * - `schedule`: one timer for the earliest requested tick.
 */
import type { Replica } from '../../consensus/replica.js';
import { ConsensusError } from '../../consensus/errors.js';
import type {
  CertifiedBlock,
  ConsensusMessage,
  Effect,
  PrePrepareMessage,
  WalRecord,
} from '../../consensus/types.js';
import {
  decodeWireMessage,
  encodeMessage,
  walRecordHeight,
  walRecordSurvives,
  encodeWalRecord,
} from '../../consensus/wire.js';
import type { CompactPrePrepare, WireLimits } from '../../consensus/wire.js';
import { Encoded } from '../codec/index.js';
import type { Logger } from '../logger.js';
import type { WalRepository } from '../../storage/wal.js';

export interface WalMirrorEntry {
  readonly record: WalRecord;
  height: number;
  /** Assigned once written; null while pending. */
  sequence: number | null;
}

type Input =
  | { readonly kind: 'message'; readonly message: ConsensusMessage }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'tick' }
  | { readonly kind: 'executed'; readonly height: number; readonly stateRoot: Uint8Array };

export interface ConsensusDriverOptions {
  readonly replica: Replica;
  readonly wal: WalRepository;
  /** The WAL as read at start (with sequences), to mirror truncations. */
  readonly walEntries: readonly WalMirrorEntry[];
  readonly logger: Logger;
  readonly now: () => number;
  /** Queue bytes for validator `to` (never called with our own index). */
  readonly send: (to: number, bytes: Uint8Array) => void;
  readonly broadcast: (bytes: Uint8Array) => void;
  /** The replica committed a block: execute and store it, then call `executed`. */
  readonly execute: (entry: CertifiedBlock) => void;
  readonly onViewChanged: (view: number, primary: number) => void;
  /** A failure the node cannot continue after (disk, broken invariant). */
  readonly onFatal: (err: unknown) => void;
  /** Safety-net tick interval; the replica's own `schedule` effects come on top. */
  readonly tickIntervalMs: number;
  /** Limits for decoding received messages (the replica's). */
  readonly wireLimits?: WireLimits;
  /** How this node encodes the pre-prepares it sends (the compact form); default: whole. */
  readonly encodePrePrepare?: (message: PrePrepareMessage) => Uint8Array;
  /**
   * Where compact pre-prepares received go, to be expanded and handed back with
   * `onPrePrepare`; without it they are dropped as malformed.
   */
  readonly onCompactPrePrepare?: (message: CompactPrePrepare) => void;
}

/** Most inputs handled per round (bounds the latency one round adds). */
const MAX_INPUTS_PER_ROUND = 512;

export class ConsensusDriver {
  readonly #o: ConsensusDriverOptions;
  readonly #inputs: Input[] = [];
  readonly #wal: WalMirrorEntry[];
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  #timerAtMs = Number.POSITIVE_INFINITY;
  #interval: NodeJS.Timeout | null = null;
  #tickQueued = false;
  /**
   * Encoded messages by object: a broadcast is encoded once for every peer, and
   * a retransmission (the replica re-emits the same message object) not again.
   */
  readonly #encoded = new WeakMap<ConsensusMessage, Uint8Array>();
  /** Effects of `replica.start()`, performed by the first round. */
  #startEffects: Effect[] | null = null;
  walAppends = 0;
  rounds = 0;

  constructor(options: ConsensusDriverOptions) {
    this.#o = options;
    this.#wal = options.walEntries.map((e) => ({ ...e }));
  }

  start(): void {
    this.#interval = setInterval(() => {
      this.tick();
    }, this.#o.tickIntervalMs);
    this.#startEffects = this.#o.replica.start();
    this.#loop = this.#run();
  }

  /** Stops taking inputs; resolves when the current round is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#interval) clearInterval(this.#interval);
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
  }

  /** Bytes from a validator: decoded here; a compact pre-prepare goes to `onCompactPrePrepare`. */
  onMessage(bytes: Uint8Array): void {
    let message;
    try {
      message = decodeWireMessage(bytes, this.#o.wireLimits);
    } catch (err) {
      if (!(err instanceof ConsensusError)) throw err;
      this.#enqueue({ kind: 'malformed' });
      return;
    }
    if (message.kind !== 'pre-prepare-compact') this.#enqueue({ kind: 'message', message });
    else if (this.#o.onCompactPrePrepare) this.#o.onCompactPrePrepare(message);
    else this.#enqueue({ kind: 'malformed' });
  }

  /** A pre-prepare assembled from a compact one. */
  onPrePrepare(message: PrePrepareMessage): void {
    this.#enqueue({ kind: 'message', message });
  }

  /** Ask for a tick soon (coalesced): e.g. when transactions arrive. */
  tick(): void {
    if (this.#tickQueued) return;
    this.#tickQueued = true;
    this.#enqueue({ kind: 'tick' });
  }

  executed(height: number, stateRoot: Uint8Array): void {
    this.#enqueue({ kind: 'executed', height, stateRoot });
  }

  get walSize(): number {
    return this.#wal.length;
  }

  #enqueue(input: Input): void {
    if (this.#stopped) return;
    this.#inputs.push(input);
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#inputs.length === 0 && this.#startEffects === null) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = null;
        continue;
      }
      const effects: Effect[] = this.#startEffects ?? [];
      this.#startEffects = null;
      const batch = this.#inputs.splice(0, MAX_INPUTS_PER_ROUND);
      try {
        for (const input of batch) effects.push(...this.#apply(input));
        await this.#perform(effects);
        this.rounds++;
      } catch (err) {
        this.#stopped = true;
        this.#o.onFatal(err);
        return;
      }
    }
  }

  #apply(input: Input): Effect[] {
    const r = this.#o.replica;
    switch (input.kind) {
      case 'message':
        return r.onMessage(input.message);
      case 'malformed':
        r.noteMalformed();
        return [];
      case 'tick':
        this.#tickQueued = false;
        return r.onTick(this.#o.now());
      case 'executed':
        return r.onBlockExecuted(input.height, input.stateRoot);
    }
  }

  async #perform(effects: readonly Effect[]): Promise<void> {
    const pending: WalMirrorEntry[] = [];
    const dropped: { height: number; sequence: number }[] = [];
    const later: Effect[] = [];
    let scheduleAtMs = Number.POSITIVE_INFINITY;
    for (const e of effects) {
      switch (e.type) {
        case 'persist': {
          const entry: WalMirrorEntry = {
            record: e.record,
            height: walRecordHeight(e.record),
            sequence: null,
          };
          pending.push(entry);
          this.#wal.push(entry);
          break;
        }
        case 'wal-truncate': {
          for (let i = this.#wal.length - 1; i >= 0; i--) {
            const entry = this.#wal[i];
            if (!entry || walRecordSurvives(entry.record, e)) continue;
            this.#wal.splice(i, 1);
            if (entry.sequence === null) pending.splice(pending.indexOf(entry), 1);
            else dropped.push({ height: entry.height, sequence: entry.sequence });
          }
          break;
        }
        case 'schedule':
          scheduleAtMs = Math.min(scheduleAtMs, e.atMs);
          break;
        default:
          later.push(e);
      }
    }
    if (pending.length > 0) {
      const sequences = await this.#o.wal.appendMany(
        pending.map((p) => ({ height: p.height, entry: new Encoded(encodeWalRecord(p.record)) })),
      );
      pending.forEach((p, i) => {
        p.sequence = sequences[i] ?? null;
      });
      this.walAppends++;
    }
    // Everything signed is durable now: speak.
    const bytesOf = (m: ConsensusMessage): Uint8Array => {
      let b = this.#encoded.get(m);
      if (!b) {
        const { encodePrePrepare } = this.#o;
        b = m.kind === 'pre-prepare' && encodePrePrepare ? encodePrePrepare(m) : encodeMessage(m);
        this.#encoded.set(m, b);
      }
      return b;
    };
    for (const e of later) {
      switch (e.type) {
        case 'send':
          this.#o.send(e.to, bytesOf(e.message));
          break;
        case 'broadcast':
          this.#o.broadcast(bytesOf(e.message));
          break;
        case 'execute':
          this.#o.execute({ block: e.block, certificate: e.certificate });
          break;
        case 'view-changed':
          this.#o.onViewChanged(e.view, e.primary);
          break;
        default:
          break;
      }
    }
    if (dropped.length > 0) await this.#o.wal.remove(dropped, { sync: false });
    if (scheduleAtMs !== Number.POSITIVE_INFINITY) this.#schedule(scheduleAtMs);
  }

  #schedule(atMs: number): void {
    if (this.#stopped || atMs >= this.#timerAtMs) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAtMs = atMs;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#timerAtMs = Number.POSITIVE_INFINITY;
        this.tick();
      },
      Math.max(0, atMs - this.#o.now()),
    );
  }
}
