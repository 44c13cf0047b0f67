/** PBFT consensus (DESIGN.md §5): a pure replica state machine and its message formats. */
export { Replica, validateConfig } from './replica.js';
export type { ReplicaStart, ReplicaStatus } from './replica.js';
export * from './types.js';
export { ConsensusError, ConsensusErrorCode } from './errors.js';
export { maxFaulty, quorumSize, primaryOf } from './quorum.js';
export {
  commitVoteBytes,
  prePrepareVoteBytes,
  prepareVoteBytes,
  checkpointVoteBytes,
  viewChangeVoteBytes,
  newViewVoteBytes,
  syncRequestVoteBytes,
} from './votes.js';
export {
  encodeMessage,
  decodeMessage,
  messageToCodec,
  messageFromCodec,
  walRecordToCodec,
  encodeWalRecord,
  walRecordFromCodec,
  walRecordHeight,
  walRecordSurvives,
  encodeCompactPrePrepare,
  decodeWireMessage,
  expandCompactPrePrepare,
  DEFAULT_WIRE_LIMITS,
} from './wire.js';
export type { CompactPrePrepare, WireLimits, WireMessage } from './wire.js';
export { suiteConsensusCrypto, insecureFakeConsensusCrypto, VerifyMemo } from './crypto.js';
