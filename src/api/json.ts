/**
 * The one JSON representation of ledger objects on the API, and its exact
 * inverse for clients.
 *
 * Rules:
 * - fixed byte fields (hashes, keys, signatures) are lower-case hex strings;
 * - every object that has a canonical encoding also comes with `raw`: the hex
 *   of those canonical bytes, so a client can check hashes and signatures
 *   without trusting this mapping;
 * - transaction payload values (any `CodecValue`) map as: integer → number,
 *   string/boolean/null/array as themselves, `Uint8Array` → `{"$bytes": hex}`,
 *   bigint → `{"$bigint": "<decimal>"}`, map → object. A map that has exactly
 *   one key and that key starts with `$` is wrapped as `{"$map": {…}}`, so a
 *   one-key object whose key starts with `$` is always a tag and never data:
 *   the mapping is a bijection and `payloadFromJson(payloadToJson(v))`
 *   encodes to the same canonical bytes as `v`.
 */
import { fromHex, toHex } from '../codec/index.js';
import type { CodecValue } from '../codec/index.js';
import { createFieldReader, describeType, fieldPath } from '../codec/fields.js';
import { InvalidInputError } from '../errors.js';
import {
  encodeBlock,
  encodeCommitCertificate,
  encodeTransaction,
  HASH_BYTES,
  isTxType,
  MAX_PUBLIC_KEY_BYTES,
  MAX_SIGNATURE_BYTES,
} from '../ledger/encoding.js';
import type {
  BlockHeader,
  CommitCertificate,
  Receipt,
  Transaction,
  TxType,
} from '../ledger/types.js';
import type {
  BlockLookup,
  CommittedBlockEvent,
  NodeRole,
  NodeStatus,
  PeerInfo,
  SubmitResult,
  SyncState,
  TxLookup,
} from './types.js';

// ---------------------------------------------------------------------------
// JSON shapes (what the routes return and the client receives)

export type PayloadJson =
  | number
  | string
  | boolean
  | null
  | readonly PayloadJson[]
  | { readonly [key: string]: PayloadJson };

export interface TransactionJson {
  readonly chainId: string;
  readonly type: TxType;
  readonly payload: { readonly [key: string]: PayloadJson };
  readonly signer: string;
  readonly nonce: number;
  readonly validUntilHeight: number;
  readonly signature: string;
}

export interface ReceiptJson {
  readonly txHash: string;
  readonly height: number;
  readonly index: number;
  readonly code: string;
  readonly reason: string;
}

/** `GET /v1/txs/:hash`. `height`, `index` and `receipt` are null while pending. */
export interface TxRecordJson {
  readonly hash: string;
  readonly status: 'pending' | 'committed';
  readonly height: number | null;
  readonly index: number | null;
  readonly tx: TransactionJson;
  readonly receipt: ReceiptJson | null;
  /** Hex of the canonical transaction bytes; its hash is `hash`. */
  readonly raw: string;
}

export interface BlockHeaderJson {
  readonly chainId: string;
  readonly height: number;
  readonly prevHash: string;
  readonly txRoot: string;
  readonly stateRoot: string;
  readonly proposer: number;
  readonly view: number;
  readonly timestamp: number;
  readonly validatorSetHash: string;
}

export interface CommitSignatureJson {
  readonly validator: number;
  readonly signature: string;
}

export interface CertificateJson {
  readonly chainId: string;
  readonly height: number;
  readonly view: number;
  readonly blockHash: string;
  /** Validator indexes that signed, in certificate order. */
  readonly signers: readonly number[];
  readonly signatures: readonly CommitSignatureJson[];
  /** Hex of the canonical certificate bytes. */
  readonly raw: string;
}

/** `GET /v1/blocks/:height` and `/v1/blocks/latest`. */
export interface BlockJson {
  readonly height: number;
  readonly hash: string;
  readonly header: BlockHeaderJson;
  readonly txCount: number;
  readonly txHashes: readonly string[];
  readonly receipts: readonly ReceiptJson[];
  readonly certificate: CertificateJson;
  /** Hex of the canonical block bytes (header and transactions). */
  readonly raw: string;
}

export interface StatusJson {
  readonly chainId: string;
  readonly institutionId: string;
  readonly role: NodeRole;
  readonly suite: NodeStatus['suite'];
  readonly genesisHash: string;
  readonly height: number;
  readonly latestBlockHash: string | null;
  readonly stateRoot: string | null;
  readonly view: number;
  readonly primary: { readonly index: number; readonly institutionId: string };
  readonly validators: { readonly total: number; readonly connected: number };
  readonly sync: { readonly state: SyncState; readonly targetHeight: number };
  readonly mempool: { readonly size: number; readonly bytes: number };
  readonly peers: number;
  readonly version: string;
}

export interface PeerJson {
  readonly peerId: string;
  readonly institutionId: string | null;
  readonly role: NodeRole | null;
  readonly addresses: readonly string[];
  readonly direction: 'inbound' | 'outbound';
}

export interface PeersJson {
  readonly peers: readonly PeerJson[];
}

/** `POST /v1/txs`: 202 when newly accepted, 200 when the node already had it. */
export interface SubmitJson {
  readonly hash: string;
  readonly duplicate: boolean;
}

export interface ErrorInfoJson {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

export type BatchItemJson =
  | { readonly index: number; readonly status: 'accepted' | 'duplicate'; readonly hash: string }
  | { readonly index: number; readonly status: 'rejected'; readonly error: ErrorInfoJson };

/** `POST /v1/txs/batch`: one result per submitted transaction, in order. */
export interface BatchJson {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly results: readonly BatchItemJson[];
}

/** One message of the `/v1/events` WebSocket stream. */
export type EventJson =
  | {
      readonly type: 'hello';
      readonly chainId: string;
      readonly height: number;
    }
  | {
      readonly type: 'block';
      readonly height: number;
      readonly hash: string;
      readonly view: number;
      readonly timestamp: number;
      readonly txCount: number;
      readonly receipts: readonly { readonly txHash: string; readonly code: string }[];
    };

export interface HealthJson {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface ReadyJson {
  readonly ready: boolean;
  readonly checks: {
    readonly storeOpen: boolean;
    readonly p2pStarted: boolean;
    readonly synced: boolean;
  };
}

// ---------------------------------------------------------------------------
// payload values

/** Deepest payload nesting accepted from JSON (the codec itself has no bound). */
export const MAX_PAYLOAD_DEPTH = 64;

const TAG_BYTES = '$bytes';
const TAG_BIGINT = '$bigint';
const TAG_MAP = '$map';
const BIGINT_PATTERN = /^-?(0|[1-9][0-9]*)$/;

function isTagShaped(keys: readonly string[]): boolean {
  return keys.length === 1 && (keys[0] ?? '').startsWith('$');
}

export function payloadValueToJson(value: CodecValue): PayloadJson {
  if (value instanceof Uint8Array) return { [TAG_BYTES]: toHex(value) };
  if (typeof value === 'bigint') return { [TAG_BIGINT]: value.toString(10) };
  if (Array.isArray(value)) return (value as readonly CodecValue[]).map(payloadValueToJson);
  if (value !== null && typeof value === 'object') {
    const map = value as { readonly [key: string]: CodecValue };
    const entries = Object.keys(map).map((key) => [key, payloadValueToJson(map[key] ?? null)]);
    const object = Object.fromEntries(entries) as { [key: string]: PayloadJson };
    return isTagShaped(Object.keys(map)) ? { [TAG_MAP]: object } : object;
  }
  return value;
}

export function payloadToJson(payload: { readonly [key: string]: CodecValue }): {
  readonly [key: string]: PayloadJson;
} {
  const json = payloadValueToJson(payload);
  return json as { readonly [key: string]: PayloadJson };
}

function fail(path: string, problem: string): never {
  throw new InvalidInputError(path || '(root)', problem);
}

function mapFromJson(
  object: Readonly<Record<string, unknown>>,
  path: string,
  depth: number,
): { [key: string]: CodecValue } {
  // Object.fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(
    Object.keys(object).map((key) => [
      key,
      payloadValueFromJson(object[key], fieldPath(path, key), depth + 1),
    ]),
  );
}

export function payloadValueFromJson(value: unknown, path = 'payload', depth = 0): CodecValue {
  if (depth > MAX_PAYLOAD_DEPTH) fail(path, `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) fail(path, 'numbers must be safe integers');
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => payloadValueFromJson(item, fieldPath(path, i), depth + 1));
  }
  if (typeof value !== 'object') fail(path, `unsupported value (${describeType(value)})`);
  const object = value as Readonly<Record<string, unknown>>;
  const keys = Object.keys(object);
  if (!isTagShaped(keys)) return mapFromJson(object, path, depth);
  const tag = keys[0] ?? '';
  const inner = object[tag];
  const tagPath = fieldPath(path, tag);
  switch (tag) {
    case TAG_BYTES:
      if (typeof inner !== 'string') fail(tagPath, 'expected a hex string');
      if (inner.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(inner)) {
        fail(tagPath, 'not an even-length hex string');
      }
      return fromHex(inner, tagPath);
    case TAG_BIGINT:
      if (typeof inner !== 'string' || !BIGINT_PATTERN.test(inner)) {
        fail(tagPath, 'expected a decimal integer string');
      }
      return BigInt(inner);
    case TAG_MAP:
      if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
        fail(tagPath, `expected an object, got ${describeType(inner)}`);
      }
      return mapFromJson(inner as Readonly<Record<string, unknown>>, tagPath, depth);
    default:
      return fail(
        tagPath,
        `"${tag.slice(0, 32)}" is a reserved tag (a one-key map whose key starts with "$" must be wrapped in "$map")`,
      );
  }
}

export function payloadFromJson(
  value: unknown,
  path = 'payload',
): { readonly [key: string]: CodecValue } {
  const decoded = payloadValueFromJson(value, path);
  if (
    decoded === null ||
    typeof decoded !== 'object' ||
    Array.isArray(decoded) ||
    decoded instanceof Uint8Array
  ) {
    fail(path, `expected a map, got ${describeType(decoded)}`);
  }
  return decoded as { readonly [key: string]: CodecValue };
}

// ---------------------------------------------------------------------------
// ledger objects → JSON

export function transactionToJson(tx: Transaction): TransactionJson {
  return {
    chainId: tx.chainId,
    type: tx.type,
    payload: payloadToJson(tx.payload),
    signer: toHex(tx.signer),
    nonce: tx.nonce,
    validUntilHeight: tx.validUntilHeight,
    signature: toHex(tx.signature),
  };
}

export function receiptToJson(receipt: Receipt): ReceiptJson {
  return {
    txHash: toHex(receipt.txHash),
    height: receipt.height,
    index: receipt.index,
    code: receipt.code,
    reason: receipt.reason,
  };
}

export function txLookupToJson(hash: Uint8Array, lookup: TxLookup): TxRecordJson {
  const committed = lookup.status === 'committed' ? lookup.receipt : null;
  return {
    hash: toHex(hash),
    status: lookup.status,
    height: committed?.height ?? null,
    index: committed?.index ?? null,
    tx: transactionToJson(lookup.tx),
    receipt: committed === null ? null : receiptToJson(committed),
    raw: toHex(encodeTransaction(lookup.tx)),
  };
}

export function blockHeaderToJson(header: BlockHeader): BlockHeaderJson {
  return {
    chainId: header.chainId,
    height: header.height,
    prevHash: toHex(header.prevHash),
    txRoot: toHex(header.txRoot),
    stateRoot: toHex(header.stateRoot),
    proposer: header.proposer,
    view: header.view,
    timestamp: header.timestamp,
    validatorSetHash: toHex(header.validatorSetHash),
  };
}

export function certificateToJson(cert: CommitCertificate): CertificateJson {
  return {
    chainId: cert.chainId,
    height: cert.height,
    view: cert.view,
    blockHash: toHex(cert.blockHash),
    signers: cert.signatures.map((s) => s.validator),
    signatures: cert.signatures.map((s) => ({
      validator: s.validator,
      signature: toHex(s.signature),
    })),
    raw: toHex(encodeCommitCertificate(cert)),
  };
}

export function blockLookupToJson(lookup: BlockLookup): BlockJson {
  const { block } = lookup;
  return {
    height: block.header.height,
    hash: toHex(lookup.hash),
    header: blockHeaderToJson(block.header),
    txCount: block.txs.length,
    txHashes: lookup.receipts.map((r) => toHex(r.txHash)),
    receipts: lookup.receipts.map(receiptToJson),
    certificate: certificateToJson(lookup.certificate),
    raw: toHex(encodeBlock(block)),
  };
}

export function statusToJson(status: NodeStatus): StatusJson {
  return {
    chainId: status.chainId,
    institutionId: status.institutionId,
    role: status.role,
    suite: status.suite,
    genesisHash: toHex(status.genesisHash),
    height: status.height,
    latestBlockHash: status.latestBlockHash === null ? null : toHex(status.latestBlockHash),
    stateRoot: status.stateRoot === null ? null : toHex(status.stateRoot),
    view: status.view,
    primary: { index: status.primary.index, institutionId: status.primary.institutionId },
    validators: { total: status.validators.total, connected: status.validators.connected },
    sync: { state: status.sync.state, targetHeight: status.sync.targetHeight },
    mempool: { size: status.mempool.size, bytes: status.mempool.bytes },
    peers: status.peers,
    version: status.version,
  };
}

export function peerToJson(peer: PeerInfo): PeerJson {
  return {
    peerId: peer.peerId,
    institutionId: peer.institutionId,
    role: peer.role,
    addresses: [...peer.addresses],
    direction: peer.direction,
  };
}

export function submitResultToJson(result: SubmitResult): SubmitJson {
  return { hash: toHex(result.hash), duplicate: result.duplicate };
}

export function blockEventToJson(event: CommittedBlockEvent): EventJson {
  return {
    type: 'block',
    height: event.height,
    hash: toHex(event.hash),
    view: event.view,
    timestamp: event.timestamp,
    txCount: event.txCount,
    receipts: event.receipts.map((r) => ({ txHash: toHex(r.txHash), code: r.code })),
  };
}

// ---------------------------------------------------------------------------
// JSON → ledger objects (the inverse, for clients); errors name the field

const read = createFieldReader(fail);
const HEX_PATTERN = /^(?:[0-9a-f]{2})*$/;

function hexField(value: unknown, path: string, length?: number, maxLength?: number): Uint8Array {
  const text = read.string(value, path, {
    maxLength: 2 * (length ?? maxLength ?? 16 * 1024 * 1024),
    pattern: HEX_PATTERN,
    patternHint: 'not an even-length lower-case hex string',
  });
  if (length !== undefined && text.length !== 2 * length) {
    fail(path, `expected ${length} bytes of hex, got ${text.length / 2}`);
  }
  return fromHex(text, path);
}

export function transactionFromJson(value: unknown, path = ''): Transaction {
  const record = read.record(value, path, [
    'chainId',
    'type',
    'payload',
    'signer',
    'nonce',
    'validUntilHeight',
    'signature',
  ]);
  const typePath = fieldPath(path, 'type');
  const type = read.string(record.type, typePath, { maxLength: 64 });
  if (!isTxType(type)) fail(typePath, `unknown transaction type "${type}"`);
  return {
    chainId: read.string(record.chainId, fieldPath(path, 'chainId'), {
      minLength: 1,
      maxLength: 64,
    }),
    type,
    payload: payloadFromJson(record.payload, fieldPath(path, 'payload')),
    signer: hexField(record.signer, fieldPath(path, 'signer'), undefined, MAX_PUBLIC_KEY_BYTES),
    nonce: read.integer(record.nonce, fieldPath(path, 'nonce')),
    validUntilHeight: read.integer(record.validUntilHeight, fieldPath(path, 'validUntilHeight')),
    signature: hexField(
      record.signature,
      fieldPath(path, 'signature'),
      undefined,
      MAX_SIGNATURE_BYTES,
    ),
  };
}

export function receiptFromJson(value: unknown, path = ''): Receipt {
  const record = read.record(value, path, ['txHash', 'height', 'index', 'code', 'reason']);
  return {
    txHash: hexField(record.txHash, fieldPath(path, 'txHash'), HASH_BYTES),
    height: read.integer(record.height, fieldPath(path, 'height'), { min: 1 }),
    index: read.integer(record.index, fieldPath(path, 'index')),
    code: read.string(record.code, fieldPath(path, 'code'), { minLength: 1, maxLength: 64 }),
    reason: read.string(record.reason, fieldPath(path, 'reason'), { maxLength: 4096 }),
  };
}

export function blockHeaderFromJson(value: unknown, path = ''): BlockHeader {
  const record = read.record(value, path, [
    'chainId',
    'height',
    'prevHash',
    'txRoot',
    'stateRoot',
    'proposer',
    'view',
    'timestamp',
    'validatorSetHash',
  ]);
  const hash = (key: string): Uint8Array => hexField(record[key], fieldPath(path, key), HASH_BYTES);
  return {
    chainId: read.string(record.chainId, fieldPath(path, 'chainId'), {
      minLength: 1,
      maxLength: 64,
    }),
    height: read.integer(record.height, fieldPath(path, 'height'), { min: 1 }),
    prevHash: hash('prevHash'),
    txRoot: hash('txRoot'),
    stateRoot: hash('stateRoot'),
    proposer: read.integer(record.proposer, fieldPath(path, 'proposer')),
    view: read.integer(record.view, fieldPath(path, 'view')),
    timestamp: read.integer(record.timestamp, fieldPath(path, 'timestamp')),
    validatorSetHash: hash('validatorSetHash'),
  };
}

export function certificateFromJson(value: unknown, path = ''): CommitCertificate {
  const record = read.record(value, path, [
    'chainId',
    'height',
    'view',
    'blockHash',
    'signers',
    'signatures',
    'raw',
  ]);
  const signaturesPath = fieldPath(path, 'signatures');
  const signatures = read.array(record.signatures, signaturesPath, { maxLength: 1024 });
  return {
    chainId: read.string(record.chainId, fieldPath(path, 'chainId'), {
      minLength: 1,
      maxLength: 64,
    }),
    height: read.integer(record.height, fieldPath(path, 'height'), { min: 1 }),
    view: read.integer(record.view, fieldPath(path, 'view')),
    blockHash: hexField(record.blockHash, fieldPath(path, 'blockHash'), HASH_BYTES),
    signatures: signatures.map((s, i) => {
      const at = fieldPath(signaturesPath, i);
      const sig = read.record(s, at, ['validator', 'signature']);
      return {
        validator: read.integer(sig.validator, fieldPath(at, 'validator')),
        signature: hexField(
          sig.signature,
          fieldPath(at, 'signature'),
          undefined,
          MAX_SIGNATURE_BYTES,
        ),
      };
    }),
  };
}

/** Bytes of a `raw` field (canonical encoding), for `decodeTransaction` / `decodeBlock` etc. */
export function rawBytes(raw: string, path = 'raw'): Uint8Array {
  return hexField(raw, path);
}
