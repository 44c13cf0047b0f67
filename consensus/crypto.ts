/**
 * `ConsensusCrypto` adapters. The real one binds a `CryptoSuite` to this
 * replica's key and the validator set; every consensus signature (commit votes
 * included, as the ledger's certificate validation expects) is made under
 * DOMAIN.consensus for the chain.
 */
import { DOMAIN } from '../src/crypto/suite.js';
import type { CryptoSuite } from '../src/crypto/suite.js';
import { toHex } from '../src/codec/index.js';
import type { ConsensusCrypto } from './types.js';

/**
 * Remembers verification verdicts. Verification is a pure function of
 * (message, signature, key), so a verdict may be reused: a simulator shares
 * one memo among all replicas so each distinct signature is checked once.
 */
export class VerifyMemo {
  private readonly verdicts = new Map<string, boolean>();
  hits = 0;
  misses = 0;
  constructor(private readonly maxEntries = 200_000) {}

  check(
    validator: number,
    bytes: Uint8Array,
    signature: Uint8Array,
    verify: () => boolean,
  ): boolean {
    const key = `${validator}|${toHex(signature)}|${toHex(bytes)}`;
    const known = this.verdicts.get(key);
    if (known !== undefined) {
      this.hits++;
      return known;
    }
    this.misses++;
    const verdict = verify();
    if (this.verdicts.size >= this.maxEntries) this.verdicts.clear();
    this.verdicts.set(key, verdict);
    return verdict;
  }
}

export function suiteConsensusCrypto(
  suite: CryptoSuite,
  chainId: string,
  privateKey: Uint8Array,
  validatorKeys: readonly Uint8Array[],
  memo?: VerifyMemo,
): ConsensusCrypto {
  for (const key of validatorKeys) suite.registerKnownSigner(key);
  const sign = (bytes: Uint8Array): Uint8Array =>
    suite.sign(DOMAIN.consensus, chainId, bytes, privateKey);
  const verify = (bytes: Uint8Array, signature: Uint8Array, validator: number): boolean => {
    const key = validatorKeys[validator];
    if (!key) return false;
    const run = (): boolean => suite.verify(DOMAIN.consensus, chainId, bytes, signature, key);
    return memo ? memo.check(validator, bytes, signature, run) : run();
  };
  return {
    signMessage: sign,
    verifyMessage: verify,
    signCommitVote: sign,
    verifyCommitVote: verify,
  };
}

/** FNV-1a over (seed, validator, bytes): 8 bytes. Not a signature — forgeable by anyone. */
function fakeTag(validator: number, bytes: Uint8Array): Uint8Array {
  let a = 0x811c9dc5 ^ validator;
  let b = 0x01000193 ^ (validator * 0x9e3779b1);
  for (const x of bytes) {
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x85ebca6b) ^ (b >>> 13);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setUint32(0, a >>> 0);
  new DataView(out.buffer).setUint32(4, b >>> 0);
  return out;
}

/**
 * INSECURE: a checksum standing in for signatures, for huge simulator sweeps
 * only. Anyone can forge it; never use it outside the simulator.
 */
export function insecureFakeConsensusCrypto(
  selfIndex: number,
  validatorCount: number,
): ConsensusCrypto {
  const sign = (bytes: Uint8Array): Uint8Array => fakeTag(selfIndex, bytes);
  const verify = (bytes: Uint8Array, signature: Uint8Array, validator: number): boolean => {
    if (validator < 0 || validator >= validatorCount || signature.length !== 8) return false;
    const expected = fakeTag(validator, bytes);
    for (let i = 0; i < 8; i++) if (expected[i] !== signature[i]) return false;
    return true;
  };
  return {
    signMessage: sign,
    verifyMessage: verify,
    signCommitVote: sign,
    verifyCommitVote: verify,
  };
}
