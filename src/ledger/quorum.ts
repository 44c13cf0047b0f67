/**
 * Byzantine quorum arithmetic (DESIGN.md §5).
 *
 * With n validators PBFT tolerates f = ⌊(n−1)/3⌋ faulty ones. A quorum must be
 * large enough that any two quorums share at least f+1 validators — hence at
 * least one honest one — and small enough that the n−f honest validators can
 * form one alone. The smallest size with that property is ⌈(n+f+1)/2⌉. It
 * equals the textbook 2f+1 exactly when n = 3f+1; for n = 3f+2 or 3f+3
 * (5, 6, 8, 9, … validators) 2f+1 would let two quorums overlap only in
 * faulty validators (n = 6: two disjoint sets of 3), so the quorum is larger.
 */
import { InvalidInputError } from '../errors.js';

function checkValidatorCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidInputError('n', `a validator count must be a positive integer, got ${n}`);
  }
}

/** f: the most faulty validators a set of n tolerates, ⌊(n−1)/3⌋. */
export function maxFaulty(n: number): number {
  checkValidatorCount(n);
  return Math.floor((n - 1) / 3);
}

/** The number of distinct validators whose votes decide, ⌈(n+f+1)/2⌉ (= 2f+1 when n = 3f+1). */
export function quorum(n: number): number {
  const f = maxFaulty(n);
  return Math.floor((n + f) / 2) + 1;
}

/** The validators that must certify a block: its header commits to `hash`, indexes name `validators`. */
export interface ValidatorKeys {
  readonly hash: Uint8Array;
  readonly validators: readonly { readonly publicKey: Uint8Array }[];
}
