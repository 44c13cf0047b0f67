/**
 * Canonical encodings of the ledger types (DESIGN.md §4). Every object is a
 * CBOR map whose keys are exactly the TypeScript field names; the codec sorts
 * keys, so field order never matters. Decoders are strict: bounded input
 * size, every field checked for type and range, unknown fields rejected, and
 * every error is a `LedgerError` that names the field (`txs[3].signer`).
 *
 * Decoders check shape only; whether an object is valid on a chain (chain id,
 * suite key lengths, signatures, heights) is ./validate.ts.
 */
import {
  CodecError,
  CodecErrorCode,
  decode,
  encode,
  Encoded,
  encodeSpliced,
} from '../codec/index.js';
import type { CodecValue, SplicedValue } from '../codec/index.js';
import { createFieldReader, fieldPath } from '../codec/fields.js';
import type { BytesRule, FieldRecord, StringRule } from '../codec/fields.js';
import { LedgerError, LedgerErrorCode } from './errors.js';
import { TX_TYPES } from './types.js';
import type {
  Block,
  BlockHeader,
  CommitCertificate,
  CommitSignature,
  Receipt,
  Transaction,
  TxType,
  UnsignedTransaction,
} from './types.js';

/** Digest length of every suite (SHA-256 and SM3): all hash fields are this long. */
export const HASH_BYTES = 32;
/** Upper bounds used while decoding, before the suite is known (intl keys are 32 bytes, gm 65). */
export const MAX_PUBLIC_KEY_BYTES = 128;
export const MAX_SIGNATURE_BYTES = 128;
/** Chain ids appear in libp2p protocol names: lower case, digits, '.', '_', '-'; 1–64 characters. */
export const CHAIN_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const CHAIN_ID_HINT =
  "1-64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit";
/** Most validators a certificate may name. */
export const MAX_VALIDATORS = 1024;
export const MAX_HEADER_BYTES = 1024;
export const MAX_CERTIFICATE_BYTES = 256 * 1024;
export const MAX_RECEIPT_BYTES = 4096;
export const RECEIPT_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const MAX_RECEIPT_REASON_LENGTH = 1024;

/** Size limits a chain's policy sets; decoders and validators enforce them. */
export interface LedgerLimits {
  /** Largest encoded transaction. */
  readonly maxTxBytes: number;
  /** Largest encoded block (header and transactions). */
  readonly maxBlockBytes: number;
  readonly maxBlockTxs: number;
}

export const DEFAULT_LEDGER_LIMITS: LedgerLimits = {
  maxTxBytes: 64 * 1024,
  maxBlockBytes: 4 * 1024 * 1024,
  maxBlockTxs: 2000,
};

export const CHAIN_ID_RULE: StringRule = {
  minLength: 1,
  maxLength: 64,
  pattern: CHAIN_ID_PATTERN,
  patternHint: `not a chain id (${CHAIN_ID_HINT})`,
};
const HASH_RULE: BytesRule = { length: HASH_BYTES };

const read = createFieldReader((path, problem) => {
  throw new LedgerError(LedgerErrorCode.malformed, `${path}: ${problem}`, { field: path });
});

// ---------------------------------------------------------------------------
// bytes ⇄ CodecValue

function decodeBounded(
  bytes: Uint8Array,
  maxBytes: number,
  tooLarge: LedgerErrorCode,
  what: string,
): CodecValue {
  try {
    return decode(bytes, { maxBytes });
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    if (err.code === CodecErrorCode.tooLarge) {
      throw new LedgerError(
        tooLarge,
        `${what} of ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
        { length: bytes.length, maxBytes },
        { cause: err },
      );
    }
    throw new LedgerError(LedgerErrorCode.malformed, `${what}: ${err.message}`, {}, { cause: err });
  }
}

/** Length in bytes of a CBOR head announcing `n` (an integer, or the length of a string, array or map). */
export function cborHeadLength(n: number): number {
  if (n < 24) return 1;
  if (n < 0x100) return 2;
  if (n < 0x1_0000) return 3;
  if (n < 0x1_0000_0000) return 5;
  return 9;
}

// ---------------------------------------------------------------------------
// transactions

const UNSIGNED_TX_FIELDS = [
  'chainId',
  'type',
  'payload',
  'signer',
  'nonce',
  'validUntilHeight',
] as const;
const TX_FIELDS = [...UNSIGNED_TX_FIELDS, 'signature'] as const;

export function isTxType(value: unknown): value is TxType {
  return typeof value === 'string' && (TX_TYPES as readonly string[]).includes(value);
}

export function unsignedTransactionToCodec(tx: UnsignedTransaction): Record<string, CodecValue> {
  return {
    chainId: tx.chainId,
    type: tx.type,
    payload: tx.payload,
    signer: tx.signer,
    nonce: tx.nonce,
    validUntilHeight: tx.validUntilHeight,
  };
}

export function transactionToCodec(tx: Transaction): Record<string, CodecValue> {
  return { ...unsignedTransactionToCodec(tx), signature: tx.signature };
}

function unsignedFields(record: FieldRecord, path: string): UnsignedTransaction {
  const typePath = fieldPath(path, 'type');
  const type = read.string(record.type, typePath, { maxLength: 64 });
  if (!isTxType(type)) {
    throw new LedgerError(
      LedgerErrorCode.unknownTxType,
      `${typePath}: unknown transaction type "${type}"`,
      { field: typePath, type },
    );
  }
  // any keys: the contract for `type` validates the payload
  const payload = read.map(record.payload, fieldPath(path, 'payload'));
  return {
    chainId: read.string(record.chainId, fieldPath(path, 'chainId'), CHAIN_ID_RULE),
    type,
    payload: payload as Readonly<Record<string, CodecValue>>,
    signer: read.bytes(record.signer, fieldPath(path, 'signer'), {
      minLength: 1,
      maxLength: MAX_PUBLIC_KEY_BYTES,
    }),
    nonce: read.integer(record.nonce, fieldPath(path, 'nonce')),
    validUntilHeight: read.integer(record.validUntilHeight, fieldPath(path, 'validUntilHeight')),
  };
}

/** Checks the shape of a decoded value; `value` must come from `decode` (payload values are taken as they are). */
export function unsignedTransactionFromCodec(value: unknown, path = ''): UnsignedTransaction {
  return unsignedFields(read.record(value, path, UNSIGNED_TX_FIELDS), path);
}

export function transactionFromCodec(value: unknown, path = ''): Transaction {
  const record = read.record(value, path, TX_FIELDS);
  return {
    ...unsignedFields(record, path),
    signature: read.bytes(record.signature, fieldPath(path, 'signature'), {
      minLength: 1,
      maxLength: MAX_SIGNATURE_BYTES,
    }),
  };
}

/** The bytes a transaction's signature covers (under DOMAIN.tx). */
export function encodeUnsignedTransaction(tx: UnsignedTransaction): Uint8Array {
  return encode(unsignedTransactionToCodec(tx));
}

/**
 * Each transaction object's canonical bytes, once known: a transaction is
 * encoded at most once however many blocks, messages and records carry it.
 * Transactions are immutable values, so the bytes stay right for the object.
 */
const TX_BYTES = new WeakMap<Transaction, Uint8Array>();

/** The bytes a transaction is gossiped, stored and hashed as. */
export function encodeTransaction(tx: Transaction): Uint8Array {
  let bytes = TX_BYTES.get(tx);
  if (bytes === undefined) {
    bytes = encode(transactionToCodec(tx));
    TX_BYTES.set(tx, bytes);
  }
  return bytes;
}

/**
 * Records `bytes` as `encodeTransaction(tx)` for a transaction just decoded
 * from them (the decoder accepts only the canonical encoding). The caller
 * must not modify `bytes` afterwards.
 */
export function noteTransactionBytes(tx: Transaction, bytes: Uint8Array): void {
  TX_BYTES.set(tx, bytes);
}

export function decodeTransaction(
  bytes: Uint8Array,
  limits: Pick<LedgerLimits, 'maxTxBytes'> = DEFAULT_LEDGER_LIMITS,
): Transaction {
  const value = decodeBounded(bytes, limits.maxTxBytes, LedgerErrorCode.txTooLarge, 'transaction');
  return transactionFromCodec(value);
}

export function decodeUnsignedTransaction(
  bytes: Uint8Array,
  limits: Pick<LedgerLimits, 'maxTxBytes'> = DEFAULT_LEDGER_LIMITS,
): UnsignedTransaction {
  const value = decodeBounded(bytes, limits.maxTxBytes, LedgerErrorCode.txTooLarge, 'transaction');
  return unsignedTransactionFromCodec(value);
}

// ---------------------------------------------------------------------------
// block headers and blocks

const HEADER_FIELDS = [
  'chainId',
  'height',
  'prevHash',
  'txRoot',
  'stateRoot',
  'proposer',
  'view',
  'timestamp',
  'validatorSetHash',
] as const;

export function blockHeaderToCodec(header: BlockHeader): Record<string, CodecValue> {
  return {
    chainId: header.chainId,
    height: header.height,
    prevHash: header.prevHash,
    txRoot: header.txRoot,
    stateRoot: header.stateRoot,
    proposer: header.proposer,
    view: header.view,
    timestamp: header.timestamp,
    validatorSetHash: header.validatorSetHash,
  };
}

export function blockHeaderFromCodec(value: unknown, path = ''): BlockHeader {
  const record = read.record(value, path, HEADER_FIELDS);
  const hash = (key: string): Uint8Array =>
    read.bytes(record[key], fieldPath(path, key), HASH_RULE);
  return {
    chainId: read.string(record.chainId, fieldPath(path, 'chainId'), CHAIN_ID_RULE),
    height: read.integer(record.height, fieldPath(path, 'height'), { min: 1 }),
    prevHash: hash('prevHash'),
    txRoot: hash('txRoot'),
    stateRoot: hash('stateRoot'),
    proposer: read.integer(record.proposer, fieldPath(path, 'proposer'), {
      max: MAX_VALIDATORS - 1,
    }),
    view: read.integer(record.view, fieldPath(path, 'view')),
    timestamp: read.integer(record.timestamp, fieldPath(path, 'timestamp')),
    validatorSetHash: hash('validatorSetHash'),
  };
}

/** The bytes a block hash is taken over. */
export function encodeBlockHeader(header: BlockHeader): Uint8Array {
  return encode(blockHeaderToCodec(header));
}

export function decodeBlockHeader(bytes: Uint8Array): BlockHeader {
  return blockHeaderFromCodec(
    decodeBounded(bytes, MAX_HEADER_BYTES, LedgerErrorCode.tooLarge, 'block header'),
  );
}

export function blockToCodec(block: Block): Record<string, CodecValue> {
  return { header: blockHeaderToCodec(block.header), txs: block.txs.map(transactionToCodec) };
}

export function blockFromCodec(
  value: unknown,
  limits: Pick<LedgerLimits, 'maxBlockTxs'> = DEFAULT_LEDGER_LIMITS,
): Block {
  const record = read.record(value, '', ['header', 'txs']);
  if (Array.isArray(record.txs) && record.txs.length > limits.maxBlockTxs) {
    throw new LedgerError(
      LedgerErrorCode.tooManyTxs,
      `txs: ${record.txs.length} transactions exceed the limit of ${limits.maxBlockTxs}`,
      { field: 'txs', count: record.txs.length, maxBlockTxs: limits.maxBlockTxs },
    );
  }
  const txs = read.array(record.txs, 'txs', { maxLength: limits.maxBlockTxs });
  return {
    header: blockHeaderFromCodec(record.header, 'header'),
    txs: txs.map((tx, i) => transactionFromCodec(tx, fieldPath('txs', i))),
  };
}

/**
 * `blockToCodec(block)` with each transaction as its canonical bytes: encoding
 * it (`encodeSpliced`) copies the transactions instead of encoding them again.
 */
export function blockToSplicedCodec(block: Block): SplicedValue {
  return {
    header: blockHeaderToCodec(block.header),
    txs: block.txs.map((tx) => new Encoded(encodeTransaction(tx))),
  };
}

export function encodeBlock(block: Block): Uint8Array {
  return encodeSpliced(blockToSplicedCodec(block));
}

/** Decodes a block; per-transaction size limits are checked by `validateBlock`, which encodes each transaction anyway. */
export function decodeBlock(
  bytes: Uint8Array,
  limits: Pick<LedgerLimits, 'maxBlockBytes' | 'maxBlockTxs'> = DEFAULT_LEDGER_LIMITS,
): Block {
  const value = decodeBounded(bytes, limits.maxBlockBytes, LedgerErrorCode.blockTooLarge, 'block');
  return blockFromCodec(value, limits);
}

/**
 * Exact length of `encodeBlock` for a header and transactions of the given
 * encoded lengths, without encoding the block: `{"txs": [...], "header": {...}}`
 * ("txs" sorts first: shorter keys come first in canonical order). Lets a
 * proposer fill a block up to `maxBlockBytes` and a validator check it.
 */
export function blockEncodedLength(
  headerBytesLength: number,
  txBytesLengths: readonly number[],
): number {
  let total = 1 + 4 + cborHeadLength(txBytesLengths.length) + 7 + headerBytesLength;
  for (const length of txBytesLengths) total += length;
  return total;
}

// ---------------------------------------------------------------------------
// commit certificates

export function commitCertificateToCodec(cert: CommitCertificate): Record<string, CodecValue> {
  return {
    chainId: cert.chainId,
    height: cert.height,
    view: cert.view,
    blockHash: cert.blockHash,
    signatures: cert.signatures.map((s) => ({ validator: s.validator, signature: s.signature })),
  };
}

function commitSignatureFromCodec(value: unknown, path: string): CommitSignature {
  const record = read.record(value, path, ['validator', 'signature']);
  return {
    validator: read.integer(record.validator, fieldPath(path, 'validator'), {
      max: MAX_VALIDATORS - 1,
    }),
    signature: read.bytes(record.signature, fieldPath(path, 'signature'), {
      minLength: 1,
      maxLength: MAX_SIGNATURE_BYTES,
    }),
  };
}

export function commitCertificateFromCodec(value: unknown, path = ''): CommitCertificate {
  const record = read.record(value, path, ['chainId', 'height', 'view', 'blockHash', 'signatures']);
  const signaturesPath = fieldPath(path, 'signatures');
  const signatures = read.array(record.signatures, signaturesPath, { maxLength: MAX_VALIDATORS });
  return {
    chainId: read.string(record.chainId, fieldPath(path, 'chainId'), CHAIN_ID_RULE),
    height: read.integer(record.height, fieldPath(path, 'height'), { min: 1 }),
    view: read.integer(record.view, fieldPath(path, 'view')),
    blockHash: read.bytes(record.blockHash, fieldPath(path, 'blockHash'), HASH_RULE),
    signatures: signatures.map((s, i) => commitSignatureFromCodec(s, fieldPath(signaturesPath, i))),
  };
}

export function encodeCommitCertificate(cert: CommitCertificate): Uint8Array {
  return encode(commitCertificateToCodec(cert));
}

export function decodeCommitCertificate(bytes: Uint8Array): CommitCertificate {
  return commitCertificateFromCodec(
    decodeBounded(bytes, MAX_CERTIFICATE_BYTES, LedgerErrorCode.tooLarge, 'commit certificate'),
  );
}

// ---------------------------------------------------------------------------
// receipts

export function receiptToCodec(receipt: Receipt): Record<string, CodecValue> {
  return {
    txHash: receipt.txHash,
    height: receipt.height,
    index: receipt.index,
    code: receipt.code,
    reason: receipt.reason,
  };
}

export function receiptFromCodec(value: unknown, path = ''): Receipt {
  const record = read.record(value, path, ['txHash', 'height', 'index', 'code', 'reason']);
  return {
    txHash: read.bytes(record.txHash, fieldPath(path, 'txHash'), HASH_RULE),
    height: read.integer(record.height, fieldPath(path, 'height'), { min: 1 }),
    index: read.integer(record.index, fieldPath(path, 'index')),
    code: read.string(record.code, fieldPath(path, 'code'), {
      maxLength: 64,
      pattern: RECEIPT_CODE_PATTERN,
      patternHint: 'not a receipt code (OK or an upper-case contract error code)',
    }),
    reason: read.string(record.reason, fieldPath(path, 'reason'), {
      maxLength: MAX_RECEIPT_REASON_LENGTH,
    }),
  };
}

export function encodeReceipt(receipt: Receipt): Uint8Array {
  return encode(receiptToCodec(receipt));
}

export function decodeReceipt(bytes: Uint8Array): Receipt {
  return receiptFromCodec(
    decodeBounded(bytes, MAX_RECEIPT_BYTES, LedgerErrorCode.tooLarge, 'receipt'),
  );
}
