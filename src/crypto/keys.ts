/**
 * Text form of keys: `<suite>:<kind>:<hex>`, e.g. `gm:pub:04ab…`, `intl:priv:9d61…`.
 * The suite and kind are part of the encoding so that a key of one suite (or
 * a private key where a public key is expected) is refused with a precise
 * error instead of being misread.
 *
 * | kind      | intl                     | gm                          |
 * | --------- | ------------------------ | --------------------------- |
 * | `pub`     | Ed25519 public, 32 bytes | SM2 point 04‖x‖y, 65 bytes  |
 * | `priv`    | Ed25519 seed, 32 bytes   | SM2 scalar, 32 bytes        |
 * | `encpub`  | X25519 public, 32 bytes  | SM2 point 04‖x‖y, 65 bytes  |
 * | `encpriv` | X25519 private, 32 bytes | SM2 scalar, 32 bytes        |
 */
import { bytesToHex, describeLength, isBytes, u8 } from './bytes.js';
import { CryptoError, CryptoErrorCode } from './errors.js';
import { assertIntlPublicKey } from './intl.js';
import { assertSm2PublicKey, sm2PrivateScalar } from './sm2.js';
import { SUITE_IDS } from './suite.js';
import type { SuiteId } from './suite.js';

export const KEY_KINDS = ['pub', 'priv', 'encpub', 'encpriv'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

const KEY_LENGTHS: Readonly<Record<SuiteId, Readonly<Record<KeyKind, number>>>> = {
  intl: { pub: 32, priv: 32, encpub: 32, encpriv: 32 },
  gm: { pub: 65, priv: 32, encpub: 65, encpriv: 32 },
};

const KIND_NAMES: Readonly<Record<KeyKind, string>> = {
  pub: 'public key',
  priv: 'private key',
  encpub: 'encryption public key',
  encpriv: 'encryption private key',
};

function isSuiteId(value: string): value is SuiteId {
  return (SUITE_IDS as readonly string[]).includes(value);
}
function isKeyKind(value: string): value is KeyKind {
  return (KEY_KINDS as readonly string[]).includes(value);
}

function encodingError(message: string): CryptoError {
  return new CryptoError(CryptoErrorCode.invalidKeyEncoding, message);
}

/** Throws `INVALID_KEY` unless `bytes` is a valid key of this suite and kind. */
export function assertValidKey(suite: SuiteId, kind: KeyKind, bytes: Uint8Array): void {
  const expected = KEY_LENGTHS[suite][kind];
  const what = `${suite} ${KIND_NAMES[kind]}`;
  if (!isBytes(bytes) || bytes.length !== expected) {
    throw new CryptoError(
      CryptoErrorCode.invalidKey,
      `${what}: expected ${expected} bytes, got ${describeLength(bytes)}`,
    );
  }
  if (suite === 'gm') {
    if (kind === 'pub' || kind === 'encpub') assertSm2PublicKey(bytes, what);
    else sm2PrivateScalar(bytes);
  } else if (kind === 'pub') {
    assertIntlPublicKey(bytes);
  }
}

/** `<suite>:<kind>:<hex>`; validates the key first. */
export function encodeKey(suite: SuiteId, kind: KeyKind, bytes: Uint8Array): string {
  if (!isSuiteId(suite)) {
    throw new CryptoError(CryptoErrorCode.unknownSuite, `unknown crypto suite "${String(suite)}"`);
  }
  assertValidKey(suite, kind, bytes);
  return `${suite}:${kind}:${bytesToHex(bytes)}`;
}

export interface DecodedKey {
  readonly suite: SuiteId;
  readonly kind: KeyKind;
  readonly bytes: Uint8Array;
}

/**
 * Parse `<suite>:<kind>:<hex>`. With `expected`, also require that suite and/or
 * kind. Throws `INVALID_KEY_ENCODING` (malformed, wrong suite or kind) or
 * `INVALID_KEY` (well-formed text but not a valid key).
 */
export function decodeKey(
  text: string,
  expected: { readonly suite?: SuiteId; readonly kind?: KeyKind } = {},
): DecodedKey {
  if (typeof text !== 'string') throw encodingError(`key: expected a string, got ${typeof text}`);
  const parts = text.split(':');
  if (parts.length !== 3) {
    throw encodingError(
      'key: expected "<suite>:<kind>:<hex>" (e.g. "gm:pub:04…"), got ' +
        `${parts.length - 1} colon(s)`,
    );
  }
  const [suite = '', kind = '', hex = ''] = parts;
  if (!isSuiteId(suite)) {
    throw encodingError(
      `key: unknown suite "${suite.slice(0, 16)}" (expected one of ${SUITE_IDS.join(', ')})`,
    );
  }
  if (!isKeyKind(kind)) {
    throw encodingError(
      `key: unknown kind "${kind.slice(0, 16)}" (expected one of ${KEY_KINDS.join(', ')})`,
    );
  }
  if (expected.suite !== undefined && suite !== expected.suite) {
    throw encodingError(`key: suite is "${suite}", expected "${expected.suite}"`);
  }
  if (expected.kind !== undefined && kind !== expected.kind) {
    throw encodingError(
      `key: kind is "${kind}" (${KIND_NAMES[kind]}), expected "${expected.kind}" (${KIND_NAMES[expected.kind]})`,
    );
  }
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) {
    throw encodingError(
      `key: the ${suite} ${KIND_NAMES[kind]} is not lower-case hex of whole bytes`,
    );
  }
  const bytes = u8(Buffer.from(hex, 'hex'));
  assertValidKey(suite, kind, bytes);
  return { suite, kind, bytes };
}

export function encodePublicKey(suite: SuiteId, publicKey: Uint8Array): string {
  return encodeKey(suite, 'pub', publicKey);
}
/** Decode a public key, requiring `suite`. */
export function decodePublicKey(text: string, suite: SuiteId): Uint8Array {
  return decodeKey(text, { suite, kind: 'pub' }).bytes;
}
export function encodePrivateKey(suite: SuiteId, privateKey: Uint8Array): string {
  return encodeKey(suite, 'priv', privateKey);
}
/** Decode a private key, requiring `suite`. */
export function decodePrivateKey(text: string, suite: SuiteId): Uint8Array {
  return decodeKey(text, { suite, kind: 'priv' }).bytes;
}
export function encodeEncryptionPublicKey(suite: SuiteId, publicKey: Uint8Array): string {
  return encodeKey(suite, 'encpub', publicKey);
}
/** Decode an encryption public key, requiring `suite`. */
export function decodeEncryptionPublicKey(text: string, suite: SuiteId): Uint8Array {
  return decodeKey(text, { suite, kind: 'encpub' }).bytes;
}
