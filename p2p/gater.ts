/**
 * The allowlist connection gater. It admits only peer ids of the current
 * membership, checked at the encrypted-connection hooks: those run right after
 * the Noise handshake has authenticated the remote peer id and before the
 * muxer or any protocol runs, so a stranger holding a valid Noise key is
 * refused before it can open a stream. `denyDialPeer` keeps us from dialling
 * strangers. A member banned for misbehaviour is refused the same way until
 * its ban ends. The gater only runs at connect time: when a member is removed the
 * host closes its live connections itself.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';

export interface GaterCallbacks {
  /** A current member that is not banned for misbehaviour. */
  admits(peerId: string): boolean;
  /** Called once per refused encrypted connection. */
  onRefused(peerId: string, direction: 'inbound' | 'outbound'): void;
}

export function createMembershipGater(callbacks: GaterCallbacks): ConnectionGater {
  const refuse = (peerId: PeerId, direction: 'inbound' | 'outbound'): boolean => {
    const id = peerId.toString();
    if (callbacks.admits(id)) return false;
    callbacks.onRefused(id, direction);
    return true;
  };
  const denied = (peerId: PeerId): boolean => !callbacks.admits(peerId.toString());
  return {
    denyDialPeer: denied,
    denyInboundEncryptedConnection: (peerId) => refuse(peerId, 'inbound'),
    denyOutboundEncryptedConnection: (peerId) => refuse(peerId, 'outbound'),
    // Membership may change during the muxer upgrade: check once more (not counted twice).
    denyInboundUpgradedConnection: denied,
    denyOutboundUpgradedConnection: denied,
    // No relays in this network.
    denyInboundRelayReservation: () => true,
    denyOutboundRelayedConnection: () => true,
    denyInboundRelayedConnection: () => true,
  };
}
