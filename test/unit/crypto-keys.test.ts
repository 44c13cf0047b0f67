import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  KEY_KINDS,
  SUITE_IDS,
  decodeEncryptionPublicKey,
  decodeKey,
  decodePrivateKey,
  decodePublicKey,
  encodeEncryptionPublicKey,
  encodeKey,
  encodePrivateKey,
  encodePublicKey,
  getSuite,
} from '../../src/crypto/index.js';
import type { KeyKind, SuiteId } from '../../src/crypto/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function expectError(fn: () => unknown, code: string, messagePart?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
  if (messagePart !== undefined) expect((caught as CryptoError).message).toContain(messagePart);
}

function keysOf(suite: SuiteId): Record<KeyKind, Uint8Array> {
  const s = getSuite(suite);
  const pair = s.generateKeyPair();
  const enc = s.encryptionKeyPairFromSigningKey(pair.privateKey);
  return {
    pub: pair.publicKey,
    priv: pair.privateKey,
    encpub: enc.publicKey,
    encpriv: enc.privateKey,
  };
}

describe('key text encoding', () => {
  const keys = { intl: keysOf('intl'), gm: keysOf('gm') };

  it.each(SUITE_IDS)('round-trips every kind of %s key and names suite and kind', (suite) => {
    for (const kind of KEY_KINDS) {
      const text = encodeKey(suite, kind, keys[suite][kind]);
      expect(text).toBe(`${suite}:${kind}:${hex(keys[suite][kind])}`);
      const decoded = decodeKey(text);
      expect(decoded.suite).toBe(suite);
      expect(decoded.kind).toBe(kind);
      expect(hex(decoded.bytes)).toBe(hex(keys[suite][kind]));
    }
    expect(hex(decodePublicKey(encodePublicKey(suite, keys[suite].pub), suite))).toBe(
      hex(keys[suite].pub),
    );
    expect(hex(decodePrivateKey(encodePrivateKey(suite, keys[suite].priv), suite))).toBe(
      hex(keys[suite].priv),
    );
    expect(
      hex(decodeEncryptionPublicKey(encodeEncryptionPublicKey(suite, keys[suite].encpub), suite)),
    ).toBe(hex(keys[suite].encpub));
  });

  it('rejects a key of the other suite, naming both', () => {
    expectError(
      () => decodePublicKey(encodePublicKey('gm', keys.gm.pub), 'intl'),
      'INVALID_KEY_ENCODING',
      'suite is "gm", expected "intl"',
    );
    expectError(
      () => decodePublicKey(encodePublicKey('intl', keys.intl.pub), 'gm'),
      'INVALID_KEY_ENCODING',
      'suite is "intl", expected "gm"',
    );
    // relabelled bytes: an intl key claimed as gm fails validation
    expectError(
      () => decodePublicKey(`gm:pub:${hex(keys.intl.pub)}`, 'gm'),
      'INVALID_KEY',
      '65 bytes',
    );
  });

  it('rejects a private key where a public key is expected', () => {
    expectError(
      () => decodePublicKey(encodePrivateKey('intl', keys.intl.priv), 'intl'),
      'INVALID_KEY_ENCODING',
      'kind is "priv"',
    );
  });

  it('names what is wrong with malformed text', () => {
    const cases: [string, string, string][] = [
      ['', 'INVALID_KEY_ENCODING', '0 colon'],
      ['gm:04ab', 'INVALID_KEY_ENCODING', '1 colon'],
      ['gm:pub:04:ab', 'INVALID_KEY_ENCODING', '3 colon'],
      ['rsa:pub:00', 'INVALID_KEY_ENCODING', 'unknown suite "rsa"'],
      ['gm:public:00', 'INVALID_KEY_ENCODING', 'unknown kind "public"'],
      ['gm:pub:', 'INVALID_KEY_ENCODING', 'not lower-case hex'],
      [`gm:pub:${hex(keys.gm.pub).toUpperCase()}`, 'INVALID_KEY_ENCODING', 'not lower-case hex'],
      [`gm:pub:${hex(keys.gm.pub).slice(1)}`, 'INVALID_KEY_ENCODING', 'not lower-case hex'],
      [`gm:pub:${hex(keys.gm.pub)}00`, 'INVALID_KEY', 'expected 65 bytes, got 66 bytes'],
      [
        `intl:priv:${hex(keys.intl.priv).slice(2)}`,
        'INVALID_KEY',
        'expected 32 bytes, got 31 bytes',
      ],
      [`gm:pub:03${hex(keys.gm.pub).slice(2)}`, 'INVALID_KEY', 'uncompressed prefix'],
      [`gm:pub:04${'11'.repeat(64)}`, 'INVALID_KEY', 'not a point'],
      [`gm:priv:${'00'.repeat(32)}`, 'INVALID_KEY', 'out of range'],
      [`gm:priv:${'ff'.repeat(32)}`, 'INVALID_KEY', 'out of range'],
    ];
    for (const [text, code, part] of cases) expectError(() => decodeKey(text), code, part);
    expectError(
      () => decodeKey(42 as unknown as string),
      'INVALID_KEY_ENCODING',
      'expected a string',
    );
  });

  it('refuses to encode invalid keys or unknown suites', () => {
    expectError(() => encodePublicKey('gm', keys.intl.pub), 'INVALID_KEY');
    expectError(() => encodePublicKey('intl', new Uint8Array(31)), 'INVALID_KEY');
    expectError(() => encodeKey('rsa' as SuiteId, 'pub', keys.intl.pub), 'UNKNOWN_SUITE');
  });
});
