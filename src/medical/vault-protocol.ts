/**
 * Messages of `/medchain/<chain>/vault/1` between a reader's node and the
 * owner's node (canonical CBOR; p2p limits: 64 KiB per request, 16 MiB per
 * response). One operation so far:
 *
 *     request  {v: 1, op: 'fetch', tx: <signed access.log transaction bytes>}
 *     response {recordId, ciphertext, accessTx: <tx hash>, height: <commit height>}
 *
 * Errors travel as the protocol's error frame `{code, message}` with a
 * `MEDICAL_*` code (./errors.ts), which the reader's node passes on.
 */
import { CodecError, decode, encode } from '../codec/index.js';
import { createFieldReader } from '../codec/fields.js';
import { ID_PATTERN } from '../contracts/index.js';
import { MedicalError, MedicalErrorCode } from './errors.js';

export const VAULT_PROTOCOL_VERSION = 1;
const MAX_TX_BYTES = 60 * 1024;

export interface VaultFetchRequest {
  readonly op: 'fetch';
  /** Canonical bytes of the reader's signed access.log transaction. */
  readonly tx: Uint8Array;
}

export interface VaultFetchResponse {
  readonly recordId: string;
  readonly ciphertext: Uint8Array;
  /** Hash of the access.log transaction the owner committed before serving. */
  readonly accessTx: Uint8Array;
  /** Height at which it committed. */
  readonly height: number;
}

const read = createFieldReader((path, problem) => {
  throw new MedicalError(
    MedicalErrorCode.vaultRequestInvalid,
    `vault message: ${path}: ${problem}`,
    {
      field: path,
    },
  );
});

function decodeMessage(bytes: Uint8Array, maxBytes: number): unknown {
  try {
    return decode(bytes, { maxBytes });
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    throw new MedicalError(MedicalErrorCode.vaultRequestInvalid, `vault message: ${err.message}`);
  }
}

export function encodeVaultRequest(request: VaultFetchRequest): Uint8Array {
  return encode({ v: VAULT_PROTOCOL_VERSION, op: request.op, tx: request.tx });
}

export function decodeVaultRequest(bytes: Uint8Array): VaultFetchRequest {
  const r = read.record(decodeMessage(bytes, MAX_TX_BYTES + 64), 'request', ['v', 'op', 'tx']);
  const v = read.integer(r.v, 'v');
  if (v !== VAULT_PROTOCOL_VERSION) {
    throw new MedicalError(
      MedicalErrorCode.vaultRequestInvalid,
      `vault message: v: unsupported version ${v}`,
    );
  }
  return {
    op: read.oneOf(r.op, 'op', ['fetch'] as const),
    tx: read.bytes(r.tx, 'tx', { minLength: 1, maxLength: MAX_TX_BYTES }),
  };
}

export function encodeVaultResponse(response: VaultFetchResponse): Uint8Array {
  return encode({
    recordId: response.recordId,
    ciphertext: response.ciphertext,
    accessTx: response.accessTx,
    height: response.height,
  });
}

export function decodeVaultResponse(bytes: Uint8Array, maxBytes: number): VaultFetchResponse {
  const r = read.record(decodeMessage(bytes, maxBytes), 'response', [
    'recordId',
    'ciphertext',
    'accessTx',
    'height',
  ]);
  return {
    recordId: read.string(r.recordId, 'recordId', {
      minLength: 1,
      maxLength: 64,
      pattern: ID_PATTERN,
    }),
    ciphertext: read.bytes(r.ciphertext, 'ciphertext', { minLength: 1, maxLength: maxBytes }),
    accessTx: read.bytes(r.accessTx, 'accessTx', { length: 32 }),
    height: read.integer(r.height, 'height', { min: 1 }),
  };
}
