/**
 * A synthetic alliance for the contract tests: four institutions with fixed
 * keys, a tiny in-memory chain that executes blocks with src/contracts and
 * applies their state changes and index entries the way the node does, and
 * helpers that build signed transactions through src/records.
 */
import { expect } from 'vitest';
import { encode, toHex } from '../../src/codec/index.js';
import {
  eventToCodec,
  executeBlock,
  genesisStateRoot,
  nextNonce,
} from '../../src/contracts/index.js';
import type {
  BlockExecution,
  ContractEnv,
  ContractIndexEntry,
  StateReader,
} from '../../src/contracts/index.js';
import { getSuite } from '../../src/crypto/index.js';
import type { CryptoSuite, KeyPair } from '../../src/crypto/suite.js';
import { createGenesis } from '../../src/identity/index.js';
import type { CreateGenesisParams, Genesis, MemberRole } from '../../src/identity/index.js';
import { hashTransaction, merkleRoot, signTransaction } from '../../src/ledger/index.js';
import type { Block, Receipt, Transaction } from '../../src/ledger/index.js';
import {
  buildMemberCertify,
  buildRecordRegister,
  patientMemberId,
  patientPseudonym,
  sealRecordPointer,
  unsignedTransaction,
} from '../../src/records/index.js';
import type { TxBody } from '../../src/records/index.js';
import type { DataLevel } from '../../src/identity/index.js';

export const CHAIN_ID = 'contracts-test';
export const GENESIS_TIME = 1_767_225_600_000; // 2026-01-01T00:00:00Z
export const BLOCK_INTERVAL_MS = 1000;
export const FAR = 1_000_000;

export const INTL = getSuite('intl');
export const GM = getSuite('gm');

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function peerIdFor(i: number): string {
  let tail = '';
  for (let k = 0; k < 44; k++) tail += BASE58.charAt((i * 7 + k * 13) % 58);
  return `12D3KooW${tail}`;
}

export function fixedKey(suite: CryptoSuite, seed: number): KeyPair {
  return suite.keyPairFromPrivateKey(new Uint8Array(32).fill(seed));
}

export const INSTITUTIONS = {
  centre: { id: 'centre-a', role: 'health-centre', seed: 11 },
  district: { id: 'district-b', role: 'hospital', seed: 12 },
  city: { id: 'city-c', role: 'hospital', seed: 13 },
  regulator: { id: 'regulator', role: 'regulator', seed: 14 },
} as const;
export type InstitutionName = keyof typeof INSTITUTIONS;

/** Synthetic institution secrets for pseudonyms (never on chain). */
export const CENTRE_SECRET = new Uint8Array(32).fill(0x5c);

export function makeGenesis(suite: CryptoSuite, policy?: CreateGenesisParams['policy']): Genesis {
  return createGenesis({
    chainId: CHAIN_ID,
    suite: suite.id,
    genesisTime: GENESIS_TIME,
    institutions: Object.values(INSTITUTIONS).map((inst, i) => ({
      id: inst.id,
      name: `${inst.id} (synthetic)`,
      role: inst.role,
      signingKey: fixedKey(suite, inst.seed).publicKey,
      peerId: peerIdFor(i + 1),
    })),
    ...(policy === undefined ? {} : { policy }),
  });
}

/** World state and indexes in memory, updated exactly as the node's atomic batch would. */
export class MemoryChain implements StateReader {
  readonly state = new Map<string, Uint8Array>();
  readonly index = new Map<string, ContractIndexEntry>();
  readonly receipts: Receipt[] = [];
  readonly executions: BlockExecution[] = [];
  /** Every block executed, for replays. */
  readonly blocks: Block[] = [];
  height = 0;
  stateRoot: Uint8Array;
  timestamp = GENESIS_TIME;

  constructor(readonly env: ContractEnv) {
    this.stateRoot = genesisStateRoot(env);
  }

  get suite(): CryptoSuite {
    return this.env.suite;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.state.get(toHex(key));
  }

  /** Executes one block of `txs` and applies it. */
  execute(txs: readonly Transaction[], timestampMs?: number): BlockExecution {
    const height = this.height + 1;
    const timestamp = timestampMs ?? this.timestamp + BLOCK_INTERVAL_MS;
    const hashed = txs.map((tx) => hashTransaction(this.suite, tx));
    const txHashes = hashed.map((h) => h.hash);
    const block: Block = {
      header: {
        chainId: CHAIN_ID,
        height,
        prevHash: new Uint8Array(32),
        txRoot: merkleRoot(this.suite, txHashes),
        stateRoot: this.stateRoot,
        proposer: 0,
        view: 0,
        timestamp,
        validatorSetHash: new Uint8Array(32),
      },
      txs,
    };
    const result = executeBlock(this.env, this, { block, txHashes, prevStateRoot: this.stateRoot });
    for (const change of result.stateChanges) {
      if (change.value === null) this.state.delete(toHex(change.key));
      else this.state.set(toHex(change.key), change.value);
    }
    for (const ref of result.indexRemovals) this.index.delete(indexId(ref));
    for (const entry of result.indexEntries) this.index.set(indexId(entry), entry);
    this.receipts.push(...result.receipts);
    this.executions.push(result);
    this.blocks.push(block);
    this.height = height;
    this.timestamp = timestamp;
    this.stateRoot = result.stateRoot;
    return result;
  }

  /** Index entries of `index` under `key`, ordered by suffix (what a storage scan returns). */
  scan(index: string, key: Uint8Array | string): ContractIndexEntry[] {
    const keyHex = toHex(typeof key === 'string' ? new TextEncoder().encode(key) : key);
    return [...this.index.values()]
      .filter((e) => e.index === index && toHex(e.key) === keyHex)
      .sort((a, b) => (toHex(a.suffix) < toHex(b.suffix) ? -1 : 1));
  }
}

export function indexId(ref: { index: string; key: Uint8Array; suffix: Uint8Array }): string {
  return `${ref.index}|${toHex(ref.key)}|${toHex(ref.suffix)}`;
}

/** A party that signs transactions, with its own nonce counter. */
export class Signer {
  constructor(
    readonly name: string,
    readonly key: KeyPair,
    readonly institution: string,
  ) {}

  get publicKey(): Uint8Array {
    return this.key.publicKey;
  }
}

/** An alliance with certified members, ready for the contract tests. */
export class Alliance {
  readonly suite: CryptoSuite;
  readonly genesis: Genesis;
  readonly chain: MemoryChain;
  readonly inst: Record<InstitutionName, Signer>;
  /** The pseudonym of the synthetic patient at the centre. */
  readonly patient: Uint8Array;
  private readonly nonces = new Map<string, number>();

  constructor(suite: CryptoSuite = INTL, policy?: CreateGenesisParams['policy']) {
    this.suite = suite;
    this.genesis = makeGenesis(suite, policy);
    this.chain = new MemoryChain({ suite, genesis: this.genesis });
    this.inst = {
      centre: new Signer(
        'centre',
        fixedKey(suite, INSTITUTIONS.centre.seed),
        INSTITUTIONS.centre.id,
      ),
      district: new Signer(
        'district',
        fixedKey(suite, INSTITUTIONS.district.seed),
        INSTITUTIONS.district.id,
      ),
      city: new Signer('city', fixedKey(suite, INSTITUTIONS.city.seed), INSTITUTIONS.city.id),
      regulator: new Signer(
        'regulator',
        fixedKey(suite, INSTITUTIONS.regulator.seed),
        INSTITUTIONS.regulator.id,
      ),
    };
    this.patient = patientPseudonym(suite, CENTRE_SECRET, 'synthetic-patient-0001');
  }

  /** A signed transaction with the signer's next nonce. */
  tx(
    signer: Signer,
    body: TxBody,
    overrides: { nonce?: number; validUntilHeight?: number } = {},
  ): Transaction {
    const hex = toHex(signer.publicKey);
    const nonce =
      overrides.nonce ?? this.nonces.get(hex) ?? nextNonce(this.chain, signer.publicKey);
    this.nonces.set(hex, Math.max(nonce + 1, this.nonces.get(hex) ?? 0));
    return signTransaction(
      this.suite,
      unsignedTransaction({
        chainId: CHAIN_ID,
        body,
        signer: signer.publicKey,
        nonce,
        validUntilHeight: overrides.validUntilHeight ?? FAR,
      }),
      signer.key.privateKey,
    );
  }

  /** Runs `txs` in one block and returns their receipts. */
  block(...txs: Transaction[]): Receipt[] {
    return this.chain.execute(txs).receipts;
  }

  /** Runs one transaction in its own block; returns its receipt. */
  run(signer: Signer, body: TxBody): Receipt {
    const [receipt] = this.block(this.tx(signer, body));
    if (receipt === undefined) throw new TypeError('no receipt');
    return receipt;
  }

  /** Runs one transaction and expects OK. */
  ok(signer: Signer, body: TxBody): Receipt {
    const receipt = this.run(signer, body);
    expect(receipt, `${body.type} by ${signer.name}`).toMatchObject({ code: 'OK' });
    return receipt;
  }

  /** Runs one transaction and expects `code`; returns the reason. */
  fails(signer: Signer, body: TxBody, code: string): string {
    const receipt = this.run(signer, body);
    expect(receipt.code, `${body.type} by ${signer.name}: ${receipt.reason}`).toBe(code);
    return receipt.reason;
  }

  /** Certifies a member key (seed) of an institution, signed by the institution key. */
  member(
    name: string,
    seed: number,
    at: InstitutionName,
    role: MemberRole,
    options: {
      notBefore?: number;
      notAfter?: number;
      patient?: Uint8Array;
      memberId?: string;
    } = {},
  ): Signer {
    const key = fixedKey(this.suite, seed);
    const institution = this.inst[at];
    const patient = options.patient ?? (role === 'patient' ? this.patient : null);
    this.ok(
      institution,
      buildMemberCertify(this.suite, {
        memberId: options.memberId ?? (patient !== null ? patientMemberId(patient) : name),
        publicKey: key.publicKey,
        role,
        institution: institution.institution,
        notBefore: options.notBefore ?? 0,
        notAfter: options.notAfter ?? FAR,
        patient,
      }),
    );
    return new Signer(name, key, institution.institution);
  }

  /** A record.register body whose data key is wrapped for `recipients` (default: the owner and, if given, the patient). */
  recordBody(
    owner: Signer,
    recordId: string,
    options: {
      level?: DataLevel;
      recordType?: string;
      patient?: Uint8Array;
      recipients?: Uint8Array[];
      locator?: string;
      metadata?: Record<string, string>;
      patientKey?: Uint8Array;
    } = {},
  ): TxBody {
    const recipients = options.recipients ?? [
      this.institutionKey(owner.institution),
      ...(options.patientKey === undefined ? [] : [options.patientKey]),
    ];
    const sealed = sealRecordPointer(this.suite, {
      chainId: CHAIN_ID,
      recordId,
      locator: options.locator ?? `vault:${recordId}`,
      metadata: options.metadata ?? { title: 'synthetic' },
      recipients,
    });
    return buildRecordRegister(this.suite, {
      recordId,
      patient: options.patient ?? this.patient,
      recordType: options.recordType ?? 'checkup-report',
      level: options.level ?? 'L3',
      contentHash: this.suite.hash(new TextEncoder().encode(`content of ${recordId}`)),
      sealedLocator: sealed.sealedLocator,
      sealedMetadata: sealed.sealedMetadata,
      wraps: sealed.wraps,
      storage: 'vault',
    });
  }

  /** The genesis signing key of an institution id. */
  institutionKey(id: string): Uint8Array {
    const found = Object.values(this.inst).find((signer) => signer.institution === id);
    if (found === undefined) throw new TypeError(`no institution ${id}`);
    return found.publicKey;
  }

  lastExecution(): BlockExecution {
    const last = this.chain.executions.at(-1);
    if (last === undefined) throw new TypeError('no block executed');
    return last;
  }
}

/** Every byte string a block execution exposes: state keys and values, index entries, events, receipts. */
export function exposedBytes(chain: MemoryChain): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const execution of chain.executions) {
    for (const change of execution.stateChanges) {
      out.push(change.key);
      if (change.value !== null) out.push(change.value);
    }
    for (const entry of execution.indexEntries) {
      out.push(
        new TextEncoder().encode(entry.index),
        entry.key,
        entry.suffix,
        encode(entry.value ?? null),
      );
    }
    for (const ref of execution.indexRemovals) out.push(ref.key, ref.suffix);
    for (const event of execution.events) out.push(encode(eventToCodec(event)));
    for (const receipt of execution.receipts)
      out.push(new TextEncoder().encode(`${receipt.code} ${receipt.reason}`));
  }
  return out;
}

export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The value, which the test expects to be there. */
export function must<T>(value: T | undefined | null, what = 'value'): T {
  if (value === undefined || value === null) throw new TypeError(`expected a ${what}`);
  return value;
}
