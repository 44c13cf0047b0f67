/**
 * Validator sets: the voting institutions, in genesis order, that order and
 * certify blocks. A block header commits to its set through
 * `validatorSetHash`; a commit certificate names signers by their index here.
 */
import { encode, toHex } from '../codec/index.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { maxFaulty, quorum } from '../ledger/quorum.js';
import type { ValidatorKeys } from '../ledger/quorum.js';
import { IdentityError, IdentityErrorCode } from './errors.js';
import { assertSuiteOf } from './genesis.js';
import type { Genesis } from './types.js';

/** Hash domain of validator sets (a hash, not a signature: kept apart from DOMAIN's signing tags). */
export const VALIDATOR_SET_TAG = 'medchain/validator-set/v1';

export interface Validator {
  /** Position in the set: what certificates and `header.proposer` refer to. */
  readonly index: number;
  readonly institutionId: string;
  readonly publicKey: Uint8Array;
  readonly peerId: string;
}

export interface ValidatorSet extends ValidatorKeys {
  readonly validators: readonly Validator[];
  readonly n: number;
  /** Faulty validators tolerated, ⌊(n−1)/3⌋. */
  readonly f: number;
  /** Distinct signatures that decide (see src/ledger/quorum.ts). */
  readonly quorum: number;
  /** H(encode([VALIDATOR_SET_TAG, [{id, publicKey}, …]])): order and keys, not peer ids. */
  readonly hash: Uint8Array;
  /** Index of the validator with this public key, or -1. */
  indexOf(publicKey: Uint8Array): number;
}

export type ValidatorParams = Omit<Validator, 'index'>;

export function validatorSetHash(
  suite: CryptoSuite,
  validators: readonly ValidatorParams[],
): Uint8Array {
  const members = validators.map((v) => ({ id: v.institutionId, publicKey: v.publicKey }));
  return suite.hash(encode([VALIDATOR_SET_TAG, members]));
}

/** A validator set from members in order; throws `VALIDATOR_SET_INVALID` if empty, a key repeats or is not the suite's. */
export function createValidatorSet(
  suite: CryptoSuite,
  members: readonly ValidatorParams[],
): ValidatorSet {
  if (members.length === 0) {
    throw new IdentityError(
      IdentityErrorCode.invalidValidatorSet,
      'a validator set needs at least one validator',
    );
  }
  const byKey = new Map<string, number>();
  const validators = members.map((member, index): Validator => {
    if (member.publicKey.length !== suite.publicKeyLength) {
      throw new IdentityError(
        IdentityErrorCode.invalidValidatorSet,
        `validators[${index}]: not a ${suite.id} public key (${member.publicKey.length} bytes)`,
        { index },
      );
    }
    const key = toHex(member.publicKey);
    if (byKey.has(key)) {
      throw new IdentityError(
        IdentityErrorCode.invalidValidatorSet,
        `validators[${index}]: same key as validators[${String(byKey.get(key))}]`,
        { index },
      );
    }
    byKey.set(key, index);
    return {
      index,
      institutionId: member.institutionId,
      publicKey: member.publicKey,
      peerId: member.peerId,
    };
  });
  const n = validators.length;
  return {
    validators,
    n,
    f: maxFaulty(n),
    quorum: quorum(n),
    hash: validatorSetHash(suite, validators),
    indexOf: (publicKey) => byKey.get(toHex(publicKey)) ?? -1,
  };
}

/** The genesis validator set: voting institutions in the order the genesis lists them. */
export function validatorSet(suite: CryptoSuite, genesis: Genesis): ValidatorSet {
  assertSuiteOf(genesis, suite);
  return createValidatorSet(
    suite,
    genesis.institutions
      .filter((institution) => institution.voting)
      .map((institution) => ({
        institutionId: institution.id,
        publicKey: institution.signingKey,
        peerId: institution.peerId,
      })),
  );
}
