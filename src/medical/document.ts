/**
 * Documents in the vault (client side). The owner's client seals a document
 * with the record's data key — the key `sealRecordPointer` draws and wraps
 * for the owner, the patient and each grantee — with associated data binding
 * it to the chain and the record, so a ciphertext moved to another record
 * does not open. The vault stores only that ciphertext; the chain stores
 * `contentHash = H(plaintext)`. A reader unwraps the data key with its own
 * key, opens the ciphertext and checks the hash against the chain: a document
 * replaced in the vault (even one sealed with the right key) fails the check.
 */
import { bytesEqual, encode, toHex } from '../codec/index.js';
import type { KeyWrap } from '../contracts/index.js';
import { CryptoError } from '../crypto/errors.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { RecordsError, RecordsErrorCode, unwrapDataKey } from '../records/index.js';
import { MedicalError, MedicalErrorCode } from './errors.js';

export const DOCUMENT_TAG = 'medchain/vault-document/v1';

export function documentAad(chainId: string, recordId: string): Uint8Array {
  return encode([DOCUMENT_TAG, chainId, recordId]);
}

export interface SealedDocument {
  readonly ciphertext: Uint8Array;
  /** `suite.hash(content)`: what record.register puts on chain. */
  readonly contentHash: Uint8Array;
}

export function sealDocument(
  suite: CryptoSuite,
  params: { chainId: string; recordId: string; dataKey: Uint8Array; content: Uint8Array },
): SealedDocument {
  return {
    ciphertext: suite.seal(
      params.dataKey,
      params.content,
      documentAad(params.chainId, params.recordId),
    ),
    contentHash: suite.hash(params.content),
  };
}

/**
 * Opens a vault document and checks it against the record's content hash on
 * chain: `MEDICAL_DOCUMENT_OPEN_FAILED` if it does not open with the data key,
 * `MEDICAL_CONTENT_HASH_MISMATCH` if it opens but is not the registered document.
 */
export function openDocument(
  suite: CryptoSuite,
  params: {
    chainId: string;
    record: { readonly id: string; readonly contentHash: Uint8Array };
    dataKey: Uint8Array;
    ciphertext: Uint8Array;
  },
): Uint8Array {
  const { record } = params;
  let content: Uint8Array;
  try {
    content = suite.open(params.dataKey, params.ciphertext, documentAad(params.chainId, record.id));
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    throw new MedicalError(
      MedicalErrorCode.documentOpenFailed,
      `the document of record ${record.id} does not open with the record's data key (tampered, or not this record's)`,
      { recordId: record.id },
      { cause: err },
    );
  }
  const actual = suite.hash(content);
  if (!bytesEqual(actual, record.contentHash)) {
    throw new MedicalError(
      MedicalErrorCode.contentHashMismatch,
      `the document of record ${record.id} is not the registered one: its hash ${toHex(actual)} differs from the content hash on chain ${toHex(record.contentHash)}`,
      { recordId: record.id, actual: toHex(actual), onChain: toHex(record.contentHash) },
    );
  }
  return content;
}

/**
 * The data key from the first of `privateKeys` that has a wrap among `wraps`
 * (reader member key, then e.g. its institution key). Throws
 * `RECORDS_NO_WRAP_FOR_KEY` when none has, `RECORDS_UNWRAP_FAILED` when the
 * wrap addressed to a key does not unwrap with it.
 */
export function findDataKey(
  suite: CryptoSuite,
  wraps: readonly KeyWrap[],
  privateKeys: readonly Uint8Array[],
): Uint8Array {
  for (const privateKey of privateKeys) {
    try {
      return unwrapDataKey(suite, wraps, privateKey);
    } catch (err) {
      if (err instanceof RecordsError && err.code === RecordsErrorCode.noWrapForKey) continue;
      throw err;
    }
  }
  throw new RecordsError(
    RecordsErrorCode.noWrapForKey,
    `none of the ${privateKeys.length} key(s) given has a wrap of this record's data key`,
  );
}
