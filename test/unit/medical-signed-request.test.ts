/**
 * Signed API requests: what a signature binds (method, path with query,
 * time, body, chain) and every way a request fails verification.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../../src/codec/index.js';
import { getSuite } from '../../src/crypto/index.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import { MedicalError } from '../../src/medical/errors.js';
import {
  DEFAULT_SIGNATURE_WINDOW_MS,
  parseSignatureHeader,
  signRequest,
  verifySignedRequest,
} from '../../src/medical/signed-request.js';

const CHAIN = 'medical-test';
const NOW = 1_767_225_600_000;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MedicalError) return err.code;
    throw err;
  }
  return 'OK';
}

describe.each([getSuite('intl'), getSuite('gm')])('signed requests ($id)', (suite: CryptoSuite) => {
  const key = suite.keyPairFromPrivateKey(new Uint8Array(32).fill(21));
  const other = suite.keyPairFromPrivateKey(new Uint8Array(32).fill(22));
  const body = new TextEncoder().encode('{"synthetic":true}');
  const request = { method: 'POST', path: '/v1/records/rec-1/document?x=1', body };
  const header = signRequest(suite, CHAIN, key, { ...request, timestampMs: NOW });
  const verify = (
    value: unknown,
    req: { method: string; path: string; body?: Uint8Array } = request,
    nowMs = NOW,
    chainId = CHAIN,
  ) => verifySignedRequest(suite, chainId, value, req, { nowMs });

  it('verifies and names the signer', () => {
    expect(verify(header)).toEqual(key.publicKey);
    // within the window on either side
    expect(verify(header, request, NOW + DEFAULT_SIGNATURE_WINDOW_MS)).toEqual(key.publicKey);
    expect(verify(header, request, NOW - DEFAULT_SIGNATURE_WINDOW_MS)).toEqual(key.publicKey);
  });

  it('refuses a missing or malformed header', () => {
    expect(codeOf(() => verify(undefined))).toBe('MEDICAL_SIGNATURE_MISSING');
    expect(codeOf(() => verify(''))).toBe('MEDICAL_SIGNATURE_MISSING');
    expect(codeOf(() => verify([header, header]))).toBe('MEDICAL_SIGNATURE_MALFORMED');
    expect(codeOf(() => verify('not base64url!'))).toBe('MEDICAL_SIGNATURE_MALFORMED');
    expect(codeOf(() => verify('A'.repeat(2000)))).toBe('MEDICAL_SIGNATURE_MALFORMED');
    const notCbor = Buffer.from('hello').toString('base64url');
    expect(codeOf(() => verify(notCbor))).toBe('MEDICAL_SIGNATURE_MALFORMED');
    const shortKey = Buffer.from(
      encode({ signer: new Uint8Array(7), timestampMs: NOW, signature: new Uint8Array(64) }),
    ).toString('base64url');
    expect(codeOf(() => verify(shortKey))).toBe('MEDICAL_SIGNATURE_MALFORMED');
    const extraField = Buffer.from(
      encode({ signer: key.publicKey, timestampMs: NOW, signature: new Uint8Array(64), x: 1 }),
    ).toString('base64url');
    expect(codeOf(() => verify(extraField))).toBe('MEDICAL_SIGNATURE_MALFORMED');
  });

  it('refuses a stale or future timestamp', () => {
    expect(codeOf(() => verify(header, request, NOW + DEFAULT_SIGNATURE_WINDOW_MS + 1))).toBe(
      'MEDICAL_SIGNATURE_EXPIRED',
    );
    expect(codeOf(() => verify(header, request, NOW - DEFAULT_SIGNATURE_WINDOW_MS - 1))).toBe(
      'MEDICAL_SIGNATURE_EXPIRED',
    );
  });

  it('refuses a tampered method, path, query or body', () => {
    expect(codeOf(() => verify(header, { ...request, method: 'PUT' }))).toBe(
      'MEDICAL_SIGNATURE_INVALID',
    );
    expect(
      codeOf(() => verify(header, { ...request, path: '/v1/records/rec-2/document?x=1' })),
    ).toBe('MEDICAL_SIGNATURE_INVALID');
    expect(
      codeOf(() => verify(header, { ...request, path: '/v1/records/rec-1/document?x=2' })),
    ).toBe('MEDICAL_SIGNATURE_INVALID');
    const flipped = Uint8Array.from(body);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(codeOf(() => verify(header, { ...request, body: flipped }))).toBe(
      'MEDICAL_SIGNATURE_INVALID',
    );
    expect(codeOf(() => verify(header, { method: 'POST', path: request.path }))).toBe(
      'MEDICAL_SIGNATURE_INVALID',
    );
  });

  it('refuses a signature by another key, and one made for another chain', () => {
    const envelope = parseSignatureHeader(suite, header);
    const wrongSigner = Buffer.from(
      encode({ signer: other.publicKey, timestampMs: NOW, signature: envelope.signature }),
    ).toString('base64url');
    expect(codeOf(() => verify(wrongSigner))).toBe('MEDICAL_SIGNATURE_INVALID');
    expect(codeOf(() => verify(header, request, NOW, 'another-chain'))).toBe(
      'MEDICAL_SIGNATURE_INVALID',
    );
    // a moved timestamp breaks the signature
    const moved = Buffer.from(
      encode({ signer: key.publicKey, timestampMs: NOW + 1, signature: envelope.signature }),
    ).toString('base64url');
    expect(codeOf(() => verify(moved))).toBe('MEDICAL_SIGNATURE_INVALID');
  });
});
