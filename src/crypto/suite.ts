/**
 * The one interface every crypto suite implements (DESIGN.md §3). A chain picks
 * a suite in its genesis; every signature, hash and encryption on that chain
 * goes through it.
 *
 * Keys are raw bytes inside; their serialised form names the suite
 * (see `encodePublicKey` in ./keys.ts) so a key of one suite is never
 * mistaken for a key of another.
 */
export const SUITE_IDS = ['intl', 'gm'] as const;
export type SuiteId = (typeof SUITE_IDS)[number];

export interface KeyPair {
  readonly suite: SuiteId;
  /** Raw private key (intl: 32-byte Ed25519 seed; gm: 32-byte SM2 scalar). Never log it. */
  readonly privateKey: Uint8Array;
  /** Raw public key (intl: 32-byte Ed25519; gm: 65-byte uncompressed SM2 point 04‖x‖y). */
  readonly publicKey: Uint8Array;
}

/** Key pair for wrapping data keys (intl: X25519; gm: the SM2 key itself). */
export interface EncryptionKeyPair {
  readonly suite: SuiteId;
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Domain tags keep every kind of signed object apart (DESIGN.md §3). */
export const DOMAIN = {
  tx: 'medchain/tx/v1',
  consensus: 'medchain/consensus/v1',
  certificate: 'medchain/certificate/v1',
  apiRequest: 'medchain/api-request/v1',
  block: 'medchain/block/v1',
  genesis: 'medchain/genesis/v1',
} as const;
export type DomainTag = (typeof DOMAIN)[keyof typeof DOMAIN];

export interface CryptoSuite {
  readonly id: SuiteId;
  /** Digest length in bytes (32 for both SHA-256 and SM3). */
  readonly hashLength: number;
  readonly publicKeyLength: number;
  readonly signatureLength: number;

  hash(data: Uint8Array): Uint8Array;

  generateKeyPair(): KeyPair;
  /** Derive the public key of a raw private key; throws on an invalid key. */
  keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair;

  /**
   * Sign `H(domain ‖ chainId ‖ message)`: the signature covers the domain tag
   * and chain id so no signed object replays as another kind or on another chain.
   */
  sign(domain: DomainTag, chainId: string, message: Uint8Array, privateKey: Uint8Array): Uint8Array;
  /** Never throws on bad input: a malformed key or signature verifies false. */
  verify(
    domain: DomainTag,
    chainId: string,
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
  ): boolean;
  /**
   * Tell the suite that `publicKey` belongs to a known signer (validator,
   * registered member) so it may keep precomputed tables for it.
   */
  registerKnownSigner(publicKey: Uint8Array): void;

  /** Authenticated encryption with a 32-byte (intl) / 16-byte (gm) key; `aad` is authenticated, not encrypted. */
  readonly aeadKeyLength: number;
  seal(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Throws `CryptoError('AEAD_OPEN_FAILED')` if the key, ciphertext or aad is wrong. */
  open(key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array;

  generateEncryptionKeyPair(): EncryptionKeyPair;
  /** The encryption key pair that belongs to a signing key (gm: the same SM2 key; intl: X25519 derived from the Ed25519 seed). */
  encryptionKeyPairFromSigningKey(privateKey: Uint8Array): EncryptionKeyPair;
  /** Wrap a data key to a recipient's encryption public key. */
  wrapKey(dataKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array;
  /** Throws `CryptoError('UNWRAP_FAILED')` if this is not the recipient's key or the wrap was tampered with. */
  unwrapKey(wrapped: Uint8Array, recipientPrivateKey: Uint8Array): Uint8Array;

  randomBytes(length: number): Uint8Array;
}
