/**
 * Errors of the crypto layer. Messages name what is wrong but never carry key
 * material, plaintext or passphrases.
 */
import { MedchainError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';

export const CryptoErrorCode = {
  /** AEAD `open` failed: wrong key, tampered ciphertext or wrong aad. */
  aeadOpenFailed: 'AEAD_OPEN_FAILED',
  /** Key unwrap failed: not the recipient's key, or the wrap was tampered with. */
  unwrapFailed: 'UNWRAP_FAILED',
  /** A raw key has the wrong length or is not a valid key of its suite. */
  invalidKey: 'INVALID_KEY',
  /** A serialised key string is malformed or names another suite or kind. */
  invalidKeyEncoding: 'INVALID_KEY_ENCODING',
  /** A caller passed a malformed argument (not a key). */
  invalidArgument: 'INVALID_ARGUMENT',
  /** The keystore could not be decrypted with this passphrase. */
  keystoreWrongPassphrase: 'KEYSTORE_WRONG_PASSPHRASE',
  /** The keystore file is not valid keystore JSON or its contents are inconsistent. */
  keystoreCorrupt: 'KEYSTORE_CORRUPT',
  /** The keystore file could not be read or written. */
  keystoreIo: 'KEYSTORE_IO',
  /** No crypto suite has this id. */
  unknownSuite: 'UNKNOWN_SUITE',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export class CryptoError extends MedchainError {
  declare readonly code: CryptoErrorCode;

  constructor(
    code: CryptoErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}
