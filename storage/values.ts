/**
 * How stored values are encoded and checked. Every structured value is the
 * canonical CBOR encoding (src/codec) of a plain map; blocks, certificates and
 * receipts use the ledger's own canonical encoders (src/ledger/encoding.ts), so
 * a stored block is byte for byte `encodeBlock(block)`.
 *
 * Reads check the shape field by field; a damaged or foreign value becomes
 * `StorageError('CORRUPT_VALUE')` naming the record and the field, instead of
 * surfacing later as a wrong-typed object. Writes check the same shape first,
 * so storage never accepts what it could not read back.
 */
import { CodecError, decode, encode } from '../src/codec/index.js';
import type { CodecValue } from '../src/codec/index.js';
import { createFieldReader } from '../src/codec/fields.js';
import type { FieldReader } from '../src/codec/fields.js';
import type { ErrorDetails } from '../src/errors.js';
import {
  blockFromCodec,
  blockToCodec,
  encodeBlock,
  commitCertificateFromCodec,
  commitCertificateToCodec,
  receiptFromCodec,
  receiptToCodec,
} from '../src/ledger/encoding.js';
import { LedgerError } from '../src/ledger/errors.js';
import type { Block, CommitCertificate, Receipt } from '../src/ledger/types.js';
import { StorageError, StorageErrorCode } from './errors.js';

/** Upper bound on any stored value we decode (a block with its transactions). */
export const MAX_STORED_VALUE_BYTES = 64 * 1024 * 1024;

/**
 * Policy limits (transactions per block) were enforced when the block was
 * validated; reading back checks shape only, so a chain that raises its
 * limits can still read its old blocks.
 */
const NO_POLICY_LIMITS = { maxBlockTxs: Number.MAX_SAFE_INTEGER } as const;

/** Where a stored value came from, for error messages: e.g. `block at height 7`. */
export interface ValueSource {
  readonly what: string;
  readonly details?: ErrorDetails;
}

export function corrupt(source: ValueSource, problem: string, cause?: unknown): StorageError {
  return new StorageError(
    StorageErrorCode.corruptValue,
    `stored ${source.what} is corrupt: ${problem}`,
    { ...source.details, what: source.what },
    cause === undefined ? undefined : { cause },
  );
}

function invalidArgument(field: string, problem: string, cause?: unknown): StorageError {
  return new StorageError(
    StorageErrorCode.invalidArgument,
    `${field}: ${problem}`,
    { field },
    cause === undefined ? undefined : { cause },
  );
}

/** Decodes a stored canonical-CBOR value, mapping codec failures to `CORRUPT_VALUE`. */
export function decodeStored(bytes: Uint8Array, source: ValueSource): CodecValue {
  try {
    return decode(bytes, { maxBytes: MAX_STORED_VALUE_BYTES });
  } catch (err) {
    if (err instanceof CodecError) throw corrupt(source, err.message, err);
    throw err;
  }
}

/** Encodes a value for storage, mapping codec failures to `INVALID_ARGUMENT`. */
export function encodeStored(value: CodecValue, field: string): Uint8Array {
  return encodeStoredWith(field, () => encode(value));
}

function encodeStoredWith(field: string, encodeIt: () => Uint8Array): Uint8Array {
  try {
    return encodeIt();
  } catch (err) {
    if (err instanceof CodecError)
      throw invalidArgument(field, `cannot be encoded: ${err.message}`, err);
    throw err;
  }
}

/** Field readers that report a bad stored value as `CORRUPT_VALUE` from `source`. */
export function storedFields(source: ValueSource): FieldReader {
  return createFieldReader((path, problem) => {
    throw corrupt(source, `${path}: ${problem}`);
  });
}

/** Runs a ledger decoder over a stored value, reporting its `LedgerError` as `CORRUPT_VALUE`. */
function fromLedger<T>(source: ValueSource, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof LedgerError) throw corrupt(source, err.message, err);
    throw err;
  }
}

/** Checks a value about to be stored with the decoder that will read it back. */
function checkBeforeWrite(field: string, check: () => unknown): void {
  try {
    check();
  } catch (err) {
    if (err instanceof LedgerError) {
      throw invalidArgument(field, `not a well-formed value: ${err.message}`, err);
    }
    throw err;
  }
}

// ---- blocks, certificates, receipts -----------------------------------------

export function encodeBlockValue(block: Block): Uint8Array {
  checkBeforeWrite('block', () => blockFromCodec(blockToCodec(block), NO_POLICY_LIMITS));
  // Spliced: each transaction's known bytes are copied, not encoded again.
  return encodeStoredWith('block', () => encodeBlock(block));
}

export function decodeBlockValue(bytes: Uint8Array, source: ValueSource): Block {
  const value = decodeStored(bytes, source);
  return fromLedger(source, () => blockFromCodec(value, NO_POLICY_LIMITS));
}

export function encodeCertificateValue(certificate: CommitCertificate): Uint8Array {
  const value = commitCertificateToCodec(certificate);
  checkBeforeWrite('certificate', () => commitCertificateFromCodec(value));
  return encodeStored(value, 'certificate');
}

export function decodeCertificateValue(bytes: Uint8Array, source: ValueSource): CommitCertificate {
  const value = decodeStored(bytes, source);
  return fromLedger(source, () => commitCertificateFromCodec(value));
}

export function encodeReceiptValue(receipt: Receipt, field: string): Uint8Array {
  const value = receiptToCodec(receipt);
  checkBeforeWrite(field, () => receiptFromCodec(value));
  return encodeStored(value, field);
}

export function decodeReceiptValue(bytes: Uint8Array, source: ValueSource): Receipt {
  const value = decodeStored(bytes, source);
  return fromLedger(source, () => receiptFromCodec(value));
}

// ---- small values -----------------------------------------------------------

/** Where a transaction sits: block height and index in the block. */
export interface TxLocation {
  readonly height: number;
  readonly index: number;
}

export function encodeTxLocation(location: TxLocation): Uint8Array {
  return encodeStored([location.height, location.index], 'txLocation');
}

export function decodeTxLocation(bytes: Uint8Array, source: ValueSource): TxLocation {
  const read = storedFields(source);
  const pair = read.array(decodeStored(bytes, source), 'location', { minLength: 2, maxLength: 2 });
  return {
    height: read.integer(pair[0], 'location[0]', { min: 1 }),
    index: read.integer(pair[1], 'location[1]', { max: 0xffff_ffff }),
  };
}

export function decodeHeightValue(bytes: Uint8Array, source: ValueSource): number {
  return storedFields(source).integer(decodeStored(bytes, source), 'height', { min: 1 });
}
