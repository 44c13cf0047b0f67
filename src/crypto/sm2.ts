/**
 * SM2 per GB/T 32918 on the recommended curve sm2p256v1: signatures (part 2)
 * and public-key encryption (part 4), with the default user ID
 * "1234567812345678". Interoperable with `sm-crypto` (signature r‖s,
 * ciphertext C1‖C3‖C2 = its cipherMode 1, except that our C1 keeps the 0x04
 * point prefix, as the standard's point encoding does).
 *
 * Where each scalar multiplication runs:
 * - k·G and d·G with a secret scalar: OpenSSL (`createECDH('SM2')`), native
 *   and constant time, ~2× faster than noble's blinded `multiply`;
 * - k·P and d·C1 with a secret scalar (encryption, decryption): OpenSSL ECDH
 *   gives x only; y's sign is recovered from a second native product (see
 *   `nativeSecretProduct`), ~1.6× faster than noble; noble's blinded
 *   `multiply` is the fallback for the degenerate points ±G;
 * - s·G + t·P in verification (public data only): ./sm2-curve.ts, with comb
 *   tables for the generator and for registered signers.
 */
import { createECDH, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import {
  bigIntToBytes,
  buf,
  bytesToBigInt,
  bytesToHex,
  describeLength,
  isBytes,
  u8,
} from './bytes.js';
import { CryptoError, CryptoErrorCode } from './errors.js';
import {
  FixedBaseTable,
  SM2_A,
  SM2_B,
  SM2_GX,
  SM2_GY,
  SM2_N,
  SM2_P,
  invertMod,
  isOnCurve,
  sm2CheckCombination,
} from './sm2-curve.js';
import type { Sm2VerifyKey } from './sm2-curve.js';

const N = SM2_N;

/** noble point type for sm2p256v1 (validation and secret-scalar variable-base multiplication). */
export const Sm2Point = weierstrass({
  p: SM2_P,
  n: SM2_N,
  h: 1n,
  a: SM2_A,
  b: SM2_B,
  Gx: SM2_GX,
  Gy: SM2_GY,
});

export const SM2_DEFAULT_USER_ID = Buffer.from('1234567812345678', 'utf8');
export const SM2_PUBLIC_KEY_LENGTH = 65;
export const SM2_PRIVATE_KEY_LENGTH = 32;
export const SM2_SIGNATURE_LENGTH = 64;
const C1_LENGTH = 65;
const C3_LENGTH = 32;

export function sm3(...parts: readonly Uint8Array[]): Buffer {
  const h = createHash('sm3');
  for (const part of parts) h.update(part);
  return h.digest();
}

// ---------------------------------------------------------------- keys and Z

const CURVE_BYTES = Buffer.concat(
  [SM2_A, SM2_B, SM2_GX, SM2_GY].map((v) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex')),
);

/** Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA). */
export function sm2Z(publicKey: Uint8Array, userId: Uint8Array = SM2_DEFAULT_USER_ID): Buffer {
  if (userId.length > 8191) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'userId: longer than 8191 bytes');
  }
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(userId.length * 8);
  return sm3(entl, userId, CURVE_BYTES, publicKey.subarray(1));
}

interface PublicKeyInfo extends Sm2VerifyKey {
  /** Z for the default user ID. */
  readonly z: Buffer;
}

/** Parse a 65-byte uncompressed key; undefined if it is not a point on the curve. */
function parsePublicKey(publicKey: Uint8Array): PublicKeyInfo | undefined {
  if (publicKey.length !== SM2_PUBLIC_KEY_LENGTH || publicKey[0] !== 0x04) return undefined;
  const x = bytesToBigInt(publicKey.subarray(1, 33));
  const y = bytesToBigInt(publicKey.subarray(33, 65));
  if (!isOnCurve(x, y)) return undefined; // cofactor 1: on the curve ⇒ in the group, ≠ infinity
  return { x, y, z: sm2Z(publicKey) };
}

const PUBLIC_KEY_CACHE_MAX = 4096;
/** Parsed keys (coordinates and Z), evicted oldest-inserted first. */
const publicKeyCache = new Map<string, PublicKeyInfo>();
/** Registered signers, with comb tables; kept apart so strangers cannot evict them. */
const knownSigners = new Map<string, PublicKeyInfo>();

/** Comb window for registered signers: w = 8 → 33 × 128 affine points (~470 KiB of heap) per key. */
export const KNOWN_SIGNER_WINDOW = 8;
/** At most this many registered signers keep tables; the oldest registration is dropped beyond it. */
export const KNOWN_SIGNERS_MAX = 256; // ≈ 120 MiB at most

function cachedPublicKey(publicKey: Uint8Array): PublicKeyInfo | undefined {
  const hex = bytesToHex(publicKey);
  const known = knownSigners.get(hex);
  if (known !== undefined) return known;
  const cached = publicKeyCache.get(hex);
  if (cached !== undefined) return cached;
  const info = parsePublicKey(publicKey);
  if (info === undefined) return undefined;
  if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) {
    const oldest = publicKeyCache.keys().next();
    if (oldest.done !== true) publicKeyCache.delete(oldest.value);
  }
  publicKeyCache.set(hex, info);
  return info;
}

export function assertSm2PublicKey(publicKey: Uint8Array, what = 'gm public key'): void {
  if (!isBytes(publicKey) || publicKey.length !== SM2_PUBLIC_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `${what}: expected ${SM2_PUBLIC_KEY_LENGTH} bytes (04‖x‖y), got ${describeLength(publicKey)}`,
    );
  }
  if (publicKey[0] !== 0x04) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `${what}: expected the uncompressed prefix 0x04`,
    );
  }
  if (parsePublicKey(publicKey) === undefined) {
    throw new CryptoError(CryptoErrorCode.invalidKey, `${what}: not a point on sm2p256v1`);
  }
}

/** Precompute a comb table for a signer whose signatures will be verified often. */
export function sm2RegisterKnownSigner(publicKey: Uint8Array): void {
  assertSm2PublicKey(publicKey);
  const hex = bytesToHex(publicKey);
  if (knownSigners.has(hex)) return;
  const info = cachedPublicKey(publicKey);
  if (info === undefined) return; // unreachable: asserted above
  const known: PublicKeyInfo = {
    x: info.x,
    y: info.y,
    z: info.z,
    table: new FixedBaseTable(info.x, info.y, KNOWN_SIGNER_WINDOW),
  };
  if (knownSigners.size >= KNOWN_SIGNERS_MAX) {
    const oldest = knownSigners.keys().next();
    if (oldest.done !== true) knownSigners.delete(oldest.value);
  }
  knownSigners.set(hex, known);
  publicKeyCache.delete(hex);
}

/** Drop every cached key and table (tests, benchmarks). */
export function sm2ClearKeyCaches(): void {
  publicKeyCache.clear();
  knownSigners.clear();
}

// ---------------------------------------------------------------- private keys

/** Native fixed-base multiplication k·G (OpenSSL), returning 04‖x‖y. */
const baseMultiplier = createECDH('SM2');
function mulBaseSecret(k: bigint): Buffer {
  const scalar = Buffer.from(bigIntToBytes(k, 32));
  try {
    baseMultiplier.setPrivateKey(scalar);
    return baseMultiplier.getPublicKey();
  } finally {
    scalar.fill(0);
  }
}

interface PrivateKeyContext {
  readonly copy: Buffer;
  readonly d: bigint;
  /** (1 + d)⁻¹ mod n */
  readonly dPlusOneInverse: bigint;
  readonly publicKey: Uint8Array;
  readonly z: Buffer;
}
const privateKeyCache = new WeakMap<Uint8Array, PrivateKeyContext>();

/** Parse a 32-byte scalar with 1 ≤ d ≤ n − 2 (GB/T 32918.1 §6.1). */
export function sm2PrivateScalar(privateKey: Uint8Array): bigint {
  if (!isBytes(privateKey) || privateKey.length !== SM2_PRIVATE_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `gm private key: expected ${SM2_PRIVATE_KEY_LENGTH} bytes, got ${describeLength(privateKey)}`,
    );
  }
  const d = bytesToBigInt(privateKey);
  if (d < 1n || d > N - 2n) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      'gm private key: scalar out of range [1, n−2]',
    );
  }
  return d;
}

export function sm2PublicKeyFromPrivate(privateKey: Uint8Array): Uint8Array {
  return privateContext(privateKey).publicKey;
}

function privateContext(privateKey: Uint8Array): PrivateKeyContext {
  const cached = privateKeyCache.get(privateKey);
  if (cached !== undefined && timingSafeEqual(cached.copy, privateKey)) return cached;
  const d = sm2PrivateScalar(privateKey);
  const publicKey = u8(mulBaseSecret(d));
  const context: PrivateKeyContext = {
    copy: Buffer.from(privateKey),
    d,
    dPlusOneInverse: invertMod(d + 1n, N),
    publicKey,
    z: sm2Z(publicKey),
  };
  privateKeyCache.set(privateKey, context);
  return context;
}

export function sm2GeneratePrivateKey(): Uint8Array {
  for (;;) {
    const candidate = randomBytes(32);
    const d = bytesToBigInt(candidate);
    if (d >= 1n && d <= N - 2n) return u8(candidate);
  }
}

// ---------------------------------------------------------------- signatures

export interface Sm2Signature {
  readonly r: bigint;
  readonly s: bigint;
}

function encodeSignature({ r, s }: Sm2Signature): Uint8Array {
  return u8(Buffer.concat([bigIntToBytes(r, 32), bigIntToBytes(s, 32)]));
}

/** One signing attempt with nonce k; undefined if k must be replaced (GB/T 32918.2 §6.1 A5/A6). */
function signDigestWithK(
  e: bigint,
  context: PrivateKeyContext,
  k: bigint,
): Sm2Signature | undefined {
  const x1 = bytesToBigInt(mulBaseSecret(k).subarray(1, 33));
  const r = (e + x1) % N;
  if (r === 0n || r + k === N) return undefined;
  let s = (context.dPlusOneInverse * ((k - r * context.d) % N)) % N;
  if (s < 0n) s += N;
  if (s === 0n) return undefined;
  return { r, s };
}

const NONCE_TAG = Buffer.from('medchain/sm2-nonce/v1', 'utf8');

/**
 * Hedged nonce: k = HMAC-SM3(d, tag ‖ e ‖ 32 fresh random bytes ‖ counter), retried until
 * 1 ≤ k < n. A broken RNG still gives distinct k for distinct messages; fresh randomness
 * keeps k unpredictable even if the same message is signed twice.
 */
function hedgedNonce(context: PrivateKeyContext, eBytes: Uint8Array, counter: number): bigint {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  for (;;) {
    const k = bytesToBigInt(
      createHmac('sm3', context.copy)
        .update(NONCE_TAG)
        .update(eBytes)
        .update(randomBytes(32))
        .update(count)
        .digest(),
    );
    if (k >= 1n && k < N) return k;
  }
}

/** e = SM3(Z ‖ M) */
function messageDigest(z: Uint8Array, message: Uint8Array): Buffer {
  return sm3(z, message);
}

/** GB/T 32918.2 signature of `message` (the standard's M) with the default user ID: 64 bytes r‖s. */
export function sm2SignRaw(message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  if (!isBytes(message))
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'message: expected bytes');
  const context = privateContext(privateKey);
  const eBytes = messageDigest(context.z, message);
  const e = bytesToBigInt(eBytes);
  for (let counter = 0; ; counter++) {
    const signature = signDigestWithK(e, context, hedgedNonce(context, eBytes, counter));
    if (signature !== undefined) return encodeSignature(signature);
  }
}

/**
 * Sign with a caller-chosen nonce k — for known-answer tests only. Reusing k
 * across two messages reveals the private key.
 */
export function sm2SignWithK(
  message: Uint8Array,
  privateKey: Uint8Array,
  k: bigint,
): Uint8Array | undefined {
  const context = privateContext(privateKey);
  if (k < 1n || k >= N) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'k: out of range [1, n−1]');
  }
  const signature = signDigestWithK(bytesToBigInt(messageDigest(context.z, message)), context, k);
  return signature === undefined ? undefined : encodeSignature(signature);
}

/**
 * Verify a GB/T 32918.2 signature (64 bytes r‖s) of `message` with the default user ID.
 * Never throws: anything malformed verifies false.
 */
export function sm2VerifyRaw(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    if (
      !isBytes(message) ||
      !isBytes(signature) ||
      signature.length !== SM2_SIGNATURE_LENGTH ||
      !isBytes(publicKey) ||
      publicKey.length !== SM2_PUBLIC_KEY_LENGTH
    ) {
      return false;
    }
    const r = bytesToBigInt(signature.subarray(0, 32));
    const s = bytesToBigInt(signature.subarray(32, 64));
    if (r < 1n || r >= N || s < 1n || s >= N) return false;
    const t = (r + s) % N;
    if (t === 0n) return false;
    const key = cachedPublicKey(publicKey);
    if (key === undefined) return false;
    const e = bytesToBigInt(messageDigest(key.z, message));
    // R = (e + x1) mod n == r  ⇔  x1 ≡ r − e (mod n)
    let expectedX = (r - e) % N;
    if (expectedX < 0n) expectedX += N;
    return sm2CheckCombination(s, t, key, expectedX);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- encryption (GB/T 32918.4)

/** KDF(Z, klen) = SM3(Z ‖ 1) ‖ SM3(Z ‖ 2) ‖ … truncated to klen bytes. */
function sm2Kdf(z: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let offset = 0, ct = 1; offset < length; offset += 32, ct++) {
    counter.writeUInt32BE(ct);
    sm3(z, counter).copy(out, offset, 0, Math.min(32, length - offset));
  }
  return out;
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/** Maximum plaintext accepted by SM2 encryption here (it is meant for data keys). */
export const SM2_MAX_PLAINTEXT = 4096;

// ---------------------------------------------------------------- secret variable-base products

const GENERATOR_BYTES = Sm2Point.BASE.toBytes(false);

/** R + G for a public point R (undefined when R = ±G); public data only. */
function plusGenerator(r: Uint8Array): Uint8Array | undefined {
  const point = Sm2Point.fromBytes(r);
  if (point.equals(Sm2Point.BASE) || point.equals(Sm2Point.BASE.negate())) return undefined;
  return point.add(Sm2Point.BASE).toBytes(false);
}

/**
 * S = scalar·R as x ‖ y (64 bytes), where `baseMultiplier` holds `scalar` and
 * `t` = scalar·G. OpenSSL's ECDH is native and constant time but returns only
 * x(S); the sign of y(S) is recovered from a second native product
 * x(scalar·(R + G)) = x(S + T): of the two square roots ±y, exactly one gives
 * that sum (they coincide only if 2S or 2T were the identity). Returns
 * undefined in degenerate cases (R = ±G), where the caller falls back to noble.
 */
function nativeSecretProduct(r: Uint8Array, t: Buffer): Buffer | undefined {
  const rPlusG = plusGenerator(r);
  if (rPlusG === undefined) return undefined;
  let x2: bigint;
  let xSum: bigint;
  try {
    x2 = bytesToBigInt(baseMultiplier.computeSecret(r));
    xSum = bytesToBigInt(baseMultiplier.computeSecret(rPlusG));
  } catch {
    return undefined;
  }
  const Fp = Sm2Point.Fp;
  const y = Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x2), x2), Fp.add(Fp.mul(SM2_A, x2), SM2_B)));
  const xT = bytesToBigInt(t.subarray(1, 33));
  const yT = bytesToBigInt(t.subarray(33, 65));
  if (x2 === xT) return undefined;
  const inverse = Fp.inv(Fp.sub(x2, xT));
  for (const candidate of [y, Fp.neg(y)]) {
    const lambda = Fp.mul(Fp.sub(candidate, yT), inverse);
    if (Fp.sub(Fp.sub(Fp.sqr(lambda), x2), xT) === xSum) {
      return Buffer.concat([bigIntToBytes(x2, 32), bigIntToBytes(candidate, 32)]);
    }
  }
  return undefined;
}

/** scalar·R with noble's blinded multiply (fallback path). */
function nobleSecretProduct(r: Uint8Array, scalar: bigint): Buffer {
  return Buffer.from(Sm2Point.fromBytes(r).multiply(scalar).toBytes(false).subarray(1));
}

// ---------------------------------------------------------------- encryption (GB/T 32918.4)

/** SM2 public-key encryption; output C1(65: 04‖x‖y) ‖ C3(32) ‖ C2(|M|). */
export function sm2Encrypt(plaintext: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (!isBytes(plaintext) || plaintext.length === 0 || plaintext.length > SM2_MAX_PLAINTEXT) {
    throw new CryptoError(
      CryptoErrorCode.invalidArgument,
      `plaintext: expected 1..${SM2_MAX_PLAINTEXT} bytes, got ${describeLength(plaintext)}`,
    );
  }
  assertSm2PublicKey(publicKey, 'gm encryption public key');
  for (;;) {
    const k = bytesToBigInt(randomBytes(32));
    if (k < 1n || k >= N) continue;
    const c1 = mulBaseSecret(k); // leaves k in baseMultiplier
    const shared = nativeSecretProduct(publicKey, c1) ?? nobleSecretProduct(publicKey, k); // x2 ‖ y2
    const t = sm2Kdf(shared, plaintext.length);
    if (isAllZero(t)) continue;
    for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) ^ (plaintext[i] as number);
    const c3 = sm3(shared.subarray(0, 32), plaintext, shared.subarray(32));
    shared.fill(0);
    return u8(Buffer.concat([c1, c3, t]));
  }
}

/** Inverse of {@link sm2Encrypt}; returns undefined when decryption fails for any reason. */
export function sm2Decrypt(ciphertext: Uint8Array, privateKey: Uint8Array): Uint8Array | undefined {
  const d = sm2PrivateScalar(privateKey);
  if (!isBytes(ciphertext) || ciphertext.length <= C1_LENGTH + C3_LENGTH) return undefined;
  const c1 = ciphertext.subarray(0, C1_LENGTH);
  const c3 = ciphertext.subarray(C1_LENGTH, C1_LENGTH + C3_LENGTH);
  const c2 = ciphertext.subarray(C1_LENGTH + C3_LENGTH);
  if (c2.length > SM2_MAX_PLAINTEXT) return undefined;
  if (c1[0] !== 0x04 || parsePublicKey(c1) === undefined) return undefined; // on the curve
  const publicKey = mulBaseSecret(d); // leaves d in baseMultiplier
  const shared = nativeSecretProduct(c1, publicKey) ?? nobleSecretProduct(c1, d);
  const t = sm2Kdf(shared, c2.length);
  if (isAllZero(t)) return undefined;
  for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) ^ (c2[i] as number);
  const check = sm3(shared.subarray(0, 32), t, shared.subarray(32));
  shared.fill(0);
  if (!timingSafeEqual(check, buf(c3))) {
    t.fill(0);
    return undefined;
  }
  return u8(t);
}

/** Exposed for tests: both secret-product paths on the same inputs. */
export const sm2SecretProductPathsForTest = {
  native(r: Uint8Array, scalar: bigint): Uint8Array | undefined {
    const t = mulBaseSecret(scalar);
    const out = nativeSecretProduct(r, t);
    return out === undefined ? undefined : u8(out);
  },
  noble(r: Uint8Array, scalar: bigint): Uint8Array {
    return u8(nobleSecretProduct(r, scalar));
  },
  generator: u8(Buffer.from(GENERATOR_BYTES)),
};
