/**
 * Behaviour every crypto suite must have (a compliance suite run for intl and gm):
 * sign/verify with domain separation, garbage never throwing, AEAD and key wrap.
 */
import fc from 'fast-check';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { CryptoError, DOMAIN, SUITE_IDS, getSuite } from '../../src/crypto/index.js';
import type { CryptoSuite, DomainTag } from '../../src/crypto/index.js';
import { SM2_N } from '../../src/crypto/sm2-curve.js';
import { sm2ClearKeyCaches } from '../../src/crypto/sm2.js';

const CHAIN = 'alliance-test';
const DOMAINS = Object.values(DOMAIN);
const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function expectCryptoError(fn: () => unknown, code: string): CryptoError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
  return caught as CryptoError;
}

function flipBit(data: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = Uint8Array.from(data);
  copy[index] = (copy[index] as number) ^ (1 << bit);
  return copy;
}

describe('getSuite', () => {
  it('returns each suite by id and refuses unknown ids', () => {
    for (const id of SUITE_IDS) expect(getSuite(id).id).toBe(id);
    const error = expectCryptoError(() => getSuite('rsa'), 'UNKNOWN_SUITE');
    expect(error.message).toContain('"rsa"');
    expectCryptoError(() => getSuite('INTL'), 'UNKNOWN_SUITE');
  });
});

describe.each(SUITE_IDS)('%s suite', (id) => {
  const suite: CryptoSuite = getSuite(id);
  const alice = suite.generateKeyPair();
  const bob = suite.generateKeyPair();
  const message = new Uint8Array(Buffer.from('patient record pointer #1', 'utf8'));
  const signature = suite.sign(DOMAIN.tx, CHAIN, message, alice.privateKey);

  describe('keys and hash', () => {
    it('has the documented sizes', () => {
      expect(suite.hashLength).toBe(32);
      expect(suite.hash(message)).toHaveLength(32);
      expect(alice.publicKey).toHaveLength(suite.publicKeyLength);
      expect(alice.privateKey).toHaveLength(32);
      expect(signature).toHaveLength(suite.signatureLength);
      expect(suite.aeadKeyLength).toBe(id === 'intl' ? 32 : 16);
      expect(alice.suite).toBe(id);
    });

    it('hashes deterministically and distinguishes inputs', () => {
      expect(hex(suite.hash(message))).toBe(hex(suite.hash(Uint8Array.from(message))));
      expect(hex(suite.hash(message))).not.toBe(hex(suite.hash(flipBit(message, 3))));
      expect(hex(suite.hash(new Uint8Array(0)))).toBe(
        id === 'intl'
          ? 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
          : '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b',
      );
    });

    it('derives the same public key from the private key', () => {
      const again = suite.keyPairFromPrivateKey(alice.privateKey);
      expect(hex(again.publicKey)).toBe(hex(alice.publicKey));
      expect(hex(again.privateKey)).toBe(hex(alice.privateKey));
      expect(hex(alice.publicKey)).not.toBe(hex(bob.publicKey));
    });

    it('rejects private keys of the wrong length with INVALID_KEY', () => {
      for (const length of [0, 1, 31, 33, 64, 65]) {
        expectCryptoError(() => suite.keyPairFromPrivateKey(new Uint8Array(length)), 'INVALID_KEY');
        expectCryptoError(
          () => suite.sign(DOMAIN.tx, CHAIN, message, new Uint8Array(length)),
          'INVALID_KEY',
        );
      }
    });

    it('returns fresh random bytes', () => {
      expect(suite.randomBytes(32)).toHaveLength(32);
      expect(hex(suite.randomBytes(32))).not.toBe(hex(suite.randomBytes(32)));
    });
  });

  describe('sign / verify', () => {
    it('verifies its own signature', () => {
      expect(suite.verify(DOMAIN.tx, CHAIN, message, signature, alice.publicKey)).toBe(true);
    });

    it('signs empty and large messages', () => {
      for (const m of [new Uint8Array(0), new Uint8Array(1 << 20).fill(7)]) {
        const s = suite.sign(DOMAIN.block, CHAIN, m, alice.privateKey);
        expect(suite.verify(DOMAIN.block, CHAIN, m, s, alice.publicKey)).toBe(true);
      }
    });

    it('a signature for one domain fails for every other domain', () => {
      for (const signed of DOMAINS) {
        const s = suite.sign(signed, CHAIN, message, alice.privateKey);
        for (const checked of DOMAINS) {
          expect(suite.verify(checked, CHAIN, message, s, alice.publicKey)).toBe(
            signed === checked,
          );
        }
      }
    });

    it('a signature for one chain id fails for another', () => {
      expect(suite.verify(DOMAIN.tx, `${CHAIN}-2`, message, signature, alice.publicKey)).toBe(
        false,
      );
      expect(suite.verify(DOMAIN.tx, 'alliance-tes', message, signature, alice.publicKey)).toBe(
        false,
      );
    });

    it('chain id and message boundaries cannot be shifted', () => {
      // ("ab", "c‖m") and ("abc", "m") must not share a preimage.
      const s = suite.sign(DOMAIN.tx, 'ab', bytes(0x63, 1, 2), alice.privateKey);
      expect(suite.verify(DOMAIN.tx, 'ab', bytes(0x63, 1, 2), s, alice.publicKey)).toBe(true);
      expect(suite.verify(DOMAIN.tx, 'abc', bytes(1, 2), s, alice.publicKey)).toBe(false);
    });

    it('fails for a wrong key, a changed message or a changed signature', () => {
      expect(suite.verify(DOMAIN.tx, CHAIN, message, signature, bob.publicKey)).toBe(false);
      expect(suite.verify(DOMAIN.tx, CHAIN, flipBit(message, 0), signature, alice.publicKey)).toBe(
        false,
      );
      expect(
        suite.verify(DOMAIN.tx, CHAIN, new Uint8Array([...message, 0]), signature, alice.publicKey),
      ).toBe(false);
      for (let i = 0; i < signature.length; i += 7) {
        expect(
          suite.verify(DOMAIN.tx, CHAIN, message, flipBit(signature, i, i % 8), alice.publicKey),
        ).toBe(false);
      }
    });

    it('garbage signatures and keys of every wrong length verify false without throwing', () => {
      const lengths = Array.from({ length: 131 }, (_, i) => i);
      for (const length of lengths) {
        if (length !== suite.signatureLength) {
          const garbage = new Uint8Array(length).fill(0xa5);
          expect(suite.verify(DOMAIN.tx, CHAIN, message, garbage, alice.publicKey)).toBe(false);
          // a real signature truncated or extended
          const resized = new Uint8Array(length);
          resized.set(signature.subarray(0, Math.min(length, signature.length)));
          expect(suite.verify(DOMAIN.tx, CHAIN, message, resized, alice.publicKey)).toBe(false);
        }
        if (length !== suite.publicKeyLength) {
          const key = new Uint8Array(length);
          key.set(alice.publicKey.subarray(0, Math.min(length, alice.publicKey.length)));
          expect(suite.verify(DOMAIN.tx, CHAIN, message, signature, key)).toBe(false);
        }
      }
    });

    it('random bytes of the right lengths verify false without throwing', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: suite.signatureLength, maxLength: suite.signatureLength }),
          fc.uint8Array({ minLength: suite.publicKeyLength, maxLength: suite.publicKeyLength }),
          (sig, key) => {
            expect(suite.verify(DOMAIN.tx, CHAIN, message, sig, alice.publicKey)).toBe(false);
            expect(suite.verify(DOMAIN.tx, CHAIN, message, signature, key)).toBe(false);
          },
        ),
        { numRuns: 40 },
      );
    });

    it('non-byte inputs verify false without throwing', () => {
      const junk: unknown[] = [undefined, null, 0, 'abc', {}, [1, 2, 3], new ArrayBuffer(64)];
      for (const value of junk) {
        const v = value as Uint8Array;
        expect(suite.verify(DOMAIN.tx, CHAIN, message, v, alice.publicKey)).toBe(false);
        expect(suite.verify(DOMAIN.tx, CHAIN, message, signature, v)).toBe(false);
        expect(suite.verify(DOMAIN.tx, CHAIN, v, signature, alice.publicKey)).toBe(false);
        expect(suite.verify(value as DomainTag, CHAIN, message, signature, alice.publicKey)).toBe(
          false,
        );
        expect(suite.verify(DOMAIN.tx, value as string, message, signature, alice.publicKey)).toBe(
          false,
        );
      }
    });

    it('refuses to sign with an empty or oversize chain id', () => {
      expectCryptoError(
        () => suite.sign(DOMAIN.tx, '', message, alice.privateKey),
        'INVALID_ARGUMENT',
      );
      expectCryptoError(
        () => suite.sign(DOMAIN.tx, 'x'.repeat(257), message, alice.privateKey),
        'INVALID_ARGUMENT',
      );
      expect(suite.verify(DOMAIN.tx, '', message, signature, alice.publicKey)).toBe(false);
    });

    it('gives the same answers after registerKnownSigner (precomputed tables)', () => {
      const signer = suite.generateKeyPair();
      const cases = Array.from({ length: 6 }, (_, i) => {
        const m = new Uint8Array([i, i + 1, i + 2]);
        return { m, s: suite.sign(DOMAIN.consensus, CHAIN, m, signer.privateKey) };
      });
      const check = (): boolean[] =>
        cases.flatMap(({ m, s }) => [
          suite.verify(DOMAIN.consensus, CHAIN, m, s, signer.publicKey),
          suite.verify(DOMAIN.consensus, CHAIN, flipBit(m, 0), s, signer.publicKey),
          suite.verify(DOMAIN.consensus, CHAIN, m, flipBit(s, 40), signer.publicKey),
        ]);
      const before = check();
      suite.registerKnownSigner(signer.publicKey);
      suite.registerKnownSigner(signer.publicKey); // idempotent
      expect(check()).toEqual(before);
      expect(before.filter(Boolean)).toHaveLength(cases.length);
      expect(before.filter((_, i) => i % 3 === 0).every(Boolean)).toBe(true);
    });

    it('registerKnownSigner refuses invalid keys with INVALID_KEY', () => {
      expectCryptoError(() => {
        suite.registerKnownSigner(new Uint8Array(3));
      }, 'INVALID_KEY');
      if (id === 'gm') {
        const offCurve = Uint8Array.from(alice.publicKey);
        offCurve[64] = (offCurve[64] as number) ^ 1;
        expectCryptoError(() => {
          suite.registerKnownSigner(offCurve);
        }, 'INVALID_KEY');
      }
    });
  });

  describe('AEAD', () => {
    const key = suite.randomBytes(suite.aeadKeyLength);
    const plaintext = new Uint8Array(Buffer.from('lab result 2024-03-01: negative', 'utf8'));
    const aad = new Uint8Array(Buffer.from('record:42', 'utf8'));

    it('round-trips with and without aad, including empty plaintext', () => {
      expect(hex(suite.open(key, suite.seal(key, plaintext, aad), aad))).toBe(hex(plaintext));
      expect(hex(suite.open(key, suite.seal(key, plaintext)))).toBe(hex(plaintext));
      expect(suite.open(key, suite.seal(key, new Uint8Array(0)))).toHaveLength(0);
    });

    it('uses a fresh nonce for every seal', () => {
      expect(hex(suite.seal(key, plaintext))).not.toBe(hex(suite.seal(key, plaintext)));
    });

    it('fails with AEAD_OPEN_FAILED for any flipped bit, wrong aad or wrong key', () => {
      const sealed = suite.seal(key, plaintext, aad);
      for (let i = 0; i < sealed.length; i++) {
        expectCryptoError(
          () => suite.open(key, flipBit(sealed, i, i % 8), aad),
          'AEAD_OPEN_FAILED',
        );
      }
      expectCryptoError(() => suite.open(key, sealed, flipBit(aad, 0)), 'AEAD_OPEN_FAILED');
      expectCryptoError(() => suite.open(key, sealed), 'AEAD_OPEN_FAILED');
      expectCryptoError(() => suite.open(key, suite.seal(key, plaintext), aad), 'AEAD_OPEN_FAILED');
      const otherKey = suite.randomBytes(suite.aeadKeyLength);
      expectCryptoError(() => suite.open(otherKey, sealed, aad), 'AEAD_OPEN_FAILED');
    });

    it('fails with AEAD_OPEN_FAILED for truncated or extended data', () => {
      const sealed = suite.seal(key, plaintext);
      for (const length of [0, 1, 12, 16, 28, 31, 32, sealed.length - 1]) {
        expectCryptoError(() => suite.open(key, sealed.subarray(0, length)), 'AEAD_OPEN_FAILED');
      }
      expectCryptoError(() => suite.open(key, new Uint8Array([...sealed, 0])), 'AEAD_OPEN_FAILED');
    });

    it('refuses keys of the wrong length with INVALID_KEY', () => {
      for (const length of [0, 15, 17, 24, 31, 33]) {
        if (length === suite.aeadKeyLength) continue;
        expectCryptoError(() => suite.seal(new Uint8Array(length), plaintext), 'INVALID_KEY');
        expectCryptoError(
          () => suite.open(new Uint8Array(length), suite.seal(key, plaintext)),
          'INVALID_KEY',
        );
      }
    });
  });

  describe('key wrap', () => {
    const dataKey = suite.randomBytes(suite.aeadKeyLength);
    const recipient = suite.generateEncryptionKeyPair();

    it('round-trips to the recipient, with fresh randomness each time', () => {
      const wrapped = suite.wrapKey(dataKey, recipient.publicKey);
      expect(hex(suite.unwrapKey(wrapped, recipient.privateKey))).toBe(hex(dataKey));
      expect(hex(suite.wrapKey(dataKey, recipient.publicKey))).not.toBe(hex(wrapped));
      expect(recipient.suite).toBe(id);
    });

    it('works with the encryption key pair derived from a signing key', () => {
      const enc = suite.encryptionKeyPairFromSigningKey(alice.privateKey);
      expect(hex(suite.encryptionKeyPairFromSigningKey(alice.privateKey).publicKey)).toBe(
        hex(enc.publicKey),
      );
      if (id === 'gm') expect(hex(enc.publicKey)).toBe(hex(alice.publicKey));
      else expect(hex(enc.publicKey)).toBe(hex(ed25519.utils.toMontgomery(alice.publicKey)));
      const wrapped = suite.wrapKey(dataKey, enc.publicKey);
      expect(hex(suite.unwrapKey(wrapped, enc.privateKey))).toBe(hex(dataKey));
    });

    it('the wrong recipient cannot unwrap', () => {
      const other = suite.generateEncryptionKeyPair();
      const wrapped = suite.wrapKey(dataKey, recipient.publicKey);
      expectCryptoError(() => suite.unwrapKey(wrapped, other.privateKey), 'UNWRAP_FAILED');
    });

    it('a tampered or truncated wrap fails with UNWRAP_FAILED', () => {
      const wrapped = suite.wrapKey(dataKey, recipient.publicKey);
      for (let i = 0; i < wrapped.length; i++) {
        expectCryptoError(
          () => suite.unwrapKey(flipBit(wrapped, i, (i * 3) % 8), recipient.privateKey),
          'UNWRAP_FAILED',
        );
      }
      const lengths = [0, 1, 32, 48, 64, 97, wrapped.length - 1].filter((n) => n < wrapped.length);
      expect(lengths.length).toBeGreaterThanOrEqual(6);
      for (const length of lengths) {
        expectCryptoError(
          () => suite.unwrapKey(wrapped.subarray(0, length), recipient.privateKey),
          'UNWRAP_FAILED',
        );
      }
    });

    it('refuses invalid recipient keys and data keys', () => {
      expectCryptoError(() => suite.wrapKey(dataKey, new Uint8Array(5)), 'INVALID_KEY');
      expectCryptoError(
        () => suite.wrapKey(new Uint8Array(0), recipient.publicKey),
        'INVALID_ARGUMENT',
      );
      expectCryptoError(
        () => suite.unwrapKey(suite.wrapKey(dataKey, recipient.publicKey), new Uint8Array(7)),
        'INVALID_KEY',
      );
    });
  });
});

describe('gm signature edge cases', () => {
  const gm = getSuite('gm');
  const pair = gm.generateKeyPair();
  const message = bytes(1, 2, 3);
  const sig = (r: bigint, s: bigint): Uint8Array =>
    new Uint8Array(
      Buffer.from(r.toString(16).padStart(64, '0') + s.toString(16).padStart(64, '0'), 'hex'),
    );

  it('rejects r or s outside [1, n−1] and r + s = n', () => {
    sm2ClearKeyCaches();
    for (const [r, s] of [
      [0n, 1n],
      [1n, 0n],
      [SM2_N, 1n],
      [1n, SM2_N],
      [2n ** 256n - 1n, 5n],
      [5n, SM2_N - 5n],
    ] as const) {
      expect(gm.verify(DOMAIN.tx, CHAIN, message, sig(r, s), pair.publicKey)).toBe(false);
    }
  });

  it('rejects public keys that are compressed, off the curve or have a bad prefix', () => {
    const s = gm.sign(DOMAIN.tx, CHAIN, message, pair.privateKey);
    const compressedPrefix = Uint8Array.from(pair.publicKey);
    compressedPrefix[0] = 0x02;
    const offCurve = flipBit(pair.publicKey, 40);
    const xTooLarge = Uint8Array.from(pair.publicKey);
    xTooLarge.fill(0xff, 1, 33);
    for (const key of [compressedPrefix, offCurve, xTooLarge, new Uint8Array(65)]) {
      expect(gm.verify(DOMAIN.tx, CHAIN, message, s, key)).toBe(false);
    }
  });

  it('refuses private keys outside [1, n−2]', () => {
    for (const d of [0n, SM2_N - 1n, SM2_N, 2n ** 256n - 1n]) {
      const raw = new Uint8Array(Buffer.from(d.toString(16).padStart(64, '0'), 'hex'));
      expectCryptoError(() => gm.keyPairFromPrivateKey(raw), 'INVALID_KEY');
    }
    const one = new Uint8Array(32);
    one[31] = 1;
    const pairOne = gm.keyPairFromPrivateKey(one);
    const s = gm.sign(DOMAIN.tx, CHAIN, message, one);
    expect(gm.verify(DOMAIN.tx, CHAIN, message, s, pairOne.publicKey)).toBe(true);
  });

  it('sees through a caller that mutates a cached private key array', () => {
    const a = gm.generateKeyPair();
    const b = gm.generateKeyPair();
    const key = Uint8Array.from(a.privateKey);
    const s1 = gm.sign(DOMAIN.tx, CHAIN, message, key);
    key.set(b.privateKey);
    const s2 = gm.sign(DOMAIN.tx, CHAIN, message, key);
    expect(gm.verify(DOMAIN.tx, CHAIN, message, s1, a.publicKey)).toBe(true);
    expect(gm.verify(DOMAIN.tx, CHAIN, message, s2, b.publicKey)).toBe(true);
    const intl = getSuite('intl');
    const c = intl.generateKeyPair();
    const d = intl.generateKeyPair();
    const k2 = Uint8Array.from(c.privateKey);
    intl.sign(DOMAIN.tx, CHAIN, message, k2);
    k2.set(d.privateKey);
    expect(
      intl.verify(DOMAIN.tx, CHAIN, message, intl.sign(DOMAIN.tx, CHAIN, message, k2), d.publicKey),
    ).toBe(true);
  });
});

describe('intl fresh keys', () => {
  const intl = getSuite('intl');

  it('derive public keys as RFC 8032 and RFC 7748 do (the raw-JWK import reads only d)', () => {
    for (let i = 0; i < 20; i++) {
      const signing = intl.generateKeyPair();
      expect(signing.privateKey).toHaveLength(32);
      expect(Buffer.from(signing.publicKey).toString('hex')).toBe(
        Buffer.from(ed25519.getPublicKey(signing.privateKey)).toString('hex'),
      );
      const encryption = intl.generateEncryptionKeyPair();
      expect(Buffer.from(encryption.publicKey).toString('hex')).toBe(
        Buffer.from(x25519.getPublicKey(encryption.privateKey)).toString('hex'),
      );
    }
  });

  it('are fresh every time, and a wrap made with a fresh ephemeral key opens', () => {
    const a = intl.generateEncryptionKeyPair();
    const b = intl.generateEncryptionKeyPair();
    expect(Buffer.from(a.privateKey).equals(Buffer.from(b.privateKey))).toBe(false);
    const dataKey = intl.randomBytes(32);
    const w1 = intl.wrapKey(dataKey, a.publicKey);
    const w2 = intl.wrapKey(dataKey, a.publicKey);
    expect(Buffer.from(w1.subarray(0, 32)).equals(Buffer.from(w2.subarray(0, 32)))).toBe(false);
    expect(intl.unwrapKey(w1, a.privateKey)).toEqual(dataKey);
    expect(() => intl.unwrapKey(w1, b.privateKey)).toThrow(CryptoError);
  });
});
