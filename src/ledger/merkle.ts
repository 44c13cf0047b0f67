/**
 * Merkle tree over transaction hashes, as in RFC 6962 / RFC 9162 §2.1 with the
 * chain's suite hash H:
 *
 * - leaf:  H(0x00 ‖ txHash); inner node: H(0x01 ‖ left ‖ right). The prefixes
 *   keep a leaf from ever passing for an inner node (second-preimage attack).
 * - empty tree: H() — the hash of the empty string.
 * - n > 1 leaves: the left subtree holds the largest power of two < n leaves,
 *   the right one the rest. An odd node is never duplicated (no CVE-2012-2459
 *   style ambiguity: [a, b, c] and [a, b, c, c] have different roots).
 *
 * An inclusion proof is the RFC 9162 audit path, leaf to root. As in RFC
 * 6962, the root does not commit to the number of leaves (there the signed
 * tree head carries it): a valid proof shows that the leaf is in the tree,
 * while its position is proven only relative to `leafCount` — e.g. the proof
 * of leaf 2 of 3 also verifies as leaf 1 of 2. Take `leafCount` from the block
 * (its transaction count) when the position matters.
 */
import { bytesEqual } from '../codec/index.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { invariant, InvalidInputError } from '../errors.js';

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
/** A tree of at most 2^53 leaves has paths of at most 53 hashes; longer ones are rejected outright. */
const MAX_PATH_LENGTH = 53;

export interface MerkleProof {
  /** Position of the leaf, 0-based. */
  readonly index: number;
  /** Number of leaves in the tree. */
  readonly leafCount: number;
  /** Sibling hashes from the leaf up to the root. */
  readonly path: readonly Uint8Array[];
}

export function merkleLeafHash(suite: CryptoSuite, leaf: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + leaf.length);
  input[0] = LEAF_PREFIX;
  input.set(leaf, 1);
  return suite.hash(input);
}

export function merkleNodeHash(
  suite: CryptoSuite,
  left: Uint8Array,
  right: Uint8Array,
): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return suite.hash(input);
}

/**
 * Root over already-hashed leaves, level by level: pairing neighbours and
 * promoting an odd last node unchanged gives exactly the RFC 6962 tree.
 */
function rootOfLeafHashes(suite: CryptoSuite, leafHashes: readonly Uint8Array[]): Uint8Array {
  let level = leafHashes;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    let left: Uint8Array | undefined;
    for (const node of level) {
      if (left === undefined) {
        left = node;
      } else {
        next.push(merkleNodeHash(suite, left, node));
        left = undefined;
      }
    }
    if (left !== undefined) next.push(left);
    level = next;
  }
  const [root] = level;
  invariant(root !== undefined, 'merkle: a subtree has at least one leaf');
  return root;
}

/** The Merkle root of `leaves` (transaction hashes, in block order). */
export function merkleRoot(suite: CryptoSuite, leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return suite.hash(new Uint8Array(0));
  return rootOfLeafHashes(
    suite,
    leaves.map((leaf) => merkleLeafHash(suite, leaf)),
  );
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Proof that `leaves[index]` is in the tree of `leaves`. */
export function merkleProof(
  suite: CryptoSuite,
  leaves: readonly Uint8Array[],
  index: number,
): MerkleProof {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new InvalidInputError('index', `no leaf ${index} in a tree of ${leaves.length}`);
  }
  const hashes = leaves.map((leaf) => merkleLeafHash(suite, leaf));
  // RFC 6962 §2.1.1 PATH(m, D[lo:hi]), collected root-down, returned leaf-up
  const path: Uint8Array[] = [];
  let lo = 0;
  let hi = hashes.length;
  let m = index;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m < k) {
      path.push(rootOfLeafHashes(suite, hashes.slice(lo + k, hi)));
      hi = lo + k;
    } else {
      path.push(rootOfLeafHashes(suite, hashes.slice(lo, lo + k)));
      lo += k;
      m -= k;
    }
  }
  return { index, leafCount: leaves.length, path: path.reverse() };
}

/**
 * Whether `proof` shows `leaf` at `proof.index` in a tree of `proof.leafCount`
 * leaves with root `root` (RFC 9162 §2.1.3.2). Never throws: anything
 * malformed is simply not a proof.
 */
export function verifyInclusion(
  suite: CryptoSuite,
  root: Uint8Array,
  leaf: Uint8Array,
  proof: MerkleProof,
): boolean {
  const { index, leafCount, path } = proof;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(leafCount)) return false;
  if (index < 0 || index >= leafCount || path.length > MAX_PATH_LENGTH) return false;
  let fn = index;
  let sn = leafCount - 1;
  let r = merkleLeafHash(suite, leaf);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(suite, p, r);
      if (fn % 2 === 0) {
        // a left child with no right sibling at this level: climb until it is a right child
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = merkleNodeHash(suite, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(r, root);
}
