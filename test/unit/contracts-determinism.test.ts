import { describe, expect, it } from 'vitest';
import { encode, toHex } from '../../src/codec/index.js';
import {
  compareBytes,
  eventToCodec,
  executeBlock,
  genesisStateRoot,
  nextStateRoot,
} from '../../src/contracts/index.js';
import type { BlockExecution } from '../../src/contracts/index.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import { InvariantError } from '../../src/errors.js';
import {
  buildAccessLog,
  buildConsentGrant,
  buildConsentRevoke,
  buildMemberCertify,
  buildReferralAccept,
  buildReferralCreate,
  buildReferralReject,
  rewrapForGrantee,
} from '../../src/records/index.js';
import { getRecord } from '../../src/contracts/index.js';
import {
  Alliance,
  FAR,
  fixedKey,
  GM,
  INTL,
  makeGenesis,
  MemoryChain,
  Signer,
  must,
} from './contracts-fixtures.js';

/** A mixed workload: members, records, grants, a referral, accesses, failures, several txs per block. */
function workload(suite: CryptoSuite): Alliance {
  const a = new Alliance(suite);
  const drLi = a.member('dr-li', 30, 'centre', 'doctor');
  const patient = a.member('patient', 40, 'centre', 'patient');
  const drWang = a.member('dr-wang', 50, 'district', 'doctor');
  a.block(
    a.tx(drLi, a.recordBody(drLi, 'rec-1', { patientKey: patient.publicKey })),
    a.tx(drLi, a.recordBody(drLi, 'rec-2', { patientKey: patient.publicKey, level: 'L2' })),
    a.tx(drWang, buildAccessLog(suite, { recordId: 'rec-1', purpose: 'treatment', grantId: null })), // denied
  );
  const record = must(getRecord(a.chain, 'rec-1'));
  a.block(
    a.tx(
      patient,
      buildConsentGrant(suite, {
        grantId: 'g-1',
        grantee: { kind: 'institution', institution: 'district-b' },
        scope: { kind: 'records', records: ['rec-1'] },
        purpose: 'treatment',
        expiresAt: a.chain.height + 10,
        evidence: null,
        wraps: rewrapForGrantee(suite, [record], patient.key.privateKey, a.inst.district.publicKey),
      }),
    ),
    a.tx(drWang, buildAccessLog(suite, { recordId: 'rec-1', purpose: 'treatment', grantId: null })),
    a.tx(patient, buildConsentRevoke(suite, { grantId: 'g-1', reason: 'withdrawn' })),
    a.tx(drWang, buildAccessLog(suite, { recordId: 'rec-1', purpose: 'treatment', grantId: null })),
  );
  a.block(
    a.tx(
      drLi,
      buildReferralCreate(suite, {
        referralId: 'ref-1',
        to: 'district-b',
        patient: a.patient,
        recordIds: ['rec-1'],
        reason: 'specialist-consult',
        expiresAt: a.chain.height + 20,
        wraps: rewrapForGrantee(
          suite,
          [record],
          a.inst.centre.key.privateKey,
          a.inst.district.publicKey,
        ),
      }),
    ),
    a.tx(drWang, buildReferralAccept(suite, { referralId: 'ref-1' })),
    a.tx(drWang, buildReferralReject(suite, { referralId: 'ref-1', reason: 'no-capacity' })),
    a.tx(drWang, { type: 'gov.propose', payload: {} }),
  );
  return a;
}

function fingerprint(execution: BlockExecution): string {
  return toHex(
    encode({
      receipts: execution.receipts.map((r) => [r.txHash, r.height, r.index, r.code, r.reason]),
      stateChanges: execution.stateChanges.map((c) => [c.key, c.value]),
      indexEntries: execution.indexEntries.map((e) => [e.index, e.key, e.suffix, e.value ?? null]),
      indexRemovals: execution.indexRemovals.map((e) => [e.index, e.key, e.suffix]),
      events: execution.events.map(eventToCodec),
      stateRoot: execution.stateRoot,
    }),
  );
}

describe.each([INTL, GM])('determinism ($id suite)', (suite) => {
  it('two independent executions of the same blocks give identical receipts, changes, indexes, events and roots', () => {
    const original = workload(suite);
    const replay = new MemoryChain({ suite, genesis: makeGenesis(suite) });
    for (const block of original.chain.blocks) replay.execute(block.txs, block.header.timestamp);
    expect(replay.executions.map(fingerprint)).toEqual(original.chain.executions.map(fingerprint));
    expect(toHex(replay.stateRoot)).toBe(toHex(original.chain.stateRoot));
    expect([...replay.state.entries()].sort()).toEqual([...original.chain.state.entries()].sort());
    const codes = original.chain.receipts.map((r) => r.code);
    expect(codes).toContain('ACCESS_DENIED');
    expect(codes).toContain('NOT_ENABLED');
  });

  it('state changes are sorted by key bytes, one per key', () => {
    const a = workload(suite);
    for (const execution of a.chain.executions) {
      const keys = execution.stateChanges.map((c) => c.key);
      for (let i = 1; i < keys.length; i++)
        expect(compareBytes(must(keys[i - 1]), must(keys[i]))).toBeLessThan(0);
    }
  });

  it('the state root is the documented hash chain over the changes', () => {
    const a = workload(suite);
    let root = genesisStateRoot(a.chain.env);
    a.chain.executions.forEach((execution, i) => {
      root = nextStateRoot(suite, root, i + 1, execution.stateChanges);
      expect(toHex(execution.stateRoot)).toBe(toHex(root));
    });
  });
});

describe('state root', () => {
  it('depends on the genesis, the suite and every change', () => {
    const intl = genesisStateRoot({ suite: INTL, genesis: makeGenesis(INTL) });
    const gm = genesisStateRoot({ suite: GM, genesis: makeGenesis(GM) });
    const otherPolicy = genesisStateRoot({
      suite: INTL,
      genesis: makeGenesis(INTL, { blockIntervalMs: 500 }),
    });
    expect(new Set([toHex(intl), toHex(gm), toHex(otherPolicy)]).size).toBe(3);
    const change = { key: new TextEncoder().encode('record/x'), value: new Uint8Array([1]) };
    const a = nextStateRoot(INTL, intl, 1, [change]);
    expect(
      toHex(nextStateRoot(INTL, intl, 1, [{ ...change, value: new Uint8Array([2]) }])),
    ).not.toBe(toHex(a));
    expect(toHex(nextStateRoot(INTL, intl, 2, [change]))).not.toBe(toHex(a));
    expect(toHex(nextStateRoot(INTL, intl, 1, [{ ...change, value: null }]))).not.toBe(toHex(a));
    expect(toHex(nextStateRoot(INTL, intl, 1, []))).not.toBe(toHex(a));
  });

  it('an empty block still advances the root (it commits to the height)', () => {
    const a = new Alliance();
    const before = a.chain.stateRoot;
    a.block();
    expect(a.lastExecution().stateChanges).toEqual([]);
    expect(toHex(a.chain.stateRoot)).not.toBe(toHex(before));
  });
});

describe('execution rules', () => {
  it('a later transaction sees an earlier one of the same block: certify, then act', () => {
    const a = new Alliance();
    const key = fixedKey(a.suite, 30);
    const certify = a.tx(
      a.inst.centre,
      buildMemberCertify(a.suite, {
        memberId: 'dr-li',
        publicKey: key.publicKey,
        role: 'doctor',
        institution: 'centre-a',
        notBefore: 0,
        notAfter: FAR,
        patient: null,
      }),
    );
    const signer = new Signer('dr-li', key, 'centre-a');
    const register = a.tx(signer, a.recordBody(signer, 'rec-1'));
    expect(a.block(register).map((r) => r.code)).toEqual(['UNKNOWN_SIGNER']);
    const register2 = a.tx(signer, a.recordBody(signer, 'rec-1'));
    expect(a.block(certify, register2).map((r) => r.code)).toEqual(['OK', 'OK']);
  });

  it('a failed transaction leaves no trace in the block: later transactions do not see its writes', () => {
    const a = new Alliance();
    const drLi = a.member('dr-li', 30, 'centre', 'doctor');
    const good = a.recordBody(drLi, 'rec-1');
    // same record id, but one wrap too many for a stranger: fails after the record would have been written
    const bad = a.recordBody(drLi, 'rec-1', {
      recipients: [a.inst.centre.publicKey, fixedKey(a.suite, 97).publicKey],
    });
    const receipts = a.block(a.tx(drLi, bad), a.tx(drLi, good));
    expect(receipts.map((r) => r.code)).toEqual(['WRAP_INVALID', 'OK']);
  });

  it('gov.propose and gov.vote are not enabled', () => {
    const a = new Alliance();
    expect(
      a.fails(a.inst.centre, { type: 'gov.propose', payload: { anything: 1 } }, 'NOT_ENABLED'),
    ).toMatch(/not enabled/);
    a.fails(a.inst.centre, { type: 'gov.vote', payload: {} }, 'NOT_ENABLED');
  });

  it('a mismatch between transactions and hashes is a bug, not a receipt', () => {
    const a = new Alliance();
    const tx = a.tx(a.inst.centre, { type: 'gov.vote', payload: {} });
    expect(() =>
      executeBlock(a.chain.env, a.chain, {
        block: {
          header: {
            chainId: 'contracts-test',
            height: 1,
            prevHash: new Uint8Array(32),
            txRoot: new Uint8Array(32),
            stateRoot: a.chain.stateRoot,
            proposer: 0,
            view: 0,
            timestamp: 0,
            validatorSetHash: new Uint8Array(32),
          },
          txs: [tx],
        },
        txHashes: [],
        prevStateRoot: a.chain.stateRoot,
      }),
    ).toThrow(InvariantError);
  });
});
