import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { DOMAIN } from '../../src/crypto/suite.js';
import {
  blockHash,
  buildCommitCertificate,
  commitVoteBytes,
  decodeHashedTransaction,
  encodeBlock,
  encodeTransaction,
  encodeUnsignedTransaction,
  hashTransaction,
  LedgerErrorCode,
  merkleRoot,
  signCommitVote,
  signTransaction,
  validateBlock,
  validateCommitCertificate,
  validateTransaction,
  verifyCommitVote,
  unsignedBytesOf,
  verifyHashedTransactionSignature,
  verifyTransactionSignature,
} from '../../src/ledger/index.js';
import type { CommitCertificate, Transaction, TxType } from '../../src/ledger/index.js';
import {
  blockOf,
  certificateFor,
  CHAIN_ID,
  countingSuite,
  expectAccepted,
  expectRejected,
  fixedKey,
  flipped,
  keyAt,
  PARENT,
  rulesFor,
  signedTx,
  SUITES,
  unsignedTx,
  validatorKeys,
  validatorSetOf,
} from './ledger-fixtures.js';

describe.each(SUITES)('ledger validity ($id)', (suite) => {
  const rules = rulesFor(suite);
  const alice = fixedKey(suite, 1);
  const bob = fixedKey(suite, 2);
  const keys = validatorKeys(suite, 4);
  const validators = validatorSetOf(suite, keys);
  const context = { parent: PARENT, validators };

  describe('transactions', () => {
    const tx = signedTx(suite, alice);
    const htx = hashTransaction(suite, tx);

    it('accepts a well-formed, correctly signed transaction', () => {
      expectAccepted(validateTransaction(rules, htx, 1));
      expect(verifyTransactionSignature(suite, tx)).toBe(true);
    });

    it('cuts the unsigned bytes out of the signed encoding exactly as encoding them would', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.nat(30), fc.nat(300), fc.nat(70_000), fc.maxSafeNat()),
          fc.nat(Number.MAX_SAFE_INTEGER),
          fc.string({ maxLength: 300 }),
          fc.constantFrom<TxType>('record.register', 'consent.grant', 'member.certify'),
          fc.uint8Array({ maxLength: 80 }),
          (validUntilHeight, nonce, note, type, signature) => {
            const signed = signedTx(suite, alice, {
              validUntilHeight,
              nonce,
              type,
              payload: { note },
            });
            const expected = toHex(encodeUnsignedTransaction(signed));
            expect(toHex(unsignedBytesOf(hashTransaction(suite, signed)))).toBe(expected);
            // any signature length (a forged one too) leaves the layout rule intact
            const forged = { ...signed, signature };
            expect(toHex(unsignedBytesOf(hashTransaction(suite, forged)))).toBe(expected);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('verifies from the cut bytes: a good signature passes, a flipped one fails', () => {
      expect(verifyHashedTransactionSignature(suite, htx)).toBe(true);
      const bad = { ...tx, signature: flipped(tx.signature) };
      expect(verifyHashedTransactionSignature(suite, hashTransaction(suite, bad))).toBe(false);
    });

    it('rejects a transaction for another chain', () => {
      const other = signedTx(suite, alice, { chainId: 'other-chain' });
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, other), 1),
        LedgerErrorCode.wrongChain,
        'chainId',
      );
    });

    it('rejects a tampered signature', () => {
      const bad = { ...tx, signature: flipped(tx.signature, 5) };
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, bad), 1),
        LedgerErrorCode.badSignature,
        'signature',
      );
    });

    it("rejects a signature by another key than the signer's", () => {
      const forged = signTransaction(suite, unsignedTx(alice), bob.privateKey);
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, forged), 1),
        LedgerErrorCode.badSignature,
        'signature',
      );
    });

    it('rejects a payload changed after signing', () => {
      const changed: Transaction = { ...tx, payload: { ...tx.payload, level: 'L4' } };
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, changed), 1),
        LedgerErrorCode.badSignature,
      );
    });

    it('rejects a transaction re-addressed to another chain with the old signature', () => {
      const moved: Transaction = {
        ...signedTx(suite, alice, { chainId: 'chain-a' }),
        chainId: CHAIN_ID,
      };
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, moved), 1),
        LedgerErrorCode.badSignature,
      );
    });

    it('rejects an unknown transaction type', () => {
      const odd = signedTx(suite, alice, { type: 'record.delete' as TxType });
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, odd), 1),
        LedgerErrorCode.unknownTxType,
        'type',
      );
    });

    it('rejects negative nonce and expiry', () => {
      for (const field of ['nonce', 'validUntilHeight'] as const) {
        const bad = signedTx(suite, alice, { [field]: -1 });
        expectRejected(
          validateTransaction(rules, hashTransaction(suite, bad), 0),
          LedgerErrorCode.malformed,
          field,
        );
      }
    });

    it('accepts up to validUntilHeight and rejects after it', () => {
      const expiring = hashTransaction(suite, signedTx(suite, alice, { validUntilHeight: 5 }));
      expectAccepted(validateTransaction(rules, expiring, 5));
      const error = expectRejected(
        validateTransaction(rules, expiring, 6),
        LedgerErrorCode.txExpired,
        'validUntilHeight',
      );
      expect(error.details).toMatchObject({ validUntilHeight: 5, height: 6 });
    });

    it('accepts exactly maxTxBytes and rejects one byte more', () => {
      const exact = rulesFor(suite, { ...rules.limits, maxTxBytes: htx.bytes.length });
      expectAccepted(validateTransaction(exact, htx, 1));
      const tight = rulesFor(suite, { ...rules.limits, maxTxBytes: htx.bytes.length - 1 });
      expectRejected(validateTransaction(tight, htx, 1), LedgerErrorCode.txTooLarge);
    });

    it('rejects a signer that is not a key of the suite', () => {
      const wrongLength = signedTx(suite, alice, {
        signer: new Uint8Array(suite.publicKeyLength + 1),
      });
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, wrongLength), 1),
        LedgerErrorCode.badSigner,
        'signer',
      );
    });

    it('hashes received bytes without re-encoding and agrees with hashTransaction', () => {
      const received = decodeHashedTransaction(suite, encodeTransaction(tx));
      expect(received.hash).toEqual(htx.hash);
      expect(received.tx).toEqual(tx);
      expectAccepted(validateTransaction(rules, received, 1));
    });

    it('skips signature verification for a cached verdict, and only then', () => {
      const counting = countingSuite(suite);
      const countingRules = { ...rules, suite: counting.suite };
      const asked: Uint8Array[] = [];
      expectAccepted(
        validateTransaction(countingRules, htx, 1, {
          isVerified: (hash) => {
            asked.push(hash);
            return true;
          },
        }),
      );
      expect(counting.verifications()).toBe(0);
      expect(asked).toEqual([htx.hash]);
      expectAccepted(validateTransaction(countingRules, htx, 1, { isVerified: () => false }));
      expect(counting.verifications()).toBe(1);
      // the cache covers signatures only: every other rule still applies
      expectRejected(
        validateTransaction(countingRules, htx, 101, { isVerified: () => true }),
        LedgerErrorCode.txExpired,
      );
    });
  });

  describe('domain separation', () => {
    const tx = signedTx(suite, keyAt(keys, 0));
    const header = blockOf(suite, validators, []).header;
    const vote = { chainId: CHAIN_ID, height: 1, view: 0, blockHash: blockHash(suite, header) };

    it('a transaction signature does not verify as a consensus vote over the same bytes', () => {
      const message = encodeUnsignedTransaction(tx);
      expect(suite.verify(DOMAIN.tx, CHAIN_ID, message, tx.signature, tx.signer)).toBe(true);
      expect(suite.verify(DOMAIN.consensus, CHAIN_ID, message, tx.signature, tx.signer)).toBe(
        false,
      );
    });

    it('a commit vote signed under the transaction domain does not count in a certificate', () => {
      const txDomainSigs = [0, 1, 2].map((validator) => ({
        validator,
        signature: suite.sign(
          DOMAIN.tx,
          CHAIN_ID,
          commitVoteBytes(vote),
          keyAt(keys, validator).privateKey,
        ),
      }));
      const cert: CommitCertificate = { ...vote, signatures: txDomainSigs };
      expectRejected(
        validateCommitCertificate(rules, cert, validators, {
          height: 1,
          blockHash: vote.blockHash,
        }),
        LedgerErrorCode.certBadSignature,
        'signatures[0].signature',
      );
    });

    it('a commit vote signature does not verify as a transaction signature', () => {
      const signer = keyAt(keys, 0);
      const unsigned = unsignedTx(signer);
      const voteSig = suite.sign(
        DOMAIN.consensus,
        CHAIN_ID,
        encodeUnsignedTransaction(unsigned),
        signer.privateKey,
      );
      const replayed: Transaction = { ...unsigned, signature: voteSig };
      expectRejected(
        validateTransaction(rules, hashTransaction(suite, replayed), 1),
        LedgerErrorCode.badSignature,
      );
    });

    it('a commit vote binds chain, height, view and block hash', () => {
      const signer = keyAt(keys, 0);
      const sig = signCommitVote(suite, vote, signer.privateKey);
      expect(verifyCommitVote(suite, vote, sig, signer.publicKey)).toBe(true);
      for (const changed of [
        { ...vote, chainId: 'other-chain' },
        { ...vote, height: 2 },
        { ...vote, view: 1 },
        { ...vote, blockHash: flipped(vote.blockHash) },
      ]) {
        expect(verifyCommitVote(suite, changed, sig, signer.publicKey)).toBe(false);
      }
    });
  });

  describe('blocks', () => {
    const txs = [
      signedTx(suite, alice, { nonce: 1 }),
      signedTx(suite, alice, { nonce: 2 }),
      signedTx(suite, alice, { nonce: 3 }),
    ] as const;
    const block = blockOf(suite, validators, txs);

    it('accepts a valid block, returning its hash and hashed transactions', () => {
      const verdict = validateBlock(rules, block, context);
      expectAccepted(verdict);
      if (!verdict.ok) return;
      expect(verdict.hash).toEqual(blockHash(suite, block.header));
      expect(verdict.txs.map((htx) => htx.hash)).toEqual(
        txs.map((tx) => hashTransaction(suite, tx).hash),
      );
    });

    it('uses hashed transactions the caller supplies for exactly these transaction objects', () => {
      const hashed = txs.map((tx) => hashTransaction(suite, tx));
      const given = validateBlock(rules, block, context, { hashedTxs: hashed });
      expectAccepted(given);
      if (!given.ok) return;
      expect(given.txs[1]).toBe(hashed[1]);
      // Supplied hashes are trusted: a wrong one shows up as a txRoot mismatch…
      const wrong = hashed.map((h, i) => (i === 1 ? { ...h, hash: flipped(h.hash) } : h));
      expectRejected(
        validateBlock(rules, block, context, { hashedTxs: wrong }),
        LedgerErrorCode.wrongTxRoot,
        'header.txRoot',
      );
      // …and one for another transaction object is ignored (hashed afresh).
      const other = wrong.map((h) => ({ ...h, tx: { ...h.tx } }));
      expectAccepted(validateBlock(rules, block, context, { hashedTxs: other }));
    });

    it('accepts an empty block whose txRoot is the empty root', () => {
      const empty = blockOf(suite, validators, []);
      expect(empty.header.txRoot).toEqual(suite.hash(new Uint8Array(0)));
      expectAccepted(validateBlock(rules, empty, context));
    });

    it('accepts a matching expected state root and rejects another', () => {
      expectAccepted(
        validateBlock(rules, block, { ...context, stateRoot: block.header.stateRoot }),
      );
      expectRejected(
        validateBlock(rules, block, { ...context, stateRoot: new Uint8Array(32) }),
        LedgerErrorCode.wrongStateRoot,
        'header.stateRoot',
      );
    });

    const headerCases: [string, Record<string, unknown>, string, string][] = [
      ['another chain', { chainId: 'other-chain' }, LedgerErrorCode.wrongChain, 'header.chainId'],
      ['a skipped height', { height: 2 }, LedgerErrorCode.wrongHeight, 'header.height'],
      [
        'the same height as the parent',
        { height: 0 },
        LedgerErrorCode.wrongHeight,
        'header.height',
      ],
      [
        'another parent',
        { prevHash: new Uint8Array(32).fill(1) },
        LedgerErrorCode.wrongPrevHash,
        'header.prevHash',
      ],
      [
        'another validator set',
        { validatorSetHash: new Uint8Array(32).fill(2) },
        LedgerErrorCode.wrongValidatorSet,
        'header.validatorSetHash',
      ],
      [
        'a proposer index out of range',
        { proposer: 4 },
        LedgerErrorCode.badProposer,
        'header.proposer',
      ],
      ['a negative proposer', { proposer: -1 }, LedgerErrorCode.badProposer, 'header.proposer'],
      ['a negative view', { view: -1 }, LedgerErrorCode.malformed, 'header.view'],
      [
        'a timestamp before the parent',
        { timestamp: PARENT.timestamp - 1 },
        LedgerErrorCode.badTimestamp,
        'header.timestamp',
      ],
      [
        'a short txRoot',
        { txRoot: new Uint8Array(31) },
        LedgerErrorCode.malformed,
        'header.txRoot',
      ],
      [
        'a txRoot over other transactions',
        { txRoot: new Uint8Array(32) },
        LedgerErrorCode.wrongTxRoot,
        'header.txRoot',
      ],
    ];
    for (const [what, overrides, code, field] of headerCases) {
      it(`rejects a block with ${what}`, () => {
        const bad = { ...block, header: { ...block.header, ...overrides } };
        expectRejected(validateBlock(rules, bad, context), code, field);
      });
    }

    it('accepts proposer n-1 and a timestamp equal to the parent', () => {
      expectAccepted(
        validateBlock(
          rules,
          blockOf(suite, validators, txs, { proposer: 3, timestamp: PARENT.timestamp }),
          context,
        ),
      );
    });

    it('rejects transactions in another order than the txRoot commits to', () => {
      const reordered = { ...block, txs: [txs[1], txs[0], txs[2]] };
      expectRejected(validateBlock(rules, reordered, context), LedgerErrorCode.wrongTxRoot);
    });

    it('rejects more than maxBlockTxs transactions', () => {
      const limited = rulesFor(suite, { ...rules.limits, maxBlockTxs: 2 });
      expectRejected(validateBlock(limited, block, context), LedgerErrorCode.tooManyTxs, 'txs');
      expectAccepted(
        validateBlock(rulesFor(suite, { ...rules.limits, maxBlockTxs: 3 }), block, context),
      );
    });

    it('rejects a block over maxBlockBytes, accepts one at exactly the limit', () => {
      const size = encodeBlock(block).length;
      expectAccepted(
        validateBlock(rulesFor(suite, { ...rules.limits, maxBlockBytes: size }), block, context),
      );
      expectRejected(
        validateBlock(
          rulesFor(suite, { ...rules.limits, maxBlockBytes: size - 1 }),
          block,
          context,
        ),
        LedgerErrorCode.blockTooLarge,
      );
    });

    it('rejects the same transaction twice', () => {
      const twice = blockOf(suite, validators, [txs[0], txs[1], txs[0]]);
      const error = expectRejected(
        validateBlock(rules, twice, context),
        LedgerErrorCode.duplicateTx,
        'txs[2]',
      );
      expect(error.details.txIndex).toBe(2);
    });

    const txCases: [string, () => Transaction, string, string][] = [
      [
        'a badly signed transaction',
        () => ({ ...signedTx(suite, alice, { nonce: 9 }), signature: flipped(txs[0].signature) }),
        LedgerErrorCode.badSignature,
        'txs[1].signature',
      ],
      [
        'an expired transaction',
        () => signedTx(suite, alice, { nonce: 9, validUntilHeight: 0 }),
        LedgerErrorCode.txExpired,
        'txs[1].validUntilHeight',
      ],
      [
        'a transaction for another chain',
        () => signedTx(suite, alice, { nonce: 9, chainId: 'other-chain' }),
        LedgerErrorCode.wrongChain,
        'txs[1].chainId',
      ],
      [
        'an oversize transaction',
        () => signedTx(suite, alice, { nonce: 9, payload: { blob: new Uint8Array(70_000) } }),
        LedgerErrorCode.txTooLarge,
        'txs[1]',
      ],
    ];
    for (const [what, make, code, field] of txCases) {
      it(`rejects a block holding ${what}, naming it`, () => {
        const bad = blockOf(suite, validators, [txs[0], make(), txs[2]]);
        const error = expectRejected(validateBlock(rules, bad, context), code, field);
        expect(error.message.startsWith(`${field}: `)).toBe(true);
      });
    }

    it('rejects a transaction that cannot be encoded', () => {
      const floaty = { ...txs[0], nonce: 0.5 };
      const bad = { ...block, txs: [floaty] };
      expectRejected(validateBlock(rules, bad, context), LedgerErrorCode.malformed, 'txs[0]');
    });

    it('verifies each signature once, and none whose verdict is cached', () => {
      const counting = countingSuite(suite);
      const countingRules = { ...rules, suite: counting.suite };
      expectAccepted(validateBlock(countingRules, block, context));
      expect(counting.verifications()).toBe(txs.length);
      const verified = new Set(
        txs.map((tx) => Buffer.from(hashTransaction(suite, tx).hash).toString('hex')),
      );
      expectAccepted(
        validateBlock(countingRules, block, context, {
          isVerified: (hash) => verified.has(Buffer.from(hash).toString('hex')),
        }),
      );
      expect(counting.verifications()).toBe(txs.length);
    });
  });

  describe('commit certificates', () => {
    const header = blockOf(suite, validators, []).header;
    const target = { height: header.height, blockHash: blockHash(suite, header) };
    const full = certificateFor(suite, keys, header, [0, 1, 2, 3]);
    const withSigners = (indexes: number[]): CommitCertificate => ({
      ...full,
      signatures: indexes.map((i) => {
        const s = full.signatures[i];
        if (s === undefined) throw new RangeError(String(i));
        return s;
      }),
    });

    it('accepts 2f+1 and n signatures of distinct validators', () => {
      expect(validators.quorum).toBe(3);
      expectAccepted(validateCommitCertificate(rules, withSigners([0, 1, 2]), validators, target));
      expectAccepted(validateCommitCertificate(rules, withSigners([1, 2, 3]), validators, target));
      expectAccepted(validateCommitCertificate(rules, full, validators, target));
    });

    it('rejects 2f signatures', () => {
      const error = expectRejected(
        validateCommitCertificate(rules, withSigners([0, 3]), validators, target),
        LedgerErrorCode.certNoQuorum,
        'signatures',
      );
      expect(error.details).toMatchObject({ signers: 2, quorum: 3 });
    });

    it('rejects a duplicate validator, even when the others reach quorum', () => {
      expectRejected(
        validateCommitCertificate(rules, withSigners([0, 1, 1]), validators, target),
        LedgerErrorCode.certDuplicateSigner,
        'signatures[2].validator',
      );
      expectRejected(
        validateCommitCertificate(rules, withSigners([0, 0, 1, 2]), validators, target),
        LedgerErrorCode.certDuplicateSigner,
        'signatures[1].validator',
      );
    });

    it('rejects an index outside the validator set', () => {
      const outsider = fixedKey(suite, 77);
      const cert: CommitCertificate = {
        ...full,
        signatures: [
          ...withSigners([0, 1, 2]).signatures,
          { validator: 4, signature: signCommitVote(suite, full, outsider.privateKey) },
        ],
      };
      expectRejected(
        validateCommitCertificate(rules, cert, validators, target),
        LedgerErrorCode.certUnknownSigner,
        'signatures[3].validator',
      );
    });

    it("rejects a non-validator's signature under a validator's index", () => {
      const outsider = fixedKey(suite, 77);
      const cert: CommitCertificate = {
        ...full,
        signatures: [
          ...withSigners([0, 1]).signatures,
          { validator: 2, signature: signCommitVote(suite, full, outsider.privateKey) },
        ],
      };
      expectRejected(
        validateCommitCertificate(rules, cert, validators, target),
        LedgerErrorCode.certBadSignature,
        'signatures[2].signature',
      );
    });

    it('rejects a tampered signature', () => {
      const base = withSigners([0, 1, 2, 3]);
      const cert: CommitCertificate = {
        ...base,
        signatures: base.signatures.map((s, i) =>
          i === 3 ? { ...s, signature: flipped(s.signature, 7) } : s,
        ),
      };
      expectRejected(
        validateCommitCertificate(rules, cert, validators, target),
        LedgerErrorCode.certBadSignature,
        'signatures[3].signature',
      );
    });

    it('rejects a certificate for another block, height or chain', () => {
      const otherHash = flipped(target.blockHash);
      expectRejected(
        validateCommitCertificate(rules, full, validators, { ...target, blockHash: otherHash }),
        LedgerErrorCode.certWrongBlock,
        'blockHash',
      );
      // relabelled for the other block: the signatures are over the first one
      expectRejected(
        validateCommitCertificate(rules, { ...full, blockHash: otherHash }, validators, {
          ...target,
          blockHash: otherHash,
        }),
        LedgerErrorCode.certBadSignature,
      );
      expectRejected(
        validateCommitCertificate(rules, full, validators, { ...target, height: 2 }),
        LedgerErrorCode.certWrongBlock,
        'height',
      );
      expectRejected(
        validateCommitCertificate({ suite, chainId: 'other-chain' }, full, validators, target),
        LedgerErrorCode.wrongChain,
        'chainId',
      );
    });

    it('rejects a certificate relabelled to another view', () => {
      expectRejected(
        validateCommitCertificate(rules, { ...full, view: 1 }, validators, target),
        LedgerErrorCode.certBadSignature,
      );
    });

    it('accepts commits from a later view than the proposal', () => {
      const later = certificateFor(suite, keys, header, [0, 2, 3], 5);
      expectAccepted(validateCommitCertificate(rules, later, validators, target));
    });

    it('rejects signatures out of validator order; buildCommitCertificate orders and dedups them', () => {
      const unsorted = withSigners([1, 0, 2]);
      expectRejected(
        validateCommitCertificate(rules, unsorted, validators, target),
        LedgerErrorCode.certUnsorted,
        'signatures[1].validator',
      );
      const built = buildCommitCertificate(full, [
        ...unsorted.signatures,
        ...withSigners([1]).signatures,
      ]);
      expect(built.signatures.map((s) => s.validator)).toEqual([0, 1, 2]);
      expectAccepted(validateCommitCertificate(rules, built, validators, target));
    });

    it('needs 4 of 5 and 4 of 6 validators, where 2f+1 = 3 would not be safe', () => {
      for (const n of [5, 6]) {
        const moreKeys = validatorKeys(suite, n);
        const set = validatorSetOf(suite, moreKeys);
        const h = blockOf(suite, set, []).header;
        const t = { height: h.height, blockHash: blockHash(suite, h) };
        expect(set.quorum).toBe(4);
        expectRejected(
          validateCommitCertificate(rules, certificateFor(suite, moreKeys, h, [0, 1, 2]), set, t),
          LedgerErrorCode.certNoQuorum,
        );
        expectAccepted(
          validateCommitCertificate(
            rules,
            certificateFor(suite, moreKeys, h, [0, 1, 2, 4]),
            set,
            t,
          ),
        );
      }
    });

    it('lets a single validator certify alone', () => {
      const solo = validatorSetOf(suite, keys.slice(0, 1));
      const h = blockOf(suite, solo, []).header;
      const cert = certificateFor(suite, keys, h, [0]);
      expectAccepted(
        validateCommitCertificate(rules, cert, solo, { height: 1, blockHash: blockHash(suite, h) }),
      );
    });
  });

  it('validates a chain of two blocks with their certificates end to end', () => {
    const b1 = blockOf(suite, validators, [signedTx(suite, alice, { nonce: 1 })]);
    const v1 = validateBlock(rules, b1, context);
    if (!v1.ok) return expect.fail(v1.error.message);
    const c1 = certificateFor(suite, keys, b1.header, [0, 1, 3]);
    expectAccepted(
      validateCommitCertificate(rules, c1, validators, { height: 1, blockHash: v1.hash }),
    );

    const parent2 = { height: 1, hash: v1.hash, timestamp: b1.header.timestamp };
    const tx2 = signedTx(suite, bob, { nonce: 1 });
    const b2 = blockOf(suite, validators, [tx2], { proposer: 1 }, parent2);
    expectAccepted(validateBlock(rules, b2, { parent: parent2, validators }));
    // block 2 does not extend the genesis, and block 1's certificate does not cover it
    expectRejected(validateBlock(rules, b2, context), LedgerErrorCode.wrongHeight);
    expectRejected(
      validateCommitCertificate(rules, c1, validators, {
        height: 2,
        blockHash: blockHash(suite, b2.header),
      }),
      LedgerErrorCode.certWrongBlock,
    );
    expect(merkleRoot(suite, [hashTransaction(suite, tx2).hash])).toEqual(b2.header.txRoot);
  });
});
