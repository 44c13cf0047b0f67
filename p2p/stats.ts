/**
 * Counters of the p2p layer. The host mutates one `P2pStats` object in place;
 * callers read it (e.g. for `/metrics`) and must not write it.
 */
/** Messages and their payload bytes (framing and envelopes not counted). */
export interface TrafficCounters {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface ConsensusCounters extends TrafficCounters {
  /** `stream.send` calls: with batching, far fewer than `messagesOut`. */
  streamWrites: number;
  /** Messages dropped from a full outbox (oldest first) while a peer was unreachable. */
  queueDrops: number;
  /** Messages addressed to self or to a peer that is not a member. */
  unroutableDrops: number;
  /** Messages the node's handler threw on (logged, stream kept). */
  handlerErrors: number;
}

export interface GossipCounters extends TrafficCounters {
  accepted: number;
  rejected: number;
  ignored: number;
  /** Publishes refused locally (over the size limit). */
  publishRefused: number;
}

export interface RequestCounters extends TrafficCounters {
  /** Requests we sent / answered. */
  requestsOut: number;
  requestsIn: number;
  /** Error frames we received / sent. */
  errorResponsesIn: number;
  errorResponsesOut: number;
  timeouts: number;
}

export interface DropCounters {
  /** Inbound frames or gossip messages over their limit (any protocol). */
  oversize: number;
  /** Inbound frames with malformed framing (any protocol). */
  garbage: number;
  /** Connections refused by the gater because the peer is not a member. */
  refusedStrangers: number;
  /** Connections refused because the member is banned for misbehaviour. */
  refusedBanned: number;
  /** Direct transaction bundles the node judged invalid (malformed or badly signed content). */
  invalidBundles: number;
}

export interface P2pStats {
  readonly consensus: ConsensusCounters;
  /** Transaction bundles on direct streams (one copy to each validator). */
  readonly txBundles: ConsensusCounters;
  readonly txs: GossipCounters;
  readonly blocks: GossipCounters;
  readonly sync: RequestCounters;
  readonly vault: RequestCounters;
  readonly drops: DropCounters;
  /** Dial attempts made by the redial loop (after the first dial of a member). */
  redials: number;
  /** Streams that ended with an error (reset by either side). */
  streamResets: number;
  /** Connections we closed because their peer left the membership. */
  membershipDisconnects: number;
  /** Members banned for repeated malformed or oversize frames. */
  peerBans: number;
}

function traffic(): TrafficCounters {
  return { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
}

function gossip(): GossipCounters {
  return { ...traffic(), accepted: 0, rejected: 0, ignored: 0, publishRefused: 0 };
}

function requests(): RequestCounters {
  return {
    ...traffic(),
    requestsOut: 0,
    requestsIn: 0,
    errorResponsesIn: 0,
    errorResponsesOut: 0,
    timeouts: 0,
  };
}

function direct(): ConsensusCounters {
  return { ...traffic(), streamWrites: 0, queueDrops: 0, unroutableDrops: 0, handlerErrors: 0 };
}

export function createP2pStats(): P2pStats {
  return {
    consensus: direct(),
    txBundles: direct(),
    txs: gossip(),
    blocks: gossip(),
    sync: requests(),
    vault: requests(),
    drops: { oversize: 0, garbage: 0, refusedStrangers: 0, refusedBanned: 0, invalidBundles: 0 },
    redials: 0,
    streamResets: 0,
    membershipDisconnects: 0,
    peerBans: 0,
  };
}

/** Deep readonly view handed to callers. */
export type ReadonlyP2pStats = {
  readonly [K in keyof P2pStats]: P2pStats[K] extends object ? Readonly<P2pStats[K]> : P2pStats[K];
};
