/**
 * The composition root (STYLE.md §9): builds every service of a node from its
 * config, owns start/stop order and the root abort signal, and is the
 * `NodeApi` the HTTP server talks to.
 *
 * Start: genesis and keys → LevelDB chain store → contracts, chain view,
 * mempool, executor → libp2p → catch up from peers by sync → replica and its
 * driver (validators) → tx gossip → HTTP API. Stop runs in reverse. A failure
 * the node cannot continue after (a broken invariant, the disk) halts it: it
 * stops consensus, reports unhealthy, and `halted` resolves with the error.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { suiteConsensusCrypto, VerifyMemo } from '../../consensus/crypto.js';
import { primaryOf } from '../../consensus/quorum.js';
import { Replica } from '../../consensus/replica.js';
import type {
  CertifiedBlock,
  ConsensusCrypto,
  PrePrepareMessage,
  ReplicaConfig,
} from '../../consensus/types.js';
import { prePrepareVoteBytes } from '../../consensus/votes.js';
import {
  DEFAULT_WIRE_LIMITS,
  encodeCompactPrePrepare,
  walRecordFromCodec,
} from '../../consensus/wire.js';
import type { WireLimits } from '../../consensus/wire.js';
import type { MemberPeer } from '../../p2p/config.js';
import { P2pHost } from '../../p2p/host.js';
import type { GossipVerdict } from '../../p2p/host.js';
import { peerKeyFromSeed } from '../../p2p/peer-key.js';
import { ChainStore } from '../../storage/chain-store.js';
import { LevelKvStore } from '../../storage/level-kv.js';
import { NodeMetrics } from '../api/metrics.js';
import { createApiServer } from '../api/server.js';
import type { ApiServer } from '../api/server.js';
import type {
  BlockLookup,
  CommittedBlockEvent,
  CommittedBlockListener,
  HealthReport,
  NodeApi,
  NodeStatus,
  PeerInfo,
  ReadinessReport,
  SubmitResult,
  TxLookup,
} from '../api/types.js';
import { bytesEqual, CodecError, toHex } from '../codec/index.js';
import { getMember } from '../contracts/queries.js';
import { getSuite } from '../crypto/index.js';
import { loadKeystore } from '../crypto/keystore.js';
import type { CryptoSuite, KeyPair } from '../crypto/suite.js';
import { MedchainError } from '../errors.js';
import {
  genesisHash as computeGenesisHash,
  parseGenesis,
  parseGenesisText,
} from '../identity/genesis.js';
import type { Genesis, Institution } from '../identity/types.js';
import { validatorSet } from '../identity/validators.js';
import type { ValidatorSet } from '../identity/validators.js';
import { encodeTransaction } from '../ledger/encoding.js';
import { blockHash, decodeHashedTransaction } from '../ledger/hashing.js';
import type { HashedTransaction } from '../ledger/hashing.js';
import type { LedgerRules } from '../ledger/validate.js';
import { STATE_ROOT_LAG_HEIGHTS } from '../ledger/state-root.js';
import { createLogger } from '../logger.js';
import type { Logger } from '../logger.js';
import { MempoolError } from '../mempool/errors.js';
import { Mempool } from '../mempool/mempool.js';
import { LedgerError, LedgerErrorCode } from '../ledger/errors.js';
import { NodeBlockSource } from './block-source.js';
import { registerNodeMetrics } from './node-metrics.js';
import { ChainView } from './chain-view.js';
import type { NodeConfig } from './config.js';
import { readPassphrase } from './config.js';
import { ConsensusDriver } from './consensus-driver.js';
import type { WalMirrorEntry } from './consensus-driver.js';
import { createContractEngine } from './contract-engine.js';
import { Executor } from './executor.js';
import type { NodeContext, NodeExtension, NodeExtensionFactory } from './extension.js';
import type { CommittedBlock, ContractEngine } from './executor.js';
import { PrePrepareAssembler } from './pre-prepare-assembler.js';
import { BlockSync } from './sync.js';
import { TxGossip } from './tx-gossip.js';
import {
  decodeCertifiedBlock,
  decodeTxBundle,
  decodeTxsRequest,
  encodeCertifiedBlock,
  encodeTxBundle,
  encodeTxsRequest,
} from './wire.js';

export const NODE_VERSION = '0.1.0';

/** How long a restarting node tries to catch up by sync before consensus starts. */
const STARTUP_SYNC_MS = 15_000;
/** Observers (and lagging validators) poll peers for new blocks this often. */
const FOLLOW_INTERVAL_MS = 1_000;
const SYNC_REQUEST_TIMEOUT_MS = 10_000;
/** A proposal's timestamp may run this far ahead of our clock. */
const MAX_CLOCK_DRIFT_MS = 30_000;
const DRIVER_TICK_INTERVAL_MS = 20;
/** Signers remembered by `#noteSigner` before the set starts over. */
const MAX_SIGNERS_SEEN = 4096;
/** Most transactions accepted in one gossiped bundle (senders bundle far fewer; bytes bound it too). */
const MAX_BUNDLE_TXS = 10_000;
/** A compact pre-prepare naming transactions not here waits this long for their bundles… */
const PRE_PREPARE_GRACE_MS = 25;
/** …then asks its proposer, waiting at most this long for the answer. */
const PRE_PREPARE_FETCH_TIMEOUT_MS = 5_000;
/** Compact pre-prepares waiting for transactions at once. */
const MAX_PENDING_PRE_PREPARES = 64;

export class NodeError extends MedchainError {}

export interface NodeOptions {
  readonly config: NodeConfig;
  /** Default: pino at `config.log.level`. */
  readonly logger?: Logger;
  /** Keystore passphrase; default: `readPassphrase(config)` (file or MEDCHAIN_PASSPHRASE). */
  readonly passphrase?: string;
  /** Feature modules (the medical workflows): route groups, error statuses, the vault protocol. */
  readonly extensions?: readonly NodeExtensionFactory[];
  /** Wall clock (tests may pin it). */
  readonly now?: () => number;
}

/** Read a genesis file: JSON, or YAML for `.yaml`/`.yml`. */
export async function loadGenesisFile(file: string): Promise<Genesis> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new NodeError(
      'GENESIS_UNREADABLE',
      `cannot read genesis file ${file}: ${(err as Error).message}`,
      {
        path: file,
      },
    );
  }
  if (/\.ya?ml$/i.test(file)) return parseGenesis(parseYaml(text) as unknown);
  return parseGenesisText(text);
}

/** Everything a started node holds; built by `MedchainNode.start`. */
interface Running {
  readonly store: ChainStore;
  readonly chain: ChainView;
  readonly mempool: Mempool;
  readonly executor: Executor;
  readonly sync: BlockSync;
  readonly p2p: P2pHost;
  readonly gossip: TxGossip;
  extensions: readonly NodeExtension[];
  replica: Replica | null;
  driver: ConsensusDriver | null;
  assembler: PrePrepareAssembler | null;
  api: ApiServer | null;
  followTimer: NodeJS.Timeout | null;
}

export class MedchainNode implements NodeApi {
  readonly config: NodeConfig;
  readonly logger: Logger;
  readonly metrics = new NodeMetrics();
  readonly #options: NodeOptions;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  readonly #listeners = new Set<CommittedBlockListener>();
  readonly #storedListeners = new Set<(committed: CommittedBlock) => void>();
  #genesis!: Genesis;
  #suite!: CryptoSuite;
  #genesisHash!: Uint8Array;
  #validators!: ValidatorSet;
  #self!: Institution;
  #selfIndex = -1;
  #rules!: LedgerRules;
  #engine!: ContractEngine;
  #signingKey!: KeyPair;
  #running: Running | null = null;
  #view = 0;
  #halted: Error | null = null;
  #haltedResolve!: (err: Error) => void;
  #syncing = true;
  #stopping: Promise<void> | null = null;
  /** Resolves (never rejects) with the error if the node halts. */
  readonly halted: Promise<Error>;

  constructor(options: NodeOptions) {
    this.#options = options;
    this.config = options.config;
    this.#now = options.now ?? Date.now;
    this.logger = (options.logger ?? createLogger({ level: options.config.log.level })).child({
      institution: options.config.institutionId,
    });
    this.halted = new Promise<Error>((resolve) => {
      this.#haltedResolve = resolve;
    });
    registerNodeMetrics(this.metrics.registry, {
      p2p: () => this.#running?.p2p.stats ?? null,
      replica: () => this.#running?.replica?.metrics ?? null,
      mempool: () => this.#running?.mempool.stats ?? null,
      walAppends: () => this.#running?.driver?.walAppends ?? 0,
      voidBlocks: () => this.#running?.executor.voidBlocks ?? 0,
      prePrepares: () => this.#running?.assembler?.stats ?? null,
    });
  }

  get isValidator(): boolean {
    return this.#selfIndex >= 0;
  }
  get apiUrl(): string | null {
    return this.#running?.api?.url ?? null;
  }
  /** Called after every block is durably stored here (in height order). */
  onStored(listener: (committed: CommittedBlock) => void): () => void {
    this.#storedListeners.add(listener);
    return () => this.#storedListeners.delete(listener);
  }

  // ------------------------------------------------------------------ start

  async start(): Promise<void> {
    const log = this.logger;
    const cfg = this.config;
    const genesis = await loadGenesisFile(cfg.genesisFile);
    const suite = getSuite(genesis.suite);
    this.#genesis = genesis;
    this.#suite = suite;
    this.#genesisHash = computeGenesisHash(suite, genesis);
    this.#validators = validatorSet(suite, genesis);
    const self = genesis.institutions.find((i) => i.id === cfg.institutionId);
    if (!self) {
      throw new NodeError(
        'NODE_NOT_IN_GENESIS',
        `institutionId "${cfg.institutionId}" is not an institution of genesis ${cfg.genesisFile} (it lists ${genesis.institutions.map((i) => i.id).join(', ')})`,
      );
    }
    this.#self = self;
    this.#selfIndex = this.#validators.validators.findIndex((v) => v.institutionId === self.id);
    this.#rules = {
      suite,
      chainId: genesis.chainId,
      limits: {
        maxTxBytes: genesis.policy.maxTxBytes,
        maxBlockBytes: genesis.policy.maxBlockBytes,
        maxBlockTxs: genesis.policy.maxBlockTxs,
      },
    };

    const passphrase = this.#options.passphrase ?? (await readPassphrase(cfg));
    const signingKey = await loadKeystore(cfg.keys.signing, passphrase);
    if (signingKey.suite !== suite.id || !bytesEqual(signingKey.publicKey, self.signingKey)) {
      throw new NodeError(
        'NODE_KEY_MISMATCH',
        `keys.signing (${cfg.keys.signing}) is not the signing key genesis lists for "${self.id}"`,
      );
    }
    this.#signingKey = signingKey;
    const p2pSeed = await loadKeystore(cfg.keys.p2p, passphrase);
    const peerKey = await peerKeyFromSeed(p2pSeed.privateKey);
    if (peerKey.peerId !== self.peerId) {
      throw new NodeError(
        'NODE_KEY_MISMATCH',
        `keys.p2p (${cfg.keys.p2p}) has peer id ${peerKey.peerId}, genesis lists ${self.peerId} for "${self.id}"`,
      );
    }
    for (const i of genesis.institutions) suite.registerKnownSigner(i.signingKey);

    const kv = await LevelKvStore.open(path.join(cfg.dataDir, 'db'));
    let store: ChainStore;
    try {
      store = await ChainStore.open(kv, {
        chain: { chainId: genesis.chainId, genesisHash: this.#genesisHash },
      });
    } catch (err) {
      await kv.close();
      throw err;
    }
    try {
      await this.#startWith(store, peerKey);
    } catch (err) {
      await this.#teardown();
      await store.close().catch(() => undefined);
      throw err;
    }
    log.info(
      {
        chainId: genesis.chainId,
        suite: suite.id,
        role: this.isValidator ? 'validator' : 'observer',
        height: this.#need().chain.committedHeight,
        api: this.apiUrl,
        peerId: peerKey.peerId,
      },
      'node started',
    );
  }

  async #startWith(
    store: ChainStore,
    peerKey: Awaited<ReturnType<typeof peerKeyFromSeed>>,
  ): Promise<void> {
    const cfg = this.config;
    const genesis = this.#genesis;
    const suite = this.#suite;
    this.#engine = createContractEngine({ suite, genesis });
    const chain = new ChainView(
      store,
      { height: 0, hash: this.#genesisHash, timestamp: genesis.genesisTime },
      this.#engine.genesisStateRoot(),
    );
    await Executor.loadStateRoots(store, chain, STATE_ROOT_LAG_HEIGHTS + 2);
    const mempool = new Mempool(
      this.#rules,
      { ...cfg.mempool, verdictCacheSize: Math.max(4 * cfg.mempool.maxTxs, 100_000) },
      (hash) => chain.isCommitted(hash),
    );
    const executor = new Executor({
      store,
      chain,
      engine: this.#engine,
      suite,
      logger: this.logger.child({ module: 'executor' }),
      now: this.#now,
      onStored: (committed) => {
        this.#onStored(committed);
      },
      onFatal: (err) => {
        this.#halt(err);
      },
    });
    const sync = new BlockSync({
      rules: this.#rules,
      validators: this.#validators,
      chain,
      mempool,
      logger: this.logger.child({ module: 'sync' }),
      maxBlocksPerResponse: cfg.consensus.maxSyncBlocksPerResponse,
      maxResponseBytes: 16 * 1024 * 1024,
      requestTimeoutMs: SYNC_REQUEST_TIMEOUT_MS,
      commit: (entry, hash, txs) => {
        this.#commit(entry, hash, txs);
      },
    });

    const p2p = await P2pHost.create(
      {
        chainId: genesis.chainId,
        peerKey,
        listen: cfg.p2p.listen,
        members: this.#memberPeers(),
        logger: this.logger,
        redialIntervalMs: cfg.p2p.redialIntervalMs,
        requestTimeoutMs: SYNC_REQUEST_TIMEOUT_MS,
        // Transactions go to validators on direct streams; committed blocks are gossiped for observers.
        subscribe: { txs: false, blocks: !this.isValidator },
        limits: {
          maxConsensusMessageBytes: this.#maxConsensusMessageBytes(),
          maxGossipMessageBytes: genesis.policy.maxBlockBytes + 512 * 1024,
        },
      },
      {
        onConsensusMessage: (_from, bytes) => {
          this.#running?.driver?.onMessage(bytes);
        },
        onTxBundle: (_from, bytes) => this.#onTxBundle(bytes),
        onBlock: (_from, bytes) => this.#onGossipBlock(bytes),
        onSyncRequest: (_from, bytes) => this.#onSyncRequest(sync, bytes),
        onVaultRequest: (from, bytes, signal) => this.#onVaultRequest(from, bytes, signal),
      },
    );
    const gossip = new TxGossip({
      publish: (bundle) => {
        for (const peer of this.#otherValidatorPeers()) p2p.sendTxBundle(peer, bundle);
      },
      maxTxs: cfg.gossip.txBundleMaxTxs,
      maxBytes: genesis.policy.maxBlockBytes,
      intervalMs: cfg.gossip.txBundleIntervalMs,
    });
    this.#running = {
      store,
      chain,
      mempool,
      executor,
      sync,
      p2p,
      gossip,
      extensions: [],
      replica: null,
      driver: null,
      assembler: null,
      api: null,
      followTimer: null,
    };
    await p2p.start();

    // Catch up before voting: a restarted validator rejoins at the chain's head.
    await this.#startupSync(sync, p2p);

    // Built only now: the replica starts from the height start-up sync reached.
    const replica = this.isValidator ? await this.#createReplica(store, chain, mempool) : null;
    if (replica) {
      this.#running.replica = replica.replica;
      const running = this.#running;
      const assembler = new PrePrepareAssembler({
        lookup: (hashHex) => mempool.get(hashHex),
        deliver: (message, txs) => {
          replica.source.adoptHashed(message.block, txs);
          running.driver?.onPrePrepare(message);
        },
        fetch: (from, txHashes) => this.#fetchTxs(p2p, from, txHashes),
        isAuthentic: (c) =>
          replica.crypto.verifyMessage(
            prePrepareVoteBytes(c.height, c.view, blockHash(this.#suite, c.header)),
            c.signature,
            c.from,
          ),
        graceMs: PRE_PREPARE_GRACE_MS,
        maxPending: MAX_PENDING_PRE_PREPARES,
        logger: this.logger.child({ module: 'consensus' }),
      });
      running.assembler = assembler;
      const driver = new ConsensusDriver({
        replica: replica.replica,
        wal: store.wal,
        walEntries: replica.walEntries,
        logger: this.logger.child({ module: 'consensus' }),
        now: this.#now,
        send: (to, bytes) => {
          const peer = this.#validators.validators[to]?.peerId;
          if (peer) this.#sendConsensus(p2p, peer, bytes);
        },
        broadcast: (bytes) => {
          for (const peer of this.#otherValidatorPeers()) this.#sendConsensus(p2p, peer, bytes);
        },
        // The replica certified exactly this block: its certificate names the block's hash.
        execute: (entry) => {
          this.#commit(entry, entry.certificate.blockHash, replica.source.hashedTxs(entry.block));
        },
        onViewChanged: (view) => {
          this.#view = view;
          this.metrics.viewChanged();
          this.logger.info({ view, primary: this.#primaryInstitution(view) }, 'view changed');
        },
        onFatal: (err) => {
          this.#halt(err);
        },
        tickIntervalMs: DRIVER_TICK_INTERVAL_MS,
        wireLimits: replica.wireLimits,
        onCompactPrePrepare: (compact) => {
          assembler.receive(compact);
        },
        ...(this.config.consensus.compactPrePrepares
          ? {
              encodePrePrepare: (message: PrePrepareMessage) => {
                // Our own clients' transactions leave before the block that names them
                // (the same connections, in order), so backups find them on arrival.
                gossip.flush();
                return encodeCompactPrePrepare(
                  message,
                  replica.source.hashedTxs(message.block).map((h) => h.hash),
                );
              },
            }
          : {}),
      });
      this.#running.driver = driver;
      this.#view = replica.replica.currentView;
      driver.start();
    }
    this.#syncing = false;
    this.#running.followTimer = setInterval(() => {
      this.#follow();
    }, FOLLOW_INTERVAL_MS);

    const running = this.#running;
    running.extensions = (this.#options.extensions ?? []).map((factory) =>
      factory(this.#extensionContext(running)),
    );
    const api = createApiServer({
      api: this,
      metrics: this.metrics,
      logger: this.logger,
      host: cfg.api.host,
      port: cfg.api.port,
      bodyLimitBytes: Math.min(cfg.api.bodyLimitBytes, 1024 * 1024),
      batchBodyLimitBytes: cfg.api.bodyLimitBytes,
      routeGroups: running.extensions.flatMap((e) => e.routeGroups ?? []),
      errorStatus: Object.assign(
        {},
        ...running.extensions.map((e) => e.errorStatus ?? {}),
      ) as Record<string, number>,
    });
    this.#running.api = api;
    await api.listen();
  }

  async #createReplica(
    store: ChainStore,
    chain: ChainView,
    mempool: Mempool,
  ): Promise<{
    replica: Replica;
    source: NodeBlockSource;
    walEntries: WalMirrorEntry[];
    wireLimits: WireLimits;
    crypto: ConsensusCrypto;
  }> {
    const policy = this.#genesis.policy;
    const cfg = this.config.consensus;
    const source = new NodeBlockSource({
      rules: this.#rules,
      validators: this.#validators,
      mempool,
      chain,
      logger: this.logger.child({ module: 'proposals' }),
      now: this.#now,
      maxClockDriftMs: MAX_CLOCK_DRIFT_MS,
    });
    const stored = await store.wal.readAll();
    const walEntries: WalMirrorEntry[] = stored.map((e) => ({
      record: walRecordFromCodec(e.entry),
      height: e.height,
      sequence: e.sequence,
    }));
    const wireLimits: WireLimits = {
      ...DEFAULT_WIRE_LIMITS,
      maxMessageBytes: this.#maxConsensusMessageBytes(),
      maxBlockTxs: policy.maxBlockTxs,
    };
    const window =
      cfg.watermarkWindowHeights === 0 ? 2 * policy.checkpointInterval : cfg.watermarkWindowHeights;
    const config: ReplicaConfig = {
      chainId: this.#genesis.chainId,
      validatorCount: this.#validators.n,
      selfIndex: this.#selfIndex,
      genesisHash: this.#genesisHash,
      checkpointIntervalHeights: policy.checkpointInterval,
      watermarkWindowHeights: window,
      maxBlockTxs: policy.maxBlockTxs,
      maxBlockBytes: policy.maxBlockBytes,
      blockIntervalMs: policy.blockIntervalMs,
      viewChangeTimeoutMs: policy.viewChangeTimeoutMs,
      viewChangeTimeoutMaxMs: Math.max(cfg.viewChangeTimeoutMaxMs, policy.viewChangeTimeoutMs),
      retransmitIntervalMs: cfg.retransmitIntervalMs,
      maxSyncBlocksPerResponse: cfg.maxSyncBlocksPerResponse,
      maxFutureMessages: 512,
    };
    const crypto = suiteConsensusCrypto(
      this.#suite,
      this.#genesis.chainId,
      this.#signingKey.privateKey,
      this.#validators.validators.map((v) => v.publicKey),
      new VerifyMemo(50_000),
    );
    const replica = new Replica(
      config,
      {
        crypto,
        blockSource: source,
        chain,
        hashBlock: (block) => blockHash(this.#suite, block.header),
      },
      {
        committedHeight: store.latestHeight(),
        wal: walEntries.map((e) => e.record),
        nowMs: this.#now(),
        wireLimits,
      },
    );
    return { replica, source, walEntries, wireLimits, crypto };
  }

  /**
   * Consensus messages can be large: a view-change carries the blocks above
   * its checkpoint (a new-view stores each distinct block once). Allow a
   * checkpoint interval of full blocks, and never less than 64 MiB.
   */
  #maxConsensusMessageBytes(): number {
    const { maxBlockBytes, checkpointInterval } = this.#genesis.policy;
    return Math.max(
      64 * 1024 * 1024,
      Math.min((checkpointInterval + 4) * maxBlockBytes, 255 * 1024 * 1024),
    );
  }

  /**
   * The sync protocol: block ranges (`BlockSync`), or transactions by hash —
   * pending ones from the mempool, committed ones from the chain view (not
   * stored yet) or storage: a backup that lags may ask for the transactions of
   * a block its proposer has committed meanwhile (with the other backups).
   */
  async #onSyncRequest(sync: BlockSync, bytes: Uint8Array): Promise<Uint8Array> {
    const r = this.#running;
    const { maxBlockTxs } = this.#genesis.policy;
    const hashes = decodeTxsRequest(bytes, maxBlockTxs, this.#suite.hashLength);
    if (hashes === null) return sync.serve(bytes);
    if (!r) return encodeTxBundle([]);
    const txs: Uint8Array[] = [];
    for (const hash of hashes) {
      const hex = toHex(hash);
      const htx = r.mempool.get(hex);
      if (htx) {
        txs.push(htx.bytes);
        continue;
      }
      // Committed: not stored yet, or stored (recent blocks stay in the chain view's memory).
      let tx = r.chain.unstoredTx(hex);
      if (!tx) {
        const at = await r.store.txIndex.get(hash);
        tx = at && r.chain.getCertifiedBlock(at.height)?.block.txs[at.index];
      }
      if (tx) txs.push(encodeTransaction(tx));
    }
    return encodeTxBundle(txs);
  }

  /** Asks validator `from` for transactions by hash; keeps those that decode and hash as asked. */
  async #fetchTxs(
    p2p: P2pHost,
    from: number,
    txHashes: readonly Uint8Array[],
  ): Promise<HashedTransaction[]> {
    const peer = this.#validators.validators[from]?.peerId;
    if (!peer || from === this.#selfIndex || txHashes.length === 0) return [];
    const response = await p2p.request('sync', peer, encodeTxsRequest(txHashes), {
      timeoutMs: PRE_PREPARE_FETCH_TIMEOUT_MS,
    });
    const wanted = new Set(txHashes.map(toHex));
    const out: HashedTransaction[] = [];
    for (const txBytes of decodeTxBundle(response, response.length, txHashes.length)) {
      const htx = decodeHashedTransaction(this.#suite, txBytes, this.#rules.limits);
      if (wanted.delete(toHex(htx.hash))) out.push(htx);
    }
    return out;
  }

  /** A message the network refuses (too large) is logged and dropped: PBFT copes with a lost message. */
  #sendConsensus(p2p: P2pHost, peer: string, bytes: Uint8Array): void {
    try {
      p2p.sendConsensus(peer, bytes);
    } catch (err) {
      this.logger.error(
        { peer, bytes: bytes.length, err: (err as Error).message },
        'consensus message not sent',
      );
    }
  }

  #otherValidatorPeers(): string[] {
    return this.#validators.validators
      .filter((v) => v.index !== this.#selfIndex)
      .map((v) => v.peerId);
  }

  #memberPeers(): MemberPeer[] {
    return this.#genesis.institutions.map((i) => ({
      peerId: i.peerId,
      addrs: this.config.p2p.peers[i.id] ?? i.p2pAddresses ?? [],
      voting: i.voting,
    }));
  }

  async #startupSync(sync: BlockSync, p2p: P2pHost): Promise<void> {
    if (this.#genesis.institutions.length === 1) return; // nobody to ask
    const deadline = this.#now() + STARTUP_SYNC_MS;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(STARTUP_SYNC_MS)]);
    // Wait (bounded) for a peer to ask, then fetch until no peer is ahead.
    while (p2p.connectedPeers().length === 0 && this.#now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (signal.aborted) return;
    }
    try {
      const n = await sync.catchUp(p2p, signal);
      if (n > 0) this.logger.info({ blocks: n }, 'caught up by sync');
    } catch (err) {
      if (!signal.aborted) throw err;
    }
    await this.#need().executor.idle();
  }

  /**
   * Observers follow the chain by polling peers (gossip brings most blocks;
   * this fills gaps). Validators do not: their replica's state transfer does
   * it, and two writers of one height would race.
   */
  #follow(): void {
    const r = this.#running;
    if (!r || r.replica || this.#halted || this.#followBusy) return;
    this.#followBusy = true;
    r.sync
      .catchUp(r.p2p, this.#abort.signal)
      .catch((err: unknown) => {
        if (!this.#abort.signal.aborted)
          this.logger.warn({ err: (err as Error).message }, 'follow failed');
      })
      .finally(() => {
        this.#followBusy = false;
      });
  }
  #followBusy = false;

  // ------------------------------------------------------------------ committing

  /** A block is final (consensus, sync or gossip): record it and hand it to the executor. */
  #commit(entry: CertifiedBlock, hash: Uint8Array, txs: readonly HashedTransaction[]): void {
    const r = this.#need();
    const height = entry.block.header.height;
    if (height <= r.chain.committedHeight) {
      // Already committed by another path (sync during start-up, gossip): it must be the same block.
      const known = r.chain.getCertifiedBlock(height);
      if (known && !bytesEqual(known.certificate.blockHash, hash)) {
        this.#halt(
          new NodeError('NODE_FORK', `two different blocks committed at height ${height}`, {
            height,
          }),
        );
      }
      return;
    }
    const hashes = txs.map((t) => t.hash);
    r.chain.noteCommitted(entry, hash, hashes);
    r.mempool.removeCommitted(hashes);
    r.executor.enqueue(entry, hash, txs);
  }

  /**
   * Certified members sign most transactions: tell the suite, so it keeps
   * precomputed tables for their keys (SM2 verifies several times faster;
   * bounded inside the suite). Checked once per signer seen here.
   */
  #noteSigner(r: Running, signer: Uint8Array): void {
    const key = toHex(signer);
    if (this.#signersSeen.has(key)) return;
    if (this.#signersSeen.size >= MAX_SIGNERS_SEEN) this.#signersSeen.clear();
    this.#signersSeen.add(key);
    if (getMember({ get: (k) => r.store.state.getSync(k) }, signer)) {
      this.#suite.registerKnownSigner(signer);
    }
  }
  readonly #signersSeen = new Set<string>();

  #onStored(committed: CommittedBlock): void {
    const r = this.#running;
    if (!r) return;
    for (const e of committed.events) {
      if (e.type === 'member.certified') this.#suite.registerKnownSigner(e.member);
    }
    r.driver?.executed(committed.height, committed.stateRoot);
    r.mempool.evictExpired(committed.height + 1);
    this.metrics.blockCommitted(committed.block.txs.length, committed.commitLatencyMs / 1000);
    // The proposer tells observers; they poll by sync if this is lost.
    if (this.isValidator && committed.block.header.proposer === this.#selfIndex) {
      r.p2p
        .publishBlock(
          encodeCertifiedBlock({ block: committed.block, certificate: committed.certificate }),
        )
        .catch(() => undefined);
    }
    const event: CommittedBlockEvent = {
      height: committed.height,
      hash: committed.blockHash,
      view: committed.block.header.view,
      timestamp: committed.block.header.timestamp,
      txCount: committed.block.txs.length,
      receipts: committed.receipts,
    };
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'block listener threw');
      }
    }
    for (const l of this.#storedListeners) l(committed);
  }

  /** A gossiped bundle: 'reject' (the sender pays) if anything in it is malformed or invalid. */
  #onTxBundle(bytes: Uint8Array): GossipVerdict {
    const r = this.#running;
    if (!r) return 'ignore';
    let txs: Uint8Array[];
    try {
      txs = decodeTxBundle(bytes, bytes.length, MAX_BUNDLE_TXS);
    } catch {
      return 'reject';
    }
    let verdict: GossipVerdict = 'accept';
    let added = 0;
    for (const txBytes of txs) {
      try {
        const htx = decodeHashedTransaction(this.#suite, txBytes, this.#rules.limits);
        if (r.mempool.add(htx, r.chain.committedHeight) === 'added') {
          added++;
          this.#noteSigner(r, htx.tx.signer);
          r.assembler?.admitted(htx);
        }
      } catch (err) {
        if (isSendersFault(err)) verdict = 'reject';
        else if (!(err instanceof MempoolError || err instanceof LedgerError)) throw err;
      }
    }
    if (added > 0) r.driver?.tick();
    return verdict;
  }

  #onGossipBlock(bytes: Uint8Array): GossipVerdict {
    const r = this.#running;
    if (!r || this.#syncing) return 'ignore';
    let entry: CertifiedBlock;
    try {
      entry = decodeCertifiedBlock(bytes, bytes.length, this.#rules.limits);
    } catch {
      return 'reject';
    }
    const height = entry.block.header.height;
    if (height <= r.chain.committedHeight) return 'accept';
    // Validators get blocks from consensus; observers apply the next one, and sync for gaps.
    if (r.replica) return 'accept';
    if (height > r.chain.committedHeight + 1) {
      r.sync.bestKnownHeight = Math.max(r.sync.bestKnownHeight, height);
      this.#follow();
      return 'accept';
    }
    try {
      r.sync.accept(entry);
      return 'accept';
    } catch (err) {
      this.logger.warn({ height, err: (err as Error).message }, 'gossiped block refused');
      return 'reject';
    }
  }

  // ------------------------------------------------------------------ stop / halt

  #halt(err: unknown): void {
    if (this.#halted) return;
    const error = err instanceof Error ? err : new NodeError('NODE_HALTED', String(err));
    this.#halted = error;
    this.logger.fatal(
      { err: error.message, code: (error as Partial<MedchainError>).code },
      'node halted',
    );
    void this.#running?.driver?.stop();
    this.#haltedResolve(error);
  }

  /** Stops everything in reverse order of start; idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort();
      await this.#teardown();
      this.logger.info('node stopped');
    })();
    return this.#stopping;
  }

  async #teardown(): Promise<void> {
    const r = this.#running;
    if (!r) return;
    if (r.followTimer) clearInterval(r.followTimer);
    await r.api?.close().catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'api close failed');
    });
    for (const e of r.extensions) await e.stop?.();
    r.gossip.stop();
    r.assembler?.stop();
    await r.driver?.stop();
    await r.executor.idle();
    await r.p2p.stop();
    await r.store.close();
    this.#running = null;
  }

  #need(): Running {
    if (!this.#running) throw new NodeError('NODE_NOT_READY', 'the node is not running');
    return this.#running;
  }

  #primaryInstitution(view: number): string {
    return this.#validators.validators[primaryOf(view, this.#validators.n)]?.institutionId ?? '';
  }

  // ------------------------------------------------------------------ extensions

  #extensionContext(r: Running): NodeContext {
    return {
      genesis: this.#genesis,
      suite: this.#suite,
      institution: this.#self,
      store: r.store,
      logger: this.logger,
      signal: this.#abort.signal,
      height: () => r.chain.storedHeight,
      state: { get: (key) => r.store.state.getSync(key) },
      submitTransaction: (bytes) => this.submitTransaction(bytes),
      requestVault: (institutionId, bytes, options = {}) => {
        const peer = this.#genesis.institutions.find((i) => i.id === institutionId)?.peerId;
        if (!peer) {
          return Promise.reject(
            new NodeError('UNKNOWN_INSTITUTION', `no institution ${institutionId} in the genesis`),
          );
        }
        return r.p2p.request('vault', peer, bytes, options);
      },
      onStored: (listener) => this.onStored(listener),
    };
  }

  async #onVaultRequest(
    fromPeerId: string,
    bytes: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    const from = this.#genesis.institutions.find((i) => i.peerId === fromPeerId);
    const vault = this.#running?.extensions.find((e) => e.onVaultRequest !== undefined);
    if (!from || !vault?.onVaultRequest) {
      throw new NodeError('VAULT_UNAVAILABLE', 'this node serves no document vault');
    }
    return vault.onVaultRequest(from.id, bytes, signal);
  }

  // ------------------------------------------------------------------ NodeApi

  status(): NodeStatus {
    const r = this.#running;
    const height = r?.chain.storedHeight ?? 0;
    const validatorPeers = new Set(this.#validators.validators.map((v) => v.peerId));
    const connected = r?.p2p.connectedPeers() ?? [];
    const primaryIndex = primaryOf(this.#view, this.#validators.n);
    const target = Math.max(height, r?.sync.bestKnownHeight ?? 0, r?.replica?.committedHeight ?? 0);
    return {
      chainId: this.#genesis.chainId,
      institutionId: this.#self.id,
      role: this.isValidator ? 'validator' : 'observer',
      suite: this.#suite.id,
      genesisHash: this.#genesisHash,
      height,
      latestBlockHash: height === 0 ? null : (r?.store.head()?.blockHash ?? null),
      stateRoot: height === 0 ? null : (r?.chain.stateRootAt(height) ?? null),
      view: this.#view,
      primary: { index: primaryIndex, institutionId: this.#primaryInstitution(this.#view) },
      validators: {
        total: this.#validators.n,
        connected: connected.filter((p) => validatorPeers.has(p)).length,
      },
      sync: {
        state: this.#syncing || target > height + 1 ? 'syncing' : 'synced',
        targetHeight: target,
      },
      mempool: { size: r?.mempool.size ?? 0, bytes: r?.mempool.bytes ?? 0 },
      peers: connected.length,
      version: NODE_VERSION,
    };
  }

  submitTransaction(bytes: Uint8Array): Promise<SubmitResult> {
    return Promise.resolve().then(() => {
      const r = this.#running;
      if (!r || this.#halted)
        throw new NodeError('NODE_NOT_READY', 'the node is not accepting transactions');
      const htx = decodeHashedTransaction(this.#suite, bytes, this.#rules.limits);
      if (r.chain.isCommitted(htx.hash)) return { hash: htx.hash, duplicate: true };
      const status = r.mempool.add(htx, r.chain.committedHeight);
      if (status === 'added') {
        this.#noteSigner(r, htx.tx.signer);
        r.gossip.add(htx.bytes);
        r.assembler?.admitted(htx);
        r.driver?.tick();
      }
      return { hash: htx.hash, duplicate: status === 'duplicate' };
    });
  }

  async getTransaction(hash: Uint8Array): Promise<TxLookup | undefined> {
    const r = this.#need();
    const found = await r.store.getTransaction(hash);
    if (found) {
      const receipt = await r.store.getReceipt(hash);
      if (receipt) return { status: 'committed', tx: found.tx, receipt };
    }
    for (const htx of r.mempool.entries()) {
      if (bytesEqual(htx.hash, hash)) return { status: 'pending', tx: htx.tx };
    }
    return undefined;
  }

  async getBlock(height: number): Promise<BlockLookup | undefined> {
    const r = this.#need();
    if (height < 1 || height > r.chain.storedHeight) return undefined;
    const [block, certificate, receipts] = await Promise.all([
      r.store.getBlock(height),
      r.store.getCertificate(height),
      r.store.receipts.forBlock(height),
    ]);
    if (!block || !certificate) return undefined;
    return { block, certificate, receipts, hash: certificate.blockHash };
  }

  latestHeight(): number {
    return this.#running?.chain.storedHeight ?? 0;
  }

  peers(): readonly PeerInfo[] {
    const r = this.#running;
    if (!r) return [];
    const byPeer = new Map(this.#genesis.institutions.map((i) => [i.peerId, i]));
    return r.p2p.peerConnections().map((c) => {
      const inst = byPeer.get(c.peerId);
      return {
        peerId: c.peerId,
        institutionId: inst?.id ?? null,
        role: inst ? (inst.voting ? 'validator' : 'observer') : null,
        addresses: c.addresses,
        direction: c.direction,
      };
    });
  }

  subscribe(listener: CommittedBlockListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  health(): HealthReport {
    if (this.#halted) return { ok: false, reason: `halted: ${this.#halted.message}` };
    return { ok: this.#running !== null };
  }

  readiness(): ReadinessReport {
    const r = this.#running;
    return {
      storeOpen: r !== null,
      p2pStarted: r !== null && !this.#halted,
      synced: r !== null && this.status().sync.state === 'synced',
    };
  }
}

/**
 * Whether a transaction in a peer's bundle proves the peer misbehaved: it
 * admitted something malformed or badly signed. A full mempool, a transaction
 * already committed or just expired here is a matter of timing, not of fault.
 */
function isSendersFault(err: unknown): boolean {
  if (err instanceof CodecError) return true;
  if (!(err instanceof LedgerError)) return false;
  return err.code !== LedgerErrorCode.txExpired;
}
