/**
 * Signed API requests (DESIGN.md §8: "reads of anything about a patient need a
 * request signed by a member key"). The client signs
 *
 *     encode(['medchain/api-request/v1', METHOD, pathWithQuery, timestampMs, H(body)])
 *
 * under `DOMAIN.apiRequest` and the chain id (so no other signed object of
 * medchain, and no request on another chain, verifies as this one), and sends
 * `x-medchain-signature: base64url(encode({signer, timestampMs, signature}))`.
 * The node checks the signature, that the timestamp lies within a window of
 * its clock (±5 min by default), and then who the signer is (./principal.ts).
 *
 * Replaying a signed GET within the window returns the same data to the same
 * party; document fetches are bound to a one-time access.log transaction.
 */
import { CodecError, decode, encode } from '../codec/index.js';
import { createFieldReader } from '../codec/fields.js';
import { DOMAIN } from '../crypto/suite.js';
import type { CryptoSuite, KeyPair } from '../crypto/suite.js';
import { InvalidInputError } from '../errors.js';
import { MedicalError, MedicalErrorCode } from './errors.js';

export const SIGNATURE_HEADER = 'x-medchain-signature';
export const REQUEST_SIGNATURE_TAG = 'medchain/api-request/v1';
export const DEFAULT_SIGNATURE_WINDOW_MS = 5 * 60_000;
/** An envelope is ~150 bytes (intl) / ~220 (gm) as base64url; anything far larger is not one. */
const MAX_HEADER_CHARS = 1024;
const METHOD_PATTERN = /^[A-Z]{3,7}$/;
const MAX_PATH_CHARS = 8192;

export interface RequestToSign {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path with the query string exactly as sent (`/v1/audit/records/rec-1?limit=10`). */
  readonly path: string;
  readonly timestampMs: number;
  /** The raw body bytes; none (or empty) for GET. */
  readonly body?: Uint8Array;
}

export interface SignatureEnvelope {
  readonly signer: Uint8Array;
  readonly timestampMs: number;
  readonly signature: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** The bytes a request signature covers (before the domain tag and chain id the suite adds). */
export function requestSigningBytes(suite: CryptoSuite, request: RequestToSign): Uint8Array {
  if (!METHOD_PATTERN.test(request.method)) {
    throw new InvalidInputError('method', 'expected an upper-case HTTP method');
  }
  if (!request.path.startsWith('/') || request.path.length > MAX_PATH_CHARS) {
    throw new InvalidInputError(
      'path',
      `expected an absolute path of at most ${MAX_PATH_CHARS} characters`,
    );
  }
  if (!Number.isSafeInteger(request.timestampMs) || request.timestampMs < 0) {
    throw new InvalidInputError('timestampMs', 'expected a non-negative integer');
  }
  return encode([
    REQUEST_SIGNATURE_TAG,
    request.method,
    request.path,
    request.timestampMs,
    suite.hash(request.body ?? EMPTY),
  ]);
}

/** The `x-medchain-signature` header value for `request`, signed with `key`. */
export function signRequest(
  suite: CryptoSuite,
  chainId: string,
  key: KeyPair,
  request: RequestToSign,
): string {
  const signature = suite.sign(
    DOMAIN.apiRequest,
    chainId,
    requestSigningBytes(suite, request),
    key.privateKey,
  );
  const envelope = encode({ signer: key.publicKey, timestampMs: request.timestampMs, signature });
  return Buffer.from(envelope).toString('base64url');
}

const read = createFieldReader((path, problem) => {
  throw new MedicalError(
    MedicalErrorCode.signatureMalformed,
    `${SIGNATURE_HEADER}: ${path}: ${problem}`,
    { field: path },
  );
});

/** Decodes a header value into its envelope; `MEDICAL_SIGNATURE_MISSING` / `…_MALFORMED`. */
export function parseSignatureHeader(suite: CryptoSuite, value: unknown): SignatureEnvelope {
  if (value === undefined || value === '') {
    throw new MedicalError(
      MedicalErrorCode.signatureMissing,
      `this request reads patient data: sign it with a member key (header ${SIGNATURE_HEADER})`,
    );
  }
  if (
    typeof value !== 'string' ||
    value.length > MAX_HEADER_CHARS ||
    !/^[A-Za-z0-9_-]+$/.test(value)
  ) {
    throw new MedicalError(
      MedicalErrorCode.signatureMalformed,
      `${SIGNATURE_HEADER}: expected one base64url value of at most ${MAX_HEADER_CHARS} characters`,
    );
  }
  let decoded: unknown;
  try {
    decoded = decode(new Uint8Array(Buffer.from(value, 'base64url')), {
      maxBytes: MAX_HEADER_CHARS,
    });
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    throw new MedicalError(
      MedicalErrorCode.signatureMalformed,
      `${SIGNATURE_HEADER}: not canonical CBOR (${err.code})`,
    );
  }
  const r = read.record(decoded, 'envelope', ['signer', 'timestampMs', 'signature']);
  return {
    signer: read.bytes(r.signer, 'signer', { length: suite.publicKeyLength }),
    timestampMs: read.integer(r.timestampMs, 'timestampMs'),
    signature: read.bytes(r.signature, 'signature', { minLength: 1, maxLength: 128 }),
  };
}

export interface VerifyRequestOptions {
  readonly nowMs: number;
  /** Largest accepted |now − timestampMs|; default 5 minutes. */
  readonly windowMs?: number;
}

/**
 * Verifies the signature header of a received request and returns the
 * signer's public key. Throws `MEDICAL_SIGNATURE_*` errors (HTTP 401). Who
 * the signer is, and what it may read, is decided by the caller.
 */
export function verifySignedRequest(
  suite: CryptoSuite,
  chainId: string,
  headerValue: unknown,
  request: Omit<RequestToSign, 'timestampMs'>,
  options: VerifyRequestOptions,
): Uint8Array {
  const envelope = parseSignatureHeader(suite, headerValue);
  const windowMs = options.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS;
  const skewMs = envelope.timestampMs - options.nowMs;
  if (Math.abs(skewMs) > windowMs) {
    throw new MedicalError(
      MedicalErrorCode.signatureExpired,
      `the request was signed ${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs < 0 ? 'ago' : 'ahead'}; requests must be signed within ${windowMs / 1000} s of the node's clock`,
      { skewMs, windowMs },
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = requestSigningBytes(suite, { ...request, timestampMs: envelope.timestampMs });
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    throw new MedicalError(
      MedicalErrorCode.signatureInvalid,
      `request cannot be verified: ${err.message}`,
    );
  }
  if (!suite.verify(DOMAIN.apiRequest, chainId, bytes, envelope.signature, envelope.signer)) {
    throw new MedicalError(
      MedicalErrorCode.signatureInvalid,
      'the request signature does not verify for its signer over this method, path, time and body',
    );
  }
  return envelope.signer;
}
