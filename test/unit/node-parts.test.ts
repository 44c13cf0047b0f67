/**
 * The node's consensus-facing parts on a real in-memory chain store with the
 * real contracts: the block source's ancestry walk (no transaction proposed
 * twice while commits are in flight), the executor's state-root check (void
 * blocks), and the consensus driver's persist-before-send ordering.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Replica } from '../../consensus/replica.js';
import type {
  ConsensusMessage,
  Effect,
  PrePrepareMessage,
  WalRecord,
} from '../../consensus/types.js';
import {
  encodeCompactPrePrepare,
  encodeMessage,
  walRecordFromCodec,
} from '../../consensus/wire.js';
import type { CompactPrePrepare } from '../../consensus/wire.js';
import { ChainStore } from '../../storage/chain-store.js';
import { MemoryKvStore } from '../../storage/memory-kv.js';
import type { WalRepository } from '../../storage/wal.js';
import { bytesEqual, decode, toHex } from '../../src/codec/index.js';
import type { Encoded } from '../../src/codec/index.js';
import { genesisHash } from '../../src/identity/genesis.js';
import { validatorSet } from '../../src/identity/validators.js';
import { blockHash, hashTransaction } from '../../src/ledger/hashing.js';
import { merkleRoot } from '../../src/ledger/merkle.js';
import type { HashedTransaction } from '../../src/ledger/hashing.js';
import { buildCommitCertificate, signCommitVote, signTransaction } from '../../src/ledger/sign.js';
import { stateRootHeightFor } from '../../src/ledger/state-root.js';
import type { Block, CommitCertificate } from '../../src/ledger/types.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_MEMPOOL_OPTIONS, Mempool } from '../../src/mempool/mempool.js';
import { buildMemberCertify, unsignedTransaction } from '../../src/records/builders.js';
import { NodeBlockSource } from '../../src/node/block-source.js';
import { ChainView } from '../../src/node/chain-view.js';
import { ConsensusDriver } from '../../src/node/consensus-driver.js';
import {
  decodeTxsRequest,
  encodeSyncRequest,
  encodeTxsRequest,
  WireError,
} from '../../src/node/wire.js';
import { createContractEngine } from '../../src/node/contract-engine.js';
import { Executor, STATE_ROOT_MISMATCH } from '../../src/node/executor.js';
import type { CommittedBlock } from '../../src/node/executor.js';
import { fixedKey, INSTITUTIONS, INTL, makeGenesis } from './contracts-fixtures.js';

const suite = INTL;
const genesis = makeGenesis(suite);
const vset = validatorSet(suite, genesis);
const rules = {
  suite,
  chainId: genesis.chainId,
  limits: { maxTxBytes: 65_536, maxBlockBytes: 1 << 20, maxBlockTxs: 3 },
};
const centre = fixedKey(suite, INSTITUTIONS.centre.seed);
const validatorKeys = Object.values(INSTITUTIONS)
  .slice(0, 3)
  .map((i) => fixedKey(suite, i.seed));

let nonce = 0;
function certifyTx(n: number): HashedTransaction {
  const body = buildMemberCertify(suite, {
    memberId: `doctor-${n}`,
    publicKey: fixedKey(suite, 100 + n).publicKey,
    role: 'doctor',
    institution: INSTITUTIONS.centre.id,
    notBefore: 0,
    notAfter: 1_000_000,
    patient: null,
  });
  return hashTransaction(
    suite,
    signTransaction(
      suite,
      unsignedTransaction({
        chainId: genesis.chainId,
        body,
        signer: centre.publicKey,
        nonce: ++nonce,
        validUntilHeight: 1000,
      }),
      centre.privateKey,
    ),
  );
}

function certify(block: Block): CommitCertificate {
  const vote = {
    chainId: genesis.chainId,
    height: block.header.height,
    view: 0,
    blockHash: blockHash(suite, block.header),
  };
  return buildCommitCertificate(
    vote,
    validatorKeys.map((k, validator) => ({
      validator,
      signature: signCommitVote(suite, vote, k.privateKey),
    })),
  );
}

let store: ChainStore;
let chain: ChainView;
let mempool: Mempool;
let source: NodeBlockSource;
const engine = createContractEngine({ suite, genesis });
const gHash = genesisHash(suite, genesis);

beforeEach(async () => {
  store = await ChainStore.open(new MemoryKvStore(), {
    chain: { chainId: genesis.chainId, genesisHash: gHash },
  });
  chain = new ChainView(
    store,
    { height: 0, hash: gHash, timestamp: genesis.genesisTime },
    engine.genesisStateRoot(),
  );
  mempool = new Mempool(rules, DEFAULT_MEMPOOL_OPTIONS, (h) => chain.isCommitted(h));
  source = new NodeBlockSource({
    rules,
    validators: vset,
    mempool,
    chain,
    logger: silentLogger(),
    now: () => genesis.genesisTime + 10_000,
    maxClockDriftMs: 30_000,
  });
});
afterEach(async () => {
  await store.close();
});

function propose(height: number, prevHash: Uint8Array): Block | null {
  return source.proposeBlock({
    height,
    view: 0,
    proposer: 0,
    prevHash,
    nowMs: genesis.genesisTime + 1000 * height,
    inFlight: [],
  });
}

describe('node block source', () => {
  it('never proposes a transaction of an ancestor the chain view has not caught up with', () => {
    const txs = [1, 2, 3, 4, 5].map(certifyTx);
    for (const t of txs) mempool.add(t, 0);
    const b1 = propose(1, gHash);
    expect(b1?.txs).toHaveLength(3);
    // The replica committed b1 and proposes b2 in the same step: the chain view
    // still says height 0 and the replica's inFlight list is empty.
    const b2 = propose(2, blockHash(suite, (b1 as Block).header));
    expect(b2?.txs.map((t) => hashTransaction(suite, t).hash)).toEqual([
      txs[3]?.hash,
      txs[4]?.hash,
    ]);
    // Nothing left once both are ancestors.
    expect(propose(3, blockHash(suite, (b2 as Block).header))).toBeNull();
  });

  it('refuses a proposal repeating an ancestor transaction, accepts a fresh one', () => {
    const [a, b] = [certifyTx(10), certifyTx(11)];
    mempool.add(a, 0);
    const b1 = propose(1, gHash) as Block;
    const h1 = blockHash(suite, b1.header);
    const header = { ...b1.header, height: 2, prevHash: h1, timestamp: b1.header.timestamp + 1 };
    const txRoot = (txs: Block['txs']): Uint8Array =>
      merkleRoot(
        suite,
        txs.map((t) => hashTransaction(suite, t).hash),
      );
    const repeat: Block = { header: { ...header, txRoot: txRoot(b1.txs) }, txs: b1.txs };
    expect(source.validateProposal(repeat, [])).toBe(false);
    const fresh: Block = {
      header: { ...header, txRoot: txRoot([b.tx]) },
      txs: [b.tx],
    };
    expect(source.validateProposal(fresh, [])).toBe(true);
    expect(source.rejectedProposals).toBe(1);
  });

  it('waits for the state root the header must name', () => {
    mempool.add(certifyTx(20), 0);
    // Height 18 names the state after height 1, which is not executed here.
    expect(stateRootHeightFor(18)).toBe(1);
    expect(
      source.proposeBlock({
        height: 18,
        view: 0,
        proposer: 0,
        prevHash: gHash,
        nowMs: 0,
        inFlight: [],
      }),
    ).toBeNull();
  });
});

describe('node executor', () => {
  async function run(blocks: Block[]): Promise<CommittedBlock[]> {
    const stored: CommittedBlock[] = [];
    const failures: unknown[] = [];
    const executor = new Executor({
      store,
      chain,
      engine,
      suite,
      logger: silentLogger(),
      now: () => genesis.genesisTime,
      onStored: (c) => stored.push(c),
      onFatal: (err) => failures.push(err),
    });
    for (const block of blocks) {
      const hashed = block.txs.map((t) => hashTransaction(suite, t));
      const entry = { block, certificate: certify(block) };
      chain.noteCommitted(
        entry,
        blockHash(suite, block.header),
        hashed.map((h) => h.hash),
      );
      executor.enqueue(entry, blockHash(suite, block.header), hashed);
    }
    await executor.idle();
    expect(failures).toEqual([]);
    return stored;
  }

  it('keeps a committed block’s transactions findable by hash until it is stored', () => {
    mempool.add(certifyTx(32), 0);
    const b1 = propose(1, gHash) as Block;
    const [htx] = b1.txs.map((t) => hashTransaction(suite, t));
    if (!htx) expect.fail('no transaction');
    chain.noteCommitted({ block: b1, certificate: certify(b1) }, blockHash(suite, b1.header), [
      htx.hash,
    ]);
    expect(chain.unstoredTx(toHex(htx.hash))).toBe(b1.txs[0]);
    expect(chain.unstoredTx('00'.repeat(32))).toBeUndefined();
    chain.noteStored(1, engine.genesisStateRoot());
    expect(chain.unstoredTx(toHex(htx.hash))).toBeUndefined();
  });

  it('executes and stores blocks in order, each with its receipts and state root', async () => {
    mempool.add(certifyTx(30), 0);
    const b1 = propose(1, gHash) as Block;
    const [c1] = await run([b1]);
    expect(c1?.receipts.map((r) => r.code)).toEqual(['OK']);
    expect(store.latestHeight()).toBe(1);
    expect(
      bytesEqual(chain.stateRootAt(1) ?? new Uint8Array(), c1?.stateRoot ?? new Uint8Array(1)),
    ).toBe(true);
    expect(bytesEqual(c1?.stateRoot ?? new Uint8Array(), engine.genesisStateRoot())).toBe(false);
  });

  it('voids a certified block that names a wrong state root: failed receipts, no state change', async () => {
    mempool.add(certifyTx(31), 0);
    const good = propose(1, gHash) as Block;
    const bad: Block = {
      ...good,
      header: { ...good.header, stateRoot: new Uint8Array(32).fill(9) },
    };
    const [c] = await run([bad]);
    expect(c?.receipts.map((r) => r.code)).toEqual([STATE_ROOT_MISMATCH]);
    expect(c?.events).toEqual([]);
    let keys = 0;
    for await (const _ of store.state.scan(new Uint8Array())) keys++;
    expect(keys).toBe(0);
  });
});

describe('sync protocol: transactions by hash', () => {
  const hashes = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];

  it('round-trips a request, and tells a block-range request apart', () => {
    expect(decodeTxsRequest(encodeTxsRequest(hashes), 10, 64)).toEqual(hashes);
    expect(decodeTxsRequest(encodeSyncRequest({ fromHeight: 1, toHeight: 5 }), 10, 64)).toBeNull();
  });

  it('refuses too many hashes, oversize or empty hashes, extra fields and garbage', () => {
    expect(() => decodeTxsRequest(encodeTxsRequest(hashes), 1, 64)).toThrow(WireError);
    expect(() => decodeTxsRequest(encodeTxsRequest([new Uint8Array(65)]), 10, 64)).toThrow(
      WireError,
    );
    expect(() => decodeTxsRequest(encodeTxsRequest([new Uint8Array(0)]), 10, 64)).toThrow(
      WireError,
    );
    expect(() => decodeTxsRequest(new Uint8Array([0xff]), 10, 64)).toThrow(WireError);
  });
});

describe('consensus driver', () => {
  it('makes every persisted record durable before any send, in one batch per round, and mirrors truncations', async () => {
    const order: string[] = [];
    const appended: WalRecord[][] = [];
    const removed: number[] = [];
    const wal = {
      appendMany: (entries: { height: number; entry: Encoded }[]) => {
        order.push(`append ${entries.length}`);
        appended.push(entries.map((e) => walRecordFromCodec(decode(e.entry.bytes))));
        return Promise.resolve(entries.map((_, i) => 100 + i));
      },
      remove: (entries: { sequence: number }[]) => {
        removed.push(...entries.map((e) => e.sequence));
        return Promise.resolve();
      },
    } as unknown as WalRepository;
    const view = (v: number): WalRecord => ({ type: 'view', view: v });
    const msg = (height: number) =>
      ({
        kind: 'commit',
        from: 0,
        view: 0,
        height,
        digest: new Uint8Array(32),
        signature: new Uint8Array(64),
      }) as const;
    const script: Effect[][] = [
      [],
      [
        { type: 'persist', record: view(1) },
        { type: 'send', to: 1, message: msg(1) },
        { type: 'persist', record: view(2) },
        { type: 'wal-truncate', throughHeight: 0, belowView: 2 },
        { type: 'broadcast', message: msg(2) },
      ],
    ];
    let step = 0;
    const replica = {
      start: () => script[step++] ?? [],
      onMessage: () => script[step++] ?? [],
      onTick: () => [],
      onBlockExecuted: () => [],
    } as unknown as Replica;
    let broadcastSeen!: () => void;
    const broadcasted = new Promise<void>((resolve) => {
      broadcastSeen = resolve;
    });
    const driver = new ConsensusDriver({
      replica,
      wal,
      walEntries: [{ record: view(0), height: 0, sequence: 7 }],
      logger: silentLogger(),
      now: () => 0,
      send: (to) => order.push(`send ${to}`),
      broadcast: () => {
        order.push('broadcast');
        broadcastSeen();
      },
      execute: () => undefined,
      onViewChanged: () => undefined,
      onFatal: (err) => {
        throw err;
      },
      tickIntervalMs: 60_000,
    });
    driver.start();
    driver.onMessage(encodeMessage(msg(5)));
    await broadcasted; // the round's last effect: it resolves once the round is performed
    await driver.stop();
    // view(1) was truncated before it was ever written: only view(2) is appended, once, before both sends.
    expect(order).toEqual(['append 1', 'send 1', 'broadcast']);
    expect(appended).toEqual([[{ type: 'view', view: 2 }]]);
    expect(removed).toEqual([7]);
    expect(driver.walSize).toBe(1);
  });

  it('decodes what arrives, routes compact pre-prepares out and back in, and sends pre-prepares in its own encoding', async () => {
    const block: Block = {
      header: {
        chainId: 'medchain-unit',
        height: 1,
        prevHash: new Uint8Array(32),
        txRoot: new Uint8Array(32),
        stateRoot: new Uint8Array(32),
        proposer: 0,
        view: 0,
        timestamp: 1,
        validatorSetHash: new Uint8Array(32),
      },
      txs: [],
    };
    const prePrepare: PrePrepareMessage = {
      kind: 'pre-prepare',
      from: 0,
      view: 0,
      height: 1,
      block,
      signature: new Uint8Array(64),
    };
    const seen: ConsensusMessage[] = [];
    let malformed = 0;
    let afterMessage: () => void = () => undefined;
    const replica = {
      start: () => [],
      onMessage: (m: ConsensusMessage) => {
        seen.push(m);
        afterMessage();
        return m.kind === 'prepare' ? [{ type: 'broadcast', message: prePrepare }] : [];
      },
      noteMalformed: () => {
        malformed++;
      },
      onTick: () => [],
      onBlockExecuted: () => [],
    } as unknown as Replica;
    const sent: Uint8Array[] = [];
    const compacts: CompactPrePrepare[] = [];
    const driver = new ConsensusDriver({
      replica,
      wal: { appendMany: () => Promise.resolve([]), remove: () => Promise.resolve() } as never,
      walEntries: [],
      logger: silentLogger(),
      now: () => 0,
      send: () => undefined,
      broadcast: (bytes) => sent.push(bytes),
      execute: () => undefined,
      onViewChanged: () => undefined,
      onFatal: (err) => {
        throw err;
      },
      tickIntervalMs: 60_000,
      encodePrePrepare: () => new Uint8Array([0xf6]), // marks our encoding
      onCompactPrePrepare: (c) => compacts.push(c),
    });
    driver.start();
    const handled = (n: number): Promise<void> =>
      new Promise((resolve) => {
        afterMessage = () => {
          if (seen.length >= n) resolve();
        };
      });
    // Not CBOR: counted as malformed by the replica, nothing else happens.
    driver.onMessage(new Uint8Array([0xff, 0x00]));
    // A compact pre-prepare goes out to be assembled, not to the replica.
    driver.onMessage(encodeCompactPrePrepare(prePrepare, []));
    expect(compacts).toHaveLength(1);
    expect(compacts[0]?.height).toBe(1);
    // The assembled one comes back in; a prepare makes the replica broadcast the pre-prepare.
    const twoHandled = handled(2);
    driver.onPrePrepare(prePrepare);
    driver.onMessage(
      encodeMessage({
        kind: 'prepare',
        from: 1,
        view: 0,
        height: 1,
        digest: new Uint8Array(32),
        signature: new Uint8Array(64),
      }),
    );
    await twoHandled;
    await driver.stop();
    expect(seen.map((m) => m.kind)).toEqual(['pre-prepare', 'prepare']);
    expect(seen[0]).toBe(prePrepare);
    expect(malformed).toBe(1);
    expect(sent).toEqual([new Uint8Array([0xf6])]);
  });
});
