/**
 * Encryption keys that belong to signing keys. Key wraps on chain name their
 * recipient by its *signing* public key (the key the chain knows: genesis
 * institution keys, member certificates); the wrap itself is made to the
 * matching encryption key — gm: the same SM2 key; intl: the X25519 key
 * birationally equivalent to the Ed25519 key, which is what
 * `suite.encryptionKeyPairFromSigningKey` derives on the private side.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { assertValidKey } from '../crypto/keys.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { InvalidInputError, MedchainError } from '../errors.js';

/** The encryption public key to wrap to for the holder of `signingPublicKey`. */
export function encryptionPublicKeyOf(
  suite: CryptoSuite,
  signingPublicKey: Uint8Array,
): Uint8Array {
  try {
    assertValidKey(suite.id, 'pub', signingPublicKey);
  } catch (err) {
    if (!(err instanceof MedchainError)) throw err;
    throw new InvalidInputError('recipient', err.message);
  }
  if (suite.id === 'gm') return Uint8Array.from(signingPublicKey);
  return Uint8Array.from(ed25519.utils.toMontgomery(signingPublicKey));
}

/** The encryption private key that unwraps data keys sent to the holder of `signingPrivateKey`. Never log it. */
export function encryptionPrivateKeyOf(
  suite: CryptoSuite,
  signingPrivateKey: Uint8Array,
): Uint8Array {
  return suite.encryptionKeyPairFromSigningKey(signingPrivateKey).privateKey;
}
