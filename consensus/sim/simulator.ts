/**
 * Deterministic simulator (STYLE.md §5, after TigerBeetle's VOPR): many
 * replicas in one process, a virtual clock, a simulated network (delay, loss,
 * duplication, reordering, symmetric and asymmetric partitions), crash and
 * restart from the persisted WAL, and Byzantine replicas. Every random choice
 * comes from one seed, so a failing seed replays exactly.
 *
 * Invariants are checked as the run goes (after every step):
 * - safety: no two honest replicas commit different blocks at one height; every
 *   committed block carries a valid commit certificate (checked with the
 *   ledger's `validateCommitCertificate`); honest state roots agree; an honest
 *   replica never signs two different messages for one (kind, height, view),
 *   and never sends a signed message before persisting it;
 * - crash: a replica throws;
 * - liveness: once faults stop, every honest replica commits new heights.
 */
import { toHex } from '../../src/codec/index.js';
import { DOMAIN } from '../../src/crypto/suite.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import type { ValidatorKeys } from '../../src/ledger/quorum.js';
import { validateCommitCertificate } from '../../src/ledger/validate.js';
import type { Block, CommitCertificate } from '../../src/ledger/types.js';
import { insecureFakeConsensusCrypto, suiteConsensusCrypto, VerifyMemo } from '../crypto.js';
import { ConsensusError, ConsensusErrorCode } from '../errors.js';
import { maxFaulty, primaryOf } from '../quorum.js';
import { Replica } from '../replica.js';
import type {
  ConsensusCrypto,
  ConsensusMessage,
  Effect,
  ReplicaConfig,
  ReplicaMetrics,
  SignedVoteMessage,
  WalRecord,
} from '../types.js';
import { DEFAULT_REPLICA_TIMING } from '../types.js';
import { prePrepareVoteBytes } from '../votes.js';
import { decodeMessage, encodeMessage, walRecordSurvives } from '../wire.js';
import { SimApp, simTransaction } from './app.js';
import { Prng } from './prng.js';

export const BYZANTINE_BEHAVIOURS = [
  'silent',
  'equivocate',
  'bad-signature',
  'replay',
  'invalid-block',
  'twins',
] as const;
export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number];

export const VIOLATION_CLASSES = ['safety', 'liveness', 'crash'] as const;
export type ViolationClass = (typeof VIOLATION_CLASSES)[number];

export interface Violation {
  readonly class: ViolationClass;
  readonly message: string;
  readonly atMs: number;
}

export interface NetworkOptions {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Loss and duplication apply until `faultsEndMs`. */
  readonly lossRate: number;
  readonly duplicateRate: number;
}

export interface ScriptedPartition {
  readonly fromMs: number;
  readonly toMs: number;
  /** Groups of instance ids; links between groups are cut. Instances not listed form one more group. */
  readonly groups?: readonly (readonly number[])[];
  /** Directed cuts [from, to] of instance ids (asymmetric partitions). */
  readonly cuts?: readonly (readonly [number, number])[];
}

export interface ScriptedCrash {
  readonly instance: number;
  readonly atMs: number;
  readonly restartAtMs: number;
  /** Crash part-way through the effects of the instance's next step (after a persist, before its send). */
  readonly midEffects?: boolean;
  /** Crash right after the instance next persists a signed message of this kind, before sending it. */
  readonly afterPersisting?: SignedVoteMessage['kind'];
}

export interface SimulationOptions {
  readonly seed: number;
  readonly validators: number;
  /** Real signatures and hashes: the chain's suite (e.g. getSuite('intl')). */
  readonly suite: CryptoSuite;
  /** INSECURE checksum instead of signatures, for huge sweeps only. Hashes still use `suite`. */
  readonly insecureFakeSignatures?: boolean;
  /** Share verification verdicts among replicas (each distinct signature verified once). Default true. */
  readonly memoizeVerification?: boolean;
  readonly byzantine?: readonly {
    readonly validator: number;
    readonly behaviour: ByzantineBehaviour;
  }[];
  readonly network?: Partial<NetworkOptions>;
  /** Randomly generated faults until `faultsEndMs`. */
  readonly randomFaults?: {
    readonly crashes?: number;
    readonly partitions?: number;
    readonly asymmetricPartitions?: number;
  };
  readonly partitions?: readonly ScriptedPartition[];
  readonly crashes?: readonly ScriptedCrash[];
  /** Faults (loss, duplication, partitions, crashes) end here; liveness is judged after. */
  readonly faultsEndMs?: number;
  /** How long after `faultsEndMs` honest replicas have to make progress. */
  readonly livenessWindowMs?: number;
  /** Heights every honest replica must commit after `faultsEndMs`. */
  readonly livenessHeights?: number;
  /** Stop early once the liveness goal is met (default true). */
  readonly stopWhenLive?: boolean;
  /** Stop when every honest replica committed this height (long runs). */
  readonly targetHeight?: number;
  readonly tickMs?: number;
  readonly txIntervalMs?: number;
  readonly txsPerInterval?: number;
  readonly replica?: Partial<
    Omit<ReplicaConfig, 'chainId' | 'validatorCount' | 'selfIndex' | 'genesisHash'>
  >;
  /** Hard cap on processed events. */
  readonly maxEvents?: number;
  /**
   * NEGATIVE CONTROL: restart crashed replicas with an empty WAL, as a host that
   * ignored persist effects would. The checker must then see double signing.
   */
  readonly negativeControlLoseWalOnRestart?: boolean;
  /** Record per-step log sizes of honest replicas (max seen), for boundedness checks. */
  readonly trackLogSizes?: boolean;
}

export interface SimulationResult {
  readonly seed: number;
  readonly validators: number;
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  /** `SEED=… class=…: …` for the first violation, else null. */
  readonly failureLine: string | null;
  /** Lowest committed height among honest replicas at the end. */
  readonly minHonestHeight: number;
  readonly maxHonestHeight: number;
  /** New views entered, max over honest replicas. */
  readonly viewChanges: number;
  readonly messagesSent: number;
  readonly bytesSent: number;
  readonly messagesPerBlock: number;
  readonly bytesPerBlock: number;
  readonly virtualTimeMs: number;
  readonly events: number;
  readonly metrics: readonly ReplicaMetrics[];
  readonly maxLogSizes: Readonly<Record<string, number>>;
  readonly maxWalRecords: number;
  /** Committed height of every instance (twins have two instances). */
  readonly heights: readonly number[];
  /** Replicas restarted from their WAL. */
  readonly restarts: number;
}

interface Instance {
  readonly id: number;
  readonly validator: number;
  readonly honest: boolean;
  readonly behaviour: ByzantineBehaviour | null;
  readonly crypto: ConsensusCrypto;
  app: SimApp;
  replica: Replica | null;
  wal: WalRecord[];
  walKeys: Set<string>;
  crashAfterEffects: number | null;
  crashAfterPersisting: SignedVoteMessage['kind'] | null;
  history: Uint8Array[];
  metricsSoFar: ReplicaMetrics | null;
}

type SimEvent =
  | {
      readonly at: number;
      readonly seq: number;
      readonly type: 'deliver';
      readonly from: number;
      readonly to: number;
      readonly bytes: Uint8Array;
    }
  | { readonly at: number; readonly seq: number; readonly type: 'tick' }
  | { readonly at: number; readonly seq: number; readonly type: 'txs' }
  | {
      readonly at: number;
      readonly seq: number;
      readonly type: 'crash';
      readonly crash: ScriptedCrash;
    }
  | {
      readonly at: number;
      readonly seq: number;
      readonly type: 'restart';
      readonly instance: number;
    };

type NewEvent = SimEvent extends infer E ? (E extends SimEvent ? Omit<E, 'seq'> : never) : never;

class EventQueue {
  private heap: SimEvent[] = [];
  private less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  get size(): number {
    return this.heap.length;
  }
  push(e: SimEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p];
      const ie = h[i];
      if (!pe || !ie || !this.less(ie, pe)) break;
      h[p] = ie;
      h[i] = pe;
      i = p;
    }
  }
  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const me = (): SimEvent => h[m] as SimEvent;
        if (l < h.length && this.less(h[l] as SimEvent, me())) m = l;
        if (r < h.length && this.less(h[r] as SimEvent, me())) m = r;
        if (m === i) break;
        const t = h[m] as SimEvent;
        h[m] = h[i] as SimEvent;
        h[i] = t;
        i = m;
      }
    }
    return top;
  }
}

const CHAIN_ID = 'medchain-sim';

function signedKey(m: SignedVoteMessage): string {
  switch (m.kind) {
    case 'view-change':
      return `${m.from}:view-change:0:${m.newView}`;
    case 'new-view':
      return `${m.from}:new-view:0:${m.view}`;
    case 'checkpoint':
      return `${m.from}:checkpoint:${m.height}:0`;
    default:
      return `${m.from}:${m.kind}:${m.height}:${m.view}`;
  }
}

function isSignedVote(m: ConsensusMessage): m is SignedVoteMessage {
  return m.kind !== 'sync-request' && m.kind !== 'sync-response';
}

/** Deterministic 32-byte value from a label (keys and fixed hashes of the simulated chain). */
function seedBytes(prng: Prng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = prng.nextU32() & 0xff;
  return out;
}

/**
 * The suite with verification shared through the replicas' memo: for consensus
 * signatures by a known validator the verdict is looked up under the same key
 * the replicas use, so each distinct signature is verified once per run.
 */
function memoizedSuite(
  suite: CryptoSuite,
  memo: VerifyMemo,
  validatorKeys: readonly Uint8Array[],
): CryptoSuite {
  const index = new Map(validatorKeys.map((k, i) => [toHex(k), i]));
  const verify: CryptoSuite['verify'] = (domain, chainId, message, signature, publicKey) => {
    const validator = index.get(toHex(publicKey));
    const run = (): boolean => suite.verify(domain, chainId, message, signature, publicKey);
    if (validator === undefined || domain !== DOMAIN.consensus || chainId !== CHAIN_ID)
      return run();
    return memo.check(validator, message, signature, run);
  };
  // The suites are frozen: shadow `verify` on a fresh object rather than assigning it.
  const wrapped = Object.create(suite, { verify: { value: verify } }) as CryptoSuite;
  return wrapped;
}

export function runSimulation(options: SimulationOptions): SimulationResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly o: SimulationOptions;
  private readonly prng: Prng;
  private readonly netPrng: Prng;
  private readonly faultPrng: Prng;
  private readonly n: number;
  private readonly f: number;
  private readonly instances: Instance[] = [];
  private readonly queue = new EventQueue();
  private seq = 0;
  private now = 0;
  private readonly violations: Violation[] = [];
  private readonly config: Omit<ReplicaConfig, 'selfIndex'>;
  private readonly net: NetworkOptions;
  private readonly faultsEndMs: number;
  private readonly partitions: ScriptedPartition[];
  private readonly validatorKeys: ValidatorKeys;
  private readonly committed = new Map<number, string>();
  private readonly roots = new Map<number, string>();
  private readonly signedByHonest = new Map<string, string>();
  private readonly certChecked = new Set<string>();
  private commitsSinceCheck = true;
  private restarts = 0;
  private readonly decoded = new WeakMap<Uint8Array, ConsensusMessage | null>();
  private messagesSent = 0;
  private bytesSent = 0;
  private txSeq = 0;
  private heightAtHeal: number | null = null;
  private readonly maxLogSizes: Record<string, number> = {};
  private maxWalRecords = 0;
  private readonly genesisHash: Uint8Array;
  /** The suite with memoised verification (verdicts are a pure function of their inputs). */
  private readonly checkerSuite: CryptoSuite;

  constructor(options: SimulationOptions) {
    this.o = options;
    this.n = options.validators;
    this.f = maxFaulty(this.n);
    this.prng = new Prng(options.seed);
    this.netPrng = this.prng.fork();
    this.faultPrng = this.prng.fork();
    const keyPrng = this.prng.fork();
    this.net = {
      minDelayMs: 1,
      maxDelayMs: 20,
      lossRate: 0,
      duplicateRate: 0,
      ...options.network,
    };
    this.faultsEndMs = options.faultsEndMs ?? 0;
    this.genesisHash = seedBytes(keyPrng, 32);
    const timing = { ...DEFAULT_REPLICA_TIMING, ...options.replica };
    this.config = {
      chainId: CHAIN_ID,
      validatorCount: this.n,
      genesisHash: this.genesisHash,
      ...timing,
    };
    const suite = options.suite;
    const keys = Array.from({ length: this.n }, () =>
      suite.keyPairFromPrivateKey(seedBytes(keyPrng, 32)),
    );
    const validatorSetHash = seedBytes(keyPrng, 32);
    this.validatorKeys = {
      hash: validatorSetHash,
      validators: keys.map((k) => ({ publicKey: k.publicKey })),
    };
    const memo = options.memoizeVerification === false ? undefined : new VerifyMemo();
    this.checkerSuite = memo
      ? memoizedSuite(
          suite,
          memo,
          keys.map((k) => k.publicKey),
        )
      : suite;
    const byz = new Map<number, ByzantineBehaviour>();
    for (const b of options.byzantine ?? []) {
      if (b.validator < 0 || b.validator >= this.n) {
        throw new ConsensusError(
          ConsensusErrorCode.simulation,
          'byzantine validator out of range',
          {
            validator: b.validator,
          },
        );
      }
      byz.set(b.validator, b.behaviour);
    }
    for (let v = 0; v < this.n; v++) {
      const behaviour = byz.get(v) ?? null;
      const copies = behaviour === 'twins' ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const key = keys[v];
        if (!key) continue;
        const crypto = options.insecureFakeSignatures
          ? insecureFakeConsensusCrypto(v, this.n)
          : suiteConsensusCrypto(
              suite,
              CHAIN_ID,
              key.privateKey,
              keys.map((k) => k.publicKey),
              memo,
            );
        const inst: Instance = {
          id: this.instances.length,
          validator: v,
          honest: behaviour === null,
          behaviour,
          crypto,
          app: this.newApp(c),
          replica: null,
          wal: [],
          walKeys: new Set(),
          crashAfterEffects: null,
          crashAfterPersisting: null,
          history: [],
          metricsSoFar: null,
        };
        this.instances.push(inst);
      }
    }
    this.partitions = [...(options.partitions ?? [])];
    this.scheduleFaults();
  }

  private newApp(twinCopy: number): SimApp {
    return new SimApp({
      suite: this.o.suite,
      chainId: CHAIN_ID,
      maxBlockTxs: this.config.maxBlockTxs,
      maxBlockBytes: this.config.maxBlockBytes,
      validatorSetHash: this.validatorKeys.hash,
      timestampSaltMs: twinCopy,
    });
  }

  private push(e: NewEvent): void {
    this.queue.push({ ...e, seq: this.seq++ });
  }

  private scheduleFaults(): void {
    for (const c of this.o.crashes ?? []) this.push({ at: c.atMs, type: 'crash', crash: c });
    const rf = this.o.randomFaults;
    const end = this.faultsEndMs;
    if (!rf || end <= 0) return;
    const p = this.faultPrng;
    const ids = this.instances.map((i) => i.id);
    for (let i = 0; i < (rf.crashes ?? 0); i++) {
      const instance = p.pick(ids) ?? 0;
      const atMs = p.int(0, Math.max(0, end - 1));
      const restartAtMs = p.int(atMs + 1, end);
      this.push({
        at: atMs,
        type: 'crash',
        crash: { instance, atMs, restartAtMs, midEffects: p.chance(0.5) },
      });
    }
    for (let i = 0; i < (rf.partitions ?? 0); i++) {
      const fromMs = p.int(0, Math.max(0, end - 1));
      const toMs = p.int(fromMs + 1, end);
      const side = ids.filter(() => p.chance(0.5));
      this.partitions.push({ fromMs, toMs, groups: [side] });
    }
    for (let i = 0; i < (rf.asymmetricPartitions ?? 0); i++) {
      const fromMs = p.int(0, Math.max(0, end - 1));
      const toMs = p.int(fromMs + 1, end);
      const a = p.pick(ids) ?? 0;
      const cuts: [number, number][] = [];
      for (const b of ids) if (b !== a && p.chance(0.6)) cuts.push(p.chance(0.5) ? [a, b] : [b, a]);
      this.partitions.push({ fromMs, toMs, cuts });
    }
  }

  // ------------------------------------------------------------------ run

  run(): SimulationResult {
    for (const inst of this.instances) this.boot(inst);
    const tickMs = this.o.tickMs ?? 10;
    const txIntervalMs = this.o.txIntervalMs ?? 20;
    const livenessWindowMs = this.o.livenessWindowMs ?? 30_000;
    const endMs = this.faultsEndMs + livenessWindowMs;
    this.push({ at: 0, type: 'tick' });
    this.push({ at: 0, type: 'txs' });
    const maxEvents = this.o.maxEvents ?? 5_000_000;
    let events = 0;
    let live = false;
    while (this.queue.size > 0 && events < maxEvents) {
      const e = this.queue.pop();
      if (!e) break;
      if (e.at > endMs) break;
      this.now = e.at;
      events++;
      if (this.heightAtHeal === null && this.now >= this.faultsEndMs) this.heal();
      switch (e.type) {
        case 'tick':
          for (const inst of this.instances) {
            if (inst.replica) this.step(inst, () => inst.replica?.onTick(this.now) ?? []);
            if (inst.behaviour === 'replay') this.replayOld(inst);
          }
          this.push({ at: this.now + tickMs, type: 'tick' });
          break;
        case 'txs': {
          const count = this.o.txsPerInterval ?? 2;
          for (let i = 0; i < count; i++) {
            const tx = simTransaction(CHAIN_ID, this.txSeq++);
            for (const inst of this.instances) if (inst.replica) inst.app.addTx(tx);
          }
          this.push({ at: this.now + txIntervalMs, type: 'txs' });
          break;
        }
        case 'deliver': {
          const inst = this.instances[e.to];
          if (inst?.replica) {
            if (inst.behaviour === 'replay' && inst.history.length < 256)
              inst.history.push(e.bytes);
            const decoded = this.decodeShared(e.bytes);
            this.step(inst, () =>
              decoded
                ? (inst.replica?.onMessage(decoded) ?? [])
                : (inst.replica?.onMessageBytes(e.bytes) ?? []),
            );
          }
          break;
        }
        case 'crash': {
          const inst = this.instances[e.crash.instance];
          if (inst?.replica) {
            if (e.crash.afterPersisting) inst.crashAfterPersisting = e.crash.afterPersisting;
            else if (e.crash.midEffects) inst.crashAfterEffects = this.netPrng.int(0, 3);
            else this.crash(inst);
            this.push({
              at: Math.max(e.crash.restartAtMs, this.now + 1),
              type: 'restart',
              instance: inst.id,
            });
          }
          break;
        }
        case 'restart': {
          const inst = this.instances[e.instance];
          if (inst && !inst.replica) this.boot(inst);
          else if (
            inst &&
            (inst.crashAfterEffects !== null || inst.crashAfterPersisting !== null)
          ) {
            // The scheduled mid-effects crash never triggered: crash now and restart later.
            this.crash(inst);
            this.push({ at: this.now + 1, type: 'restart', instance: inst.id });
          }
          break;
        }
      }
      if (this.o.trackLogSizes) this.trackSizes();
      if (this.violations.some((v) => v.class !== 'liveness')) break;
      if (this.heightAtHeal !== null && this.commitsSinceCheck) {
        this.commitsSinceCheck = false;
        const honest = this.instances.filter((i) => i.honest);
        const minH = Math.min(...honest.map((i) => i.app.height));
        const goal = this.heightAtHeal + (this.o.livenessHeights ?? 3);
        if (this.o.targetHeight !== undefined) {
          if (minH >= this.o.targetHeight) {
            live = true;
            break;
          }
        } else if (minH >= goal) {
          live = true;
          if (this.o.stopWhenLive !== false) break;
        }
      }
    }
    if (!live && !this.violations.some((v) => v.class !== 'liveness')) {
      const heights = this.instances.filter((i) => i.honest).map((i) => `${i.id}:${i.app.height}`);
      this.violate(
        'liveness',
        `honest replicas did not reach the goal after faults ended (heal height ${this.heightAtHeal ?? -1}, heights ${heights.join(' ')}, events ${events})`,
      );
    }
    return this.result(events);
  }

  /**
   * Decode each delivered byte string once and share the (immutable) result among
   * its recipients; bytes that do not decode go to the replica raw, which counts them.
   */
  private decodeShared(bytes: Uint8Array): ConsensusMessage | null {
    const cached = this.decoded.get(bytes);
    if (cached !== undefined) return cached;
    let m: ConsensusMessage | null;
    try {
      m = decodeMessage(bytes);
    } catch {
      m = null;
    }
    this.decoded.set(bytes, m);
    return m;
  }

  private heal(): void {
    const honest = this.instances.filter((i) => i.honest);
    this.heightAtHeal = Math.max(0, ...honest.map((i) => i.app.height));
    for (const inst of this.instances) {
      if (!inst.replica) this.boot(inst);
      inst.crashAfterEffects = null;
      inst.crashAfterPersisting = null;
    }
  }

  private boot(inst: Instance): void {
    if (inst.replica === null && this.o.negativeControlLoseWalOnRestart) {
      inst.wal = [];
      inst.walKeys = new Set();
    }
    if (this.now > 0) this.restarts++;
    try {
      inst.replica = new Replica(
        { ...this.config, selfIndex: inst.validator },
        {
          crypto: inst.crypto,
          blockSource: inst.app,
          chain: inst.app,
          hashBlock: (b: Block) => inst.app.hashBlock(b),
        },
        { committedHeight: inst.app.height, wal: inst.wal, nowMs: this.now },
      );
      const r = inst.replica;
      this.step(inst, () => r.start());
    } catch (err) {
      this.violate('crash', `instance ${inst.id} failed to start: ${(err as Error).message}`);
    }
  }

  private crash(inst: Instance): void {
    if (inst.replica) this.accumulateMetrics(inst, inst.replica.metrics);
    inst.replica = null;
    inst.crashAfterEffects = null;
    inst.crashAfterPersisting = null;
    inst.app.clearMempool();
  }

  private accumulateMetrics(inst: Instance, m: ReplicaMetrics): void {
    const acc = inst.metricsSoFar;
    if (!acc) {
      inst.metricsSoFar = { ...m };
      return;
    }
    for (const k of Object.keys(m) as (keyof ReplicaMetrics)[]) acc[k] += m[k];
  }

  /** Run one handler and perform its effects in order (and the effects those cause). */
  private step(inst: Instance, handler: () => Effect[]): void {
    let effects: Effect[];
    try {
      effects = handler();
    } catch (err) {
      this.violate('crash', `instance ${inst.id} threw: ${(err as Error).message}`);
      return;
    }
    const queue: Effect[] = [...effects];
    let performed = 0;
    while (queue.length > 0) {
      const e = queue.shift();
      if (!e || !inst.replica) return;
      if (inst.crashAfterEffects !== null && performed >= inst.crashAfterEffects) {
        this.crash(inst);
        return;
      }
      performed++;
      switch (e.type) {
        case 'persist':
          this.persist(inst, e.record);
          if (e.record.type === 'signed' && e.record.message.kind === inst.crashAfterPersisting) {
            this.crash(inst);
            return;
          }
          break;
        case 'wal-truncate':
          inst.wal = inst.wal.filter((r) => walRecordSurvives(r, e));
          break;
        case 'broadcast': {
          this.checkPersisted(inst, e.message);
          // Encode once for every recipient unless a Byzantine rewrite makes copies differ.
          const shared =
            inst.behaviour === null || inst.behaviour === 'twins'
              ? encodeMessage(e.message)
              : undefined;
          for (let v = 0; v < this.n; v++)
            if (v !== inst.validator) this.send(inst, v, e.message, shared);
          break;
        }
        case 'send':
          this.checkPersisted(inst, e.message);
          this.send(inst, e.to, e.message);
          break;
        case 'execute': {
          this.onCommit(inst, e.height, e.block, e.certificate);
          const root = inst.app.execute({ block: e.block, certificate: e.certificate });
          this.onRoot(inst, e.height, root);
          try {
            const r = inst.replica;
            queue.push(...r.onBlockExecuted(e.height, root));
          } catch (err) {
            this.violate(
              'crash',
              `instance ${inst.id} threw on execute: ${(err as Error).message}`,
            );
            return;
          }
          break;
        }
        case 'schedule':
        case 'view-changed':
          break;
      }
    }
  }

  private persist(inst: Instance, record: WalRecord): void {
    inst.wal.push(record);
    if (inst.wal.length > this.maxWalRecords && inst.honest) this.maxWalRecords = inst.wal.length;
    if (record.type !== 'signed') return;
    const key = signedKey(record.message);
    inst.walKeys.add(key);
    if (!inst.honest) return;
    // Signatures are deterministic (Ed25519, and the fake checksum): a second, different
    // signature for one key means two different signed byte strings.
    const signature = toHex(record.message.signature);
    const before = this.signedByHonest.get(key);
    if (before === undefined) {
      this.signedByHonest.set(key, signature);
    } else if (before !== signature) {
      this.violate(
        'safety',
        `validator ${inst.validator} signed two different messages for ${key}`,
      );
    }
  }

  private checkPersisted(inst: Instance, m: ConsensusMessage): void {
    if (!inst.honest || !isSignedVote(m) || m.from !== inst.validator) return;
    if (!inst.walKeys.has(signedKey(m))) {
      this.violate('safety', `instance ${inst.id} sent ${signedKey(m)} before persisting it`);
    }
  }

  // ------------------------------------------------------------------ network

  private linkOpen(from: number, to: number): boolean {
    if (this.now >= this.faultsEndMs) return true;
    for (const p of this.partitions) {
      if (this.now < p.fromMs || this.now >= p.toMs) continue;
      if (p.groups) {
        const groupOf = (id: number): number => {
          const g = p.groups?.findIndex((grp) => grp.includes(id)) ?? -1;
          return g;
        };
        if (groupOf(from) !== groupOf(to)) return false;
      }
      if (p.cuts?.some(([a, b]) => a === from && b === to)) return false;
    }
    return true;
  }

  private send(
    inst: Instance,
    toValidator: number,
    message: ConsensusMessage,
    encoded?: Uint8Array,
  ): void {
    let bytes = encoded;
    if (!bytes) {
      const outgoing = this.byzantineRewrite(inst, toValidator, message);
      if (!outgoing) return;
      bytes = encodeMessage(outgoing);
    }
    if (inst.behaviour === 'replay' && inst.history.length < 256) inst.history.push(bytes);
    for (const target of this.instances) {
      if (target.validator !== toValidator || target.id === inst.id) continue;
      this.transmit(inst.id, target.id, bytes);
    }
  }

  private transmit(from: number, to: number, bytes: Uint8Array): void {
    this.messagesSent++;
    this.bytesSent += bytes.length;
    const p = this.netPrng;
    const faulty = this.now < this.faultsEndMs;
    if (!this.linkOpen(from, to)) return;
    if (faulty && p.chance(this.net.lossRate)) return;
    const copies = faulty && p.chance(this.net.duplicateRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = p.int(this.net.minDelayMs, this.net.maxDelayMs);
      this.push({ at: this.now + delay, type: 'deliver', from, to, bytes });
    }
  }

  // ------------------------------------------------------------------ byzantine

  private byzantineRewrite(
    inst: Instance,
    to: number,
    m: ConsensusMessage,
  ): ConsensusMessage | null {
    switch (inst.behaviour) {
      case 'silent':
        return null;
      case 'bad-signature':
        if ('signature' in m) {
          const signature = new Uint8Array(m.signature);
          signature[0] = (signature[0] ?? 0) ^ 0xff;
          return { ...m, signature };
        }
        return m;
      case 'equivocate':
        if (m.kind === 'pre-prepare' && m.from === inst.validator && to % 2 === 1) {
          return this.resignedPrePrepare(inst, m, (b) => ({
            header: { ...b.header, timestamp: b.header.timestamp + 1 },
            txs: b.txs,
          }));
        }
        return m;
      case 'invalid-block':
        if (
          m.kind === 'pre-prepare' &&
          m.from === inst.validator &&
          m.block.header.view === m.view
        ) {
          return this.resignedPrePrepare(inst, m, (b) => {
            const txRoot = new Uint8Array(b.header.txRoot);
            txRoot[0] = (txRoot[0] ?? 0) ^ 1;
            return { header: { ...b.header, txRoot }, txs: b.txs };
          });
        }
        return m;
      default:
        return m;
    }
  }

  private resignedPrePrepare(
    inst: Instance,
    m: Extract<ConsensusMessage, { kind: 'pre-prepare' }>,
    change: (b: Block) => Block,
  ): ConsensusMessage {
    const block = change(m.block);
    const digest = inst.app.hashBlock(block);
    const signature = inst.crypto.signMessage(prePrepareVoteBytes(m.height, m.view, digest));
    return { ...m, block, signature };
  }

  private replayOld(inst: Instance): void {
    if (!inst.replica || inst.history.length === 0 || !this.netPrng.chance(0.2)) return;
    const bytes = this.netPrng.pick(inst.history);
    const to = this.netPrng.pick(this.instances.filter((i) => i.id !== inst.id));
    if (bytes && to) this.transmit(inst.id, to.id, bytes);
  }

  // ------------------------------------------------------------------ invariants

  private violate(cls: ViolationClass, message: string): void {
    this.violations.push({ class: cls, message, atMs: this.now });
  }

  private onCommit(inst: Instance, height: number, block: Block, cert: CommitCertificate): void {
    if (!inst.honest) return;
    this.commitsSinceCheck = true;
    const hash = inst.app.hashBlock(block);
    const hex = toHex(hash);
    const first = this.committed.get(height);
    if (first === undefined) this.committed.set(height, hex);
    else if (first !== hex) {
      this.violate(
        'safety',
        `conflicting commits at height ${height}: ${first.slice(0, 12)} vs ${hex.slice(0, 12)} (instance ${inst.id})`,
      );
    }
    const certKey = `${height}:${cert.view}:${hex}:${cert.signatures.map((s) => `${s.validator}.${toHex(s.signature)}`).join(',')}`;
    if (this.certChecked.has(certKey)) return;
    if (this.o.insecureFakeSignatures) {
      const ok =
        cert.height === height &&
        toHex(cert.blockHash) === hex &&
        new Set(cert.signatures.map((s) => s.validator)).size >= this.quorum();
      if (!ok)
        this.violate('safety', `invalid certificate at height ${height} (instance ${inst.id})`);
    } else {
      const verdict = validateCommitCertificate(
        { suite: this.checkerSuite, chainId: CHAIN_ID },
        cert,
        this.validatorKeys,
        { height, blockHash: hash },
      );
      if (!verdict.ok) {
        this.violate(
          'safety',
          `invalid certificate at height ${height} (instance ${inst.id}): ${JSON.stringify(verdict)}`,
        );
      }
    }
    this.certChecked.add(certKey);
    if (this.certChecked.size > 50_000) this.certChecked.clear();
  }

  private quorum(): number {
    return Math.floor((this.n + this.f) / 2) + 1;
  }

  private onRoot(inst: Instance, height: number, root: Uint8Array): void {
    if (!inst.honest) return;
    const hex = toHex(root);
    const first = this.roots.get(height);
    if (first === undefined) this.roots.set(height, hex);
    else if (first !== hex)
      this.violate('safety', `state roots differ at height ${height} (instance ${inst.id})`);
  }

  private trackSizes(): void {
    for (const inst of this.instances) {
      if (!inst.honest || !inst.replica) continue;
      const sizes = inst.replica.logSizes();
      for (const [k, v] of Object.entries(sizes)) {
        if ((this.maxLogSizes[k] ?? 0) < v) this.maxLogSizes[k] = v;
      }
    }
  }

  private result(events: number): SimulationResult {
    const honest = this.instances.filter((i) => i.honest);
    const heights = honest.map((i) => i.app.height);
    const minH = heights.length ? Math.min(...heights) : 0;
    const maxH = heights.length ? Math.max(...heights) : 0;
    const allHeights = this.instances.map((i) => i.app.height);
    const metrics = this.instances.map((inst) => {
      const m = inst.replica?.metrics;
      if (m) this.accumulateMetrics(inst, m);
      inst.replica = null;
      return inst.metricsSoFar ?? ({} as ReplicaMetrics);
    });
    const viewChanges = Math.max(0, ...honest.map((i) => metrics[i.id]?.newViewsEntered ?? 0));
    const first = this.violations[0];
    const failureLine = first
      ? `SEED=${this.o.seed} n=${this.n} class=${first.class} at=${first.atMs}ms: ${first.message}`
      : null;
    return {
      seed: this.o.seed,
      validators: this.n,
      ok: this.violations.length === 0,
      violations: this.violations,
      failureLine,
      minHonestHeight: minH,
      maxHonestHeight: maxH,
      viewChanges,
      messagesSent: this.messagesSent,
      bytesSent: this.bytesSent,
      messagesPerBlock: maxH > 0 ? this.messagesSent / maxH : 0,
      bytesPerBlock: maxH > 0 ? this.bytesSent / maxH : 0,
      virtualTimeMs: this.now,
      events,
      metrics,
      maxLogSizes: { ...this.maxLogSizes },
      maxWalRecords: this.maxWalRecords,
      heights: allHeights,
      restarts: this.restarts,
    };
  }
}

/** The primary of view `view` among `n` validators (re-exported for scenario tests). */
export function simPrimary(view: number, n: number): number {
  return primaryOf(view, n);
}

/** Decode helper for tests that inspect simulated traffic. */
export function decodeSimMessage(bytes: Uint8Array): ConsensusMessage {
  return decodeMessage(bytes);
}
