/**
 * The p2p host: libp2p (TCP + Noise + Yamux) restricted to the alliance's
 * members, carrying medchain's wire protocols. It moves bytes between known
 * peers, enforces sizes and reports to the node; it never interprets a
 * message (the node decodes and validates).
 *
 * - Connection gater: only member peer ids, checked right after the Noise
 *   handshake (gater.ts).
 * - Consensus: long-lived one-way streams with batched writes (consensus-channel.ts).
 * - Gossip: gossipsub topics for transaction bundles and blocks (gossip.ts).
 * - Sync and vault: request/response on fresh streams (request-response.ts).
 * - Redial: every `redialIntervalMs` each member that is not connected is
 *   dialled again (and once right away when it drops); gossipsub resubscribes
 *   on the new connection by itself; consensus outboxes reopen their stream.
 *
 * No mDNS, DHT, relays or bootstrap: the host listens on `listen` and dials
 * only the members' configured addresses.
 */
import '../src/polyfill.js';
import { setMaxListeners } from 'node:events';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub';
import type { GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Identify } from '@libp2p/identify';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import { InvalidInputError } from '../src/errors.js';
import {
  CONSENSUS_QUEUE_MAX_BYTES,
  MAX_INBOUND_CONSENSUS_STREAMS,
  MAX_INBOUND_REQUEST_STREAMS,
  MISBEHAVIOUR_LIMIT,
  MISBEHAVIOUR_WINDOW_MS,
  REQUEST_READ_TIMEOUT_MS,
  resolveMembers,
  resolveP2pOptions,
} from './config.js';
import type {
  MemberPeer,
  P2pLimits,
  P2pOptions,
  ProtocolIds,
  ResolvedMember,
  ResolvedP2pOptions,
} from './config.js';
import { ConsensusOutbox, acceptConsensusStream } from './consensus-channel.js';
import { P2pError, P2pErrorCode, P2pRemoteError } from './errors.js';
import { P2pEmitter } from './events.js';
import type { P2pEventName, P2pListener, P2pMisbehaviour } from './events.js';
import { FrameError } from './framing.js';
import { createMembershipGater } from './gater.js';
import type { GaterCallbacks } from './gater.js';
import { gossipsubOptions } from './gossip.js';
import { exchange, serveRequest } from './request-response.js';
import type { RequestHandler } from './request-response.js';
import { createP2pStats } from './stats.js';
import type { PeerKey } from './peer-key.js';
import type { GossipCounters, P2pStats, ReadonlyP2pStats, RequestCounters } from './stats.js';

export type GossipVerdict = 'accept' | 'reject' | 'ignore';

export interface P2pHandlers {
  onConsensusMessage(fromPeerId: string, bytes: Uint8Array): void;
  /** Validate a gossip message; 'accept' forwards it, 'reject' penalises the sender, 'ignore' drops quietly. */
  onTxBundle(fromPeerId: string, bytes: Uint8Array): Promise<GossipVerdict> | GossipVerdict;
  onBlock(fromPeerId: string, bytes: Uint8Array): Promise<GossipVerdict> | GossipVerdict;
  /** Request/response protocols; return the response bytes; throw a MedchainError to send an error response. */
  onSyncRequest(fromPeerId: string, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
  onVaultRequest(fromPeerId: string, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
}

export type RequestProtocol = 'sync' | 'vault';

export interface PeerConnectionInfo {
  readonly peerId: string;
  /** Remote multiaddrs of the open connections. */
  readonly addresses: readonly string[];
  readonly direction: 'inbound' | 'outbound';
}

export interface P2pRequestOptions {
  readonly signal?: AbortSignal;
  /** Default: the host's `requestTimeoutMs`. */
  readonly timeoutMs?: number;
}

type Services = { identify: Identify; pubsub: GossipSub };
type HostState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

const HANDLER_NAMES = [
  'onConsensusMessage',
  'onTxBundle',
  'onBlock',
  'onSyncRequest',
  'onVaultRequest',
] as const satisfies readonly (keyof P2pHandlers)[];

/** Inbound connections per second per remote IP before libp2p refuses (a devnet shares 127.0.0.1). */
const INBOUND_CONNECTIONS_PER_HOST_PER_SECOND = 64;
const DIAL_TIMEOUT_MS = 10_000;
const PING_INTERVAL_MS = 10_000;
const PING_MIN_TIMEOUT_MS = 10_000;

export class P2pHost {
  readonly peerId: string;
  readonly limits: Readonly<P2pLimits>;
  readonly protocols: ProtocolIds;
  private readonly config: ResolvedP2pOptions;
  private readonly handlers: P2pHandlers;
  private readonly logger: Logger;
  private readonly emitter: P2pEmitter;
  private readonly counters: P2pStats;
  private readonly node: Libp2p<Services>;
  private readonly lifetime = new AbortController();
  private members: Map<string, ResolvedMember>;
  /** Direct-stream outboxes per channel and peer. */
  private readonly outboxes = {
    consensus: new Map<string, ConsensusOutbox>(),
    txBundles: new Map<string, ConsensusOutbox>(),
  };
  private readonly connected = new Set<string>();
  private readonly dialing = new Set<string>();
  private readonly offences = new Map<string, number[]>();
  private readonly bannedUntil = new Map<string, number>();
  private redialTimer: NodeJS.Timeout | null = null;
  private state: HostState = 'created';
  private stopPromise: Promise<void> | null = null;

  static async create(options: P2pOptions, handlers: P2pHandlers): Promise<P2pHost> {
    const config = resolveP2pOptions(options);
    const peerKey = options.peerKey as Partial<PeerKey> | undefined;
    const privateKey = peerKey?.privateKey;
    if (privateKey?.type !== 'Ed25519') {
      throw new P2pError(P2pErrorCode.invalidOptions, 'peerKey: expected an Ed25519 libp2p key', {
        field: 'peerKey',
      });
    }
    const peerId = peerIdFromPrivateKey(privateKey).toString();
    if (peerKey?.peerId !== peerId) {
      throw new P2pError(
        P2pErrorCode.invalidOptions,
        'peerKey: peerId does not match the private key',
        {
          field: 'peerKey.peerId',
        },
      );
    }
    for (const name of HANDLER_NAMES) {
      if (typeof handlers[name] !== 'function') {
        throw new P2pError(P2pErrorCode.invalidOptions, `handlers.${name}: expected a function`, {
          field: `handlers.${name}`,
        });
      }
    }
    const logger = options.logger as Partial<Logger> | undefined;
    if (typeof logger?.child !== 'function') {
      throw new P2pError(P2pErrorCode.invalidOptions, 'logger: expected a pino logger', {
        field: 'logger',
      });
    }
    const members = resolveMembers(options.members, peerId);
    const moduleLogger = options.logger.child({ module: 'p2p' });
    const counters = createP2pStats();
    // The gater exists before the host: it asks the host through this holder.
    const gate: GaterCallbacks = {
      admits: (id) => members.has(id),
      onRefused: () => undefined,
    };
    const node = await createLibp2p<Services>({
      start: false,
      privateKey,
      addresses: { listen: config.listen.map((addr) => addr.toString()) },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: createMembershipGater({
        admits: (id) => gate.admits(id),
        onRefused: (id, direction) => {
          gate.onRefused(id, direction);
        },
      }),
      connectionManager: {
        dialTimeout: DIAL_TIMEOUT_MS,
        inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_HOST_PER_SECOND,
        // We redial members ourselves.
        reconnectRetries: 0,
      },
      connectionMonitor: {
        enabled: true,
        pingInterval: PING_INTERVAL_MS,
        pingTimeout: { minTimeout: PING_MIN_TIMEOUT_MS },
      },
      peerDiscovery: [],
      services: {
        identify: identify(),
        pubsub: gossipsub(gossipsubOptions(config.protocols, config.limits.maxGossipMessageBytes)),
      },
    });
    const host = new P2pHost(peerId, config, handlers, moduleLogger, counters, node, members);
    gate.admits = (id) => host.admits(id);
    gate.onRefused = (id, direction) => {
      host.onRefused(id, direction);
    };
    return host;
  }

  private constructor(
    peerId: string,
    config: ResolvedP2pOptions,
    handlers: P2pHandlers,
    logger: Logger,
    counters: P2pStats,
    node: Libp2p<Services>,
    members: Map<string, ResolvedMember>,
  ) {
    this.peerId = peerId;
    this.config = config;
    this.limits = config.limits;
    this.protocols = config.protocols;
    this.handlers = handlers;
    this.logger = logger;
    this.emitter = new P2pEmitter(logger);
    this.counters = counters;
    this.node = node;
    this.members = members;
    // Every in-flight request, served request and stream open listens to it.
    setMaxListeners(Infinity, this.lifetime.signal);
  }

  /** Live counters (mutated in place by the host; read only). */
  get stats(): ReadonlyP2pStats {
    return this.counters;
  }

  on<K extends P2pEventName>(name: K, listener: P2pListener<K>): void {
    this.emitter.on(name, listener);
  }

  off<K extends P2pEventName>(name: K, listener: P2pListener<K>): void {
    this.emitter.off(name, listener);
  }

  /**
   * Listens, dials every member, and keeps redialling those not connected.
   * Fails with `P2P_LISTEN_FAILED` (naming the address and the reason) when
   * a listen address cannot be bound; the host is then stopped.
   */
  async start(): Promise<void> {
    if (this.state !== 'created') {
      throw new P2pError(P2pErrorCode.notStarted, `cannot start a host that is ${this.state}`);
    }
    this.state = 'starting';
    try {
      await this.startNode();
    } catch (err) {
      await this.stop();
      if (err instanceof P2pError) throw err;
      throw listenError(err, this.config.listen.map(String));
    }
    if (this.currentState() !== 'starting') {
      throw new P2pError(P2pErrorCode.notStarted, 'p2p host was stopped while starting');
    }
    this.state = 'running';
    this.logger.info(
      {
        peerId: this.peerId,
        listen: this.listenAddresses(),
        members: this.members.size,
        limits: this.config.limits,
      },
      'p2p host started',
    );
    for (const peerId of this.members.keys()) this.dial(peerId, false);
    this.redialTimer = setInterval(() => {
      this.redialAll();
    }, this.config.redialIntervalMs);
  }

  private currentState(): HostState {
    return this.state;
  }

  private async startNode(): Promise<void> {
    const node = this.node;
    node.addEventListener('peer:connect', (evt) => {
      this.onPeerConnect(evt.detail);
    });
    node.addEventListener('peer:disconnect', (evt) => {
      this.onPeerDisconnect(evt.detail);
    });
    const { protocols } = this.config;
    await node.handle(
      protocols.consensus,
      (stream, connection) => {
        this.onConsensusStream(stream, connection);
      },
      { maxInboundStreams: MAX_INBOUND_CONSENSUS_STREAMS },
    );
    await node.handle(
      protocols.txBundles,
      (stream, connection) => {
        this.onTxBundleStream(stream, connection);
      },
      { maxInboundStreams: MAX_INBOUND_CONSENSUS_STREAMS },
    );
    await node.handle(
      protocols.sync,
      (stream, connection) => this.onRequestStream('sync', stream, connection),
      { maxInboundStreams: MAX_INBOUND_REQUEST_STREAMS },
    );
    await node.handle(
      protocols.vault,
      (stream, connection) => this.onRequestStream('vault', stream, connection),
      { maxInboundStreams: MAX_INBOUND_REQUEST_STREAMS },
    );
    if (this.currentState() !== 'starting') return;
    await node.start();
    if (this.currentState() !== 'starting') return;
    const pubsub = node.services.pubsub;
    pubsub.topicValidators.set(protocols.txsTopic, (peer, message) =>
      this.validateGossip('txs', peer, message.data),
    );
    pubsub.topicValidators.set(protocols.blocksTopic, (peer, message) =>
      this.validateGossip('blocks', peer, message.data),
    );
    if (this.config.subscribe.txs) pubsub.subscribe(protocols.txsTopic);
    if (this.config.subscribe.blocks) pubsub.subscribe(protocols.blocksTopic);
  }

  /** Idempotent: stops dialling, closes every stream and connection, leaves no timers. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.state !== 'created';
    this.state = 'stopping';
    if (this.redialTimer !== null) clearInterval(this.redialTimer);
    this.redialTimer = null;
    this.lifetime.abort(new P2pError(P2pErrorCode.notStarted, 'p2p host stopped'));
    for (const channel of Object.values(this.outboxes)) {
      for (const outbox of channel.values()) outbox.close();
      channel.clear();
    }
    try {
      await this.node.stop();
    } finally {
      this.connected.clear();
      this.state = 'stopped';
      if (wasRunning) this.logger.info({ peerId: this.peerId }, 'p2p host stopped');
    }
  }

  /** The addresses we listen on, each ending in `/p2p/<our peer id>`. */
  listenAddresses(): string[] {
    return this.node.getMultiaddrs().map((addr) => addr.toString());
  }

  /** Members with at least one open connection. */
  connectedPeers(): string[] {
    return [...this.connected].filter((peerId) => this.admits(peerId)).sort();
  }

  /**
   * One entry per connected member: the remote multiaddrs of its open
   * connections and the direction of the oldest one.
   */
  peerConnections(): PeerConnectionInfo[] {
    return this.connectedPeers().map((peerId) => {
      const connections = this.node
        .getConnections(peerIdFromString(peerId))
        .filter((conn) => conn.status === 'open')
        .sort((x, y) => x.timeline.open - y.timeline.open);
      return {
        peerId,
        addresses: connections.map((conn) => conn.remoteAddr.toString()),
        direction: connections[0]?.direction ?? 'outbound',
      };
    });
  }

  /** Members we currently know to be subscribed to a gossip topic. */
  gossipSubscribers(topic: 'txs' | 'blocks'): string[] {
    if (this.state !== 'running') return [];
    const topicId =
      topic === 'txs' ? this.config.protocols.txsTopic : this.config.protocols.blocksTopic;
    return this.node.services.pubsub
      .getSubscribers(topicId)
      .map((peer) => peer.toString())
      .filter((peerId) => this.members.has(peerId))
      .sort();
  }

  /** The gossipsub score we give a peer (negative after rejected messages). */
  peerScore(peerId: string): number {
    const scorer = this.node.services.pubsub as unknown as { getScore?: (id: string) => number };
    return typeof scorer.getScore === 'function' ? scorer.getScore(peerId) : 0;
  }

  /**
   * Replaces the allowlist. Removed peers are disconnected at once (the gater
   * keeps them out from now on); new members are dialled.
   */
  setMembers(members: readonly MemberPeer[]): void {
    const next = resolveMembers(members, this.peerId);
    const previous = this.members;
    this.members = next;
    for (const peerId of previous.keys()) {
      if (next.has(peerId)) continue;
      for (const channel of Object.values(this.outboxes)) {
        channel.get(peerId)?.close();
        channel.delete(peerId);
      }
      this.offences.delete(peerId);
      this.bannedUntil.delete(peerId);
      this.disconnectRemoved(peerId);
    }
    if (this.state !== 'running') return;
    for (const [peerId, member] of next) {
      const before = previous.get(peerId);
      const addrsChanged =
        before === undefined ||
        before.addrs.length !== member.addrs.length ||
        before.addrs.some((addr, i) => !addr.equals(member.addrs[i]));
      if (addrsChanged && !this.connected.has(peerId)) this.dial(peerId, false);
    }
  }

  /** Queues a consensus message; never blocks. Throws only for a message over the limit. */
  sendConsensus(toPeerId: string, bytes: Uint8Array): void {
    this.sendDirect('consensus', toPeerId, bytes, this.config.limits.maxConsensusMessageBytes);
  }

  /**
   * Queues a transaction bundle on the direct stream to one peer; never blocks.
   * Throws only for a bundle over the gossip limit. Bundles go to each validator
   * once this way, instead of through gossipsub's mesh forwarding.
   */
  sendTxBundle(toPeerId: string, bytes: Uint8Array): void {
    this.sendDirect('txBundles', toPeerId, bytes, this.config.limits.maxGossipMessageBytes);
  }

  private sendDirect(
    channel: 'consensus' | 'txBundles',
    toPeerId: string,
    bytes: Uint8Array,
    limit: number,
  ): void {
    checkBytes('bytes', bytes);
    if (bytes.length > limit) {
      throw new P2pError(
        P2pErrorCode.messageTooLarge,
        `${channel === 'consensus' ? 'consensus message' : 'transaction bundle'} of ${bytes.length} bytes exceeds the limit of ${limit}`,
        { size: bytes.length, limit },
      );
    }
    const counters = this.counters[channel];
    if (this.state === 'stopping' || this.state === 'stopped' || !this.members.has(toPeerId)) {
      counters.unroutableDrops++;
      return;
    }
    const outboxes = this.outboxes[channel];
    let outbox = outboxes.get(toPeerId);
    if (outbox === undefined) {
      outbox = new ConsensusOutbox(toPeerId, {
        // Room for at least two messages of the largest size the limits allow.
        maxQueuedBytes: Math.max(CONSENSUS_QUEUE_MAX_BYTES, 2 * limit),
        openStream: (peerId) => this.openDirectStream(channel, peerId),
        counters,
        onStreamReset: () => {
          this.counters.streamResets++;
        },
        logger: this.logger,
      });
      outboxes.set(toPeerId, outbox);
    }
    outbox.enqueue(bytes);
  }

  publishTxBundle(bytes: Uint8Array): Promise<void> {
    return this.publish('txs', bytes);
  }

  publishBlock(bytes: Uint8Array): Promise<void> {
    return this.publish('blocks', bytes);
  }

  async request(
    protocol: RequestProtocol,
    toPeerId: string,
    bytes: Uint8Array,
    options: P2pRequestOptions = {},
  ): Promise<Uint8Array> {
    const name: string = protocol;
    if (name !== 'sync' && name !== 'vault') {
      throw new InvalidInputError('protocol', "expected 'sync' or 'vault'");
    }
    checkBytes('bytes', bytes);
    const timeoutMs = options.timeoutMs ?? this.config.requestTimeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
      throw new InvalidInputError('timeoutMs', 'expected a positive integer');
    }
    this.requireRunning();
    const limits = this.config.limits;
    const counters = this.requestCounters(protocol);
    if (bytes.length > limits.maxRequestBytes) {
      throw new P2pError(
        P2pErrorCode.messageTooLarge,
        `${protocol} request of ${bytes.length} bytes exceeds the limit of ${limits.maxRequestBytes}`,
        { size: bytes.length, limit: limits.maxRequestBytes },
      );
    }
    if (!this.members.has(toPeerId)) {
      throw new P2pError(P2pErrorCode.notMember, `${toPeerId} is not a member`, {
        peerId: toPeerId,
      });
    }
    const connection = this.openConnection(toPeerId);
    if (connection === undefined) {
      throw new P2pError(P2pErrorCode.peerNotConnected, `not connected to ${toPeerId}`, {
        peerId: toPeerId,
      });
    }
    const controller = new AbortController();
    const timeoutReason = new P2pError(
      P2pErrorCode.requestTimeout,
      `${protocol} request to ${toPeerId} timed out after ${timeoutMs} ms`,
      { peerId: toPeerId, timeoutMs },
    );
    const timer = setTimeout(() => {
      controller.abort(timeoutReason);
    }, timeoutMs);
    const abortReasons: { signal: AbortSignal; reason: () => unknown }[] = [
      {
        signal: this.lifetime.signal,
        reason: (): unknown => this.lifetime.signal.reason as unknown,
      },
    ];
    if (options.signal !== undefined) {
      const callerSignal = options.signal;
      abortReasons.push({
        signal: callerSignal,
        reason: () =>
          new P2pError(P2pErrorCode.requestAborted, `${protocol} request to ${toPeerId} aborted`, {
            peerId: toPeerId,
          }),
      });
    }
    const unlink = abortReasons.map(({ signal, reason }) => {
      const onAbort = (): void => {
        controller.abort(reason());
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort);
      return () => {
        signal.removeEventListener('abort', onAbort);
      };
    });
    counters.requestsOut++;
    counters.messagesOut++;
    counters.bytesOut += bytes.length;
    try {
      const stream = await connection.newStream(this.protocolId(protocol), {
        signal: controller.signal,
      });
      const response = await exchange(stream, bytes, {
        maxResponseBytes: limits.maxResponseBytes,
        signal: controller.signal,
      });
      if (!response.ok) {
        counters.errorResponsesIn++;
        throw new P2pRemoteError(response.code, response.message, { peerId: toPeerId, protocol });
      }
      counters.messagesIn++;
      counters.bytesIn += response.body.length;
      return response.body;
    } catch (err) {
      throw this.requestError(err, protocol, toPeerId, controller.signal, counters);
    } finally {
      clearTimeout(timer);
      for (const remove of unlink) remove();
    }
  }

  // ── internals ────────────────────────────────────────────────────────────

  private requestError(
    err: unknown,
    protocol: RequestProtocol,
    peerId: string,
    signal: AbortSignal,
    counters: RequestCounters,
  ): unknown {
    if (err instanceof P2pRemoteError) return err;
    if (signal.aborted) {
      const reason = signal.reason as unknown;
      if (reason instanceof P2pError && reason.code === P2pErrorCode.requestTimeout)
        counters.timeouts++;
      return reason;
    }
    if (err instanceof FrameError) {
      if (err.kind === 'oversize') {
        this.counters.drops.oversize++;
        return new P2pError(
          P2pErrorCode.responseTooLarge,
          `${protocol} response from ${peerId} exceeds the limit of ${this.config.limits.maxResponseBytes} bytes`,
          { peerId, limit: this.config.limits.maxResponseBytes },
        );
      }
      this.counters.drops.garbage++;
    }
    if (err instanceof P2pError) return err;
    return new P2pError(
      P2pErrorCode.requestFailed,
      `${protocol} request to ${peerId} failed`,
      { peerId },
      {
        cause: err,
      },
    );
  }

  private requireRunning(): void {
    if (this.state !== 'running') {
      throw new P2pError(P2pErrorCode.notStarted, `p2p host is ${this.state}`);
    }
  }

  private protocolId(protocol: RequestProtocol): string {
    return protocol === 'sync' ? this.config.protocols.sync : this.config.protocols.vault;
  }

  private requestCounters(protocol: RequestProtocol): RequestCounters {
    return protocol === 'sync' ? this.counters.sync : this.counters.vault;
  }

  private gossipCounters(topic: 'txs' | 'blocks'): GossipCounters {
    return topic === 'txs' ? this.counters.txs : this.counters.blocks;
  }

  private async publish(topic: 'txs' | 'blocks', bytes: Uint8Array): Promise<void> {
    checkBytes('bytes', bytes);
    const counters = this.gossipCounters(topic);
    const limit = this.config.limits.maxGossipMessageBytes;
    if (bytes.length > limit) {
      counters.publishRefused++;
      throw new P2pError(
        P2pErrorCode.messageTooLarge,
        `${topic === 'txs' ? 'transaction bundle' : 'block'} of ${bytes.length} bytes exceeds the gossip limit of ${limit}`,
        { size: bytes.length, limit },
      );
    }
    this.requireRunning();
    const topicId =
      topic === 'txs' ? this.config.protocols.txsTopic : this.config.protocols.blocksTopic;
    try {
      await this.node.services.pubsub.publish(topicId, bytes);
    } catch (err) {
      throw new P2pError(
        P2pErrorCode.publishFailed,
        `publish to ${topic} failed`,
        {},
        { cause: err },
      );
    }
    counters.messagesOut++;
    counters.bytesOut += bytes.length;
  }

  private async validateGossip(
    topic: 'txs' | 'blocks',
    peer: PeerId,
    data: Uint8Array,
  ): Promise<TopicValidatorResult> {
    const fromPeerId = peer.toString();
    const counters = this.gossipCounters(topic);
    counters.messagesIn++;
    counters.bytesIn += data.length;
    const protocol =
      topic === 'txs' ? this.config.protocols.txsTopic : this.config.protocols.blocksTopic;
    if (!this.members.has(fromPeerId)) {
      counters.ignored++;
      return TopicValidatorResult.Ignore;
    }
    if (data.length > this.config.limits.maxGossipMessageBytes) {
      this.counters.drops.oversize++;
      counters.rejected++;
      this.misbehaved(fromPeerId, protocol, 'oversize');
      return TopicValidatorResult.Reject;
    }
    let verdict: unknown;
    try {
      const copy = new Uint8Array(data);
      verdict = await (topic === 'txs'
        ? this.handlers.onTxBundle(fromPeerId, copy)
        : this.handlers.onBlock(fromPeerId, copy));
    } catch (err) {
      this.logger.error(
        { peerId: fromPeerId, topic, err },
        'gossip handler threw; message ignored',
      );
      verdict = 'ignore';
    }
    switch (verdict) {
      case 'accept':
        counters.accepted++;
        return TopicValidatorResult.Accept;
      case 'reject':
        counters.rejected++;
        this.misbehaved(fromPeerId, protocol, 'gossip-reject');
        return TopicValidatorResult.Reject;
      case 'ignore':
        counters.ignored++;
        return TopicValidatorResult.Ignore;
      default:
        this.logger.error(
          { topic },
          "gossip handler returned neither 'accept', 'reject' nor 'ignore'",
        );
        counters.ignored++;
        return TopicValidatorResult.Ignore;
    }
  }

  private misbehaved(peerId: string, protocol: string, reason: P2pMisbehaviour): void {
    this.logger.warn({ peerId, protocol, reason }, 'peer misbehaved');
    this.emitter.emit('p2p.peer-misbehaved', { peerId, protocol, reason });
    // Content verdicts (a node's view of validity) score and count; only framing abuse bans.
    if (reason !== 'gossip-reject' && reason !== 'invalid-bundle') this.recordOffence(peerId);
  }

  /** Whether the gater lets `peerId` connect: a member that is not banned. */
  private admits(peerId: string): boolean {
    return this.members.has(peerId) && !this.isBanned(peerId);
  }

  private isBanned(peerId: string): boolean {
    const until = this.bannedUntil.get(peerId);
    if (until === undefined) return false;
    if (Date.now() < until) return true;
    this.bannedUntil.delete(peerId);
    this.logger.info({ peerId }, 'ban ended');
    return false;
  }

  private onRefused(peerId: string, direction: 'inbound' | 'outbound'): void {
    if (this.members.has(peerId)) {
      this.counters.drops.refusedBanned++;
      this.logger.debug({ peerId, direction }, 'refused a banned member');
      return;
    }
    this.counters.drops.refusedStrangers++;
    this.logger.warn(
      { peerId, direction },
      'refused a connection from a peer that is not a member',
    );
    this.emitter.emit('p2p.stranger-refused', { peerId, direction });
  }

  /**
   * Frame violations on direct streams count against the peer:
   * `MISBEHAVIOUR_LIMIT` of them within `MISBEHAVIOUR_WINDOW_MS` ban it for
   * `peerBanMs` (disconnected, refused by the gater, not redialled). Gossip
   * rejections are scored by gossipsub instead.
   */
  private recordOffence(peerId: string): void {
    if (!this.members.has(peerId) || this.isBanned(peerId)) return;
    const now = Date.now();
    const recent = (this.offences.get(peerId) ?? []).filter(
      (at) => now - at < MISBEHAVIOUR_WINDOW_MS,
    );
    recent.push(now);
    if (recent.length < MISBEHAVIOUR_LIMIT) {
      this.offences.set(peerId, recent);
      return;
    }
    this.offences.delete(peerId);
    const untilMs = now + this.config.peerBanMs;
    this.bannedUntil.set(peerId, untilMs);
    this.counters.peerBans++;
    this.logger.warn(
      { peerId, banMs: this.config.peerBanMs },
      'peer banned for repeated misbehaviour',
    );
    this.emitter.emit('p2p.peer-banned', { peerId, untilMs });
    this.hangUp(peerId);
  }

  private onPeerConnect(peer: PeerId): void {
    const peerId = peer.toString();
    if (!this.admits(peerId)) {
      // Only reachable if membership or a ban changed mid-handshake.
      this.hangUp(peerId);
      return;
    }
    if (this.connected.has(peerId)) return;
    this.connected.add(peerId);
    this.logger.debug({ peerId }, 'peer connected');
    this.emitter.emit('p2p.peer-connected', { peerId });
    for (const channel of Object.values(this.outboxes)) channel.get(peerId)?.onConnected();
  }

  private onPeerDisconnect(peer: PeerId): void {
    const peerId = peer.toString();
    if (!this.connected.delete(peerId)) return;
    this.logger.debug({ peerId }, 'peer disconnected');
    this.emitter.emit('p2p.peer-disconnected', { peerId });
    if (this.state === 'running' && this.members.has(peerId)) this.dial(peerId, true);
  }

  private disconnectRemoved(peerId: string): void {
    let id: PeerId;
    try {
      id = peerIdFromString(peerId);
    } catch {
      return;
    }
    if (this.node.getConnections(id).length === 0) return;
    this.counters.membershipDisconnects++;
    this.logger.info({ peerId }, 'closing connections of a peer that left the membership');
    this.hangUp(peerId);
  }

  private hangUp(peerId: string): void {
    this.node.hangUp(peerIdFromString(peerId)).catch((err: unknown) => {
      this.logger.debug({ peerId, err }, 'hang up failed');
    });
  }

  private openConnection(peerId: string): Connection | undefined {
    return this.node
      .getConnections(peerIdFromString(peerId))
      .find((conn) => conn.status === 'open');
  }

  private async openDirectStream(
    channel: 'consensus' | 'txBundles',
    peerId: string,
  ): Promise<Stream | null> {
    if (this.state !== 'running' || !this.members.has(peerId)) return null;
    const connection = this.openConnection(peerId);
    if (connection === undefined) return null;
    return connection.newStream(this.config.protocols[channel], { signal: this.lifetime.signal });
  }

  private redialAll(): void {
    if (this.state !== 'running') return;
    for (const peerId of this.members.keys()) {
      if (!this.connected.has(peerId)) this.dial(peerId, true);
    }
  }

  private dial(peerId: string, isRedial: boolean): void {
    const member = this.members.get(peerId);
    if (this.state !== 'running' || member === undefined || member.addrs.length === 0) return;
    if (this.dialing.has(peerId) || this.connected.has(peerId) || this.isBanned(peerId)) return;
    this.dialing.add(peerId);
    if (isRedial) this.counters.redials++;
    this.node
      .dial([...member.addrs], { signal: this.lifetime.signal })
      .catch((err: unknown) => {
        this.logger.debug(
          { peerId, err: err instanceof Error ? err.message : String(err) },
          'dial failed',
        );
      })
      .finally(() => {
        this.dialing.delete(peerId);
      });
  }

  private onConsensusStream(stream: Stream, connection: Connection): void {
    const fromPeerId = connection.remotePeer.toString();
    if (!this.members.has(fromPeerId)) {
      stream.abort(new P2pError(P2pErrorCode.notMember, 'not a member'));
      return;
    }
    acceptConsensusStream(stream, fromPeerId, {
      maxMessageBytes: this.config.limits.maxConsensusMessageBytes,
      counters: this.counters.consensus,
      deliver: (from, bytes) => {
        this.handlers.onConsensusMessage(from, bytes);
      },
      onFrameError: (from, error) => {
        this.countFrameError(error);
        this.misbehaved(from, this.config.protocols.consensus, error.kind);
      },
      onStreamReset: () => {
        this.counters.streamResets++;
      },
      logger: this.logger,
    });
  }

  private onTxBundleStream(stream: Stream, connection: Connection): void {
    const fromPeerId = connection.remotePeer.toString();
    if (!this.members.has(fromPeerId)) {
      stream.abort(new P2pError(P2pErrorCode.notMember, 'not a member'));
      return;
    }
    const protocol = this.config.protocols.txBundles;
    acceptConsensusStream(stream, fromPeerId, {
      maxMessageBytes: this.config.limits.maxGossipMessageBytes,
      counters: this.counters.txBundles,
      deliver: (from, bytes) => {
        void Promise.resolve(this.handlers.onTxBundle(from, bytes)).then(
          (verdict) => {
            if (verdict !== 'reject') return;
            this.counters.drops.invalidBundles++;
            this.misbehaved(from, protocol, 'invalid-bundle');
          },
          () => {
            this.counters.txBundles.handlerErrors++;
          },
        );
      },
      onFrameError: (from, error) => {
        this.countFrameError(error);
        this.misbehaved(from, protocol, error.kind);
      },
      onStreamReset: () => {
        this.counters.streamResets++;
      },
      logger: this.logger,
    });
  }

  private countFrameError(error: FrameError): void {
    if (error.kind === 'oversize') this.counters.drops.oversize++;
    else this.counters.drops.garbage++;
  }

  private async onRequestStream(
    protocol: RequestProtocol,
    stream: Stream,
    connection: Connection,
  ): Promise<void> {
    const fromPeerId = connection.remotePeer.toString();
    if (!this.members.has(fromPeerId) || this.state !== 'running') {
      stream.abort(new P2pError(P2pErrorCode.notMember, 'not a member'));
      return;
    }
    const counters = this.requestCounters(protocol);
    const handler: RequestHandler =
      protocol === 'sync'
        ? (from, bytes, signal) => this.handlers.onSyncRequest(from, bytes, signal)
        : (from, bytes, signal) => this.handlers.onVaultRequest(from, bytes, signal);
    await serveRequest(stream, fromPeerId, {
      maxRequestBytes: this.config.limits.maxRequestBytes,
      maxResponseBytes: this.config.limits.maxResponseBytes,
      readTimeoutMs: REQUEST_READ_TIMEOUT_MS,
      hostSignal: this.lifetime.signal,
      handler,
      logger: this.logger,
      onRequest: (bytes) => {
        counters.requestsIn++;
        counters.messagesIn++;
        counters.bytesIn += bytes;
      },
      onResponse: (bytes, isError) => {
        counters.messagesOut++;
        counters.bytesOut += bytes;
        if (isError) counters.errorResponsesOut++;
      },
      onFrameError: (error) => {
        this.countFrameError(error);
        this.misbehaved(fromPeerId, this.protocolId(protocol), error.kind);
      },
    });
  }
}

/** libp2p's listen failure, reworded: which address, and what the OS said. */
function listenError(err: unknown, listen: readonly string[]): P2pError {
  const message = err instanceof Error ? err.message : String(err);
  const reasons = message
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join('; ');
  return new P2pError(
    P2pErrorCode.listenFailed,
    `could not listen on ${listen.join(', ')}${reasons.length > 0 ? `: ${reasons}` : ''}`,
    { listen: listen.join(',') },
    { cause: err },
  );
}

function checkBytes(field: string, bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new InvalidInputError(field, 'expected a Uint8Array');
  if (bytes.length === 0) throw new InvalidInputError(field, 'must not be empty');
}
