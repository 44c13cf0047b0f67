/**
 * Typed client for a node's HTTP API, over `node:http` (./http-transport.ts;
 * a `fetch` can replace it), and for its `/v1/events` WebSocket over `ws`.
 * Used by the CLI and the benchmark. Every failure is an `ApiClientError` carrying the server's error
 * code (or `API_UNREACHABLE`, `API_TIMEOUT`, `API_ABORTED`, `API_BAD_RESPONSE` when no
 * usable answer came back) and the HTTP status (0 without a response).
 */
import { WebSocket } from 'ws';
import { encode, toHex } from '../codec/index.js';
import { InvalidInputError } from '../errors.js';
import type { ErrorDetails } from '../errors.js';
import { encodeTransaction } from '../ledger/encoding.js';
import type { Transaction } from '../ledger/types.js';
import { ApiClientError, ApiErrorCode } from './errors.js';
import { fetchTransport, nodeHttpTransport } from './http-transport.js';
import type { HttpAnswer, HttpTransport } from './http-transport.js';
import type {
  BatchJson,
  BlockJson,
  EventJson,
  HealthJson,
  PeersJson,
  ReadyJson,
  StatusJson,
  SubmitJson,
  TxRecordJson,
} from './json.js';
import { MEDIA_CBOR } from './schemas.js';

export type BlockEventJson = Extract<EventJson, { type: 'block' }>;
export type HelloEventJson = Extract<EventJson, { type: 'hello' }>;

export interface MedchainClientOptions {
  /** Per-request deadline (default 10 s). */
  readonly timeoutMs?: number;
  /** Sends requests through this `fetch` instead of `node:http` (tests, proxies). */
  readonly fetch?: typeof fetch;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this request. */
  readonly timeoutMs?: number;
}

export interface SubscribeOptions {
  /** Called once when the stream ends, for whatever reason. */
  readonly onClose?: (info: { readonly code: number; readonly reason: string }) => void;
  /** Largest message accepted from the server (default 64 MiB). */
  readonly maxMessageBytes?: number;
}

export interface EventSubscription {
  /** Resolves with the server's hello (chain id and height at subscription); rejects if the connection fails. */
  readonly ready: Promise<HelloEventJson>;
  /** Resolves when the stream has ended. */
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  /** Ends the stream and waits until it has ended. */
  close(): Promise<void>;
}

export const DEFAULT_CLIENT_TIMEOUT_MS = 10_000;
const CLOSE_WAIT_MS = 1000;

type TxInput = Transaction | Uint8Array;

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Like `Promise.withResolvers` (not in Node 20 without the polyfill). */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function txBytes(tx: TxInput): Uint8Array {
  return tx instanceof Uint8Array ? tx : encodeTransaction(tx);
}

function isErrorBody(
  value: unknown,
): value is { error: { code: string; message: string; details?: ErrorDetails } } {
  if (value === null || typeof value !== 'object') return false;
  const error = (value as { error?: unknown }).error;
  return (
    error !== null &&
    typeof error === 'object' &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

export class MedchainClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly transport: HttpTransport;

  constructor(baseUrl: string, options: MedchainClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(baseUrl);
    } catch {
      throw new InvalidInputError('baseUrl', `not a URL: "${baseUrl.slice(0, 200)}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidInputError('baseUrl', `expected http: or https:, got ${parsed.protocol}`);
    }
    this.baseUrl = parsed.toString().replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new InvalidInputError('timeoutMs', 'must be a positive integer');
    }
    this.transport =
      options.fetch === undefined ? nodeHttpTransport : fetchTransport(options.fetch);
  }

  // -------------------------------------------------------------------------
  // routes

  status(options?: RequestOptions): Promise<StatusJson> {
    return this.json<StatusJson>('GET', '/v1/status', undefined, options);
  }

  async peers(options?: RequestOptions): Promise<PeersJson['peers']> {
    const body = await this.json<PeersJson>('GET', '/v1/peers', undefined, options);
    return body.peers;
  }

  /** Submits one transaction as canonical CBOR; `duplicate` is true if the node already had it. */
  submitTransaction(tx: TxInput, options?: RequestOptions): Promise<SubmitJson> {
    return this.json<SubmitJson>(
      'POST',
      '/v1/txs',
      { contentType: MEDIA_CBOR, body: txBytes(tx) },
      options,
    );
  }

  /** Submits many transactions in one request (a CBOR array); one result per transaction, in order. */
  submitBatch(txs: readonly TxInput[], options?: RequestOptions): Promise<BatchJson> {
    return this.json<BatchJson>(
      'POST',
      '/v1/txs/batch',
      { contentType: MEDIA_CBOR, body: encode(txs.map(txBytes)) },
      options,
    );
  }

  /** Throws `TX_NOT_FOUND` (404) for an unknown hash. */
  getTransaction(hash: Uint8Array | string, options?: RequestOptions): Promise<TxRecordJson> {
    const hex = typeof hash === 'string' ? hash : toHex(hash);
    return this.json<TxRecordJson>('GET', `/v1/txs/${encodeURIComponent(hex)}`, undefined, options);
  }

  /** Throws `BLOCK_NOT_FOUND` (404) above the latest height. */
  getBlock(height: number, options?: RequestOptions): Promise<BlockJson> {
    if (!Number.isSafeInteger(height) || height < 1) {
      throw new InvalidInputError('height', 'must be a positive integer');
    }
    return this.json<BlockJson>('GET', `/v1/blocks/${height}`, undefined, options);
  }

  latestBlock(options?: RequestOptions): Promise<BlockJson> {
    return this.json<BlockJson>('GET', '/v1/blocks/latest', undefined, options);
  }

  /** Resolves with the report whether the node is healthy (200) or halted (503). */
  health(options?: RequestOptions): Promise<HealthJson> {
    return this.json<HealthJson>('GET', '/healthz', undefined, options, [503]);
  }

  /** Resolves with the report whether the node is ready (200) or not (503). */
  readiness(options?: RequestOptions): Promise<ReadyJson> {
    return this.json<ReadyJson>('GET', '/readyz', undefined, options, [503]);
  }

  /** The Prometheus text. */
  async metrics(options?: RequestOptions): Promise<string> {
    const response = await this.request('GET', '/metrics', undefined, options);
    if (!response.ok) throw await this.errorOf(response);
    return this.text(response);
  }

  openapi(options?: RequestOptions): Promise<Readonly<Record<string, unknown>>> {
    return this.json<Readonly<Record<string, unknown>>>('GET', '/openapi.json', undefined, options);
  }

  /**
   * Polls `/v1/status` until the node reports at least `height`, every
   * `intervalMs` (default 100), failing with `API_TIMEOUT` after `timeoutMs`
   * (default 30 s).
   */
  async waitForHeight(
    height: number,
    options: { readonly timeoutMs?: number; readonly intervalMs?: number } = {},
  ): Promise<StatusJson> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const intervalMs = options.intervalMs ?? 100;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const status = await this.status({
        timeoutMs: Math.max(1, Math.min(this.timeoutMs, deadline - Date.now())),
      });
      if (status.height >= height) return status;
      if (Date.now() + intervalMs > deadline) {
        throw new ApiClientError(
          ApiErrorCode.timeout,
          `height ${height} not reached within ${timeoutMs} ms (at ${status.height})`,
          0,
          { height, reached: status.height, attempts: attempt + 1 },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  // -------------------------------------------------------------------------
  // events

  /** Opens the `/v1/events` stream; `onEvent` gets each committed block in order. */
  subscribe(
    onEvent: (event: BlockEventJson) => void,
    options: SubscribeOptions = {},
  ): EventSubscription {
    const url = `${this.baseUrl.replace(/^http/, 'ws')}/v1/events`;
    const socket = new WebSocket(url, {
      maxPayload: options.maxMessageBytes ?? 64 * 1024 * 1024,
      handshakeTimeout: this.timeoutMs,
    });
    const ready = deferred<HelloEventJson>();
    const closed = deferred<{ code: number; reason: string }>();
    let helloSeen = false;
    let failure: ApiClientError | undefined;

    socket.on('unexpected-response', (_request, response) => {
      failure = new ApiClientError(
        response.statusCode === 503 ? ApiErrorCode.tooManyClients : ApiErrorCode.badResponse,
        `event stream refused with HTTP ${response.statusCode ?? 0}`,
        response.statusCode ?? 0,
      );
      response.resume();
      socket.terminate();
    });
    socket.on('error', (err) => {
      failure ??= new ApiClientError(
        ApiErrorCode.unreachable,
        `event stream: ${err.message}`,
        0,
        {},
        { cause: err },
      );
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : (data instanceof ArrayBuffer ? Buffer.from(data) : data).toString('utf8');
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      const type = (message as { type?: unknown } | null)?.type;
      if (type === 'hello') {
        helloSeen = true;
        ready.resolve(message as HelloEventJson);
      } else if (type === 'block') {
        onEvent(message as BlockEventJson);
      }
    });
    socket.on('close', (code, reasonBytes) => {
      const info = { code, reason: reasonBytes.toString() };
      if (!helloSeen) {
        ready.reject(
          failure ??
            new ApiClientError(
              ApiErrorCode.unreachable,
              `event stream closed before hello (${code})`,
              0,
            ),
        );
      }
      options.onClose?.(info);
      closed.resolve(info);
    });
    // a caller that only awaits `closed` must not see an unhandled rejection
    ready.promise.catch(() => undefined);

    return {
      ready: ready.promise,
      closed: closed.promise,
      close: async () => {
        if (socket.readyState === WebSocket.CLOSED) return;
        const timer = setTimeout(() => {
          socket.terminate();
        }, CLOSE_WAIT_MS);
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
        else socket.close(1000);
        await closed.promise;
        clearTimeout(timer);
      },
    };
  }

  // -------------------------------------------------------------------------
  // plumbing

  private async json<T>(
    method: string,
    path: string,
    body: { contentType: string; body: Uint8Array } | undefined,
    options: RequestOptions | undefined,
    acceptStatuses: readonly number[] = [],
  ): Promise<T> {
    const response = await this.request(method, path, body, options);
    if (!response.ok && !acceptStatuses.includes(response.status)) {
      throw await this.errorOf(response);
    }
    const text = await this.text(response);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiClientError(
        ApiErrorCode.badResponse,
        `${method} ${path}: response is not JSON`,
        response.status,
      );
    }
  }

  private async request(
    method: string,
    path: string,
    body: { contentType: string; body: Uint8Array } | undefined,
    options: RequestOptions = {},
  ): Promise<HttpAnswer> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal =
      options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    try {
      return await this.transport(`${this.baseUrl}${path}`, {
        method,
        signal,
        headers: body === undefined ? {} : { 'content-type': body.contentType },
        body: body === undefined ? null : body.body,
      });
    } catch (err) {
      if (timeout.aborted) {
        throw new ApiClientError(
          ApiErrorCode.timeout,
          `${method} ${path}: no response within ${timeoutMs} ms`,
          0,
          { timeoutMs },
          { cause: err },
        );
      }
      if (options.signal?.aborted === true) {
        throw new ApiClientError(
          ApiErrorCode.aborted,
          `${method} ${path}: aborted by the caller`,
          0,
          {},
          { cause: err },
        );
      }
      const failure = err as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
      const code = failure.code ?? failure.cause?.code;
      const reason = typeof code === 'string' ? code : String(failure.message);
      throw new ApiClientError(
        ApiErrorCode.unreachable,
        `${method} ${path}: ${this.baseUrl} unreachable (${reason})`,
        0,
        {},
        { cause: err },
      );
    }
  }

  private async text(response: HttpAnswer): Promise<string> {
    try {
      return await response.text();
    } catch (err) {
      throw new ApiClientError(
        ApiErrorCode.badResponse,
        `response body could not be read: ${(err as Error).message}`,
        response.status,
        {},
        { cause: err },
      );
    }
  }

  private async errorOf(response: HttpAnswer): Promise<ApiClientError> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await response.text());
    } catch {
      parsed = undefined;
    }
    if (isErrorBody(parsed)) {
      const { code, message, details } = parsed.error;
      return new ApiClientError(code, message, response.status, details ?? {});
    }
    return new ApiClientError(
      ApiErrorCode.badResponse,
      `HTTP ${response.status} without an error body`,
      response.status,
    );
  }
}
