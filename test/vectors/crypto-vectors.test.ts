/**
 * Known-answer vectors for both crypto suites. Every vector file section must be
 * non-empty and the last test checks that every vector ran, so vectors cannot
 * silently disappear (STYLE.md §6).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import smCrypto from 'sm-crypto';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../src/errors.js';
import { getSuite, signingPrefix } from '../../src/crypto/index.js';
import type { DomainTag } from '../../src/crypto/index.js';
import { sm4AeadSealWithIv } from '../../src/crypto/gm.js';
import { aes256GcmSealWithNonce, ed25519SignRaw, ed25519VerifyRaw } from '../../src/crypto/intl.js';
import {
  sm2ClearKeyCaches,
  sm2PublicKeyFromPrivate,
  sm2RegisterKnownSigner,
  sm2SignWithK,
  sm2VerifyRaw,
} from '../../src/crypto/sm2.js';

type Vector = Readonly<Record<string, string | number | null>>;

function load(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** The vectors of one section; fails loudly if the section is missing or empty. */
function section(file: Record<string, unknown>, fileName: string, key: string): Vector[] {
  const value = file[key];
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvariantError(`${fileName}: section "${key}" is missing or empty`);
  }
  return value as Vector[];
}

function str(v: Vector, key: string): string {
  const value = v[key];
  if (typeof value !== 'string') throw new InvariantError(`vector field "${key}" is not a string`);
  return value;
}
function hex(v: Vector, key: string): Uint8Array {
  return new Uint8Array(Buffer.from(str(v, key), 'hex'));
}
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const cryptoJson = load('crypto.json');
const aeadJson = load('aead.json');
const edJson = load('ed25519-rfc8032.json');
const formatsJson = load('medchain-formats.json');

const sm3Vectors = section(cryptoJson, 'crypto.json', 'sm3');
const sm4Vectors = section(cryptoJson, 'crypto.json', 'sm4');
const sm2Vectors = section(cryptoJson, 'crypto.json', 'sm2_signature');
const edVectors = [
  ...section(cryptoJson, 'crypto.json', 'ed25519'),
  ...section(edJson, 'ed25519-rfc8032.json', 'ed25519'),
];
const gcmVectors = section(aeadJson, 'aead.json', 'aes_256_gcm');
const gmAeadVectors = section(formatsJson, 'medchain-formats.json', 'gm_aead_v1');
const digestVectors = section(formatsJson, 'medchain-formats.json', 'signing_digest_v1');

const allSections = [
  sm3Vectors,
  sm4Vectors,
  sm2Vectors,
  edVectors,
  gcmVectors,
  gmAeadVectors,
  digestVectors,
];
const expectedCount = allSections.reduce((n, s) => n + s.length, 0);
/** Lower bound on the vector count today: raise it when adding vectors, never lower it. */
const MINIMUM_VECTORS = 16;

let ran = 0;
const intl = getSuite('intl');
const gm = getSuite('gm');

describe('SM3 (GB/T 32905)', () => {
  for (const v of sm3Vectors) {
    it(str(v, 'source'), () => {
      const input = new Uint8Array(Buffer.from(str(v, 'input_utf8'), 'utf8'));
      expect(toHex(gm.hash(input))).toBe(str(v, 'digest'));
      expect(smCrypto.sm3(input)).toBe(str(v, 'digest'));
      ran++;
    });
  }
});

describe('SM4 (GB/T 32907), node sm4-ecb', () => {
  for (const v of sm4Vectors) {
    it(str(v, 'source'), () => {
      const iterations = v.iterations;
      expect(typeof iterations === 'number' && iterations >= 1).toBe(true);
      const cipher = createCipheriv('sm4-ecb', hex(v, 'key'), null);
      cipher.setAutoPadding(false);
      let block = Buffer.from(hex(v, 'plaintext'));
      for (let i = 0; i < (iterations as number); i++) block = cipher.update(block);
      expect(block.toString('hex')).toBe(str(v, 'ciphertext'));
      if (iterations === 1) {
        const reference = smCrypto.sm4.encrypt(hex(v, 'plaintext'), str(v, 'key'), {
          padding: 'none',
        });
        expect(reference).toBe(str(v, 'ciphertext'));
      }
      ran++;
    });
  }
});

describe('SM2 signature (GB/T 32918.2) with the default user ID', () => {
  for (const v of sm2Vectors) {
    it(str(v, 'source'), () => {
      expect(str(v, 'user_id_utf8')).toBe('1234567812345678');
      const privateKey = hex(v, 'private_key');
      const publicKey = hex(v, 'public_key_uncompressed');
      const message = new Uint8Array(Buffer.from(str(v, 'message_utf8'), 'utf8'));
      const expected = str(v, 'r') + str(v, 's');

      expect(toHex(sm2PublicKeyFromPrivate(privateKey))).toBe(str(v, 'public_key_uncompressed'));
      const signature = sm2SignWithK(message, privateKey, BigInt(`0x${str(v, 'k')}`));
      expect(signature && toHex(signature)).toBe(expected);

      const published = new Uint8Array(Buffer.from(expected, 'hex'));
      sm2ClearKeyCaches();
      expect(sm2VerifyRaw(message, published, publicKey)).toBe(true);
      sm2RegisterKnownSigner(publicKey);
      expect(sm2VerifyRaw(message, published, publicKey)).toBe(true);
      expect(sm2VerifyRaw(new Uint8Array([...message, 0]), published, publicKey)).toBe(false);
      expect(
        smCrypto.sm2.doVerifySignature(message, expected, str(v, 'public_key_uncompressed'), {
          hash: true,
        }),
      ).toBe(true);
      ran++;
    });
  }
});

describe('Ed25519 (RFC 8032)', () => {
  for (const v of edVectors) {
    it(str(v, 'source'), () => {
      const seed = hex(v, 'secret_key');
      const message = hex(v, 'message');
      expect(toHex(intl.keyPairFromPrivateKey(seed).publicKey)).toBe(str(v, 'public_key'));
      expect(toHex(ed25519SignRaw(message, seed))).toBe(str(v, 'signature'));
      expect(ed25519VerifyRaw(message, hex(v, 'signature'), hex(v, 'public_key'))).toBe(true);
      const tampered = hex(v, 'signature');
      tampered[0] = (tampered[0] as number) ^ 1;
      expect(ed25519VerifyRaw(message, tampered, hex(v, 'public_key'))).toBe(false);
      ran++;
    });
  }
});

describe('AES-256-GCM (McGrew–Viega test cases)', () => {
  for (const v of gcmVectors) {
    it(str(v, 'source'), () => {
      const key = hex(v, 'key');
      const iv = hex(v, 'iv');
      const aad = str(v, 'aad') === '' ? undefined : hex(v, 'aad');
      const sealed = aes256GcmSealWithNonce(key, iv, hex(v, 'plaintext'), aad);
      expect(toHex(sealed)).toBe(str(v, 'iv') + str(v, 'ciphertext') + str(v, 'tag'));
      expect(toHex(intl.open(key, sealed, aad))).toBe(str(v, 'plaintext'));
      ran++;
    });
  }
});

describe('gm AEAD v1 golden outputs', () => {
  for (const v of gmAeadVectors) {
    it(str(v, 'source'), () => {
      const key = hex(v, 'key');
      const aad = v.aad === null ? undefined : hex(v, 'aad');
      const sealed = sm4AeadSealWithIv(key, hex(v, 'iv'), hex(v, 'plaintext'), aad);
      expect(toHex(sealed)).toBe(str(v, 'sealed'));
      expect(toHex(gm.open(key, hex(v, 'sealed'), aad))).toBe(str(v, 'plaintext'));
      ran++;
    });
  }
});

describe('signing digest v1 golden outputs', () => {
  for (const v of digestVectors) {
    it(str(v, 'source'), () => {
      const prefix = signingPrefix(str(v, 'domain') as DomainTag, str(v, 'chain_id'));
      expect(prefix.toString('hex')).toBe(str(v, 'prefix'));
      const preimage = Buffer.concat([prefix, hex(v, 'message')]);
      expect(createHash('sha256').update(preimage).digest('hex')).toBe(str(v, 'intl_digest'));
      expect(toHex(gm.hash(preimage))).toBe(str(v, 'gm_digest'));
      ran++;
    });
  }
});

describe('vector bookkeeping', () => {
  it('ran every vector in every file', () => {
    expect(expectedCount).toBeGreaterThanOrEqual(MINIMUM_VECTORS);
    expect(ran).toBe(expectedCount);
  });
});
