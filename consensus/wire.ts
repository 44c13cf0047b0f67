/**
 * Wire encoding of consensus messages: canonical CBOR of plain objects, and a
 * strict decoder that checks every field (type, range, length, no unknown
 * keys) before anything reaches the replica. A message that fails any check
 * is rejected with `ConsensusError(CONSENSUS_MALFORMED_MESSAGE)`.
 */
import { bytesEqual, decode, encode, encodeSpliced } from '../src/codec/index.js';
import type { CodecValue, SplicedValue } from '../src/codec/index.js';
import { InvariantError, MedchainError } from '../src/errors.js';
import {
  blockFromCodec,
  blockHeaderFromCodec,
  blockHeaderToCodec,
  blockToCodec,
  blockToSplicedCodec,
  commitCertificateFromCodec,
  encodeBlock,
  commitCertificateToCodec,
} from '../src/ledger/encoding.js';
import type { Block, BlockHeader, CommitCertificate, Transaction } from '../src/ledger/types.js';
import { ConsensusError, ConsensusErrorCode } from './errors.js';
import type {
  CertifiedBlock,
  CheckpointCertificate,
  ConsensusMessage,
  PrePrepareMessage,
  PreparedCertificate,
  Reproposal,
  SignedVoteMessage,
  ViewChangeMessage,
  VoteSignature,
  WalRecord,
} from './types.js';

export interface WireLimits {
  readonly maxMessageBytes: number;
  readonly maxValidators: number;
  readonly maxBlockTxs: number;
  readonly maxEntries: number;
  readonly maxHashBytes: number;
  readonly maxSignatureBytes: number;
}

export const DEFAULT_WIRE_LIMITS: WireLimits = {
  maxMessageBytes: 8 * 1024 * 1024,
  maxValidators: 1024,
  maxBlockTxs: 10_000,
  maxEntries: 1024,
  maxHashBytes: 64,
  maxSignatureBytes: 128,
};

function sigsToCodec(sigs: readonly VoteSignature[]): CodecValue[] {
  return sigs.map((s) => ({ validator: s.validator, signature: s.signature }));
}

function checkpointToCodec(c: CheckpointCertificate | null): CodecValue {
  if (!c) return null;
  return {
    height: c.height,
    blockHash: c.blockHash,
    stateRoot: c.stateRoot,
    signatures: sigsToCodec(c.signatures),
  };
}

/**
 * How a message's blocks become values: `blockToCodec` for the plain value
 * (`messageToCodec`), `blockToSplicedCodec` for encoding (each transaction
 * copied as its bytes, not encoded again; the bytes are the same).
 */
type BlockValue = (block: Block) => SplicedValue;

/**
 * Blocks of a new-view message, each stored once. The 2f+1 view-changes it
 * carries usually name the same prepared blocks, so a new-view that embedded
 * every copy would grow with n × the blocks in flight; instead each copy is a
 * reference (an index) into one table of distinct blocks. Signatures cover
 * digests only (votes.ts), so the encoding is free to share bodies.
 */
class BlockTable {
  readonly values: SplicedValue[] = [];
  readonly #byObject = new Map<Block, number>();
  readonly #bytes: Uint8Array[] = [];

  readonly #blockValue: BlockValue;

  constructor(blockValue: BlockValue) {
    this.#blockValue = blockValue;
  }

  ref(block: Block): number {
    const known = this.#byObject.get(block);
    if (known !== undefined) return known;
    const bytes = encodeBlock(block);
    let index = this.#bytes.findIndex((b) => bytesEqual(b, bytes));
    if (index < 0) {
      index = this.values.length;
      this.values.push(this.#blockValue(block));
      this.#bytes.push(bytes);
    }
    this.#byObject.set(block, index);
    return index;
  }
}

function blockOrRef(block: Block, to: BlockValue | BlockTable): SplicedValue {
  return to instanceof BlockTable ? to.ref(block) : to(block);
}

function preparedToCodec(p: PreparedCertificate, to: BlockValue | BlockTable): SplicedValue {
  return {
    height: p.height,
    view: p.view,
    block: blockOrRef(p.block, to),
    prePrepareSignature: p.prePrepareSignature,
    prepares: sigsToCodec(p.prepares),
  };
}

function certifiedToCodec(e: CertifiedBlock, to: BlockValue | BlockTable): SplicedValue {
  return {
    block: blockOrRef(e.block, to),
    certificate: commitCertificateToCodec(e.certificate),
  };
}

function viewChangeToCodec(m: ViewChangeMessage, to: BlockValue | BlockTable): SplicedValue {
  return {
    kind: m.kind,
    from: m.from,
    newView: m.newView,
    checkpoint: checkpointToCodec(m.checkpoint),
    committed: m.committed.map((e) => certifiedToCodec(e, to)),
    prepared: m.prepared.map((p) => preparedToCodec(p, to)),
    signature: m.signature,
  };
}

function messageValue(m: ConsensusMessage, blockValue: BlockValue): SplicedValue {
  switch (m.kind) {
    case 'pre-prepare':
      return {
        kind: m.kind,
        from: m.from,
        view: m.view,
        height: m.height,
        block: blockValue(m.block),
        signature: m.signature,
      };
    case 'prepare':
    case 'commit':
      return {
        kind: m.kind,
        from: m.from,
        view: m.view,
        height: m.height,
        digest: m.digest,
        signature: m.signature,
      };
    case 'checkpoint':
      return {
        kind: m.kind,
        from: m.from,
        height: m.height,
        blockHash: m.blockHash,
        stateRoot: m.stateRoot,
        signature: m.signature,
      };
    case 'view-change':
      return viewChangeToCodec(m, blockValue);
    case 'new-view': {
      const table = new BlockTable(blockValue);
      const viewChanges = m.viewChanges.map((vc) => viewChangeToCodec(vc, table));
      return {
        kind: m.kind,
        from: m.from,
        view: m.view,
        viewChanges,
        blocks: table.values,
        reproposals: m.reproposals.map((r) => ({
          height: r.height,
          digest: r.digest,
          signature: r.signature,
        })),
        signature: m.signature,
      };
    }
    case 'sync-request':
      return {
        kind: m.kind,
        from: m.from,
        fromHeight: m.fromHeight,
        toHeight: m.toHeight,
        signature: m.signature,
      };
    case 'sync-response':
      return {
        kind: m.kind,
        from: m.from,
        entries: m.entries.map((e) => certifiedToCodec(e, blockValue)),
        checkpoint: checkpointToCodec(m.checkpoint),
      };
  }
}

/** The plain CBOR value of a message (the exact shape `decodeMessage` accepts). */
export function messageToCodec(m: ConsensusMessage): CodecValue {
  // With blockToCodec every block is a plain value, so the tree holds no `Encoded`.
  return messageValue(m, blockToCodec) as CodecValue;
}

export function encodeMessage(message: ConsensusMessage): Uint8Array {
  return encodeSpliced(messageValue(message, blockToSplicedCodec));
}

type Obj = { readonly [key: string]: CodecValue };

function fail(field: string, problem: string): never {
  throw new ConsensusError(ConsensusErrorCode.malformedMessage, `${field}: ${problem}`, { field });
}

function obj(v: CodecValue | undefined, field: string, keys: readonly string[]): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    fail(field, 'not a map');
  }
  const o = v as Obj;
  const actual = Object.keys(o);
  if (actual.length !== keys.length) fail(field, `expected keys ${keys.join(',')}`);
  for (const k of keys) if (!(k in o)) fail(field, `missing ${k}`);
  return o;
}

function uint(v: CodecValue | undefined, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    fail(field, 'not an unsigned integer in range');
  }
  return v;
}

function bytes(
  v: CodecValue | undefined,
  field: string,
  maxLength: number,
  minLength = 1,
): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length > maxLength || v.length < minLength) {
    fail(field, 'not a byte string of allowed length');
  }
  return v;
}

function arr(v: CodecValue | undefined, field: string, maxLength: number): readonly CodecValue[] {
  if (!Array.isArray(v)) fail(field, 'not an array');
  const a = v as readonly CodecValue[];
  if (a.length > maxLength) fail(field, 'too many entries');
  return a;
}

function decodeBlock(v: CodecValue | undefined, field: string, l: WireLimits): Block {
  try {
    return blockFromCodec(v, { maxBlockTxs: l.maxBlockTxs });
  } catch (err) {
    return fail(field, err instanceof MedchainError ? err.message : 'malformed block');
  }
}

function decodeSigs(v: CodecValue | undefined, field: string, l: WireLimits): VoteSignature[] {
  return arr(v, field, l.maxValidators).map((s, i) => {
    const o = obj(s, `${field}[${i}]`, ['validator', 'signature']);
    return {
      validator: uint(o['validator'], `${field}[${i}].validator`, l.maxValidators - 1),
      signature: bytes(o['signature'], `${field}[${i}].signature`, l.maxSignatureBytes),
    };
  });
}

function decodeCheckpointCert(
  v: CodecValue | undefined,
  field: string,
  l: WireLimits,
): CheckpointCertificate | null {
  if (v === null) return null;
  const o = obj(v, field, ['height', 'blockHash', 'stateRoot', 'signatures']);
  return {
    height: uint(o['height'], `${field}.height`),
    blockHash: bytes(o['blockHash'], `${field}.blockHash`, l.maxHashBytes),
    stateRoot: bytes(o['stateRoot'], `${field}.stateRoot`, l.maxHashBytes),
    signatures: decodeSigs(o['signatures'], `${field}.signatures`, l),
  };
}

function decodeCommitCert(v: CodecValue | undefined, field: string): CommitCertificate {
  try {
    return commitCertificateFromCodec(v, field);
  } catch (err) {
    return fail(field, err instanceof MedchainError ? err.message : 'malformed certificate');
  }
}

/** A block, or (inside a new-view) an index into its table of distinct blocks. */
function decodeBlockOrRef(
  v: CodecValue | undefined,
  field: string,
  l: WireLimits,
  blocks: readonly Block[] | undefined,
): Block {
  if (!blocks) return decodeBlock(v, field, l);
  const index = uint(v, field, blocks.length - 1);
  return blocks[index] ?? fail(field, 'no such block in the table');
}

function decodePrepared(
  v: CodecValue | undefined,
  field: string,
  l: WireLimits,
  blocks?: readonly Block[],
): PreparedCertificate {
  const o = obj(v, field, ['height', 'view', 'block', 'prePrepareSignature', 'prepares']);
  return {
    height: uint(o['height'], `${field}.height`),
    view: uint(o['view'], `${field}.view`),
    block: decodeBlockOrRef(o['block'], `${field}.block`, l, blocks),
    prePrepareSignature: bytes(
      o['prePrepareSignature'],
      `${field}.prePrepareSignature`,
      l.maxSignatureBytes,
    ),
    prepares: decodeSigs(o['prepares'], `${field}.prepares`, l),
  };
}

function decodeViewChange(
  v: CodecValue | undefined,
  field: string,
  l: WireLimits,
  blocks?: readonly Block[],
): ViewChangeMessage {
  const o = obj(v, field, [
    'kind',
    'from',
    'newView',
    'checkpoint',
    'committed',
    'prepared',
    'signature',
  ]);
  if (o['kind'] !== 'view-change') fail(`${field}.kind`, 'not view-change');
  return {
    kind: 'view-change',
    from: uint(o['from'], `${field}.from`, l.maxValidators - 1),
    newView: uint(o['newView'], `${field}.newView`),
    checkpoint: decodeCheckpointCert(o['checkpoint'], `${field}.checkpoint`, l),
    committed: arr(o['committed'], `${field}.committed`, l.maxEntries).map((e, i) =>
      decodeCertified(e, `${field}.committed[${i}]`, l, blocks),
    ),
    prepared: arr(o['prepared'], `${field}.prepared`, l.maxEntries).map((p, i) =>
      decodePrepared(p, `${field}.prepared[${i}]`, l, blocks),
    ),
    signature: bytes(o['signature'], `${field}.signature`, l.maxSignatureBytes),
  };
}

function decodeCertified(
  v: CodecValue | undefined,
  field: string,
  l: WireLimits,
  blocks?: readonly Block[],
): CertifiedBlock {
  const o = obj(v, field, ['block', 'certificate']);
  return {
    block: decodeBlockOrRef(o['block'], `${field}.block`, l, blocks),
    certificate: decodeCommitCert(o['certificate'], `${field}.certificate`),
  };
}

/** The CBOR value of received bytes; ConsensusError if they are not CBOR within the limit. */
function decodeWireValue(input: Uint8Array, limits: WireLimits): CodecValue {
  try {
    // No canonical re-encode: nothing signs or hashes these bytes as received.
    // Votes sign digests, block hashes re-encode the header, tx hashes re-encode
    // each transaction — so a second encoding of a message changes nothing.
    return decode(input, { maxBytes: limits.maxMessageBytes, canonical: false });
  } catch (err) {
    return fail('message', `not canonical CBOR (${(err as Error).message})`);
  }
}

/** Decode and validate the shape of every field. Throws ConsensusError on anything malformed. */
export function decodeMessage(
  input: Uint8Array,
  limits: WireLimits = DEFAULT_WIRE_LIMITS,
): ConsensusMessage {
  return messageFromCodec(decodeWireValue(input, limits), limits);
}

/** Validate the shape of a decoded CBOR value as a message (see `decodeMessage`). */
export function messageFromCodec(
  value: CodecValue,
  limits: WireLimits = DEFAULT_WIRE_LIMITS,
): ConsensusMessage {
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    value instanceof Uint8Array
  ) {
    fail('message', 'not a map');
  }
  const kind = (value as Obj)['kind'];
  const l = limits;
  switch (kind) {
    case 'pre-prepare': {
      const o = obj(value, 'pre-prepare', ['kind', 'from', 'view', 'height', 'block', 'signature']);
      return {
        kind,
        from: uint(o['from'], 'from', l.maxValidators - 1),
        view: uint(o['view'], 'view'),
        height: uint(o['height'], 'height'),
        block: decodeBlock(o['block'], 'block', l),
        signature: bytes(o['signature'], 'signature', l.maxSignatureBytes),
      };
    }
    case 'prepare':
    case 'commit': {
      const o = obj(value, kind, ['kind', 'from', 'view', 'height', 'digest', 'signature']);
      return {
        kind,
        from: uint(o['from'], 'from', l.maxValidators - 1),
        view: uint(o['view'], 'view'),
        height: uint(o['height'], 'height'),
        digest: bytes(o['digest'], 'digest', l.maxHashBytes),
        signature: bytes(o['signature'], 'signature', l.maxSignatureBytes),
      };
    }
    case 'checkpoint': {
      const o = obj(value, kind, ['kind', 'from', 'height', 'blockHash', 'stateRoot', 'signature']);
      return {
        kind,
        from: uint(o['from'], 'from', l.maxValidators - 1),
        height: uint(o['height'], 'height'),
        blockHash: bytes(o['blockHash'], 'blockHash', l.maxHashBytes),
        stateRoot: bytes(o['stateRoot'], 'stateRoot', l.maxHashBytes),
        signature: bytes(o['signature'], 'signature', l.maxSignatureBytes),
      };
    }
    case 'view-change':
      return decodeViewChange(value, 'view-change', l);
    case 'new-view': {
      const o = obj(value, kind, [
        'kind',
        'from',
        'view',
        'viewChanges',
        'blocks',
        'reproposals',
        'signature',
      ]);
      const blocks = arr(o['blocks'], 'blocks', l.maxEntries).map((b, i) =>
        decodeBlock(b, `blocks[${i}]`, l),
      );
      const reproposals: Reproposal[] = arr(o['reproposals'], 'reproposals', l.maxEntries).map(
        (r, i) => {
          const ro = obj(r, `reproposals[${i}]`, ['height', 'digest', 'signature']);
          return {
            height: uint(ro['height'], `reproposals[${i}].height`),
            digest: bytes(ro['digest'], `reproposals[${i}].digest`, l.maxHashBytes),
            signature: bytes(ro['signature'], `reproposals[${i}].signature`, l.maxSignatureBytes),
          };
        },
      );
      return {
        kind,
        from: uint(o['from'], 'from', l.maxValidators - 1),
        view: uint(o['view'], 'view'),
        viewChanges: arr(o['viewChanges'], 'viewChanges', l.maxValidators).map((vc, i) =>
          decodeViewChange(vc, `viewChanges[${i}]`, l, blocks),
        ),
        reproposals,
        signature: bytes(o['signature'], 'signature', l.maxSignatureBytes),
      };
    }
    case 'sync-request': {
      const o = obj(value, kind, ['kind', 'from', 'fromHeight', 'toHeight', 'signature']);
      return {
        kind,
        from: uint(o['from'], 'from', l.maxValidators - 1),
        fromHeight: uint(o['fromHeight'], 'fromHeight'),
        toHeight: uint(o['toHeight'], 'toHeight'),
        signature: bytes(o['signature'], 'signature', l.maxSignatureBytes),
      };
    }
    case 'sync-response': {
      const o = obj(value, kind, ['kind', 'from', 'entries', 'checkpoint']);
      return {
        kind,
        from: uint(o['from'], 'from', l.maxValidators - 1),
        entries: arr(o['entries'], 'entries', l.maxEntries).map((e, i) =>
          decodeCertified(e, `entries[${i}]`, l),
        ),
        checkpoint: decodeCheckpointCert(o['checkpoint'], 'checkpoint', l),
      };
    }
    default:
      return fail('kind', 'unknown message kind');
  }
}

// ------------------------------------------------------ compact pre-prepares

/**
 * A pre-prepare as sent between validators: the block's header and its
 * transactions' hashes instead of the transactions. Every validator already
 * holds (nearly) every transaction from the submitting node's bundle, so the
 * full form sent each transaction to each backup twice. The signature covers
 * the digest only (votes.ts), so it is the same in both forms. The host turns
 * a compact pre-prepare back into a `PrePrepareMessage` with
 * `expandCompactPrePrepare` once it has the transactions; the replica never
 * sees this form.
 */
export interface CompactPrePrepare {
  readonly kind: 'pre-prepare-compact';
  readonly from: number;
  readonly view: number;
  readonly height: number;
  readonly header: BlockHeader;
  readonly txHashes: readonly Uint8Array[];
  readonly signature: Uint8Array;
}

/** What a validator may receive on the consensus channel. */
export type WireMessage = ConsensusMessage | CompactPrePrepare;

/** Encodes `m` compactly; `txHashes[i]` must be the hash of `m.block.txs[i]`. */
export function encodeCompactPrePrepare(
  m: PrePrepareMessage,
  txHashes: readonly Uint8Array[],
): Uint8Array {
  if (txHashes.length !== m.block.txs.length) {
    throw new InvariantError('one hash per transaction of the pre-prepared block', {
      hashes: txHashes.length,
      txs: m.block.txs.length,
    });
  }
  return encode({
    kind: 'pre-prepare-compact',
    from: m.from,
    view: m.view,
    height: m.height,
    header: blockHeaderToCodec(m.block.header),
    txHashes: [...txHashes],
    signature: m.signature,
  });
}

/** Like `decodeMessage`, and also accepts the compact pre-prepare. */
export function decodeWireMessage(
  input: Uint8Array,
  limits: WireLimits = DEFAULT_WIRE_LIMITS,
): WireMessage {
  const value = decodeWireValue(input, limits);
  if (
    value === null ||
    typeof value !== 'object' ||
    (value as Obj)['kind'] !== 'pre-prepare-compact'
  ) {
    return messageFromCodec(value, limits);
  }
  const o = obj(value, 'pre-prepare-compact', [
    'kind',
    'from',
    'view',
    'height',
    'header',
    'txHashes',
    'signature',
  ]);
  let header: BlockHeader;
  try {
    header = blockHeaderFromCodec(o['header'], 'header');
  } catch (err) {
    fail('header', err instanceof MedchainError ? err.message : 'malformed header');
  }
  return {
    kind: 'pre-prepare-compact',
    from: uint(o['from'], 'from', limits.maxValidators - 1),
    view: uint(o['view'], 'view'),
    height: uint(o['height'], 'height'),
    header,
    txHashes: arr(o['txHashes'], 'txHashes', limits.maxBlockTxs).map((h, i) =>
      bytes(h, `txHashes[${i}]`, limits.maxHashBytes),
    ),
    signature: bytes(o['signature'], 'signature', limits.maxSignatureBytes),
  };
}

/** The full pre-prepare of `c`, given its transactions in order (the caller matched them to `c.txHashes`). */
export function expandCompactPrePrepare(
  c: CompactPrePrepare,
  txs: readonly Transaction[],
): PrePrepareMessage {
  if (txs.length !== c.txHashes.length) {
    throw new InvariantError('one transaction per hash of the compact pre-prepare', {
      txs: txs.length,
      hashes: c.txHashes.length,
    });
  }
  return {
    kind: 'pre-prepare',
    from: c.from,
    view: c.view,
    height: c.height,
    block: { header: c.header, txs: [...txs] },
    signature: c.signature,
  };
}

// ---------------------------------------------------------------- WAL records

function walRecordValue(r: WalRecord, blockValue: BlockValue): SplicedValue {
  switch (r.type) {
    case 'signed':
      return { type: r.type, message: messageValue(r.message, blockValue) };
    case 'prepared':
      return { type: r.type, certificate: preparedToCodec(r.certificate, blockValue) };
    case 'stable-checkpoint':
      return { type: r.type, certificate: checkpointToCodec(r.certificate) };
    case 'view':
      return { type: r.type, view: r.view };
  }
}

/** The CBOR value a host stores for a WAL record (`walRecordFromCodec` reads it back). */
export function walRecordToCodec(r: WalRecord): CodecValue {
  return walRecordValue(r, blockToCodec) as CodecValue;
}

/** `encode(walRecordToCodec(r))`, with the transactions of its blocks copied as their bytes. */
export function encodeWalRecord(r: WalRecord): Uint8Array {
  return encodeSpliced(walRecordValue(r, blockToSplicedCodec));
}

const SIGNED_KINDS: readonly string[] = [
  'pre-prepare',
  'prepare',
  'commit',
  'checkpoint',
  'view-change',
  'new-view',
] satisfies SignedVoteMessage['kind'][];

/** Reads a stored WAL record back; throws ConsensusError if it is not one (a corrupt WAL). */
export function walRecordFromCodec(value: CodecValue): WalRecord {
  const type = value !== null && typeof value === 'object' ? (value as Obj)['type'] : undefined;
  switch (type) {
    case 'signed': {
      const o = obj(value, 'wal', ['type', 'message']);
      const message = messageFromCodec(o['message'] ?? null);
      if (!SIGNED_KINDS.includes(message.kind)) fail('wal.message.kind', 'not a signed vote');
      return { type, message: message as SignedVoteMessage };
    }
    case 'prepared': {
      const o = obj(value, 'wal', ['type', 'certificate']);
      return {
        type,
        certificate: decodePrepared(o['certificate'], 'wal.certificate', DEFAULT_WIRE_LIMITS),
      };
    }
    case 'stable-checkpoint': {
      const o = obj(value, 'wal', ['type', 'certificate']);
      const certificate = decodeCheckpointCert(
        o['certificate'],
        'wal.certificate',
        DEFAULT_WIRE_LIMITS,
      );
      if (certificate === null) fail('wal.certificate', 'missing');
      return { type, certificate };
    }
    case 'view': {
      const o = obj(value, 'wal', ['type', 'view']);
      return { type, view: uint(o['view'], 'wal.view') };
    }
    default:
      return fail('wal.type', 'unknown WAL record type');
  }
}

/** The height a WAL record belongs to (view-level records: 0), for the host's storage key. */
export function walRecordHeight(r: WalRecord): number {
  switch (r.type) {
    case 'signed': {
      const m = r.message;
      return m.kind === 'view-change' || m.kind === 'new-view' ? 0 : m.height;
    }
    case 'prepared':
    case 'stable-checkpoint':
      return r.certificate.height;
    case 'view':
      return 0;
  }
}

/** Whether a record is kept by a `wal-truncate` effect (hosts drop the others). */
export function walRecordSurvives(
  r: WalRecord,
  truncate: { readonly throughHeight: number; readonly belowView: number },
): boolean {
  if (r.type === 'stable-checkpoint') return r.certificate.height >= truncate.throughHeight;
  if (r.type === 'prepared') return r.certificate.height > truncate.throughHeight;
  if (r.type === 'view') return r.view >= truncate.belowView;
  const m = r.message;
  if (m.kind === 'view-change') return m.newView >= truncate.belowView;
  if (m.kind === 'new-view') return m.view >= truncate.belowView;
  return m.height > truncate.throughHeight;
}
