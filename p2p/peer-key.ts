/**
 * The libp2p identity of a node (DESIGN.md §3): an Ed25519 key in both suites
 * (libp2p has no SM2). Its 32-byte seed is an `intl` private key, so it is kept
 * at rest in the same passphrase keystore as the chain signing key
 * (src/crypto/keystore.ts, suite `intl`). The genesis lists each institution's
 * peer id (`12D3KooW…`), which binds the node's transport identity to the
 * institution's chain signing key.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Ed25519PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { intlSuite } from '../src/crypto/intl.js';
import type { KeyPair } from '../src/crypto/suite.js';
import { InvalidInputError } from '../src/errors.js';

export const PEER_KEY_SEED_BYTES = 32;

export interface PeerKey {
  /** The libp2p private key (never log it). */
  readonly privateKey: Ed25519PrivateKey;
  /** base58btc peer id, `12D3KooW…`. */
  readonly peerId: string;
}

/** The libp2p identity for a 32-byte Ed25519 seed (an `intl` private key). */
export async function peerKeyFromSeed(seed: Uint8Array): Promise<PeerKey> {
  if (seed.length !== PEER_KEY_SEED_BYTES) {
    throw new InvalidInputError('peerKey', `expected a ${PEER_KEY_SEED_BYTES}-byte Ed25519 seed`);
  }
  const privateKey = await generateKeyPairFromSeed('Ed25519', seed);
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

/** A fresh libp2p identity as an `intl` key pair, ready for `writeKeystore`. */
export function generatePeerKeyPair(): KeyPair {
  return intlSuite.generateKeyPair();
}
