/**
 * The `gm` (国密) suite: SM2 signatures and key wrap, SM3, and SM4 AEAD.
 *
 * Formats
 * - signature: 64 bytes r‖s, the GB/T 32918.2 signature (default user ID
 *   "1234567812345678") of M = SM3(domain-separated preimage, ./domain.ts);
 *   so e = SM3(Z ‖ SM3(prefix ‖ message)).
 * - seal: SM4-CTR + HMAC-SM3, encrypt-then-MAC (node has no sm4-gcm):
 *     encKey = HMAC-SM3(K, "medchain/gm-aead/v1/enc")[0..16]
 *     macKey = HMAC-SM3(K, "medchain/gm-aead/v1/mac")
 *     iv     = 16 random bytes (initial counter block)
 *     ct     = SM4-CTR(encKey, iv, plaintext)
 *     tag    = HMAC-SM3(macKey, "medchain/gm-aead/v1" ‖ u64be(|aad|) ‖ aad ‖ iv ‖ ct)  (32 bytes)
 *     sealed = iv ‖ ct ‖ tag
 *   The tag is checked (constant time) before anything is decrypted.
 * - wrapKey: SM2 public-key encryption (GB/T 32918.4), C1 ‖ C3 ‖ C2 with C1 = 04‖x‖y.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { describeLength, isBytes, u8 } from './bytes.js';
import { signingPrefix } from './domain.js';
import { CryptoError, CryptoErrorCode } from './errors.js';
import {
  SM2_PUBLIC_KEY_LENGTH,
  SM2_SIGNATURE_LENGTH,
  sm2Decrypt,
  sm2Encrypt,
  sm2GeneratePrivateKey,
  sm2PublicKeyFromPrivate,
  sm2RegisterKnownSigner,
  sm2SignRaw,
  sm2VerifyRaw,
  sm3,
} from './sm2.js';
import type { CryptoSuite, DomainTag, EncryptionKeyPair, KeyPair } from './suite.js';

const AEAD_KEY_LENGTH = 16;
const IV_LENGTH = 16;
const TAG_LENGTH = 32;
const AEAD_LABEL = Buffer.from('medchain/gm-aead/v1', 'utf8');
const ENC_LABEL = Buffer.from('medchain/gm-aead/v1/enc', 'utf8');
const MAC_LABEL = Buffer.from('medchain/gm-aead/v1/mac', 'utf8');

function signedMessage(domain: DomainTag, chainId: string, message: Uint8Array): Buffer {
  return sm3(signingPrefix(domain, chainId), message);
}

function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  const publicKey = sm2PublicKeyFromPrivate(privateKey);
  return {
    suite: 'gm',
    privateKey: Uint8Array.from(privateKey),
    publicKey: Uint8Array.from(publicKey),
  };
}

// ---------------------------------------------------------------- AEAD

function aeadKeys(key: Uint8Array): { encKey: Buffer; macKey: Buffer } {
  if (!isBytes(key) || key.length !== AEAD_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `gm AEAD key: expected ${AEAD_KEY_LENGTH} bytes, got ${describeLength(key)}`,
    );
  }
  return {
    encKey: createHmac('sm3', key).update(ENC_LABEL).digest().subarray(0, AEAD_KEY_LENGTH),
    macKey: createHmac('sm3', key).update(MAC_LABEL).digest(),
  };
}

function aeadTag(
  macKey: Buffer,
  aad: Uint8Array | undefined,
  iv: Uint8Array,
  ct: Uint8Array,
): Buffer {
  const aadLength = Buffer.alloc(8);
  aadLength.writeBigUInt64BE(BigInt(aad?.length ?? 0));
  const mac = createHmac('sm3', macKey).update(AEAD_LABEL).update(aadLength);
  if (aad !== undefined) mac.update(aad);
  return mac.update(iv).update(ct).digest();
}

function assertOptionalBytes(value: Uint8Array | undefined, field: string): void {
  if (value !== undefined && !isBytes(value)) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, `${field}: expected bytes`);
  }
}

function sealWith(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
): Uint8Array {
  const { encKey, macKey } = aeadKeys(key);
  try {
    if (!isBytes(plaintext)) {
      throw new CryptoError(CryptoErrorCode.invalidArgument, 'plaintext: expected bytes');
    }
    assertOptionalBytes(aad, 'aad');
    const cipher = createCipheriv('sm4-ctr', encKey, iv);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return u8(Buffer.concat([iv, ct, aeadTag(macKey, aad, iv, ct)]));
  } finally {
    encKey.fill(0);
    macKey.fill(0);
  }
}

/**
 * `seal` with a caller-chosen IV — for golden-vector tests only: reusing an IV
 * under one key breaks CTR confidentiality.
 */
export function sm4AeadSealWithIv(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
  aad?: Uint8Array,
): Uint8Array {
  if (!isBytes(iv) || iv.length !== IV_LENGTH) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, `iv: expected ${IV_LENGTH} bytes`);
  }
  return sealWith(key, iv, plaintext, aad);
}

function seal(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
  return sealWith(key, randomBytes(IV_LENGTH), plaintext, aad);
}

function open(key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  const { encKey, macKey } = aeadKeys(key);
  assertOptionalBytes(aad, 'aad');
  try {
    if (!isBytes(sealed) || sealed.length < IV_LENGTH + TAG_LENGTH) {
      throw new CryptoError(
        CryptoErrorCode.aeadOpenFailed,
        `gm AEAD open failed: sealed data too short (${describeLength(sealed)})`,
      );
    }
    const iv = sealed.subarray(0, IV_LENGTH);
    const ct = sealed.subarray(IV_LENGTH, sealed.length - TAG_LENGTH);
    const tag = sealed.subarray(sealed.length - TAG_LENGTH);
    if (!timingSafeEqual(aeadTag(macKey, aad, iv, ct), tag)) {
      throw new CryptoError(
        CryptoErrorCode.aeadOpenFailed,
        'gm AEAD open failed: wrong key, tampered ciphertext or wrong aad',
      );
    }
    const decipher = createDecipheriv('sm4-ctr', encKey, iv);
    return u8(Buffer.concat([decipher.update(ct), decipher.final()]));
  } finally {
    encKey.fill(0);
    macKey.fill(0);
  }
}

// ---------------------------------------------------------------- suite

function encryptionKeyPairFromSigningKey(privateKey: Uint8Array): EncryptionKeyPair {
  const { publicKey } = keyPairFromPrivateKey(privateKey);
  return { suite: 'gm', privateKey: Uint8Array.from(privateKey), publicKey };
}

export const gmSuite: CryptoSuite = Object.freeze({
  id: 'gm',
  hashLength: 32,
  publicKeyLength: SM2_PUBLIC_KEY_LENGTH,
  signatureLength: SM2_SIGNATURE_LENGTH,
  aeadKeyLength: AEAD_KEY_LENGTH,

  hash(data: Uint8Array): Uint8Array {
    return u8(sm3(data));
  },
  generateKeyPair(): KeyPair {
    return keyPairFromPrivateKey(sm2GeneratePrivateKey());
  },
  keyPairFromPrivateKey,
  sign(
    domain: DomainTag,
    chainId: string,
    message: Uint8Array,
    privateKey: Uint8Array,
  ): Uint8Array {
    if (!isBytes(message)) {
      throw new CryptoError(CryptoErrorCode.invalidArgument, 'message: expected bytes');
    }
    return sm2SignRaw(signedMessage(domain, chainId, message), privateKey);
  },
  verify(
    domain: DomainTag,
    chainId: string,
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
  ): boolean {
    try {
      if (!isBytes(message)) return false;
      return sm2VerifyRaw(signedMessage(domain, chainId, message), signature, publicKey);
    } catch {
      return false;
    }
  },
  registerKnownSigner(publicKey: Uint8Array): void {
    sm2RegisterKnownSigner(publicKey);
  },
  seal,
  open,
  generateEncryptionKeyPair(): EncryptionKeyPair {
    return encryptionKeyPairFromSigningKey(sm2GeneratePrivateKey());
  },
  encryptionKeyPairFromSigningKey,
  wrapKey(dataKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
    return sm2Encrypt(dataKey, recipientPublicKey);
  },
  unwrapKey(wrapped: Uint8Array, recipientPrivateKey: Uint8Array): Uint8Array {
    const dataKey = sm2Decrypt(wrapped, recipientPrivateKey);
    if (dataKey === undefined) {
      throw new CryptoError(
        CryptoErrorCode.unwrapFailed,
        'gm unwrap failed: not the recipient key, or the wrap was tampered with',
      );
    }
    return dataKey;
  },
  randomBytes(length: number): Uint8Array {
    return u8(randomBytes(length));
  },
} satisfies CryptoSuite);
