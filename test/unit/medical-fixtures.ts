/**
 * An in-memory alliance for the medical API tests: one real `ChainStore`
 * (over `MemoryKvStore`) per institution, blocks executed by the real
 * contracts and committed to every store the way the node's executor does,
 * one medical extension per node with its routes on a real fastify server
 * (`inject`), and `requestVault` wired between the nodes' extensions as the
 * p2p host would (errors become `P2P_REMOTE_ERROR` with the remote code).
 * Transactions submitted anywhere are mined into the next block on their own.
 */
import { encode, toHex } from '../../src/codec/index.js';
import { executeBlock, genesisStateRoot, nextNonce } from '../../src/contracts/index.js';
import type { ContractEnv } from '../../src/contracts/index.js';
import type { CryptoSuite, KeyPair } from '../../src/crypto/suite.js';
import { MedchainError } from '../../src/errors.js';
import { genesisHash } from '../../src/identity/genesis.js';
import type { Genesis, Institution } from '../../src/identity/types.js';
import {
  blockHash,
  decodeHashedTransaction,
  encodeTransaction,
  merkleRoot,
  signTransaction,
  validateTransaction,
} from '../../src/ledger/index.js';
import type { Block, Receipt, Transaction } from '../../src/ledger/index.js';
import { silentLogger } from '../../src/logger.js';
import { createApiServer } from '../../src/api/server.js';
import type { ApiServer } from '../../src/api/server.js';
import { NodeMetrics } from '../../src/api/metrics.js';
import type { NodeApi, NodeStatus, SubmitResult, TxLookup } from '../../src/api/types.js';
import { createMedicalExtension } from '../../src/medical/extension.js';
import type { MedicalExtension, MedicalExtensionOptions } from '../../src/medical/extension.js';
import type { NodeContext } from '../../src/node/extension.js';
import type { CommittedBlock } from '../../src/node/executor.js';
import { unsignedTransaction } from '../../src/records/index.js';
import type { TxBody } from '../../src/records/index.js';
import { ChainStore } from '../../storage/chain-store.js';
import { MemoryKvStore } from '../../storage/memory-kv.js';
import {
  CHAIN_ID,
  fixedKey,
  GENESIS_TIME,
  INSTITUTIONS,
  makeGenesis,
} from './contracts-fixtures.js';

export { CHAIN_ID, fixedKey, GENESIS_TIME, INSTITUTIONS };

export const FAR = 1_000_000;

export interface TestNode {
  readonly institution: Institution;
  readonly key: KeyPair;
  readonly store: ChainStore;
  readonly extension: MedicalExtension;
  readonly server: ApiServer;
  readonly listeners: Set<(committed: CommittedBlock) => void>;
}

/** A fetch that answers from a fastify app's `inject` (for the clients under test). */
export function injectFetch(server: ApiServer): typeof fetch {
  const fetchLike = async (
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> => {
    const url = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    );
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const body = init?.body;
    const response = await server.app.inject({
      method: (init?.method ?? 'GET') as 'GET',
      url: url.pathname + url.search,
      headers,
      ...(body === undefined || body === null ? {} : { payload: Buffer.from(body as Uint8Array) }),
    });
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (typeof value === 'string') responseHeaders.set(key, value);
      else if (typeof value === 'number') responseHeaders.set(key, String(value));
    }
    return new Response(response.rawPayload.length === 0 ? null : response.rawPayload, {
      status: response.statusCode,
      headers: responseHeaders,
    });
  };
  return fetchLike;
}

export class MedicalAlliance {
  readonly suite: CryptoSuite;
  readonly genesis: Genesis;
  readonly env: ContractEnv;
  readonly nodes = new Map<string, TestNode>();
  readonly receipts: Receipt[] = [];
  #pending: { tx: Transaction; bytes: Uint8Array; hash: Uint8Array }[] = [];
  #mining: Promise<void> = Promise.resolve();
  #scheduled = false;
  #closed = false;
  /** When false, transactions wait in `pending` until `mine()` is called. */
  autoMine = true;
  #height = 0;
  #prevHash: Uint8Array;
  #stateRoot: Uint8Array;
  #timestamp = GENESIS_TIME;
  #nonces = new Map<string, number>();
  readonly #options: MedicalExtensionOptions;

  private constructor(suite: CryptoSuite, options: MedicalExtensionOptions) {
    this.suite = suite;
    this.genesis = makeGenesis(suite);
    this.env = { suite, genesis: this.genesis };
    this.#prevHash = genesisHash(suite, this.genesis);
    this.#stateRoot = genesisStateRoot(this.env);
    this.#options = options;
  }

  static async create(
    suite: CryptoSuite,
    options: MedicalExtensionOptions = {},
  ): Promise<MedicalAlliance> {
    const alliance = new MedicalAlliance(suite, options);
    for (const inst of Object.values(INSTITUTIONS)) await alliance.#addNode(inst.id, inst.seed);
    return alliance;
  }

  async #addNode(id: string, seed: number): Promise<void> {
    const institution = this.genesis.institutions.find((i) => i.id === id);
    if (institution === undefined) throw new TypeError(`no institution ${id}`);
    const store = await ChainStore.open(new MemoryKvStore(), {
      chain: { chainId: CHAIN_ID, genesisHash: genesisHash(this.suite, this.genesis) },
    });
    const listeners = new Set<(committed: CommittedBlock) => void>();
    const context: NodeContext = {
      genesis: this.genesis,
      suite: this.suite,
      institution,
      store,
      logger: silentLogger(),
      signal: new AbortController().signal,
      height: () => store.latestHeight(),
      state: { get: (key) => store.state.getSync(key) },
      submitTransaction: (bytes) => this.submitBytes(bytes),
      requestVault: (to, bytes, options) => this.#relay(id, to, bytes, options?.signal),
      onStored: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const extension = createMedicalExtension(this.#options)(context);
    const server = createApiServer({
      api: this.#nodeApi(institution, store),
      metrics: new NodeMetrics(),
      logger: silentLogger(),
      routeGroups: extension.routeGroups ?? [],
      errorStatus: extension.errorStatus ?? {},
    });
    await server.app.ready();
    this.nodes.set(id, {
      institution,
      key: fixedKey(this.suite, seed),
      store,
      extension,
      server,
      listeners,
    });
  }

  async #relay(
    from: string,
    to: string,
    bytes: Uint8Array,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const target = this.nodes.get(to);
    if (target?.extension.onVaultRequest === undefined) {
      throw new MedchainError('P2P_PEER_NOT_CONNECTED', `not connected to ${to}`);
    }
    try {
      return await target.extension.onVaultRequest(
        from,
        bytes,
        signal ?? new AbortController().signal,
      );
    } catch (err) {
      if (!(err instanceof MedchainError)) throw err;
      throw new MedchainError('P2P_REMOTE_ERROR', `remote error ${err.code}: ${err.message}`, {
        remoteCode: err.code,
        remoteMessage: err.message,
      });
    }
  }

  #nodeApi(institution: Institution, store: ChainStore): NodeApi {
    return {
      status: (): NodeStatus => ({
        chainId: CHAIN_ID,
        institutionId: institution.id,
        role: institution.voting ? 'validator' : 'observer',
        suite: this.suite.id,
        genesisHash: genesisHash(this.suite, this.genesis),
        height: store.latestHeight(),
        latestBlockHash: null,
        stateRoot: null,
        view: 0,
        primary: { index: 0, institutionId: institution.id },
        validators: { total: 3, connected: 2 },
        sync: { state: 'synced', targetHeight: store.latestHeight() },
        mempool: { size: this.#pending.length, bytes: 0 },
        peers: 3,
        version: 'test',
      }),
      submitTransaction: (bytes) => this.submitBytes(bytes),
      getTransaction: async (hash): Promise<TxLookup | undefined> => {
        const found = await store.getTransaction(hash);
        if (found !== undefined) {
          const receipt = await store.getReceipt(hash);
          if (receipt !== undefined) return { status: 'committed', tx: found.tx, receipt };
        }
        const pending = this.#pending.find((p) => toHex(p.hash) === toHex(hash));
        return pending === undefined ? undefined : { status: 'pending', tx: pending.tx };
      },
      getBlock: () => Promise.resolve(undefined),
      latestHeight: () => store.latestHeight(),
      peers: () => [],
      subscribe: () => () => undefined,
      health: () => ({ ok: true }),
      readiness: () => ({ storeOpen: true, p2pStarted: true, synced: true }),
    };
  }

  node(id: string): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new TypeError(`no node ${id}`);
    return node;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  get height(): number {
    return this.#height;
  }

  /** Admits a transaction (ledger checks) and mines it into the next block soon. */
  submitBytes(bytes: Uint8Array): Promise<SubmitResult> {
    const htx = decodeHashedTransaction(this.suite, bytes);
    const verdict = validateTransaction(
      {
        suite: this.suite,
        chainId: CHAIN_ID,
        limits: {
          maxTxBytes: this.genesis.policy.maxTxBytes,
          maxBlockBytes: this.genesis.policy.maxBlockBytes,
          maxBlockTxs: this.genesis.policy.maxBlockTxs,
        },
      },
      htx,
      this.#height + 1,
    );
    if (!verdict.ok) return Promise.reject(verdict.error);
    const hex = toHex(htx.hash);
    if (this.#pending.some((p) => toHex(p.hash) === hex))
      return Promise.resolve({ hash: htx.hash, duplicate: true });
    if (this.receipts.some((r) => toHex(r.txHash) === hex))
      return Promise.resolve({ hash: htx.hash, duplicate: true });
    this.#pending.push(htx);
    if (this.autoMine && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.mine();
      });
    }
    return Promise.resolve({ hash: htx.hash, duplicate: false });
  }

  /** Executes everything pending as one block and commits it to every node. */
  mine(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#mining = this.#mining.then(() => this.#mineNow());
    return this.#mining;
  }

  async #mineNow(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    const height = this.#height + 1;
    const timestamp = this.#timestamp + 1000;
    const txHashes = batch.map((t) => t.hash);
    const block: Block = {
      header: {
        chainId: CHAIN_ID,
        height,
        prevHash: this.#prevHash,
        txRoot: merkleRoot(this.suite, txHashes),
        stateRoot: this.#stateRoot,
        proposer: 0,
        view: 0,
        timestamp,
        validatorSetHash: new Uint8Array(32),
      },
      txs: batch.map((t) => t.tx),
    };
    const first = [...this.nodes.values()][0];
    if (first === undefined) throw new TypeError('no nodes');
    const state = { get: (key: Uint8Array) => first.store.state.getSync(key) };
    const result = executeBlock(this.env, state, {
      block,
      txHashes,
      prevStateRoot: this.#stateRoot,
    });
    const hash = blockHash(this.suite, block.header);
    const certificate = { chainId: CHAIN_ID, height, view: 0, blockHash: hash, signatures: [] };
    for (const node of this.nodes.values()) {
      await node.store.commitBlock({
        block,
        blockHash: hash,
        certificate,
        txHashes,
        receipts: result.receipts,
        stateChanges: result.stateChanges,
        indexEntries: result.indexEntries,
        indexRemovals: result.indexRemovals,
      });
    }
    this.#height = height;
    this.#prevHash = hash;
    this.#stateRoot = result.stateRoot;
    this.#timestamp = timestamp;
    this.receipts.push(...result.receipts);
    const committed: CommittedBlock = {
      height,
      blockHash: hash,
      block,
      certificate,
      txHashes,
      receipts: result.receipts,
      events: result.events,
      stateRoot: result.stateRoot,
      commitLatencyMs: 0,
    };
    for (const node of this.nodes.values())
      for (const listener of node.listeners) listener(committed);
  }

  /** Signs `body` with `key` (its next nonce) and runs it in its own block; returns the receipt. */
  async run(key: KeyPair, body: TxBody): Promise<Receipt> {
    const tx = this.sign(key, body);
    const { hash } = await this.submitBytes(encodeTx(tx));
    await this.mine();
    const receipt = this.receipts.find((r) => toHex(r.txHash) === toHex(hash));
    if (receipt === undefined) throw new TypeError('no receipt');
    return receipt;
  }

  sign(key: KeyPair, body: TxBody, validUntilHeight = FAR): Transaction {
    const hex = toHex(key.publicKey);
    const first = [...this.nodes.values()][0];
    const state = { get: (k: Uint8Array) => first?.store.state.getSync(k) };
    const nonce = Math.max(this.#nonces.get(hex) ?? 0, nextNonce(state, key.publicKey));
    this.#nonces.set(hex, nonce + 1);
    return signTransaction(
      this.suite,
      unsignedTransaction({
        chainId: CHAIN_ID,
        body,
        signer: key.publicKey,
        nonce,
        validUntilHeight,
      }),
      key.privateKey,
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#mining;
    for (const node of this.nodes.values()) {
      await node.extension.stop?.();
      await node.server.close();
      await node.store.close();
    }
  }
}

export function encodeTx(tx: Transaction): Uint8Array {
  return encodeTransaction(tx);
}

export function cbor(value: Parameters<typeof encode>[0]): Buffer {
  return Buffer.from(encode(value));
}
