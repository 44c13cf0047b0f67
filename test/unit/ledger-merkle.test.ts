import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import {
  merkleLeafHash,
  merkleNodeHash,
  merkleProof,
  merkleRoot,
  verifyInclusion,
} from '../../src/ledger/index.js';
import type { MerkleProof } from '../../src/ledger/index.js';
import { flipped, SUITES } from './ledger-fixtures.js';

/** RFC 6962 §2.1 MTH, written independently: split at the largest power of two below n. */
function referenceRoot(suite: CryptoSuite, leaves: readonly Uint8Array[]): Uint8Array {
  const mth = (d: readonly Uint8Array[]): Uint8Array => {
    const [only] = d;
    if (d.length === 1 && only !== undefined) return suite.hash(Uint8Array.from([0, ...only]));
    let k = 1;
    while (k * 2 < d.length) k *= 2;
    return suite.hash(Uint8Array.from([1, ...mth(d.slice(0, k)), ...mth(d.slice(k))]));
  };
  return leaves.length === 0 ? suite.hash(new Uint8Array(0)) : mth(leaves);
}

const leavesOf = (suite: CryptoSuite, n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => suite.hash(Uint8Array.from([i, i >> 8])));

describe.each(SUITES)('merkle ($id)', (suite) => {
  it('defines the empty root as H() and a single-leaf root as H(0x00 ‖ leaf)', () => {
    expect(merkleRoot(suite, [])).toEqual(suite.hash(new Uint8Array(0)));
    const leaf = leavesOf(suite, 1)[0] ?? new Uint8Array(0);
    expect(merkleRoot(suite, [leaf])).toEqual(suite.hash(Uint8Array.from([0, ...leaf])));
    expect(merkleLeafHash(suite, leaf)).toEqual(suite.hash(Uint8Array.from([0, ...leaf])));
  });

  it('matches the RFC 6962 definition for sizes 0..33 and 64, 100', () => {
    for (const n of [...Array.from({ length: 34 }, (_, i) => i), 64, 100]) {
      const leaves = leavesOf(suite, n);
      expect(merkleRoot(suite, leaves), `n=${n}`).toEqual(referenceRoot(suite, leaves));
    }
  });

  it('proves every leaf for sizes 1..33, and every tampered proof fails', () => {
    const otherLeaf = suite.hash(Uint8Array.from([0xff]));
    for (let n = 1; n <= 33; n++) {
      const leaves = leavesOf(suite, n);
      const root = merkleRoot(suite, leaves);
      leaves.forEach((leaf, index) => {
        const proof = merkleProof(suite, leaves, index);
        const at = `n=${n} index=${index}`;
        expect(proof.leafCount, at).toBe(n);
        expect(verifyInclusion(suite, root, leaf, proof), at).toBe(true);

        expect(verifyInclusion(suite, root, otherLeaf, proof), at).toBe(false);
        expect(verifyInclusion(suite, flipped(root), leaf, proof), at).toBe(false);
        if (n > 1) {
          expect(verifyInclusion(suite, root, leaf, { ...proof, index: (index + 1) % n }), at).toBe(
            false,
          );
          expect(verifyInclusion(suite, root, leaves[(index + 1) % n] ?? leaf, proof), at).toBe(
            false,
          );
        }
        proof.path.forEach((_, i) => {
          const path = proof.path.map((p, j) => (j === i ? flipped(p, 3) : p));
          expect(verifyInclusion(suite, root, leaf, { ...proof, path }), `${at} path[${i}]`).toBe(
            false,
          );
        });
        if (proof.path.length > 0) {
          expect(
            verifyInclusion(suite, root, leaf, { ...proof, path: proof.path.slice(1) }),
            at,
          ).toBe(false);
          expect(
            verifyInclusion(suite, root, leaf, { ...proof, path: proof.path.slice(0, -1) }),
            at,
          ).toBe(false);
        }
        expect(
          verifyInclusion(suite, root, leaf, { ...proof, path: [...proof.path, root] }),
          at,
        ).toBe(false);
      });
    }
  });

  it('does not commit to the leaf count: the position is proven only against a trusted count', () => {
    // as in RFC 6962, where the tree size comes from the signed tree head: the
    // proof of leaf 2 of 3 is one sibling, H(l0, l1) — the same as leaf 1 of 2
    const leaves = leavesOf(suite, 3);
    const root = merkleRoot(suite, leaves);
    const leaf = leaves[2] ?? new Uint8Array(0);
    const proof = merkleProof(suite, leaves, 2);
    expect(verifyInclusion(suite, root, leaf, proof)).toBe(true);
    expect(verifyInclusion(suite, root, leaf, { ...proof, index: 1, leafCount: 2 })).toBe(true);
    // with the true count, no other position verifies
    for (const index of [0, 1]) {
      expect(verifyInclusion(suite, root, leaf, { ...proof, index })).toBe(false);
    }
  });

  it('rejects malformed proofs without throwing', () => {
    const leaves = leavesOf(suite, 5);
    const root = merkleRoot(suite, leaves);
    const proof = merkleProof(suite, leaves, 2);
    const leaf = leaves[2] ?? new Uint8Array(0);
    const bad: MerkleProof[] = [
      { ...proof, index: -1 },
      { ...proof, index: 5 },
      { ...proof, index: 1.5 },
      { ...proof, leafCount: 0 },
      { ...proof, leafCount: Number.NaN },
      { ...proof, path: Array.from({ length: 60 }, () => root) },
    ];
    for (const p of bad) expect(verifyInclusion(suite, root, leaf, p)).toBe(false);
    expect(
      verifyInclusion(suite, merkleRoot(suite, []), leaf, { index: 0, leafCount: 0, path: [] }),
    ).toBe(false);
  });

  it('refuses to build a proof for a leaf that is not there', () => {
    const leaves = leavesOf(suite, 3);
    for (const index of [-1, 3, 0.5]) {
      expect(() => merkleProof(suite, leaves, index)).toThrow(InvalidInputError);
    }
    expect(() => merkleProof(suite, [], 0)).toThrow(InvalidInputError);
  });

  it('keeps leaves and inner nodes apart (second preimage) and never duplicates an odd node', () => {
    const [a, b, c] = leavesOf(suite, 3) as [Uint8Array, Uint8Array, Uint8Array];
    const root = merkleRoot(suite, [a, b]);
    const inner = Uint8Array.from([...merkleLeafHash(suite, a), ...merkleLeafHash(suite, b)]);
    // the concatenated children, presented as one leaf, do not reproduce the root
    expect(merkleRoot(suite, [inner])).not.toEqual(root);
    expect(merkleNodeHash(suite, merkleLeafHash(suite, a), merkleLeafHash(suite, b))).toEqual(root);
    expect(merkleRoot(suite, [a, b, c])).not.toEqual(merkleRoot(suite, [a, b, c, c]));
    expect(merkleRoot(suite, [a, b])).not.toEqual(merkleRoot(suite, [b, a]));
  });
});
