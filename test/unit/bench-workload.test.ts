/**
 * The workloads' transactions are real: decoded, signature-checked and
 * executed by the contracts on an in-memory alliance, they get the receipt
 * code each workload promises; nonces increase per signer and signers
 * alternate.
 */
import { describe, expect, it } from 'vitest';
import {
  expectedReceiptCode,
  signerRoleOf,
  WORKLOADS,
  WorkloadBuilder,
} from '../../src/bench/workload.js';
import type { Workload, WorkloadSigner } from '../../src/bench/workload.js';
import { toHex } from '../../src/codec/index.js';
import { decodeTransaction } from '../../src/ledger/encoding.js';
import { hashTransaction, verifyTransactionSignature } from '../../src/ledger/hashing.js';
import { Alliance, CHAIN_ID, FAR, GM, INTL, INSTITUTIONS } from './contracts-fixtures.js';

function signersFor(a: Alliance, workload: Workload, n: number): WorkloadSigner[] {
  const role = signerRoleOf(workload);
  return Array.from({ length: n }, (_, k) => {
    const member = role === null ? null : a.member(`bench-${k}`, 100 + k, 'centre', role);
    const key = member?.key ?? a.suite.keyPairFromPrivateKey(new Uint8Array(32).fill(200 + k));
    return {
      privateKey: key.privateKey,
      publicKey: key.publicKey,
      institution: INSTITUTIONS.centre.id,
      institutionKey: a.inst.centre.publicKey,
      target: k % 2,
      firstNonce: 1,
    };
  });
}

describe.each([
  ['intl', INTL, 12],
  ['gm', GM, 4],
] as const)('workloads (%s)', (_name, suite, count) => {
  it.each(WORKLOADS)('%s transactions execute with the expected receipt', (workload) => {
    const a = new Alliance(suite);
    const signers = signersFor(a, workload, 3);
    const builder = new WorkloadBuilder(
      { suite, chainId: CHAIN_ID, workload, payloadBytes: 300, certificateNotAfter: FAR },
      signers,
    );
    const prepared = builder.prepare(count, FAR);
    expect(prepared).toHaveLength(count);
    const txs = prepared.map((p) => {
      const tx = decodeTransaction(p.bytes);
      expect(verifyTransactionSignature(suite, tx)).toBe(true);
      expect(toHex(hashTransaction(suite, tx).hash)).toBe(toHex(p.hash));
      return tx;
    });
    // round-robin over signers, nonces 1, 2, … per signer
    expect(prepared.map((p) => p.signer)).toEqual(Array.from({ length: count }, (_, i) => i % 3));
    expect(txs.map((t) => t.nonce)).toEqual(
      Array.from({ length: count }, (_, i) => Math.floor(i / 3) + 1),
    );
    expect(builder.nonces).toEqual([0, 1, 2].map((s) => Math.floor((count - 1 - s) / 3) + 2));
    const receipts = a.block(...txs);
    expect(receipts.map((r) => r.code)).toEqual(
      new Array(count).fill(expectedReceiptCode(workload)),
    );
    if (workload === 'record.register') {
      // the padding is sealed, never in plain text
      const plain = new TextEncoder().encode('x'.repeat(300));
      expect(prepared.some((p) => Buffer.from(p.bytes).includes(Buffer.from(plain)))).toBe(false);
    }
  });
});

describe('WorkloadBuilder input', () => {
  it('refuses no signers and out-of-range payload sizes', () => {
    const base = {
      suite: INTL,
      chainId: CHAIN_ID,
      workload: 'record.register' as const,
      certificateNotAfter: FAR,
    };
    expect(() => new WorkloadBuilder({ ...base, payloadBytes: 10 }, [])).toThrow(/signers/);
    const a = new Alliance();
    expect(
      () => new WorkloadBuilder({ ...base, payloadBytes: -1 }, signersFor(a, 'rejected', 1)),
    ).toThrow(/payloadBytes/);
    expect(
      () => new WorkloadBuilder({ ...base, payloadBytes: 1e6 }, signersFor(a, 'rejected', 1)),
    ).toThrow(/payloadBytes/);
  });
});
