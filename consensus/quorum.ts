/**
 * Quorum arithmetic comes from the ledger (src/ledger/quorum.ts): f = ⌊(n−1)/3⌋
 * and quorum(n) = ⌈(n+f+1)/2⌉ (2f+1 when n = 3f+1), the same numbers certificate
 * validation uses. Consensus adds only who leads a view.
 */
import { maxFaulty, quorum } from '../src/ledger/quorum.js';

export { maxFaulty };

export function quorumSize(n: number): number {
  return quorum(n);
}

/** Primary of `view`: validator `view mod n`. */
export function primaryOf(view: number, n: number): number {
  return view % n;
}
