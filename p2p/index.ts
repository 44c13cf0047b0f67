/** The p2p layer's public surface (the node imports from here). */
export { P2pHost } from './host.js';
export type {
  GossipVerdict,
  P2pHandlers,
  P2pRequestOptions,
  PeerConnectionInfo,
  RequestProtocol,
} from './host.js';
export { DEFAULT_P2P_LIMITS, protocolIds } from './config.js';
export type { MemberPeer, P2pLimits, P2pOptions, ProtocolIds } from './config.js';
export { P2pError, P2pErrorCode, P2pRemoteError } from './errors.js';
export type { P2pEventName, P2pEvents, P2pListener, P2pMisbehaviour } from './events.js';
export type { ReadonlyP2pStats as P2pStats } from './stats.js';
export { PEER_KEY_SEED_BYTES, generatePeerKeyPair, peerKeyFromSeed } from './peer-key.js';
export type { PeerKey } from './peer-key.js';
