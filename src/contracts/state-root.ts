/**
 * The state root: a hash chain over each block's net state changes,
 *
 *     root_0 = H(encode(['medchain/state/v1/genesis', genesisHash]))
 *     root_h = H(encode(['medchain/state/v1', root_{h-1}, h, [[key, value|null], …]]))
 *
 * with the changes sorted by key bytes, one per key. It costs one hash over
 * the block's changes however large the state is, and two nodes agree on
 * root_h exactly when they started from the same genesis and applied the same
 * changes at every height. The trade-off: it commits to the history of
 * changes, not to the current state as a set, so it gives no per-key
 * inclusion proofs and a node cannot verify a state snapshot from the root
 * alone (state sync replays certified blocks). docs/contracts.md says more.
 */
import { encode } from '../codec/index.js';
import type { CodecValue } from '../codec/index.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { genesisHash } from '../identity/genesis.js';
import type { Genesis } from '../identity/types.js';
import type { StateWrite } from './overlay.js';

export const STATE_ROOT_TAG = 'medchain/state/v1';
export const GENESIS_STATE_ROOT_TAG = 'medchain/state/v1/genesis';

export function genesisStateRootOf(suite: CryptoSuite, genesis: Genesis): Uint8Array {
  return suite.hash(encode([GENESIS_STATE_ROOT_TAG, genesisHash(suite, genesis)]));
}

/** `changes` must already be sorted by key with one entry per key (Overlay.netChanges). */
export function nextStateRoot(
  suite: CryptoSuite,
  prevStateRoot: Uint8Array,
  height: number,
  changes: readonly StateWrite[],
): Uint8Array {
  const list: CodecValue[] = changes.map((change) => [change.key, change.value]);
  return suite.hash(encode([STATE_ROOT_TAG, prevStateRoot, height, list]));
}
