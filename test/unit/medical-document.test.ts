/**
 * Vault documents, client side: sealed with the record's data key, bound to
 * the chain and record, checked against the content hash on chain; and who
 * can (not) get at the data key.
 */
import { describe, expect, it } from 'vitest';
import { getSuite } from '../../src/crypto/index.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import { MedchainError } from '../../src/errors.js';
import { findDataKey, openDocument, sealDocument } from '../../src/medical/document.js';
import { RecordsErrorCode, sealRecordPointer, wrapDataKey } from '../../src/records/index.js';

const CHAIN = 'medical-test';
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MedchainError) return err.code;
    throw err;
  }
  return 'OK';
}

describe.each([getSuite('intl'), getSuite('gm')])('vault documents ($id)', (suite: CryptoSuite) => {
  const owner = suite.keyPairFromPrivateKey(new Uint8Array(32).fill(11));
  const grantee = suite.keyPairFromPrivateKey(new Uint8Array(32).fill(12));
  const stranger = suite.keyPairFromPrivateKey(new Uint8Array(32).fill(13));
  const content = text('synthetic check-up report: blood pressure 120/80');
  const pointer = sealRecordPointer(suite, {
    chainId: CHAIN,
    recordId: 'rec-1',
    locator: 'vault:centre/rec-1',
    recipients: [owner.publicKey],
  });
  const sealed = sealDocument(suite, {
    chainId: CHAIN,
    recordId: 'rec-1',
    dataKey: pointer.dataKey,
    content,
  });
  const record = { id: 'rec-1', contentHash: sealed.contentHash };

  it('opens with the data key and matches the content hash', () => {
    expect(sealed.contentHash).toEqual(suite.hash(content));
    const opened = openDocument(suite, {
      chainId: CHAIN,
      record,
      dataKey: pointer.dataKey,
      ciphertext: sealed.ciphertext,
    });
    expect(new TextDecoder().decode(opened)).toBe(new TextDecoder().decode(content));
  });

  it('a flipped ciphertext byte, another record or another chain does not open', () => {
    const flipped = Uint8Array.from(sealed.ciphertext);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(
      codeOf(() =>
        openDocument(suite, {
          chainId: CHAIN,
          record,
          dataKey: pointer.dataKey,
          ciphertext: flipped,
        }),
      ),
    ).toBe('MEDICAL_DOCUMENT_OPEN_FAILED');
    expect(
      codeOf(() =>
        openDocument(suite, {
          chainId: CHAIN,
          record: { ...record, id: 'rec-2' },
          dataKey: pointer.dataKey,
          ciphertext: sealed.ciphertext,
        }),
      ),
    ).toBe('MEDICAL_DOCUMENT_OPEN_FAILED');
    expect(
      codeOf(() =>
        openDocument(suite, {
          chainId: 'other-chain',
          record,
          dataKey: pointer.dataKey,
          ciphertext: sealed.ciphertext,
        }),
      ),
    ).toBe('MEDICAL_DOCUMENT_OPEN_FAILED');
  });

  it('a different document sealed with the right key fails the hash check (tampered vault)', () => {
    const forged = sealDocument(suite, {
      chainId: CHAIN,
      recordId: 'rec-1',
      dataKey: pointer.dataKey,
      content: text('synthetic check-up report: all normal (forged)'),
    });
    expect(
      codeOf(() =>
        openDocument(suite, {
          chainId: CHAIN,
          record,
          dataKey: pointer.dataKey,
          ciphertext: forged.ciphertext,
        }),
      ),
    ).toBe('MEDICAL_CONTENT_HASH_MISMATCH');
  });

  it('only a key with a wrap gets the data key; a tampered wrap does not unwrap', () => {
    const wraps = [...pointer.wraps, wrapDataKey(suite, pointer.dataKey, grantee.publicKey)];
    expect(findDataKey(suite, wraps, [stranger.privateKey, grantee.privateKey])).toEqual(
      pointer.dataKey,
    );
    expect(codeOf(() => findDataKey(suite, wraps, [stranger.privateKey]))).toBe(
      RecordsErrorCode.noWrapForKey,
    );
    const broken = wraps.map((w) => {
      const wrapped = Uint8Array.from(w.wrapped);
      wrapped[wrapped.length - 1] = (wrapped[wrapped.length - 1] ?? 0) ^ 1;
      return { recipient: w.recipient, wrapped };
    });
    expect(codeOf(() => findDataKey(suite, broken, [grantee.privateKey]))).toBe(
      RecordsErrorCode.unwrapFailed,
    );
    // a wrap naming the grantee but made for the stranger's key does not unwrap with the grantee's key
    const misaddressed = [
      {
        recipient: grantee.publicKey,
        wrapped: wrapDataKey(suite, pointer.dataKey, stranger.publicKey).wrapped,
      },
    ];
    expect(codeOf(() => findDataKey(suite, misaddressed, [grantee.privateKey]))).toBe(
      RecordsErrorCode.unwrapFailed,
    );
  });
});
