/**
 * The `intl` suite: Ed25519, SHA-256, AES-256-GCM and X25519 key wrap, all on
 * native `node:crypto` (OpenSSL).
 *
 * Formats
 * - signature: 64-byte Ed25519 signature of the 32-byte domain-separated
 *   digest (see ./domain.ts).
 * - seal: nonce(12, random) ‖ ciphertext ‖ tag(16).
 * - wrapKey: epk(32) ‖ ciphertext ‖ tag(16), where epk is an ephemeral X25519
 *   public key, and key(32) ‖ nonce(12) = HKDF-SHA256(ikm = X25519(esk, rpk),
 *   salt = epk ‖ rpk, info = "medchain/key-wrap/intl/v1"); AES-256-GCM with
 *   aad = the info string. The key is single-use, so the derived nonce is safe.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { buf, concatBytes, describeLength, isBytes, u8 } from './bytes.js';
import { signingPrefix } from './domain.js';
import { CryptoError, CryptoErrorCode } from './errors.js';
import type { CryptoSuite, DomainTag, EncryptionKeyPair, KeyPair } from './suite.js';

const PUBLIC_KEY_LENGTH = 32;
const PRIVATE_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;
const AEAD_KEY_LENGTH = 32;
const GCM_NONCE_LENGTH = 12;
const GCM_TAG_LENGTH = 16;
const X25519_KEY_LENGTH = 32;
const WRAP_INFO = Buffer.from('medchain/key-wrap/intl/v1', 'utf8');

/** PKCS#8 DER prefixes for raw 32-byte Ed25519 / X25519 private keys (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Upper bounds on the KeyObject caches (entries). */
const PUBLIC_KEY_CACHE_MAX = 8192;
const KNOWN_SIGNERS_MAX = 65536;

// ---------------------------------------------------------------- key objects

/** Recently used public keys, evicted oldest-inserted first. */
const publicKeyCache = new Map<string, KeyObject>();
/** Registered signers: kept apart so a flood of strangers cannot evict them. */
const knownSigners = new Map<string, KeyObject>();

function boundedSet(map: Map<string, KeyObject>, max: number, key: string, value: KeyObject) {
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}

/** Import a raw Ed25519 public key; JWK import is ~10× cheaper than SPKI DER. Throws on bad input. */
function importEdPublicKey(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

function edPublicKeyObject(publicKey: Uint8Array): KeyObject {
  const x = buf(publicKey).toString('base64url');
  const known = knownSigners.get(x);
  if (known !== undefined) return known;
  const cached = publicKeyCache.get(x);
  if (cached !== undefined) return cached;
  const key = importEdPublicKey(x);
  boundedSet(publicKeyCache, PUBLIC_KEY_CACHE_MAX, x, key);
  return key;
}

interface PrivateKeyEntry {
  readonly copy: Buffer;
  readonly key: KeyObject;
}
/**
 * Private KeyObjects cached per caller-owned array (PKCS#8 import costs ~350 µs).
 * A copy of the bytes guards against the caller mutating the array.
 */
const privateKeyCache = new WeakMap<Uint8Array, PrivateKeyEntry>();

function privateKeyObject(raw: Uint8Array, prefix: Buffer, what: string): KeyObject {
  if (!isBytes(raw) || raw.length !== PRIVATE_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `intl ${what} private key: expected ${PRIVATE_KEY_LENGTH} bytes, got ${describeLength(raw)}`,
    );
  }
  const entry = privateKeyCache.get(raw);
  if (
    entry !== undefined &&
    entry.key.asymmetricKeyType === what &&
    timingSafeEqual(entry.copy, raw)
  ) {
    return entry.key;
  }
  const der = Buffer.concat([prefix, raw]);
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    privateKeyCache.set(raw, { copy: Buffer.from(raw), key });
    return key;
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `intl ${what} private key: rejected`,
      {},
      { cause },
    );
  } finally {
    der.fill(0);
  }
}

function jwkField(key: KeyObject, field: 'x' | 'd'): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  const value = jwk[field];
  if (typeof value !== 'string') {
    throw new CryptoError(CryptoErrorCode.invalidKey, `intl: key export lacks "${field}"`);
  }
  return u8(Buffer.from(value, 'base64url'));
}

// ---------------------------------------------------------------- signatures

function signingDigest(domain: DomainTag, chainId: string, message: Uint8Array): Buffer {
  return createHash('sha256').update(signingPrefix(domain, chainId)).update(message).digest();
}

function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  const key = privateKeyObject(privateKey, ED25519_PKCS8_PREFIX, 'ed25519');
  return {
    suite: 'intl',
    privateKey: Uint8Array.from(privateKey),
    publicKey: jwkField(createPublicKey(key), 'x'),
  };
}

/** Ed25519 signature of `message` as is (no domain separation): for vectors and interop. */
export function ed25519SignRaw(message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  if (!isBytes(message)) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'message: expected bytes');
  }
  const key = privateKeyObject(privateKey, ED25519_PKCS8_PREFIX, 'ed25519');
  return u8(nodeSign(null, message, key));
}

/** Verify an Ed25519 signature of `message` as is. Never throws. */
export function ed25519VerifyRaw(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    if (
      !isBytes(signature) ||
      signature.length !== SIGNATURE_LENGTH ||
      !isBytes(publicKey) ||
      publicKey.length !== PUBLIC_KEY_LENGTH ||
      !isBytes(message)
    ) {
      return false;
    }
    return nodeVerify(null, message, edPublicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

function sign(
  domain: DomainTag,
  chainId: string,
  message: Uint8Array,
  privateKey: Uint8Array,
): Uint8Array {
  if (!isBytes(message)) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'message: expected bytes');
  }
  return ed25519SignRaw(signingDigest(domain, chainId, message), privateKey);
}

function verify(
  domain: DomainTag,
  chainId: string,
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    if (!isBytes(message)) return false;
    return ed25519VerifyRaw(signingDigest(domain, chainId, message), signature, publicKey);
  } catch {
    return false;
  }
}

function registerKnownSigner(publicKey: Uint8Array): void {
  if (!isBytes(publicKey) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `intl public key: expected ${PUBLIC_KEY_LENGTH} bytes, got ${describeLength(publicKey)}`,
    );
  }
  const x = buf(publicKey).toString('base64url');
  if (knownSigners.has(x)) return;
  try {
    boundedSet(knownSigners, KNOWN_SIGNERS_MAX, x, importEdPublicKey(x));
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.invalidKey, 'intl public key: rejected', {}, { cause });
  }
}

/** Throws `INVALID_KEY` unless `publicKey` is a valid Ed25519 point encoding. */
export function assertIntlPublicKey(publicKey: Uint8Array): void {
  if (!isBytes(publicKey) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `intl public key: expected ${PUBLIC_KEY_LENGTH} bytes, got ${describeLength(publicKey)}`,
    );
  }
  try {
    ed25519.Point.fromBytes(publicKey);
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      'intl public key: not a valid Ed25519 point encoding',
      {},
      { cause },
    );
  }
}

// ---------------------------------------------------------------- AEAD

function assertAeadKey(key: Uint8Array): void {
  if (!isBytes(key) || key.length !== AEAD_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `intl AEAD key: expected ${AEAD_KEY_LENGTH} bytes, got ${describeLength(key)}`,
    );
  }
}

function gcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array) {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_LENGTH });
  if (aad !== undefined) cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return [head, tail, cipher.getAuthTag()];
}

/** Returns undefined when authentication fails. */
function gcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad?: Uint8Array,
): Uint8Array | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_LENGTH });
    decipher.setAuthTag(tag);
    if (aad !== undefined) decipher.setAAD(aad);
    const head = decipher.update(ciphertext);
    const tail = decipher.final();
    return u8(tail.length === 0 ? head : Buffer.concat([head, tail]));
  } catch {
    return undefined;
  }
}

function checkSealInputs(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): void {
  assertAeadKey(key);
  if (!isBytes(plaintext)) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'plaintext: expected bytes');
  }
  if (aad !== undefined && !isBytes(aad)) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'aad: expected bytes');
  }
}

/**
 * `seal` with a caller-chosen nonce — for known-answer tests only: reusing a
 * nonce under one key breaks AES-GCM.
 */
export function aes256GcmSealWithNonce(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  checkSealInputs(key, plaintext, aad);
  if (!isBytes(nonce) || nonce.length !== GCM_NONCE_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidArgument,
      `nonce: expected ${GCM_NONCE_LENGTH} bytes`,
    );
  }
  return u8(Buffer.concat([nonce, ...gcmEncrypt(key, nonce, plaintext, aad)]));
}

function seal(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
  checkSealInputs(key, plaintext, aad);
  const nonce = nodeRandomBytes(GCM_NONCE_LENGTH);
  return u8(Buffer.concat([nonce, ...gcmEncrypt(key, nonce, plaintext, aad)]));
}

function open(key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  assertAeadKey(key);
  if (!isBytes(sealed) || sealed.length < GCM_NONCE_LENGTH + GCM_TAG_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.aeadOpenFailed,
      `intl AEAD open failed: sealed data too short (${describeLength(sealed)})`,
    );
  }
  if (aad !== undefined && !isBytes(aad)) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'aad: expected bytes');
  }
  const nonce = sealed.subarray(0, GCM_NONCE_LENGTH);
  const tag = sealed.subarray(sealed.length - GCM_TAG_LENGTH);
  const ciphertext = sealed.subarray(GCM_NONCE_LENGTH, sealed.length - GCM_TAG_LENGTH);
  const plaintext = gcmDecrypt(key, nonce, ciphertext, tag, aad);
  if (plaintext === undefined) {
    throw new CryptoError(
      CryptoErrorCode.aeadOpenFailed,
      'intl AEAD open failed: wrong key, tampered ciphertext or wrong aad',
    );
  }
  return plaintext;
}

// ---------------------------------------------------------------- key wrap

/**
 * A fresh key pair is 32 random bytes imported as a private key, never
 * `generateKeyPairSync`: on Node 20 a garbage collection during the export of
 * a key that call made can run the destructor of its key-generation job, which
 * takes the key's lock that the export already holds, and the process hangs
 * for good (seen in the load generator, which seals thousands of records; gdb:
 * ExportJWKEdKey → GC → ~KeyGenJob → uv_mutex_lock). Every 32-byte string is a
 * valid Ed25519 seed and X25519 scalar.
 *
 * The import is a raw JWK (`d`), about 10× faster than PKCS#8 through
 * OpenSSL 3's decoders. Node reads only `d` of a private OKP JWK (`x` must be
 * a string, and the public key is derived from `d`); test/unit/crypto-suite.test.ts
 * checks the derived public keys against @noble/curves.
 */
function freshKeyPair(crv: 'Ed25519' | 'X25519'): {
  secret: Uint8Array;
  key: KeyObject;
  publicKey: Uint8Array;
} {
  const secret = u8(nodeRandomBytes(PRIVATE_KEY_LENGTH));
  const key = createPrivateKey({
    key: { kty: 'OKP', crv, d: buf(secret).toString('base64url'), x: '' },
    format: 'jwk',
  });
  return { secret, key, publicKey: jwkField(createPublicKey(key), 'x') };
}

function generateEncryptionKeyPair(): EncryptionKeyPair {
  const { secret, publicKey } = freshKeyPair('X25519');
  return { suite: 'intl', privateKey: secret, publicKey };
}

function encryptionKeyPairFromSigningKey(privateKey: Uint8Array): EncryptionKeyPair {
  if (!isBytes(privateKey) || privateKey.length !== PRIVATE_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `intl private key: expected ${PRIVATE_KEY_LENGTH} bytes, got ${describeLength(privateKey)}`,
    );
  }
  // The X25519 scalar is the clamped first half of SHA-512(seed), as libsodium's
  // crypto_sign_ed25519_sk_to_curve25519; its public key equals toMontgomery(edPub).
  const xPrivate = u8(Buffer.from(ed25519.utils.toMontgomerySecret(privateKey)));
  const key = privateKeyObject(xPrivate, X25519_PKCS8_PREFIX, 'x25519');
  return { suite: 'intl', privateKey: xPrivate, publicKey: jwkField(createPublicKey(key), 'x') };
}

function importX25519PublicKey(publicKey: Uint8Array): KeyObject {
  if (!isBytes(publicKey) || publicKey.length !== X25519_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `intl encryption public key: expected ${X25519_KEY_LENGTH} bytes, got ${describeLength(publicKey)}`,
    );
  }
  try {
    const x = buf(publicKey).toString('base64url');
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      'intl encryption public key: rejected',
      {},
      { cause },
    );
  }
}

function wrapSecrets(shared: Buffer, epk: Uint8Array, rpk: Uint8Array) {
  const okm = Buffer.from(hkdfSync('sha256', shared, concatBytes(epk, rpk), WRAP_INFO, 44));
  shared.fill(0);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 44), okm };
}

function wrapKey(dataKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  if (!isBytes(dataKey) || dataKey.length === 0 || dataKey.length > 1024) {
    throw new CryptoError(
      CryptoErrorCode.invalidArgument,
      `dataKey: expected 1..1024 bytes, got ${describeLength(dataKey)}`,
    );
  }
  const recipient = importX25519PublicKey(recipientPublicKey);
  const ephemeral = freshKeyPair('X25519');
  ephemeral.secret.fill(0);
  const epk = ephemeral.publicKey;
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: ephemeral.key, publicKey: recipient });
  } catch (cause) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      'intl encryption public key: X25519 rejected it (small-order point?)',
      {},
      { cause },
    );
  }
  const { key, nonce, okm } = wrapSecrets(shared, epk, recipientPublicKey);
  const parts = gcmEncrypt(key, nonce, dataKey, WRAP_INFO);
  okm.fill(0);
  return u8(Buffer.concat([epk, ...parts]));
}

function unwrapKey(wrapped: Uint8Array, recipientPrivateKey: Uint8Array): Uint8Array {
  const fail = (why: string): CryptoError =>
    new CryptoError(CryptoErrorCode.unwrapFailed, `intl unwrap failed: ${why}`);
  if (!isBytes(wrapped) || wrapped.length <= X25519_KEY_LENGTH + GCM_TAG_LENGTH) {
    throw fail(`wrapped key too short (${describeLength(wrapped)})`);
  }
  const privateKey = privateKeyObject(recipientPrivateKey, X25519_PKCS8_PREFIX, 'x25519');
  const rpk = jwkField(createPublicKey(privateKey), 'x');
  const epk = wrapped.subarray(0, X25519_KEY_LENGTH);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey: importX25519PublicKey(epk) });
  } catch {
    throw fail('invalid ephemeral key');
  }
  const { key, nonce, okm } = wrapSecrets(shared, epk, rpk);
  const tag = wrapped.subarray(wrapped.length - GCM_TAG_LENGTH);
  const ciphertext = wrapped.subarray(X25519_KEY_LENGTH, wrapped.length - GCM_TAG_LENGTH);
  const dataKey = gcmDecrypt(key, nonce, ciphertext, tag, WRAP_INFO);
  okm.fill(0);
  if (dataKey === undefined) throw fail('not the recipient key, or the wrap was tampered with');
  return dataKey;
}

// ---------------------------------------------------------------- suite

export const intlSuite: CryptoSuite = Object.freeze({
  id: 'intl',
  hashLength: 32,
  publicKeyLength: PUBLIC_KEY_LENGTH,
  signatureLength: SIGNATURE_LENGTH,
  aeadKeyLength: AEAD_KEY_LENGTH,

  hash(data: Uint8Array): Uint8Array {
    return u8(createHash('sha256').update(data).digest());
  },

  generateKeyPair(): KeyPair {
    const { secret, publicKey } = freshKeyPair('Ed25519');
    return { suite: 'intl', privateKey: secret, publicKey };
  },
  keyPairFromPrivateKey,
  sign,
  verify,
  registerKnownSigner,
  seal,
  open,
  generateEncryptionKeyPair,
  encryptionKeyPairFromSigningKey,
  wrapKey,
  unwrapKey,
  randomBytes(length: number): Uint8Array {
    return u8(nodeRandomBytes(length));
  },
} satisfies CryptoSuite);
