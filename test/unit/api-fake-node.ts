/**
 * An in-memory `NodeApi` for the API tests: real decoding, real signature
 * validation and real blocks/certificates from the ledger fixtures, a
 * bounded mempool, and knobs to make it fail. Not the real node (that is
 * tested in its own folder): a stand-in with the same contract.
 */
import { expect } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import type { ApiServer, ApiServerOptions } from '../../src/api/server.js';
import { NodeMetrics } from '../../src/api/metrics.js';
import { silentLogger } from '../../src/logger.js';
import { toHex } from '../../src/codec/index.js';
import type { KeyPair } from '../../src/crypto/suite.js';
import { MedchainError } from '../../src/errors.js';
import {
  blockHash,
  decodeHashedTransaction,
  DEFAULT_LEDGER_LIMITS,
  validateTransaction,
} from '../../src/ledger/index.js';
import type { HashedTransaction, LedgerLimits, Receipt } from '../../src/ledger/index.js';
import type {
  BlockLookup,
  CommittedBlockListener,
  HealthReport,
  NodeApi,
  NodeStatus,
  PeerInfo,
  ReadinessReport,
  SubmitResult,
  TxLookup,
} from '../../src/api/types.js';
import {
  blockOf,
  certificateFor,
  CHAIN_ID,
  fixedKey,
  PARENT,
  peerIdFor,
  rulesFor,
  signedTx,
  validatorKeys,
  validatorSetOf,
} from './ledger-fixtures.js';
import { getSuite } from '../../src/crypto/index.js';
import type { UnsignedTransaction, Transaction } from '../../src/ledger/index.js';

export const suite = getSuite('intl');
export const VALIDATOR_KEYS = validatorKeys(suite, 4);
export const VALIDATORS = validatorSetOf(suite, VALIDATOR_KEYS);
export const SENDER: KeyPair = fixedKey(suite, 7);
export const GENESIS_HASH = new Uint8Array(32).fill(0x9e);

let nonceCounter = 0;
/** A freshly signed, valid transaction (distinct nonce each call). */
export function newTx(overrides: Partial<UnsignedTransaction> = {}): Transaction {
  return signedTx(suite, SENDER, {
    nonce: ++nonceCounter,
    validUntilHeight: 1_000_000,
    ...overrides,
  });
}

export interface FakeNodeOptions {
  readonly mempoolCapacity?: number;
  readonly limits?: LedgerLimits;
}

export class FakeNode implements NodeApi {
  readonly mempool = new Map<string, HashedTransaction>();
  readonly blocks: BlockLookup[] = [];
  private readonly committed = new Map<string, { tx: Transaction; receipt: Receipt }>();
  private readonly listeners = new Set<CommittedBlockListener>();
  private readonly limits: LedgerLimits;
  mempoolCapacity: number;
  view = 0;
  healthReport: HealthReport = { ok: true };
  readinessReport: ReadinessReport = { storeOpen: true, p2pStarted: true, synced: true };
  /** When set, the next `submitTransaction` throws it instead. */
  failNextSubmit: unknown;
  /** When set, `getBlock` throws it. */
  failGetBlock: unknown;
  /** Receipt codes for the next committed block, by tx index (default OK). */
  nextReceiptCodes: Readonly<Record<number, string>> = {};
  submitCalls = 0;

  constructor(options: FakeNodeOptions = {}) {
    this.mempoolCapacity = options.mempoolCapacity ?? 10_000;
    this.limits = options.limits ?? DEFAULT_LEDGER_LIMITS;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  latestHeight(): number {
    return this.blocks.length;
  }

  status(): NodeStatus {
    const latest = this.blocks.at(-1);
    let bytes = 0;
    for (const htx of this.mempool.values()) bytes += htx.bytes.length;
    return {
      chainId: CHAIN_ID,
      institutionId: 'hospital-0',
      role: 'validator',
      suite: suite.id,
      genesisHash: GENESIS_HASH,
      height: this.latestHeight(),
      latestBlockHash: latest?.hash ?? null,
      stateRoot: latest ? latest.block.header.stateRoot : null,
      view: this.view,
      primary: { index: this.view % 4, institutionId: `hospital-${this.view % 4}` },
      validators: { total: 4, connected: 3 },
      sync: { state: 'synced', targetHeight: this.latestHeight() },
      mempool: { size: this.mempool.size, bytes },
      peers: 4,
      version: '0.1.0-test',
    };
  }

  async submitTransaction(bytes: Uint8Array): Promise<SubmitResult> {
    this.submitCalls++;
    await Promise.resolve();
    if (this.failNextSubmit !== undefined) {
      const err = this.failNextSubmit;
      this.failNextSubmit = undefined;
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- tests also throw non-Error values
      throw err;
    }
    const htx = decodeHashedTransaction(suite, bytes, this.limits);
    const key = toHex(htx.hash);
    if (this.mempool.has(key) || this.committed.has(key))
      return { hash: htx.hash, duplicate: true };
    const verdict = validateTransaction(rulesFor(suite, this.limits), htx, this.latestHeight() + 1);
    if (!verdict.ok) throw verdict.error;
    if (this.mempool.size >= this.mempoolCapacity) {
      throw new MedchainError('MEMPOOL_FULL', 'mempool is full', {
        capacity: this.mempoolCapacity,
        retryAfterSeconds: 2,
      });
    }
    this.mempool.set(key, htx);
    return { hash: htx.hash, duplicate: false };
  }

  async getTransaction(hash: Uint8Array): Promise<TxLookup | undefined> {
    await Promise.resolve();
    const key = toHex(hash);
    const pending = this.mempool.get(key);
    if (pending !== undefined) return { status: 'pending', tx: pending.tx };
    const done = this.committed.get(key);
    if (done !== undefined) return { status: 'committed', tx: done.tx, receipt: done.receipt };
    return undefined;
  }

  async getBlock(height: number): Promise<BlockLookup | undefined> {
    await Promise.resolve();
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- tests also throw non-Error values
    if (this.failGetBlock !== undefined) throw this.failGetBlock;
    return this.blocks[height - 1];
  }

  peers(): readonly PeerInfo[] {
    return [1, 2, 3].map((i) => ({
      peerId: peerIdFor(i),
      institutionId: `hospital-${i}`,
      role: 'validator',
      addresses: [`/ip4/127.0.0.1/tcp/${4000 + i}`],
      direction: i === 1 ? 'inbound' : 'outbound',
    }));
  }

  subscribe(listener: CommittedBlockListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  health(): HealthReport {
    return this.healthReport;
  }

  readiness(): ReadinessReport {
    return this.readinessReport;
  }

  /** Commits every pending transaction (possibly none) as the next block and notifies subscribers. */
  commitBlock(): BlockLookup {
    const previous = this.blocks.at(-1);
    const parent =
      previous === undefined
        ? PARENT
        : {
            height: previous.block.header.height,
            hash: previous.hash,
            timestamp: previous.block.header.timestamp,
          };
    const pending = [...this.mempool.values()];
    this.mempool.clear();
    const block = blockOf(
      suite,
      VALIDATORS,
      pending.map((h) => h.tx),
      { view: this.view, proposer: this.view % 4 },
      parent,
    );
    const hash = blockHash(suite, block.header);
    const certificate = certificateFor(suite, VALIDATOR_KEYS, block.header, [0, 1, 2]);
    const receipts: Receipt[] = pending.map((htx, index) => {
      const code = this.nextReceiptCodes[index] ?? 'OK';
      return {
        txHash: htx.hash,
        height: block.header.height,
        index,
        code,
        reason: code === 'OK' ? '' : 'rejected by contract',
      };
    });
    this.nextReceiptCodes = {};
    const lookup: BlockLookup = { block, hash, certificate, receipts };
    this.blocks.push(lookup);
    pending.forEach((htx, i) => {
      const receipt = receipts[i];
      if (receipt !== undefined) this.committed.set(toHex(htx.hash), { tx: htx.tx, receipt });
    });
    const event = {
      height: block.header.height,
      hash,
      view: block.header.view,
      timestamp: block.header.timestamp,
      txCount: block.txs.length,
      receipts,
    };
    for (const listener of this.listeners) listener(event);
    return lookup;
  }

  /** Emits a block event with `receiptCount` synthetic receipts and no stored block (load for WebSocket tests). */
  emitSyntheticEvent(height: number, receiptCount: number): void {
    const receipts: Receipt[] = Array.from({ length: receiptCount }, (_, index) => ({
      txHash: new Uint8Array(32).fill(index % 256),
      height,
      index,
      code: 'OK',
      reason: '',
    }));
    const event = {
      height,
      hash: new Uint8Array(32).fill(height % 256),
      view: 0,
      timestamp: 1_767_225_600_000 + height,
      txCount: receiptCount,
      receipts,
    };
    for (const listener of this.listeners) listener(event);
  }
}

// ---------------------------------------------------------------------------
// server + assertions shared by the API tests

export interface TestServer {
  readonly node: FakeNode;
  readonly metrics: NodeMetrics;
  readonly server: ApiServer;
}

export function testServer(
  node: FakeNode = new FakeNode(),
  options: Partial<ApiServerOptions> = {},
): TestServer {
  const metrics = options.metrics ?? new NodeMetrics({ defaultMetrics: false });
  const server = createApiServer({ api: node, metrics, logger: silentLogger(), ...options });
  return { node, metrics, server };
}

/** No stack trace, file path or internal frame in anything the server sent. */
export function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
  expect(text).not.toMatch(/node_modules|\.ts:\d+|\.js:\d+/);
  expect(text).not.toContain('"stack"');
}

/** Asserts an error response: status, JSON body `{error: {code, message}}`, and no stack trace. */
export function expectErrorResponse(
  response: { statusCode: number; body: string; headers: Record<string, unknown> },
  status: number,
  code: string,
): { code: string; message: string; details?: Record<string, unknown> } {
  expectNoStackTrace(response.body);
  expect(response.statusCode, response.body).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
  const parsed = JSON.parse(response.body) as {
    error: { code: string; message: string; details?: Record<string, unknown> };
  };
  expect(parsed.error.code).toBe(code);
  expect(typeof parsed.error.message).toBe('string');
  expect(parsed.error.message.length).toBeGreaterThan(0);
  return parsed.error;
}
