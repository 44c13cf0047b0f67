/** Small byte helpers shared by the suites (internal). */
import { CryptoError, CryptoErrorCode } from './errors.js';

/** View a Node Buffer as a plain Uint8Array (no copy), so callers see one type everywhere. */
export function u8(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** View bytes as a Buffer (no copy), for node:crypto calls and hex conversion. */
export function buf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

export function bytesToHex(bytes: Uint8Array): string {
  return buf(bytes).toString('hex');
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Strict lower-case hex decoding; throws `INVALID_ARGUMENT` naming `field`. */
export function hexToBytes(hex: string, field = 'hex'): Uint8Array {
  if (!HEX_RE.test(hex)) {
    throw new CryptoError(
      CryptoErrorCode.invalidArgument,
      `${field}: expected lower-case hex with an even number of digits`,
      { field },
    );
  }
  return u8(Buffer.from(hex, 'hex'));
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  return u8(Buffer.concat(parts));
}

/** Big-endian unsigned integer of the bytes. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  return BigInt('0x' + bytesToHex(bytes));
}

/** Big-endian, left-padded to `length` bytes; `value` must fit. */
export function bigIntToBytes(value: bigint, length = 32): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, '0');
  return u8(Buffer.from(hex, 'hex'));
}

export function describeLength(value: unknown): string {
  return isBytes(value) ? `${value.length} bytes` : typeof value;
}

/** A short, safe rendering of an untrusted value for error messages (never key material). */
export function showValue(value: unknown, maxLength = 32): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, maxLength)) : typeof value;
}
