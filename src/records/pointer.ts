/**
 * Sealing and opening record pointers (envelope encryption).
 *
 * Each record gets a fresh data key. The locator (a URL in the owner's own
 * system, or a vault document id) and the sensitive metadata are sealed with
 * the suite's AEAD under that key, with associated data binding each
 * ciphertext to its chain, record and part — a ciphertext copied into another
 * record does not open. The data key is wrapped for each recipient (owner
 * institution, patient key, grantees); a recipient is named by its signing
 * public key (./keys.ts). Plain locators and data keys exist only in memory.
 */
import { bytesEqual, CodecError, decode, encode } from '../codec/index.js';
import type { CodecValue } from '../codec/index.js';
import { CONTRACT_LIMITS } from '../contracts/limits.js';
import type { KeyWrap, RecordEntry, RecordKeyWrap } from '../contracts/model.js';
import { CryptoError } from '../crypto/errors.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { InvalidInputError } from '../errors.js';
import { RecordsError, RecordsErrorCode } from './errors.js';
import { encryptionPrivateKeyOf, encryptionPublicKeyOf } from './keys.js';

export const RECORD_POINTER_TAG = 'medchain/record-pointer/v1';
export const MAX_LOCATOR_LENGTH = 2048;

export type RecordMetadata = { readonly [key: string]: CodecValue };

export interface RecordPointer {
  readonly locator: string;
  readonly metadata: RecordMetadata;
}

/** Associated data of a sealed part: `encode([RECORD_POINTER_TAG, chainId, recordId, part])`. */
export function pointerAad(
  chainId: string,
  recordId: string,
  part: 'locator' | 'metadata',
): Uint8Array {
  return encode([RECORD_POINTER_TAG, chainId, recordId, part]);
}

export interface SealRecordPointerParams {
  readonly chainId: string;
  readonly recordId: string;
  readonly locator: string;
  readonly metadata?: RecordMetadata;
  /** Signing public keys to wrap the data key for: the owner institution, the patient key if any, … */
  readonly recipients: readonly Uint8Array[];
}

export interface SealedRecordPointer {
  readonly sealedLocator: Uint8Array;
  readonly sealedMetadata: Uint8Array;
  readonly wraps: KeyWrap[];
  /** The fresh data key. Keep it in memory only (to wrap for grantees); never persist or log it. */
  readonly dataKey: Uint8Array;
}

/** Wraps `dataKey` for the holder of `recipient` (a signing public key). */
export function wrapDataKey(
  suite: CryptoSuite,
  dataKey: Uint8Array,
  recipient: Uint8Array,
): KeyWrap {
  return {
    recipient: Uint8Array.from(recipient),
    wrapped: suite.wrapKey(dataKey, encryptionPublicKeyOf(suite, recipient)),
  };
}

export function sealRecordPointer(
  suite: CryptoSuite,
  params: SealRecordPointerParams,
): SealedRecordPointer {
  const { chainId, recordId, locator } = params;
  if (typeof locator !== 'string' || locator.length === 0 || locator.length > MAX_LOCATOR_LENGTH) {
    throw new InvalidInputError('locator', `must be 1-${MAX_LOCATOR_LENGTH} characters`);
  }
  if (params.recipients.length === 0) {
    throw new InvalidInputError('recipients', 'name at least the owner institution key');
  }
  const metadataBytes = encode(params.metadata ?? {});
  const dataKey = suite.randomBytes(suite.aeadKeyLength);
  const sealedLocator = suite.seal(
    dataKey,
    new TextEncoder().encode(locator),
    pointerAad(chainId, recordId, 'locator'),
  );
  const sealedMetadata = suite.seal(
    dataKey,
    metadataBytes,
    pointerAad(chainId, recordId, 'metadata'),
  );
  if (sealedLocator.length > CONTRACT_LIMITS.maxSealedLocatorBytes) {
    throw new InvalidInputError('locator', 'too long once sealed');
  }
  if (sealedMetadata.length > CONTRACT_LIMITS.maxSealedMetadataBytes) {
    throw new InvalidInputError(
      'metadata',
      `encodes to ${metadataBytes.length} bytes; sealed it must fit in ${CONTRACT_LIMITS.maxSealedMetadataBytes}`,
    );
  }
  const wraps = params.recipients.map((recipient) => wrapDataKey(suite, dataKey, recipient));
  return { sealedLocator, sealedMetadata, wraps, dataKey };
}

/**
 * The data key from whichever of `wraps` is addressed to the holder of
 * `signingPrivateKey`. Throws `RECORDS_NO_WRAP_FOR_KEY` if none is, and
 * `RECORDS_UNWRAP_FAILED` if it does not unwrap.
 */
export function unwrapDataKey(
  suite: CryptoSuite,
  wraps: readonly KeyWrap[],
  signingPrivateKey: Uint8Array,
): Uint8Array {
  const { publicKey } = suite.keyPairFromPrivateKey(signingPrivateKey);
  const wrap = wraps.find((w) => bytesEqual(w.recipient, publicKey));
  if (wrap === undefined) {
    throw new RecordsError(RecordsErrorCode.noWrapForKey, 'no key wrap is addressed to this key');
  }
  try {
    return suite.unwrapKey(wrap.wrapped, encryptionPrivateKeyOf(suite, signingPrivateKey));
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    throw new RecordsError(
      RecordsErrorCode.unwrapFailed,
      'the key wrap did not unwrap with this key',
      {},
      { cause: err },
    );
  }
}

export interface OpenRecordPointerParams {
  readonly chainId: string;
  readonly record: Pick<RecordEntry, 'id' | 'sealedLocator' | 'sealedMetadata' | 'wraps'>;
  /** Further wraps, e.g. those of the grant the reader holds. */
  readonly grantWraps?: readonly RecordKeyWrap[];
  readonly signingPrivateKey: Uint8Array;
}

export interface OpenedRecordPointer extends RecordPointer {
  /** Keep in memory only. */
  readonly dataKey: Uint8Array;
}

/** Opens a record pointer with the reader's key: unwrap the data key, then open locator and metadata. */
export function openRecordPointer(
  suite: CryptoSuite,
  params: OpenRecordPointerParams,
): OpenedRecordPointer {
  const { chainId, record } = params;
  const wraps: KeyWrap[] = [
    ...record.wraps,
    ...(params.grantWraps ?? []).filter((w) => w.recordId === record.id),
  ];
  const dataKey = unwrapDataKey(suite, wraps, params.signingPrivateKey);
  let locatorBytes: Uint8Array;
  let metadataBytes: Uint8Array;
  try {
    locatorBytes = suite.open(
      dataKey,
      record.sealedLocator,
      pointerAad(chainId, record.id, 'locator'),
    );
    metadataBytes = suite.open(
      dataKey,
      record.sealedMetadata,
      pointerAad(chainId, record.id, 'metadata'),
    );
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    throw new RecordsError(
      RecordsErrorCode.openFailed,
      `the sealed pointer of record ${record.id} does not open with its data key`,
      { recordId: record.id },
      { cause: err },
    );
  }
  let metadata: CodecValue;
  try {
    metadata = decode(metadataBytes);
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    throw new RecordsError(
      RecordsErrorCode.openFailed,
      `the metadata of record ${record.id} is not canonical CBOR`,
      {
        recordId: record.id,
      },
    );
  }
  if (
    typeof metadata !== 'object' ||
    metadata === null ||
    Array.isArray(metadata) ||
    metadata instanceof Uint8Array
  ) {
    throw new RecordsError(
      RecordsErrorCode.openFailed,
      `the metadata of record ${record.id} is not a map`,
      {
        recordId: record.id,
      },
    );
  }
  let locator: string;
  try {
    locator = new TextDecoder('utf-8', { fatal: true }).decode(locatorBytes);
  } catch {
    throw new RecordsError(
      RecordsErrorCode.openFailed,
      `the locator of record ${record.id} is not UTF-8`,
      {
        recordId: record.id,
      },
    );
  }
  return { locator, metadata: metadata as RecordMetadata, dataKey };
}

/** A wrap of a record's data key for a grantee (its signing public key), for consent.grant or referral.create. */
export function wrapForGrantee(
  suite: CryptoSuite,
  dataKey: Uint8Array,
  recordId: string,
  granteePublicKey: Uint8Array,
): RecordKeyWrap {
  return { recordId, ...wrapDataKey(suite, dataKey, granteePublicKey) };
}

/**
 * Re-wraps records' data keys for a grantee: unwraps each with the granting
 * party's own key (owner institution, or the patient) and wraps it for the grantee.
 */
export function rewrapForGrantee(
  suite: CryptoSuite,
  records: readonly Pick<RecordEntry, 'id' | 'wraps'>[],
  signingPrivateKey: Uint8Array,
  granteePublicKey: Uint8Array,
): RecordKeyWrap[] {
  return records.map((record) =>
    wrapForGrantee(
      suite,
      unwrapDataKey(suite, record.wraps, signingPrivateKey),
      record.id,
      granteePublicKey,
    ),
  );
}
