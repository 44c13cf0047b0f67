/**
 * What the node sends over p2p besides consensus messages: transaction
 * bundles (gossip), certified blocks (gossip, for observers) and the sync
 * protocol's requests and responses. Canonical CBOR, decoded strictly with
 * explicit bounds; a peer's bytes are never trusted beyond these checks.
 */
import { decode, encode, encodeSpliced } from '../codec/index.js';
import type { CodecValue, SplicedValue } from '../codec/index.js';
import { createFieldReader } from '../codec/fields.js';
import type { CertifiedBlock } from '../../consensus/types.js';
import { MedchainError } from '../errors.js';
import {
  blockFromCodec,
  blockToSplicedCodec,
  commitCertificateFromCodec,
  commitCertificateToCodec,
} from '../ledger/encoding.js';
import type { LedgerLimits } from '../ledger/encoding.js';

export class WireError extends MedchainError {
  constructor(problem: string) {
    super('NODE_WIRE_MALFORMED', problem);
  }
}

const read = createFieldReader((field, problem) => {
  throw new WireError(`${field}: ${problem}`);
});

function decodeValue(bytes: Uint8Array, maxBytes: number, what: string): CodecValue {
  try {
    return decode(bytes, { maxBytes });
  } catch (err) {
    throw new WireError(`${what}: ${(err as Error).message}`);
  }
}

function ledger<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MedchainError) throw new WireError(err.message);
    throw err;
  }
}

// ---- transaction bundles ----------------------------------------------------

/** A bundle: the canonical bytes of each transaction, in order. */
export function encodeTxBundle(txs: readonly Uint8Array[]): Uint8Array {
  return encode({ txs: [...txs] });
}

export function decodeTxBundle(bytes: Uint8Array, maxBytes: number, maxTxs: number): Uint8Array[] {
  const m = read.record(decodeValue(bytes, maxBytes, 'tx bundle'), 'bundle', ['txs']);
  return read
    .array(m.txs, 'bundle.txs', { maxLength: maxTxs })
    .map((t, i) => read.bytes(t, `bundle.txs[${i}]`, { minLength: 1, maxLength: maxBytes }));
}

// ---- transactions by hash (sync protocol) ----------------------------------------

/**
 * A validator asks the proposer of a compact pre-prepare for the transactions
 * it lacks (src/node/pre-prepare-assembler.ts). The answer is a tx bundle
 * (`encodeTxBundle`) of those the proposer still holds.
 */
export function encodeTxsRequest(txHashes: readonly Uint8Array[]): Uint8Array {
  return encode({ txHashes: [...txHashes] });
}

/** The hashes of a transactions request; null if `bytes` is another sync request. Throws if malformed. */
export function decodeTxsRequest(
  bytes: Uint8Array,
  maxTxs: number,
  maxHashBytes: number,
): Uint8Array[] | null {
  const value = decodeValue(bytes, 64 + maxTxs * (maxHashBytes + 3), 'sync request');
  if (value === null || typeof value !== 'object' || !('txHashes' in value)) return null;
  const m = read.record(value, 'request', ['txHashes']);
  return read
    .array(m.txHashes, 'request.txHashes', { maxLength: maxTxs })
    .map((h, i) =>
      read.bytes(h, `request.txHashes[${i}]`, { minLength: 1, maxLength: maxHashBytes }),
    );
}

// ---- certified blocks ---------------------------------------------------------

/** Its transactions as their bytes: encoding copies them (`encodeSpliced`). */
function certifiedToSpliced(e: CertifiedBlock): SplicedValue {
  return {
    block: blockToSplicedCodec(e.block),
    certificate: commitCertificateToCodec(e.certificate),
  };
}

function certifiedFromCodec(v: unknown, field: string, limits: LedgerLimits): CertifiedBlock {
  const m = read.record(v, field, ['block', 'certificate']);
  return ledger(() => ({
    block: blockFromCodec(m.block, limits),
    certificate: commitCertificateFromCodec(m.certificate, `${field}.certificate`),
  }));
}

export function encodeCertifiedBlock(entry: CertifiedBlock): Uint8Array {
  return encodeSpliced(certifiedToSpliced(entry));
}

export function decodeCertifiedBlock(
  bytes: Uint8Array,
  maxBytes: number,
  limits: LedgerLimits,
): CertifiedBlock {
  return certifiedFromCodec(decodeValue(bytes, maxBytes, 'certified block'), 'entry', limits);
}

// ---- sync protocol --------------------------------------------------------------

export interface SyncRequest {
  /** Inclusive range; `toHeight` 0 asks only for the responder's head. */
  readonly fromHeight: number;
  readonly toHeight: number;
}

export interface SyncResponse {
  /** The responder's committed height. */
  readonly headHeight: number;
  /** Consecutive certified blocks from `fromHeight` (possibly fewer than asked). */
  readonly entries: readonly CertifiedBlock[];
}

export function encodeSyncRequest(r: SyncRequest): Uint8Array {
  return encode({ fromHeight: r.fromHeight, toHeight: r.toHeight });
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  const m = read.record(decodeValue(bytes, 256, 'sync request'), 'request', [
    'fromHeight',
    'toHeight',
  ]);
  return {
    fromHeight: read.integer(m.fromHeight, 'request.fromHeight', { min: 0 }),
    toHeight: read.integer(m.toHeight, 'request.toHeight', { min: 0 }),
  };
}

export function encodeSyncResponse(r: SyncResponse): Uint8Array {
  return encodeSpliced({ headHeight: r.headHeight, entries: r.entries.map(certifiedToSpliced) });
}

export function decodeSyncResponse(
  bytes: Uint8Array,
  maxBytes: number,
  maxEntries: number,
  limits: LedgerLimits,
): SyncResponse {
  const m = read.record(decodeValue(bytes, maxBytes, 'sync response'), 'response', [
    'headHeight',
    'entries',
  ]);
  return {
    headHeight: read.integer(m.headHeight, 'response.headHeight', { min: 0 }),
    entries: read
      .array(m.entries, 'response.entries', { maxLength: maxEntries })
      .map((e, i) => certifiedFromCodec(e, `response.entries[${i}]`, limits)),
  };
}
