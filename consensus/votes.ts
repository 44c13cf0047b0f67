/**
 * The exact bytes each consensus signature covers. Suites prepend the domain
 * tag and chain id (DESIGN.md §3): pre-prepares, prepares, checkpoints,
 * view-changes, new-views, sync requests and commits all sign under
 * DOMAIN.consensus. Commits sign the ledger's `commitVoteBytes` (a CBOR map
 * with type "commit"); everything else here is a CBOR array whose first item
 * names the kind ("pbft/…"), so no two kinds share an encoding.
 */
import { encode } from '../src/codec/index.js';
import type { CodecValue } from '../src/codec/index.js';
import { commitVoteBytes as ledgerCommitVoteBytes } from '../src/ledger/hashing.js';

/**
 * (chainId, height, view, blockHash): what every commit-certificate signature
 * covers — exactly the ledger's `commitVoteBytes`, so the commits a replica
 * collects form a certificate `validateCommitCertificate` accepts.
 */
export function commitVoteBytes(
  chainId: string,
  height: number,
  view: number,
  blockHash: Uint8Array,
): Uint8Array {
  return ledgerCommitVoteBytes({ chainId, height, view, blockHash });
}

export function prePrepareVoteBytes(height: number, view: number, digest: Uint8Array): Uint8Array {
  return encode(['pbft/pre-prepare', height, view, digest]);
}

export function prepareVoteBytes(height: number, view: number, digest: Uint8Array): Uint8Array {
  return encode(['pbft/prepare', height, view, digest]);
}

export function checkpointVoteBytes(
  height: number,
  blockHash: Uint8Array,
  stateRoot: Uint8Array,
): Uint8Array {
  return encode(['pbft/checkpoint', height, blockHash, stateRoot]);
}

/** A view-change signs its summary; the certificates it carries prove themselves. */
export function viewChangeVoteBytes(
  from: number,
  newView: number,
  checkpointHeight: number,
  checkpointBlockHash: Uint8Array,
  committed: readonly { height: number; view: number; digest: Uint8Array }[],
  prepared: readonly { height: number; view: number; digest: Uint8Array }[],
): Uint8Array {
  const c: CodecValue[] = committed.map((x) => [x.height, x.view, x.digest]);
  const p: CodecValue[] = prepared.map((x) => [x.height, x.view, x.digest]);
  return encode(['pbft/view-change', from, newView, checkpointHeight, checkpointBlockHash, c, p]);
}

export function newViewVoteBytes(
  from: number,
  view: number,
  viewChangeSignatures: readonly { from: number; signature: Uint8Array }[],
  reproposals: readonly { height: number; digest: Uint8Array }[],
): Uint8Array {
  return encode([
    'pbft/new-view',
    from,
    view,
    viewChangeSignatures.map((v) => [v.from, v.signature]),
    reproposals.map((r) => [r.height, r.digest]),
  ]);
}

export function syncRequestVoteBytes(
  from: number,
  fromHeight: number,
  toHeight: number,
): Uint8Array {
  return encode(['pbft/sync-request', from, fromHeight, toHeight]);
}
