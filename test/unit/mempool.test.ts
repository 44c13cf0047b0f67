import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { getSuite } from '../../src/crypto/index.js';
import { hashTransaction, LedgerError } from '../../src/ledger/index.js';
import type { HashedTransaction } from '../../src/ledger/index.js';
import {
  DEFAULT_MEMPOOL_OPTIONS,
  isInvalidTransaction,
  Mempool,
  MempoolError,
} from '../../src/mempool/index.js';
import type { MempoolOptions } from '../../src/mempool/index.js';
import { fixedKey, rulesFor, signedTx } from './ledger-fixtures.js';

const suite = getSuite('intl');
const alice = fixedKey(suite, 1);
const bob = fixedKey(suite, 2);

function tx(nonce: number, signer = alice, validUntilHeight = 100): HashedTransaction {
  return hashTransaction(suite, signedTx(suite, signer, { nonce, validUntilHeight }));
}

function pool(options: Partial<MempoolOptions> = {}, committed = new Set<string>()): Mempool {
  return new Mempool(rulesFor(suite), { ...DEFAULT_MEMPOOL_OPTIONS, ...options }, (h) =>
    committed.has(toHex(h)),
  );
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string };
  }
  return expect.fail('expected a throw');
}

describe('mempool admission', () => {
  it('adds valid transactions once and reports duplicates', () => {
    const p = pool();
    const a = tx(1);
    expect(p.add(a, 0)).toBe('added');
    expect(p.add(a, 0)).toBe('duplicate');
    expect(p.size).toBe(1);
    expect(p.bytes).toBe(a.bytes.length);
    expect(p.has(toHex(a.hash))).toBe(true);
    expect(p.stats).toMatchObject({ added: 1, duplicates: 1, signatureChecks: 1 });
  });

  it('verifies a signature once: the verdict is remembered for block validation', () => {
    const p = pool();
    const a = tx(1);
    expect(p.isVerified(a.hash)).toBe(false);
    p.add(a, 0);
    expect(p.isVerified(a.hash)).toBe(true);
    p.removeCommitted([a.hash]);
    expect(p.isVerified(a.hash)).toBe(true);
  });

  it('rejects a bad signature, a wrong chain and an expired transaction with ledger codes', () => {
    const p = pool();
    const good = signedTx(suite, alice, { nonce: 5 });
    const forged = hashTransaction(suite, { ...good, signature: new Uint8Array(64).fill(7) });
    expect(errorOf(() => p.add(forged, 0)).code).toBe('LEDGER_BAD_SIGNATURE');
    expect(p.isVerified(forged.hash)).toBe(false);
    const otherChain = hashTransaction(suite, signedTx(suite, alice, { chainId: 'other-chain' }));
    expect(errorOf(() => p.add(otherChain, 0)).code).toBe('LEDGER_WRONG_CHAIN');
    expect(errorOf(() => p.add(tx(6, alice, 10), 10)).code).toBe('LEDGER_TX_EXPIRED');
    expect(p.size).toBe(0);
    expect(p.stats.rejected).toBe(3);
    const err = errorOf(() => p.add(forged, 0));
    expect(err).toBeInstanceOf(LedgerError);
    expect(isInvalidTransaction(err)).toBe(true);
  });

  it('refuses committed transactions and lifetimes beyond the limit', () => {
    const a = tx(1, alice, 40);
    const p = pool({ maxTxLifetimeHeights: 50 }, new Set([toHex(a.hash)]));
    expect(errorOf(() => p.add(a, 0)).code).toBe('MEMPOOL_ALREADY_COMMITTED');
    const far = tx(2, alice, 51);
    const e = errorOf(() => p.add(far, 0));
    expect(e.code).toBe('MEMPOOL_LIFETIME_TOO_LONG');
    expect(e.message).toContain('use at most 50');
    expect(p.add(far, 1)).toBe('added');
  });

  it('enforces total count, total bytes and per-sender limits', () => {
    const byCount = pool({ maxTxs: 2 });
    byCount.add(tx(1), 0);
    byCount.add(tx(2, bob), 0);
    const full = errorOf(() => byCount.add(tx(3), 0));
    expect(full.code).toBe('MEMPOOL_FULL');
    expect(full).toBeInstanceOf(MempoolError);
    expect(isInvalidTransaction(full)).toBe(false);

    const one = tx(1);
    const byBytes = pool({ maxBytes: one.bytes.length * 2 - 1 });
    byBytes.add(one, 0);
    expect(errorOf(() => byBytes.add(tx(2), 0)).code).toBe('MEMPOOL_FULL');

    const bySender = pool({ maxTxsPerSender: 2 });
    bySender.add(tx(1), 0);
    bySender.add(tx(2), 0);
    expect(errorOf(() => bySender.add(tx(3), 0)).code).toBe('MEMPOOL_SENDER_LIMIT');
    expect(bySender.add(tx(3, bob), 0)).toBe('added');
    bySender.removeCommitted([tx(1).hash]);
    expect(bySender.add(tx(4), 0)).toBe('added');
  });
});

describe('mempool selection and eviction', () => {
  it('selects in arrival order within count and byte limits, skipping excluded and expired', () => {
    const p = pool();
    const txs = [tx(1), tx(2, alice, 5), tx(3), tx(4), tx(5)];
    for (const t of txs) p.add(t, 0);
    const nonces = (sel: HashedTransaction[]): number[] => sel.map((h) => h.tx.nonce);
    expect(nonces(p.select(1, 10, 1 << 20, () => false))).toEqual([1, 2, 3, 4, 5]);
    expect(nonces(p.select(6, 10, 1 << 20, () => false))).toEqual([1, 3, 4, 5]);
    expect(nonces(p.select(1, 2, 1 << 20, () => false))).toEqual([1, 2]);
    const skip = new Set([
      toHex(txs[0]?.hash ?? new Uint8Array()),
      toHex(txs[2]?.hash ?? new Uint8Array()),
    ]);
    expect(nonces(p.select(1, 10, 1 << 20, (k) => skip.has(k)))).toEqual([2, 4, 5]);
    const size = txs[0]?.bytes.length ?? 0;
    expect(nonces(p.select(1, 10, size * 2, () => false))).toEqual([1, 2]);
    expect(p.pending(skip)).toEqual({ txCount: 3, bytes: p.bytes - 2 * size });
  });

  it('evicts expired transactions and removes committed ones', () => {
    const p = pool();
    p.add(tx(1, alice, 3), 0);
    p.add(tx(2, alice, 10), 0);
    p.add(tx(3, bob, 10), 0);
    expect(p.evictExpired(4)).toBe(1);
    p.removeCommitted([tx(2, alice, 10).hash, tx(99).hash]);
    expect([...p.entries()].map((h) => h.tx.nonce)).toEqual([3]);
    expect(p.stats).toMatchObject({ expired: 1, committed: 1 });
  });

  it('keeps the verdict cache bounded', () => {
    const p = pool({ verdictCacheSize: 3 });
    const txs = [1, 2, 3, 4].map((n) => tx(n));
    for (const t of txs) p.add(t, 0);
    expect(txs.map((t) => p.isVerified(t.hash))).toEqual([false, true, true, true]);
  });
});
