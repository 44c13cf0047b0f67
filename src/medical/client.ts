/**
 * Client of the medical endpoints: every request signed with the caller's
 * member (or institution) key (./signed-request.ts). Used by the CLI, the
 * demo and hospital systems. Requests go over `node:http` like the API
 * client's (src/api/http-transport.ts; a `fetch` can replace it). Failures are
 * `ApiClientError`s carrying the node's error code and HTTP status (0 when no
 * response came back).
 */
import { WebSocket } from 'ws';
import { encode, fromHex, toHex } from '../codec/index.js';
import type { KeyWrap, RecordKeyWrap } from '../contracts/index.js';
import type { CryptoSuite, KeyPair } from '../crypto/suite.js';
import { InvalidInputError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';
import { ApiClientError, ApiErrorCode } from '../api/errors.js';
import { fetchTransport, nodeHttpTransport } from '../api/http-transport.js';
import type { HttpAnswer, HttpTransport } from '../api/http-transport.js';
import { MEDIA_CBOR } from '../api/schemas.js';
import { SIGNATURE_HEADER, signRequest } from './signed-request.js';

export interface MedicalClientOptions {
  readonly baseUrl: string;
  readonly suite: CryptoSuite;
  readonly chainId: string;
  /** Signs every request. */
  readonly key: KeyPair;
  /** Per-request deadline (default 30 s: a document fetch waits for its access.log to commit). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  /** Sends requests through this `fetch` instead of `node:http` (tests, proxies). */
  readonly fetch?: typeof fetch;
}

// ---------------------------------------------------------------------------
// JSON shapes the node returns (bytes as hex)

export interface KeyWrapJson {
  readonly recipient: string;
  readonly wrapped: string;
}
export interface RecordKeyWrapJson extends KeyWrapJson {
  readonly recordId: string;
}
export type GranteeJson = { readonly institution: string } | { readonly member: string };
export type ScopeJson =
  | { readonly records: readonly string[] }
  | {
      readonly patient: string;
      readonly recordTypes: readonly string[];
      readonly maxLevel: string;
    };

export interface RecordJson {
  readonly id: string;
  readonly owner: string;
  readonly patient: string;
  readonly recordType: string;
  readonly level: string;
  readonly contentHash: string;
  readonly sealedLocator: string;
  readonly sealedMetadata: string;
  readonly wraps: readonly KeyWrapJson[];
  readonly storage: 'vault' | 'external';
  readonly registeredBy: string;
  readonly registeredAt: number;
  readonly registeredTx: string;
  readonly referralId: string | null;
}

export interface RecordSummaryJson {
  readonly id: string;
  readonly owner: string;
  readonly patient: string;
  readonly recordType: string;
  readonly level: string;
  readonly storage: 'vault' | 'external';
  readonly contentHash: string;
  readonly registeredAt: number;
  readonly referralId: string | null;
}

export interface GrantJson {
  readonly id: string;
  readonly kind: 'consent' | 'referral' | 'referral-return';
  readonly grantor: string;
  readonly grantorRole: string;
  readonly grantorInstitution: string;
  readonly patient: string;
  readonly patientSigned: boolean;
  readonly grantee: GranteeJson;
  readonly scope: ScopeJson;
  readonly purpose: string;
  readonly expiresAt: number;
  readonly evidence: string | null;
  readonly wraps: readonly RecordKeyWrapJson[];
  readonly referralId: string | null;
  readonly createdAt: number;
  readonly createdTx: string;
  readonly status: 'active' | 'revoked' | 'ended';
  readonly closedAt: number | null;
  readonly closedBy: string | null;
  readonly closeReason: string | null;
}

export interface ReferralJson {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly patient: string;
  readonly recordIds: readonly string[];
  readonly reason: string;
  readonly expiresAt: number;
  readonly status: 'open' | 'accepted' | 'rejected' | 'completed';
  readonly grantId: string;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly acceptedBy: string | null;
  readonly acceptedAt: number | null;
  readonly closedBy: string | null;
  readonly closedAt: number | null;
  readonly closeReason: string | null;
  readonly summaryRecordId: string | null;
  readonly returnGrantId: string | null;
}

export interface MemberJson {
  readonly memberId: string;
  readonly publicKey: string;
  readonly role: string;
  readonly institution: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly patient: string | null;
  readonly issuer: string;
  readonly issuedAt: number;
  readonly revokedAt: number | null;
  readonly revocationReason: string | null;
}

export type AccessJson =
  | {
      readonly ok: true;
      readonly basis: 'owner' | 'patient' | 'grant';
      readonly grantId: string | null;
    }
  | { readonly ok: false; readonly code: string; readonly reason: string };

export interface RecordViewJson {
  readonly record: RecordJson;
  readonly grants: readonly GrantJson[];
  readonly access: AccessJson;
  readonly height: number;
}

/** One audit event (docs/contracts.md §8) with `time` (ISO 8601) and `actorMemberId`. */
export interface AuditEventJson {
  readonly type: string;
  readonly height: number;
  readonly txIndex: number;
  readonly eventIndex: number;
  readonly txHash: string;
  readonly timestamp: number;
  readonly time: string | null;
  readonly actor: string;
  readonly actorRole: string;
  readonly actorInstitution: string;
  readonly actorMemberId: string | null;
  readonly [field: string]: unknown;
}

export interface InstitutionJson {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly voting: boolean;
  readonly signingKey: string;
}

export interface StatisticsJson {
  readonly from: string;
  readonly to: string;
  readonly by: string;
  readonly rows: readonly {
    readonly institution: string;
    readonly statistic: string;
    readonly period: string;
    readonly count: number;
  }[];
}

export interface FetchedDocumentJson {
  readonly recordId: string;
  readonly ciphertext: string;
  readonly accessTx: string;
  readonly height: number;
}

export interface ListQuery {
  readonly limit?: number;
  readonly order?: 'asc' | 'desc';
}

export interface StatisticsQueryParams {
  readonly from?: string;
  readonly to?: string;
  readonly institution?: string;
  readonly statistic?: string;
  readonly by?: 'total' | 'month' | 'day';
}

/** Referral WebSocket messages (./referral-events.ts). */
export type ReferralStreamMessage =
  | { readonly type: 'hello'; readonly institution: string; readonly height: number }
  | {
      readonly type: 'referral';
      readonly direction: 'incoming' | 'outgoing';
      readonly event: {
        readonly type: string;
        readonly referralId: string;
        readonly [k: string]: unknown;
      };
    };

export interface ReferralSubscription {
  /** Resolves with the hello message; rejects if the connection is refused. */
  readonly ready: Promise<Extract<ReferralStreamMessage, { type: 'hello' }>>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// conversions

export function keyWrapFromJson(json: KeyWrapJson): KeyWrap {
  return {
    recipient: fromHex(json.recipient, 'recipient'),
    wrapped: fromHex(json.wrapped, 'wrapped'),
  };
}

export function recordKeyWrapFromJson(json: RecordKeyWrapJson): RecordKeyWrap {
  return { recordId: json.recordId, ...keyWrapFromJson(json) };
}

/** The parts of a record a client opens (pointer, document check, re-wraps). */
export interface OpenableRecord {
  readonly id: string;
  readonly owner: string;
  readonly patient: Uint8Array;
  readonly level: string;
  readonly recordType: string;
  readonly storage: 'vault' | 'external';
  readonly contentHash: Uint8Array;
  readonly sealedLocator: Uint8Array;
  readonly sealedMetadata: Uint8Array;
  readonly wraps: readonly KeyWrap[];
}

export function recordFromJson(json: RecordJson): OpenableRecord {
  return {
    id: json.id,
    owner: json.owner,
    patient: fromHex(json.patient, 'patient'),
    level: json.level,
    recordType: json.recordType,
    storage: json.storage,
    contentHash: fromHex(json.contentHash, 'contentHash'),
    sealedLocator: fromHex(json.sealedLocator, 'sealedLocator'),
    sealedMetadata: fromHex(json.sealedMetadata, 'sealedMetadata'),
    wraps: json.wraps.map(keyWrapFromJson),
  };
}

function queryString(params: Readonly<Record<string, string | number | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

const enc = encodeURIComponent;

function isErrorBody(
  value: unknown,
): value is { error: { code: string; message: string; details?: ErrorDetails } } {
  const error = (value as { error?: unknown } | null)?.error as
    { code?: unknown; message?: unknown } | undefined;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

export class MedicalClient {
  readonly baseUrl: string;
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly key: KeyPair;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** The `fetch` given in the options (passed on by `withKey`), if any. */
  readonly #fetch: typeof fetch | undefined;
  readonly #transport: HttpTransport;

  constructor(options: MedicalClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new InvalidInputError('baseUrl', `not a URL: "${options.baseUrl.slice(0, 200)}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidInputError('baseUrl', `expected http: or https:, got ${parsed.protocol}`);
    }
    this.baseUrl = parsed.toString().replace(/\/+$/, '');
    this.suite = options.suite;
    this.chainId = options.chainId;
    this.key = options.key;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch;
    this.#transport =
      options.fetch === undefined ? nodeHttpTransport : fetchTransport(options.fetch);
  }

  /** The same client signing with another key. */
  withKey(key: KeyPair): MedicalClient {
    return new MedicalClient({
      baseUrl: this.baseUrl,
      suite: this.suite,
      chainId: this.chainId,
      key,
      timeoutMs: this.#timeoutMs,
      now: this.#now,
      ...(this.#fetch === undefined ? {} : { fetch: this.#fetch }),
    });
  }

  /** The `x-medchain-signature` header for a request (exposed for other HTTP stacks). */
  signatureFor(method: string, path: string, body?: Uint8Array): string {
    return signRequest(this.suite, this.chainId, this.key, {
      method,
      path: this.#pathOnServer(path),
      timestampMs: this.#now(),
      ...(body === undefined ? {} : { body }),
    });
  }

  // ---- records and documents

  institutions(): Promise<{ institutions: InstitutionJson[] }> {
    return this.#json('GET', '/v1/institutions');
  }
  record(recordId: string): Promise<RecordViewJson> {
    return this.#json('GET', `/v1/records/${enc(recordId)}`);
  }
  recordGrants(recordId: string, q: ListQuery = {}): Promise<{ grants: GrantJson[] }> {
    return this.#json('GET', `/v1/records/${enc(recordId)}/grants${queryString({ ...q })}`);
  }
  uploadDocument(
    recordId: string,
    ciphertext: Uint8Array,
  ): Promise<{ recordId: string; bytes: number; created: boolean }> {
    return this.#json('PUT', `/v1/vault/${enc(recordId)}`, encode({ ciphertext }));
  }
  /** Asks this node (the requester's own) for a vault document; `accessTx` is the signed access.log bytes. */
  fetchDocument(recordId: string, accessTx: Uint8Array): Promise<FetchedDocumentJson> {
    return this.#json('POST', `/v1/records/${enc(recordId)}/document`, encode({ tx: accessTx }));
  }

  // ---- patients, grants

  patient(
    pseudonym: Uint8Array | string,
  ): Promise<{ pseudonym: string; patientKey: string | null; certificate: MemberJson | null }> {
    return this.#json('GET', `/v1/patients/${hexOf(pseudonym)}`);
  }
  patientRecords(
    pseudonym: Uint8Array | string,
    q: ListQuery = {},
  ): Promise<{ records: RecordSummaryJson[] }> {
    return this.#json('GET', `/v1/patients/${hexOf(pseudonym)}/records${queryString({ ...q })}`);
  }
  patientGrants(
    pseudonym: Uint8Array | string,
    q: ListQuery = {},
  ): Promise<{ grants: GrantJson[] }> {
    return this.#json('GET', `/v1/patients/${hexOf(pseudonym)}/grants${queryString({ ...q })}`);
  }
  grant(grantId: string): Promise<{ grant: GrantJson; live: boolean }> {
    return this.#json('GET', `/v1/grants/${enc(grantId)}`);
  }
  institutionGrants(institutionId: string, q: ListQuery = {}): Promise<{ grants: GrantJson[] }> {
    return this.#json(
      'GET',
      `/v1/institutions/${enc(institutionId)}/grants${queryString({ ...q })}`,
    );
  }
  memberGrants(
    publicKey: Uint8Array | string,
    q: ListQuery = {},
  ): Promise<{ grants: GrantJson[] }> {
    return this.#json('GET', `/v1/members/${hexOf(publicKey)}/grants${queryString({ ...q })}`);
  }
  institutionRecords(
    institutionId: string,
    q: ListQuery = {},
  ): Promise<{ records: RecordSummaryJson[] }> {
    return this.#json(
      'GET',
      `/v1/institutions/${enc(institutionId)}/records${queryString({ ...q })}`,
    );
  }

  // ---- referrals, members

  referral(referralId: string): Promise<{ referral: ReferralJson }> {
    return this.#json('GET', `/v1/referrals/${enc(referralId)}`);
  }
  referrals(
    institutionId: string,
    q: ListQuery & { direction?: 'incoming' | 'outgoing'; open?: boolean } = {},
  ): Promise<{ referrals: ReferralJson[] }> {
    const { open, ...rest } = q;
    return this.#json(
      'GET',
      `/v1/institutions/${enc(institutionId)}/referrals${queryString({ ...rest, open: open === undefined ? undefined : String(open) })}`,
    );
  }
  inbox(q: ListQuery = {}): Promise<{ institution: string; referrals: ReferralJson[] }> {
    return this.#json('GET', `/v1/referrals/inbox${queryString({ ...q })}`);
  }
  member(
    publicKey: Uint8Array | string,
  ): Promise<{ member: MemberJson; valid: boolean; invalidReason?: string }> {
    return this.#json('GET', `/v1/members/${hexOf(publicKey)}`);
  }
  members(
    institutionId: string,
    q: ListQuery = {},
  ): Promise<{ members: (MemberJson & { valid: boolean })[] }> {
    return this.#json(
      'GET',
      `/v1/institutions/${enc(institutionId)}/members${queryString({ ...q })}`,
    );
  }

  // ---- audit, statistics

  auditRecord(
    recordId: string,
    q: ListQuery = {},
  ): Promise<{ recordId: string; events: AuditEventJson[] }> {
    return this.#json('GET', `/v1/audit/records/${enc(recordId)}${queryString({ ...q })}`);
  }
  auditPatient(
    pseudonym: Uint8Array | string,
    q: ListQuery = {},
  ): Promise<{ patient: string; events: AuditEventJson[] }> {
    return this.#json('GET', `/v1/audit/patients/${hexOf(pseudonym)}${queryString({ ...q })}`);
  }
  auditInstitution(
    institutionId: string,
    q: ListQuery = {},
  ): Promise<{ institution: string; events: AuditEventJson[] }> {
    return this.#json(
      'GET',
      `/v1/audit/institutions/${enc(institutionId)}${queryString({ ...q })}`,
    );
  }
  statistics(q: StatisticsQueryParams = {}): Promise<StatisticsJson> {
    return this.#json('GET', `/v1/statistics${queryString({ ...q })}`);
  }

  // ---- referral events

  /** Opens `/v1/medical/events`; `onMessage` gets each referral message in commit order. */
  subscribeReferrals(
    onMessage: (message: Extract<ReferralStreamMessage, { type: 'referral' }>) => void,
  ): ReferralSubscription {
    const path = '/v1/medical/events';
    const url = `${this.baseUrl.replace(/^http/, 'ws')}${path}`;
    const socket = new WebSocket(url, {
      headers: { [SIGNATURE_HEADER]: this.signatureFor('GET', path) },
      handshakeTimeout: this.#timeoutMs,
      maxPayload: 4 * 1024 * 1024,
    });
    let resolveReady!: (hello: Extract<ReferralStreamMessage, { type: 'hello' }>) => void;
    let rejectReady!: (err: unknown) => void;
    const ready = new Promise<Extract<ReferralStreamMessage, { type: 'hello' }>>(
      (resolve, reject) => {
        resolveReady = resolve;
        rejectReady = reject;
      },
    );
    ready.catch(() => undefined);
    let resolveClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    socket.on('unexpected-response', (_request, response) => {
      // the refusal is a JSON error body: pass its code on (bounded read)
      const status = response.statusCode ?? 0;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      response.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        rejectReady(
          isErrorBody(parsed)
            ? new ApiClientError(
                parsed.error.code,
                parsed.error.message,
                status,
                parsed.error.details ?? {},
              )
            : new ApiClientError(
                ApiErrorCode.badResponse,
                `referral stream refused with HTTP ${status}`,
                status,
              ),
        );
        socket.terminate();
      });
    });
    socket.on('error', (err) => {
      rejectReady(
        new ApiClientError(ApiErrorCode.unreachable, `referral stream: ${err.message}`, 0),
      );
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
      let message: { readonly type?: unknown };
      try {
        message = JSON.parse(text) as { readonly type?: unknown };
      } catch {
        return;
      }
      if (message.type === 'hello') {
        resolveReady(message as Extract<ReferralStreamMessage, { type: 'hello' }>);
      } else if (message.type === 'referral') {
        onMessage(message as Extract<ReferralStreamMessage, { type: 'referral' }>);
      }
    });
    socket.on('close', () => {
      rejectReady(
        new ApiClientError(ApiErrorCode.unreachable, 'referral stream closed before hello', 0),
      );
      resolveClosed();
    });
    return {
      ready,
      close: async () => {
        if (socket.readyState === WebSocket.CLOSED) return;
        const timer = setTimeout(() => {
          socket.terminate();
        }, 1000);
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
        else socket.close(1000);
        await closed;
        clearTimeout(timer);
      },
    };
  }

  // ---- plumbing

  /** The path as the server sees it: the base URL's own path prefix plus `path`. */
  #pathOnServer(path: string): string {
    const prefix = new URL(this.baseUrl).pathname.replace(/\/+$/, '');
    return `${prefix}${path}`;
  }

  async #json<T>(method: string, path: string, body?: Uint8Array): Promise<T> {
    const signature = this.signatureFor(method, path, body);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let response: HttpAnswer;
    try {
      response = await this.#transport(`${this.baseUrl}${path}`, {
        method,
        signal: timeout,
        headers: {
          [SIGNATURE_HEADER]: signature,
          ...(body === undefined ? {} : { 'content-type': MEDIA_CBOR }),
        },
        body: body ?? null,
      });
    } catch (err) {
      if (timeout.aborted) {
        throw new ApiClientError(
          ApiErrorCode.timeout,
          `${method} ${path}: no response within ${this.#timeoutMs} ms`,
          0,
        );
      }
      throw new ApiClientError(
        ApiErrorCode.unreachable,
        `${method} ${path}: ${this.baseUrl} unreachable (${(err as Error).message})`,
        0,
        {},
        { cause: err },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      if (isErrorBody(parsed)) {
        throw new ApiClientError(
          parsed.error.code,
          parsed.error.message,
          response.status,
          parsed.error.details ?? {},
        );
      }
      throw new ApiClientError(
        ApiErrorCode.badResponse,
        `${method} ${path}: HTTP ${response.status} without an error body`,
        response.status,
      );
    }
    if (parsed === undefined) {
      throw new ApiClientError(
        ApiErrorCode.badResponse,
        `${method} ${path}: response is not JSON`,
        response.status,
      );
    }
    return parsed as T;
  }
}

function hexOf(value: Uint8Array | string): string {
  return typeof value === 'string' ? value : toHex(value);
}
