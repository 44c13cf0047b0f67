/**
 * Gossipsub configuration for medchain's two topics (transaction bundles, and
 * committed blocks with their certificates).
 *
 * - `StrictNoSign` with a content-hash message id: messages carry no libp2p
 *   signature, sequence number or author (the payloads are signed by chain
 *   keys and validated by the node; FACTS.md measured ~3× the delivery rate of
 *   default signing). Identical bytes on a topic are one message.
 * - Topic score parameters are set on both topics (scoring does nothing
 *   without them): a 'reject' verdict counts as an invalid delivery for the
 *   peer that forwarded it (P4, weight −10, squared), which quickly takes it
 *   below the gossip, publish and graylist thresholds. Mesh-delivery deficit
 *   penalties (P3, P3b) are off: an alliance chain is quiet for long periods
 *   and must not punish quiet peers. IP colocation (P6) is off: the peers are
 *   known institutions, and a devnet runs every node on 127.0.0.1.
 * - `maxInboundDataLength` is the gossip limit plus the RPC envelope, so every
 *   message a peer may legitimately send fits (a larger one would cut the peer
 *   off from the mesh silently — FACTS.md); publishes are size-checked first.
 *   Lazy gossip is off so that an RPC never carries more than one message.
 */
import { createHash } from 'node:crypto';
import type { GossipsubOpts } from '@libp2p/gossipsub';
import { GOSSIP_RPC_OVERHEAD_BYTES } from './config.js';
import type { ProtocolIds } from './config.js';

type TopicScoreParams = NonNullable<GossipsubOpts['scoreParams']['topics']>[string];

/** The score parameters of one medchain topic (same for both). */
export function medchainTopicScoreParams(): TopicScoreParams {
  return {
    topicWeight: 1,
    // P1: a little credit for time in the mesh, capped (≈ +1 after an hour).
    timeInMeshWeight: 1 / 3600,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 3600,
    // P2: credit for first deliveries, decaying.
    firstMessageDeliveriesWeight: 0.1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 50,
    // P3/P3b: off (see the module comment).
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 100,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    // P4: every rejected message costs the forwarder; the counter decays by 10 % a second.
    invalidMessageDeliveriesWeight: -10,
    invalidMessageDeliveriesDecay: 0.9,
  };
}

export const GOSSIP_SCORE_THRESHOLDS = {
  /** Below this we stop gossiping (IHAVE/IWANT) with the peer. */
  gossipThreshold: -10,
  /** Below this we do not publish to the peer. */
  publishThreshold: -50,
  /** Below this we ignore everything the peer sends. */
  graylistThreshold: -80,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 1,
} as const;

export function contentMessageId(topic: string, data: Uint8Array): Uint8Array {
  return createHash('sha256')
    .update(topic)
    .update(new Uint8Array([0]))
    .update(data)
    .digest();
}

export function gossipsubOptions(
  protocols: ProtocolIds,
  maxGossipMessageBytes: number,
): Partial<GossipsubOpts> {
  const topics = [protocols.txsTopic, protocols.blocksTopic];
  return {
    globalSignaturePolicy: 'StrictNoSign',
    msgIdFn: (msg) => contentMessageId(msg.topic, msg.data),
    fallbackToFloodsub: false,
    floodPublish: true,
    doPX: false,
    emitSelf: false,
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    allowedTopics: topics,
    // No lazy gossip (IHAVE/IWANT): an IWANT answer packs several messages into
    // one RPC, which could exceed the receiver's maxInboundDataLength and cut
    // the link silently. Flood publishing plus the mesh deliver every message.
    Dlazy: 0,
    gossipFactor: 0,
    maxInboundDataLength: maxGossipMessageBytes + GOSSIP_RPC_OVERHEAD_BYTES,
    scoreParams: {
      topics: Object.fromEntries(topics.map((topic) => [topic, medchainTopicScoreParams()])),
      topicScoreCap: 10,
      IPColocationFactorWeight: 0,
      behaviourPenaltyWeight: -10,
      behaviourPenaltyDecay: 0.9,
      decayInterval: 1000,
      decayToZero: 0.01,
      retainScore: 3_600_000,
    },
    scoreThresholds: { ...GOSSIP_SCORE_THRESHOLDS },
  };
}
