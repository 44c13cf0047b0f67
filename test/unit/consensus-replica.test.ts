import { describe, expect, it } from 'vitest';
import { getSuite } from '../../src/crypto/index.js';
import { validateCommitCertificate } from '../../src/ledger/validate.js';
import {
  commitVoteBytes,
  ConsensusError,
  DEFAULT_REPLICA_TIMING,
  encodeMessage,
  prePrepareVoteBytes,
  prepareVoteBytes,
  Replica,
  suiteConsensusCrypto,
  viewChangeVoteBytes,
} from '../../consensus/index.js';
import type {
  ConsensusMessage,
  Effect,
  PrePrepareMessage,
  ReplicaConfig,
  WalRecord,
} from '../../consensus/index.js';
import { SimApp, simTransaction } from '../../consensus/sim/index.js';

/** The value, or a failed test when it is missing. */
function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) {
    throw new ConsensusError('CONSENSUS_SIMULATION', 'expected a value');
  }
  return value;
}

const suite = getSuite('intl');
const CHAIN = 'medchain-unit';
const N = 4;
const genesisHash = new Uint8Array(32).fill(7);
const validatorSetHash = new Uint8Array(32).fill(9);
const keys = Array.from({ length: N }, (_, i) =>
  suite.keyPairFromPrivateKey(new Uint8Array(32).fill(i + 1)),
);
const publicKeys = keys.map((k) => k.publicKey);

function config(selfIndex: number, overrides: Partial<ReplicaConfig> = {}): ReplicaConfig {
  return {
    chainId: CHAIN,
    validatorCount: N,
    selfIndex,
    genesisHash,
    ...DEFAULT_REPLICA_TIMING,
    ...overrides,
  };
}

interface Node {
  replica: Replica;
  app: SimApp;
  wal: WalRecord[];
}

function node(i: number, wal: WalRecord[] = [], app?: SimApp): Node {
  const a =
    app ??
    new SimApp({
      suite,
      chainId: CHAIN,
      maxBlockTxs: 100,
      maxBlockBytes: 1 << 20,
      validatorSetHash,
      timestampSaltMs: 0,
    });
  const replica = new Replica(
    config(i),
    {
      crypto: suiteConsensusCrypto(suite, CHAIN, must(keys[i]).privateKey, publicKeys),
      blockSource: a,
      chain: a,
      hashBlock: (b) => a.hashBlock(b),
    },
    { committedHeight: a.height, wal },
  );
  return { replica, app: a, wal: [...wal] };
}

function broadcasts(effects: readonly Effect[]): ConsensusMessage[] {
  return effects.flatMap((e) => (e.type === 'broadcast' ? [e.message] : []));
}

/** A primary with one transaction, ticked past the block interval: its pre-prepare. */
function propose(primary: Node, atMs = 100): { effects: Effect[]; pp: PrePrepareMessage } {
  primary.app.addTx(simTransaction(CHAIN, 1));
  const effects = primary.replica.onTick(atMs);
  const pp = broadcasts(effects).find((m) => m.kind === 'pre-prepare');
  if (pp?.kind !== 'pre-prepare') throw new ConsensusError('CONSENSUS_SIMULATION', 'no proposal');
  return { effects, pp };
}

/** Synchronous perfect network: deliver every broadcast and send until quiet; execute commits. */
function runToQuiet(nodes: Node[], first: { from: number; effects: Effect[] }): void {
  const queue: { from: number; effects: Effect[] }[] = [first];
  for (let guard = 0; queue.length > 0 && guard < 10_000; guard++) {
    const { from, effects } = must(queue.shift());
    for (const e of effects) {
      const self = must(nodes[from]);
      if (e.type === 'persist') self.wal.push(e.record);
      if (e.type === 'execute') {
        const root = self.app.execute({ block: e.block, certificate: e.certificate });
        queue.push({ from, effects: self.replica.onBlockExecuted(e.height, root) });
      }
      const targets =
        e.type === 'broadcast'
          ? nodes.map((_, i) => i).filter((i) => i !== from)
          : e.type === 'send'
            ? [e.to]
            : [];
      if (e.type === 'broadcast' || e.type === 'send') {
        for (const t of targets) {
          queue.push({ from: t, effects: must(nodes[t]).replica.onMessage(e.message) });
        }
      }
    }
  }
}

describe('replica: normal case', () => {
  it('commits a block whose certificate the ledger accepts', () => {
    const nodes = [0, 1, 2, 3].map((i) => node(i));
    for (const n of nodes) n.app.addTx(simTransaction(CHAIN, 1));
    runToQuiet(nodes, { from: 0, effects: must(nodes[0]).replica.onTick(100) });
    for (const n of nodes) {
      expect(n.replica.committedHeight).toBe(1);
      const entry = must(n.app.getCertifiedBlock(1));
      const verdict = validateCommitCertificate(
        { suite, chainId: CHAIN },
        entry.certificate,
        { hash: validatorSetHash, validators: publicKeys.map((publicKey) => ({ publicKey })) },
        { height: 1, blockHash: n.app.hashBlock(entry.block) },
      );
      expect(verdict).toEqual({ ok: true });
    }
  });

  it('persists everything it signs before sending it', () => {
    const nodes = [0, 1, 2, 3].map((i) => node(i));
    const { effects, pp } = propose(must(nodes[0]));
    const persistAt = effects.findIndex(
      (e) => e.type === 'persist' && e.record.type === 'signed' && e.record.message === pp,
    );
    const sendAt = effects.findIndex((e) => e.type === 'broadcast' && e.message === pp);
    expect(persistAt).toBeGreaterThanOrEqual(0);
    expect(persistAt).toBeLessThan(sendAt);

    // A backup: prepare persisted before it is broadcast.
    const fx = must(nodes[1]).replica.onMessage(pp);
    const prepare = broadcasts(fx).find((m) => m.kind === 'prepare');
    expect(prepare).toBeDefined();
    const p1 = fx.findIndex(
      (e) => e.type === 'persist' && e.record.type === 'signed' && e.record.message === prepare,
    );
    const s1 = fx.findIndex((e) => e.type === 'broadcast' && e.message === prepare);
    expect(p1).toBeGreaterThanOrEqual(0);
    expect(p1).toBeLessThan(s1);

    // Prepared: the certificate and the commit are persisted before the commit goes out.
    const fx2 = [2, 3].flatMap((j) => {
      const other = broadcasts(must(nodes[j]).replica.onMessage(pp)).find(
        (m) => m.kind === 'prepare',
      );
      return other ? must(nodes[1]).replica.onMessage(other) : [];
    });
    const commit = broadcasts(fx2).find((m) => m.kind === 'commit');
    expect(commit).toBeDefined();
    const kinds = fx2.map((e) =>
      e.type === 'persist'
        ? `persist:${e.record.type}`
        : e.type === 'broadcast'
          ? `send:${e.message.kind}`
          : e.type,
    );
    expect(kinds.indexOf('persist:prepared')).toBeLessThan(kinds.indexOf('send:commit'));
    const persistCommit = fx2.findIndex(
      (e) => e.type === 'persist' && e.record.type === 'signed' && e.record.message === commit,
    );
    expect(persistCommit).toBeLessThan(kinds.indexOf('send:commit'));
  });
});

describe('replica: defensive input', () => {
  const primary = node(0);
  const { pp } = propose(primary);

  it('drops and counts non-validators, bad signatures, wrong primaries, stale views, windows, garbage', () => {
    const r = node(1).replica;
    r.onMessage({ ...pp, from: 9 });
    expect(r.metrics.droppedNotValidator).toBe(1);

    const badSig = new Uint8Array(pp.signature);
    badSig[3] = (badSig[3] ?? 0) ^ 1;
    r.onMessage({ ...pp, signature: badSig });
    expect(r.metrics.droppedBadSignature).toBe(1);

    r.onMessage({ ...pp, from: 2 });
    expect(r.metrics.droppedWrongPrimary).toBe(1);

    r.onMessage({ ...pp, height: 1000 });
    expect(r.metrics.droppedOutOfWindow).toBe(1);

    r.onMessageBytes(new Uint8Array([0xa1, 0x61, 0x6b, 0x63, 0x62, 0x61, 0x64]));
    r.onMessageBytes(new Uint8Array([0xff, 0x00]));
    expect(r.metrics.droppedMalformed).toBe(2);

    // A prepare signed by validator 2 for view 0 after we moved to view 3 is stale.
    const digest = primary.app.hashBlock(pp.block);
    const sig = suite.sign(
      'medchain/consensus/v1',
      CHAIN,
      prepareVoteBytes(1, 0, digest),
      must(keys[2]).privateKey,
    );
    const later = node(1);
    // Move `later` to view 3 through its own timeouts (no other replica answers).
    later.app.addTx(simTransaction(CHAIN, 5));
    for (let t = 0; t <= 40_000; t += 100) later.replica.onTick(t);
    expect(later.replica.currentView).toBeGreaterThan(0);
    later.replica.onMessage({
      kind: 'prepare',
      from: 2,
      view: 0,
      height: 1,
      digest,
      signature: sig,
    });
    expect(later.replica.metrics.droppedStaleView).toBe(1);
    // Nothing above was accepted.
    expect(r.metrics.droppedDuplicate).toBe(0);
  });

  it('an equivocating primary triggers a view change', () => {
    const r = node(2).replica;
    r.onMessage(pp);
    const other = {
      ...pp.block,
      header: { ...pp.block.header, timestamp: pp.block.header.timestamp + 1 },
    };
    const digest = primary.app.hashBlock(other);
    const signature = suite.sign(
      'medchain/consensus/v1',
      CHAIN,
      prePrepareVoteBytes(1, 0, digest),
      must(keys[0]).privateKey,
    );
    const fx = r.onMessage({ ...pp, block: other, signature });
    expect(r.metrics.equivocations).toBe(1);
    expect(r.currentView).toBe(1);
    expect(broadcasts(fx).some((m) => m.kind === 'view-change')).toBe(true);
  });

  it('rejects a configuration whose window is not a multiple of the checkpoint interval', () => {
    const app = node(0).app;
    expect(
      () =>
        new Replica(
          config(0, { watermarkWindowHeights: 10, checkpointIntervalHeights: 4 }),
          {
            crypto: suiteConsensusCrypto(suite, CHAIN, must(keys[0]).privateKey, publicKeys),
            blockSource: app,
            chain: app,
            hashBlock: (b) => app.hashBlock(b),
          },
          { committedHeight: 0 },
        ),
    ).toThrow(ConsensusError);
  });
});

describe('replica: restart from the WAL', () => {
  it('never signs a second prepare for one (height, view), and repeats the first', () => {
    const primary = node(0);
    const { pp } = propose(primary);
    const backup = node(1);
    const fx = backup.replica.onMessage(pp);
    const wal = fx.flatMap((e) => (e.type === 'persist' ? [e.record] : []));
    const firstPrepare = broadcasts(fx).find((m) => m.kind === 'prepare');
    expect(firstPrepare?.kind).toBe('prepare');

    // Restart with the WAL; the (equivocating) primary now shows a different block for (1, 0).
    const restarted = node(1, wal);
    const other = {
      ...pp.block,
      header: { ...pp.block.header, timestamp: pp.block.header.timestamp + 5 },
    };
    const signature = suite.sign(
      'medchain/consensus/v1',
      CHAIN,
      prePrepareVoteBytes(1, 0, primary.app.hashBlock(other)),
      must(keys[0]).privateKey,
    );
    const fx2 = restarted.replica.onMessage({ ...pp, block: other, signature });
    expect(broadcasts(fx2).filter((m) => m.kind === 'prepare')).toEqual([]);
    expect(restarted.replica.metrics.doubleSignRefused).toBe(1);

    // The original proposal again: the same prepare, byte for byte, and no second WAL record.
    const again = node(1, wal);
    const fx3 = again.replica.onMessage(pp);
    const repeated = broadcasts(fx3).find((m) => m.kind === 'prepare');
    expect(repeated && encodeMessage(repeated)).toEqual(
      firstPrepare && encodeMessage(firstPrepare),
    );
    expect(fx3.some((e) => e.type === 'persist' && e.record.type === 'signed')).toBe(false);
  });

  it('resumes in the last view it entered, even with nothing signed there yet', () => {
    const r = node(2, [{ type: 'view', view: 5 }]);
    expect(r.replica.currentView).toBe(5);
    expect(r.replica.currentStatus).toBe('normal');
  });

  it('a restarted primary repeats its logged proposal instead of cutting a new block', () => {
    const primary = node(0);
    const { effects, pp } = propose(primary);
    const wal = effects.flatMap((e) => (e.type === 'persist' ? [e.record] : []));
    const app = primary.app;
    app.addTx(simTransaction(CHAIN, 2));
    const restarted = node(0, wal, app);
    const fx = restarted.replica.onTick(500);
    const pps = broadcasts(fx).filter((m) => m.kind === 'pre-prepare');
    expect(pps.length).toBeGreaterThanOrEqual(1);
    expect(encodeMessage(must(pps[0]))).toEqual(encodeMessage(pp));
    expect(restarted.replica.metrics.doubleSignRefused).toBe(0);
  });
});

describe('replica: view-change timers', () => {
  it('back off exponentially while view changes fail', () => {
    const r = node(1);
    r.app.addTx(simTransaction(CHAIN, 1));
    const base = DEFAULT_REPLICA_TIMING.viewChangeTimeoutMs;
    r.replica.onTick(0); // work pending: the view timer starts
    r.replica.onTick(base - 1);
    expect(r.replica.currentView).toBe(0);
    r.replica.onTick(base);
    expect(r.replica.currentView).toBe(1);
    // Alone in asking for view 1, it does not race further ahead.
    r.replica.onTick(base + 60_000);
    expect(r.replica.currentView).toBe(1);
    let now = base + 60_000;
    for (const [view, expectedTimeoutMs] of [
      [1, 2 * base],
      [2, 4 * base],
      [3, 8 * base],
    ] as const) {
      // Two more validators ask for this view too: a quorum, so the timer towards the next view runs.
      for (const from of [2, 3]) {
        const bytes = viewChangeVoteBytes(from, view, 0, genesisHash, [], []);
        const signature = suite.sign(
          'medchain/consensus/v1',
          CHAIN,
          bytes,
          must(keys[from]).privateKey,
        );
        r.replica.onMessage({
          kind: 'view-change',
          from,
          newView: view,
          checkpoint: null,
          committed: [],
          prepared: [],
          signature,
        });
      }
      r.replica.onTick(now + expectedTimeoutMs - 1);
      expect(r.replica.currentView).toBe(view);
      now += expectedTimeoutMs;
      r.replica.onTick(now);
      expect(r.replica.currentView).toBe(view + 1);
    }
  });
});

describe('replica: state transfer', () => {
  function certified(sigs: number[], corrupt = false) {
    const app = node(0).app;
    app.addTx(simTransaction(CHAIN, 1));
    const block = must(
      app.proposeBlock({
        height: 1,
        view: 0,
        proposer: 0,
        prevHash: genesisHash,
        nowMs: 1,
        inFlight: [],
      }),
    );
    const blockHash = app.hashBlock(block);
    const bytes = commitVoteBytes(CHAIN, 1, 0, blockHash);
    const signatures = sigs.map((validator) => {
      const signature = suite.sign(
        'medchain/consensus/v1',
        CHAIN,
        bytes,
        must(keys[validator]).privateKey,
      );
      if (corrupt && validator === sigs[0]) signature[0] = (signature[0] ?? 0) ^ 1;
      return { validator, signature };
    });
    return { block, certificate: { chainId: CHAIN, height: 1, view: 0, blockHash, signatures } };
  }

  it('applies blocks only with a valid quorum certificate, never on one peer’s word', () => {
    const r = node(3);
    const send = (entry: ReturnType<typeof certified>) =>
      r.replica.onMessage({ kind: 'sync-response', from: 0, entries: [entry], checkpoint: null });
    expect(send(certified([0, 1])).some((e) => e.type === 'execute')).toBe(false);
    expect(send(certified([0, 1, 2], true)).some((e) => e.type === 'execute')).toBe(false);
    expect(send(certified([2, 1, 0])).some((e) => e.type === 'execute')).toBe(false); // not canonical
    expect(r.replica.metrics.droppedBadSignature).toBe(3);
    const fx = send(certified([0, 1, 2]));
    expect(fx.flatMap((e) => (e.type === 'execute' ? [e.height] : []))).toEqual([1]);
    expect(r.replica.committedHeight).toBe(1);
    expect(r.replica.metrics.syncedHeights).toBe(1);
  });
});
