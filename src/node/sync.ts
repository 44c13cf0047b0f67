/**
 * Block sync over the `/sync/1` protocol: serving ranges of certified blocks
 * from the store, and catching up from peers — what a restarted validator does
 * before its replica starts, and how an observer follows the chain.
 *
 * Nothing a peer sends is trusted: each block must extend our chain (height,
 * prevHash, timestamp, validator set, tx root, signatures via
 * `validateBlock`) and carry a commit certificate of a quorum of the genesis
 * validators (`validateCommitCertificate`). A peer whose response fails is
 * counted and skipped for the rest of the round.
 */
import type { CertifiedBlock } from '../../consensus/types.js';
import type { Logger } from '../logger.js';
import { MedchainError } from '../errors.js';
import type { HashedTransaction } from '../ledger/hashing.js';
import { validateBlock, validateCommitCertificate } from '../ledger/validate.js';
import type { LedgerRules } from '../ledger/validate.js';
import type { ValidatorSet } from '../identity/validators.js';
import type { Mempool } from '../mempool/mempool.js';
import type { ChainView } from './chain-view.js';
import {
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
} from './wire.js';

export interface SyncNetwork {
  request(
    protocol: 'sync',
    toPeerId: string,
    bytes: Uint8Array,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Uint8Array>;
  connectedPeers(): string[];
}

export interface SyncOptions {
  readonly rules: LedgerRules;
  readonly validators: ValidatorSet;
  readonly chain: ChainView;
  readonly mempool: Mempool;
  readonly logger: Logger;
  readonly maxBlocksPerResponse: number;
  readonly maxResponseBytes: number;
  readonly requestTimeoutMs: number;
  /** Accept a verified block: commit, execute and store it (strict height order). */
  readonly commit: (
    entry: CertifiedBlock,
    hash: Uint8Array,
    txs: readonly HashedTransaction[],
  ) => void;
}

export class SyncError extends MedchainError {}

export interface SyncStats {
  served: number;
  fetchedBlocks: number;
  badResponses: number;
  failedRequests: number;
}

export class BlockSync {
  readonly stats: SyncStats = { served: 0, fetchedBlocks: 0, badResponses: 0, failedRequests: 0 };
  /** Highest head a peer reported. */
  bestKnownHeight = 0;
  readonly #o: SyncOptions;

  constructor(options: SyncOptions) {
    this.#o = options;
  }

  /** Answer a peer's request from committed blocks. */
  serve(requestBytes: Uint8Array): Uint8Array {
    const request = decodeSyncRequest(requestBytes);
    const { chain, maxBlocksPerResponse, maxResponseBytes } = this.#o;
    const head = chain.committedHeight;
    const entries: CertifiedBlock[] = [];
    if (request.toHeight >= request.fromHeight && request.fromHeight >= 1) {
      const last = Math.min(request.toHeight, head, request.fromHeight + maxBlocksPerResponse - 1);
      let bytes = 64;
      for (let h = request.fromHeight; h <= last; h++) {
        const entry = chain.getCertifiedBlock(h);
        if (!entry) break;
        const size = encodeSyncResponse({ headHeight: 0, entries: [entry] }).length;
        if (entries.length > 0 && bytes + size > maxResponseBytes) break;
        entries.push(entry);
        bytes += size;
      }
    }
    this.stats.served++;
    return encodeSyncResponse({ headHeight: head, entries });
  }

  /**
   * Fetch and commit blocks until no connected peer reports a higher head, or
   * `signal` aborts. Returns how many blocks were committed. Never throws on a
   * peer's misbehaviour (it is counted); throws only when `signal` aborts.
   */
  async catchUp(network: SyncNetwork, signal?: AbortSignal): Promise<number> {
    let committed = 0;
    const skip = new Set<string>();
    for (;;) {
      signal?.throwIfAborted();
      const peers = network.connectedPeers().filter((p) => !skip.has(p));
      if (peers.length === 0) return committed;
      let progressed = false;
      for (const peer of peers) {
        const n = await this.#fetchFrom(network, peer, signal);
        if (n < 0) {
          skip.add(peer);
          continue;
        }
        committed += n;
        if (n > 0) {
          progressed = true;
          break; // ask again from our new height
        }
      }
      if (!progressed) return committed;
    }
  }

  /** One request to `peer`; the number of blocks committed, or −1 if the peer failed. */
  async #fetchFrom(network: SyncNetwork, peer: string, signal?: AbortSignal): Promise<number> {
    const { chain, logger, rules, maxBlocksPerResponse, maxResponseBytes, requestTimeoutMs } =
      this.#o;
    const from = chain.committedHeight + 1;
    let responseBytes: Uint8Array;
    try {
      responseBytes = await network.request(
        'sync',
        peer,
        encodeSyncRequest({ fromHeight: from, toHeight: from + maxBlocksPerResponse - 1 }),
        { timeoutMs: requestTimeoutMs, ...(signal ? { signal } : {}) },
      );
    } catch (err) {
      signal?.throwIfAborted();
      this.stats.failedRequests++;
      logger.debug({ peer, err: (err as Error).message }, 'sync request failed');
      return -1;
    }
    try {
      const response = decodeSyncResponse(
        responseBytes,
        maxResponseBytes,
        maxBlocksPerResponse,
        rules.limits,
      );
      this.bestKnownHeight = Math.max(this.bestKnownHeight, response.headHeight);
      let n = 0;
      for (const entry of response.entries) {
        if (entry.block.header.height !== chain.committedHeight + 1) break;
        this.accept(entry);
        n++;
      }
      this.stats.fetchedBlocks += n;
      return n;
    } catch (err) {
      this.stats.badResponses++;
      logger.warn({ peer, err: (err as Error).message }, 'peer sent a bad sync response');
      return -1;
    }
  }

  /**
   * Verify a certified block that extends our committed tip and commit it;
   * throws a `SyncError` naming what is wrong. (Gossiped blocks come here too.)
   */
  accept(entry: CertifiedBlock): void {
    const { rules, validators, chain, mempool, commit } = this.#o;
    const height = entry.block.header.height;
    if (height !== chain.committedHeight + 1) {
      throw new SyncError(
        'SYNC_NOT_NEXT',
        `block ${height} does not follow ${chain.committedHeight}`,
      );
    }
    const verdict = validateBlock(
      rules,
      entry.block,
      { parent: chain.committedTip, validators },
      { isVerified: (hash) => mempool.isVerified(hash) },
    );
    if (!verdict.ok) {
      throw new SyncError('SYNC_BAD_BLOCK', `block ${height}: ${verdict.error.message}`);
    }
    const cert = validateCommitCertificate(rules, entry.certificate, validators, {
      height,
      blockHash: verdict.hash,
    });
    if (!cert.ok) {
      throw new SyncError('SYNC_BAD_CERTIFICATE', `block ${height}: ${cert.error.message}`);
    }
    for (const htx of verdict.txs) mempool.markVerified(htx.hash);
    commit(entry, verdict.hash, verdict.txs);
  }
}
