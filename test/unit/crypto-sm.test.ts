/**
 * gm suite against the reference implementation `sm-crypto` (SM2 signatures and
 * encryption both ways, SM3, SM4) and the hand-written SM2 arithmetic against
 * noble's generic curve code.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import smCrypto from 'sm-crypto';
import { describe, expect, it } from 'vitest';
import { DOMAIN, getSuite, signingPrefix } from '../../src/crypto/index.js';
import { sm4AeadSealWithIv } from '../../src/crypto/gm.js';
import {
  FixedBaseTable,
  SM2_GX,
  SM2_GY,
  SM2_N,
  mulPublic,
  signedDigits,
  sm2CheckCombination,
} from '../../src/crypto/sm2-curve.js';
import {
  Sm2Point,
  sm2ClearKeyCaches,
  sm2Decrypt,
  sm2Encrypt,
  sm2RegisterKnownSigner,
  sm2SecretProductPathsForTest as paths,
  sm2SignRaw,
  sm2VerifyRaw,
  sm3,
} from '../../src/crypto/sm2.js';

const gm = getSuite('gm');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** sm-crypto key pairs as raw bytes (its private hex may be shorter than 64 digits). */
function referenceKeyPair() {
  const pair = smCrypto.sm2.generateKeyPairHex();
  const privateHex = pair.privateKey.padStart(64, '0');
  return {
    privateHex,
    publicHex: pair.publicKey,
    privateKey: fromHex(privateHex),
    publicKey: fromHex(pair.publicKey),
  };
}

describe('SM3 and SM4 against sm-crypto', () => {
  it('SM3 digests and HMAC-SM3 match', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        (data, key) => {
          expect(hex(gm.hash(data))).toBe(smCrypto.sm3(data));
          expect(createHmac('sm3', key).update(data).digest('hex')).toBe(
            smCrypto.sm3(data, { key }),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('SM4 block encryption matches', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc
          .uint8Array({ minLength: 16, maxLength: 64 })
          .map((b) => b.subarray(0, b.length - (b.length % 16))),
        (key, data) => {
          const cipher = createCipheriv('sm4-ecb', key, null);
          cipher.setAutoPadding(false);
          const ours = Buffer.concat([cipher.update(data), cipher.final()]).toString('hex');
          expect(ours).toBe(smCrypto.sm4.encrypt(data, hex(key), { padding: 'none' }));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('the gm AEAD equals an independent SM4-CTR + HMAC-SM3 built from sm-crypto', () => {
    /** The construction documented in src/crypto/gm.ts, rebuilt from sm-crypto primitives. */
    function reference(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array) {
      const encKey = fromHex(
        smCrypto.sm3(Buffer.from('medchain/gm-aead/v1/enc'), { key }),
      ).subarray(0, 16);
      const macKey = fromHex(smCrypto.sm3(Buffer.from('medchain/gm-aead/v1/mac'), { key }));
      const ct = new Uint8Array(plaintext.length);
      let counter = BigInt(`0x${hex(iv)}`);
      for (let offset = 0; offset < plaintext.length; offset += 16) {
        const block = fromHex(counter.toString(16).padStart(32, '0'));
        const stream = smCrypto.sm4.encrypt(block, hex(encKey), {
          padding: 'none',
          output: 'array',
        });
        for (let i = 0; i < 16 && offset + i < plaintext.length; i++) {
          ct[offset + i] = (plaintext[offset + i] as number) ^ (stream[i] as number);
        }
        counter = (counter + 1n) % 2n ** 128n;
      }
      const aadLength = Buffer.alloc(8);
      aadLength.writeBigUInt64BE(BigInt(aad.length));
      const macInput = Buffer.concat([Buffer.from('medchain/gm-aead/v1'), aadLength, aad, iv, ct]);
      return hex(iv) + hex(ct) + smCrypto.sm3(macInput, { key: macKey });
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        // include IVs near the 128-bit wrap-around
        fc.oneof(
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          fc.constant(new Uint8Array(16).fill(0xff)),
        ),
        fc.uint8Array({ maxLength: 70 }),
        fc.uint8Array({ maxLength: 20 }),
        (key, iv, plaintext, aad) => {
          expect(hex(sm4AeadSealWithIv(key, iv, plaintext, aad))).toBe(
            reference(key, iv, plaintext, aad),
          );
          expect(hex(gm.open(key, fromHex(reference(key, iv, plaintext, aad)), aad))).toBe(
            hex(plaintext),
          );
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('SM2 signatures interoperate with sm-crypto', () => {
  it('our signatures verify with sm-crypto, and sm-crypto signatures verify with ours', () => {
    for (let i = 0; i < 4; i++) {
      sm2ClearKeyCaches();
      const key = referenceKeyPair();
      const message = new Uint8Array(Buffer.from(`referral ${i} 转诊`, 'utf8'));
      const ours = sm2SignRaw(message, key.privateKey);
      expect(
        smCrypto.sm2.doVerifySignature(message, hex(ours), key.publicHex, { hash: true }),
      ).toBe(true);
      expect(
        smCrypto.sm2.doVerifySignature(new Uint8Array([...message, 1]), hex(ours), key.publicHex, {
          hash: true,
        }),
      ).toBe(false);

      const theirs = fromHex(smCrypto.sm2.doSignature(message, key.privateHex, { hash: true }));
      expect(sm2VerifyRaw(message, theirs, key.publicKey)).toBe(true);
      sm2RegisterKnownSigner(key.publicKey);
      expect(sm2VerifyRaw(message, theirs, key.publicKey)).toBe(true);
      expect(sm2VerifyRaw(new Uint8Array([...message, 1]), theirs, key.publicKey)).toBe(false);
    }
  });

  it('the explicit default user ID gives the same signatures in sm-crypto', () => {
    const key = referenceKeyPair();
    const message = new Uint8Array([1, 2, 3]);
    const theirs = smCrypto.sm2.doSignature(message, key.privateHex, {
      hash: true,
      userId: '1234567812345678',
    });
    expect(sm2VerifyRaw(message, fromHex(theirs), key.publicKey)).toBe(true);
    const otherId = smCrypto.sm2.doSignature(message, key.privateHex, {
      hash: true,
      userId: 'ALICE123@YAHOO.COM',
    });
    expect(sm2VerifyRaw(message, fromHex(otherId), key.publicKey)).toBe(false);
  });

  it('suite signatures are SM2 signatures of M = SM3(domain-separated preimage)', () => {
    const key = referenceKeyPair();
    const message = new Uint8Array(Buffer.from('consent granted', 'utf8'));
    const m = sm3(signingPrefix(DOMAIN.tx, 'chain-x'), message);
    const ours = gm.sign(DOMAIN.tx, 'chain-x', message, key.privateKey);
    expect(smCrypto.sm2.doVerifySignature(m, hex(ours), key.publicHex, { hash: true })).toBe(true);
    const theirs = fromHex(smCrypto.sm2.doSignature(m, key.privateHex, { hash: true }));
    expect(gm.verify(DOMAIN.tx, 'chain-x', message, theirs, key.publicKey)).toBe(true);
    expect(gm.verify(DOMAIN.consensus, 'chain-x', message, theirs, key.publicKey)).toBe(false);
  });

  it('sm-crypto derives the same public key', () => {
    const key = referenceKeyPair();
    expect(hex(gm.keyPairFromPrivateKey(key.privateKey).publicKey)).toBe(
      smCrypto.sm2.getPublicKeyFromPrivateKey(key.privateHex),
    );
  });
});

describe('SM2 encryption (C1C3C2) interoperates with sm-crypto', () => {
  it("sm-crypto decrypts ours and we decrypt sm-crypto's", () => {
    for (const length of [1, 16, 32, 33, 100]) {
      const key = referenceKeyPair();
      const plaintext = gm.randomBytes(length);
      const ours = sm2Encrypt(plaintext, key.publicKey);
      expect(ours[0]).toBe(0x04);
      expect(ours).toHaveLength(65 + 32 + length);
      const decrypted = smCrypto.sm2.doDecrypt(hex(ours).slice(2), key.privateHex, 1, {
        output: 'array',
      });
      expect(hex(new Uint8Array(decrypted))).toBe(hex(plaintext));

      const theirs = fromHex(`04${smCrypto.sm2.doEncrypt(plaintext, key.publicHex, 1)}`);
      if (hex(theirs.subarray(65 + 32)) === hex(plaintext)) {
        // sm-crypto does not redraw k when the KDF output t is all zero (1 in 256
        // for a 1-byte message), so C2 = M; GB/T 32918.4 makes the decryptor reject it.
        expect(sm2Decrypt(theirs, key.privateKey)).toBeUndefined();
        continue;
      }
      expect(hex(sm2Decrypt(theirs, key.privateKey) ?? new Uint8Array(0))).toBe(hex(plaintext));
      // and through the suite's unwrap
      expect(hex(gm.unwrapKey(theirs, key.privateKey))).toBe(hex(plaintext));
    }
  });

  it("the native secret product (OpenSSL x + recovered y) equals noble's multiply", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n, max: SM2_N - 2n }),
        fc.bigInt({ min: 1n, max: SM2_N - 1n }),
        (d, k) => {
          const r = Sm2Point.BASE.multiply(d).toBytes(false);
          const native = paths.native(r, k);
          expect(native && hex(native)).toBe(hex(paths.noble(r, k)));
        },
      ),
      { numRuns: 40 },
    );
    // R = ±G is degenerate for the native path: it declines and the caller uses noble.
    const minusG = Sm2Point.BASE.negate().toBytes(false);
    expect(paths.native(paths.generator, 5n)).toBeUndefined();
    expect(paths.native(minusG, 5n)).toBeUndefined();
  });

  it('encrypts to and decrypts from the degenerate keys ±G', () => {
    const one = new Uint8Array(32);
    one[31] = 1;
    const wrapped = sm2Encrypt(new Uint8Array([7, 7]), paths.generator);
    expect(hex(sm2Decrypt(wrapped, one) ?? new Uint8Array(0))).toBe('0707');
    const minusG = Sm2Point.BASE.negate().toBytes(false);
    const nMinusOne = new Uint8Array(Buffer.from((SM2_N - 2n).toString(16), 'hex'));
    // n − 2 is the largest valid private key; its public key is −2G, and C1 may be ±G by chance only.
    expect(sm2Encrypt(new Uint8Array([1]), minusG)).toHaveLength(65 + 32 + 1);
    const pair = gm.keyPairFromPrivateKey(nMinusOne);
    expect(
      hex(
        sm2Decrypt(sm2Encrypt(new Uint8Array([9]), pair.publicKey), nMinusOne) ?? new Uint8Array(0),
      ),
    ).toBe('09');
  });

  it('rejects a C1 that is not on the curve', () => {
    const key = referenceKeyPair();
    const wrapped = sm2Encrypt(new Uint8Array([1, 2, 3]), key.publicKey);
    const bad = Uint8Array.from(wrapped);
    bad[10] = (bad[10] as number) ^ 1;
    expect(sm2Decrypt(bad, key.privateKey)).toBeUndefined();
  });
});

describe('SM2 fast arithmetic (sm2-curve.ts) agrees with noble', () => {
  const scalar = fc.bigInt({ min: 1n, max: SM2_N - 1n });
  const G = Sm2Point.BASE;

  it('signed digits reconstruct the scalar for every window size', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
        fc.integer({ min: 2, max: 12 }),
        (k, w) => {
          const digits = signedDigits(k, w);
          const half = 1 << (w - 1);
          let sum = 0n;
          digits.forEach((d, i) => {
            expect(Math.abs(d)).toBeLessThanOrEqual(half);
            sum += BigInt(d) << BigInt(w * i);
          });
          expect(sum).toBe(k);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('k·P matches noble with and without a table', () => {
    const P = G.multiply(0x1234567890abcdefn);
    const { x, y } = P.toAffine();
    const table = new FixedBaseTable(x, y, 6);
    fc.assert(
      fc.property(scalar, (k) => {
        const expected = P.multiply(k).toAffine();
        expect(mulPublic(x, y, k)).toEqual(expected);
        expect(mulPublic(x, y, k, table)).toEqual(expected);
      }),
      { numRuns: 40 },
    );
    for (const k of [1n, 2n, 15n, 16n, 17n, 255n, 256n, SM2_N - 1n, SM2_N - 2n]) {
      expect(mulPublic(x, y, k)).toEqual(P.multiply(k).toAffine());
      expect(mulPublic(x, y, k, table)).toEqual(P.multiply(k).toAffine());
    }
  });

  it('s·G + t·Q handles the doubling and infinity cases', () => {
    // Q = G makes s·G and t·Q collide: t = s doubles, t = n − s cancels.
    for (const table of [undefined, new FixedBaseTable(SM2_GX, SM2_GY, 8)]) {
      const key = table === undefined ? { x: SM2_GX, y: SM2_GY } : { x: SM2_GX, y: SM2_GY, table };
      for (const s of [1n, 5n, 0xdeadbeefn, SM2_N - 1n]) {
        const doubled = G.multiply((2n * s) % SM2_N).toAffine().x % SM2_N;
        expect(sm2CheckCombination(s, s, key, doubled)).toBe(true);
        expect(sm2CheckCombination(s, s, key, (doubled + 1n) % SM2_N)).toBe(false);
        expect(sm2CheckCombination(s, SM2_N - s, key, 0n)).toBe(false);
        expect(sm2CheckCombination(s, SM2_N - s, key, G.toAffine().x)).toBe(false);
      }
    }
  });

  it('accepts x(R) ≥ n, where the x coordinate wraps modulo n', () => {
    // Find a curve point R with n ≤ x < p (probability ~2^-128 in real signatures).
    const Fp = Sm2Point.Fp;
    let x = SM2_N;
    let y: bigint | undefined;
    for (; y === undefined; x++) {
      const rhs = Fp.add(
        Fp.add(Fp.mul(Fp.sqr(x), x), Fp.mul(Sm2Point.CURVE().a, x)),
        Sm2Point.CURVE().b,
      );
      try {
        y = Fp.sqrt(rhs);
        break;
      } catch {
        y = undefined;
      }
    }
    expect(x >= SM2_N && x < Sm2Point.CURVE().p).toBe(true);
    // 0·G + 1·R = R, checked both without and with a table for R.
    const table = new FixedBaseTable(x, y, 4);
    expect(sm2CheckCombination(0n, 1n, { x, y }, x - SM2_N)).toBe(true);
    expect(sm2CheckCombination(0n, 1n, { x, y, table }, x - SM2_N)).toBe(true);
    expect(sm2CheckCombination(0n, 1n, { x, y, table }, x - SM2_N + 1n)).toBe(false);
  });

  it('s·G + t·Q matches noble for random scalars', () => {
    const Q = G.multiply(0xabcdefn);
    const { x, y } = Q.toAffine();
    const table = new FixedBaseTable(x, y, 8);
    fc.assert(
      fc.property(scalar, scalar, (s, t) => {
        const expected = G.multiply(s).add(Q.multiply(t)).toAffine().x % SM2_N;
        expect(sm2CheckCombination(s, t, { x, y }, expected)).toBe(true);
        expect(sm2CheckCombination(s, t, { x, y, table }, expected)).toBe(true);
        expect(sm2CheckCombination(s, t, { x, y, table }, (expected + 1n) % SM2_N)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });
});
