/**
 * `/medchain/<chainId>/sync/1` and `/vault/1`: one request, one response, on a
 * fresh stream each time.
 *
 *   requester → responder: one frame, the request bytes; then it closes its write side.
 *   responder → requester: one frame, `status ‖ body`:
 *     status 0x00: body = the response bytes;
 *     status 0x01: body = canonical CBOR `{ code, message }` (an error response).
 *
 * Frames use the varint framing of `framing.ts`. The requester reads at most
 * `maxResponseBytes` (+1 for the status byte); the responder reads at most
 * `maxRequestBytes` and refuses to send a response over `maxResponseBytes`,
 * answering `P2P_RESPONSE_TOO_LARGE` instead, so a node learns to ask for less.
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import type { Logger } from 'pino';
import { decode, encode } from '../src/codec/index.js';
import { MedchainError } from '../src/errors.js';
import { MAX_REMOTE_MESSAGE_CHARS, P2pError, P2pErrorCode, isRemoteCode } from './errors.js';
import { FrameDecoder, FrameError, encodeFrame } from './framing.js';

export const RESPONSE_STATUS_OK = 0x00;
export const RESPONSE_STATUS_ERROR = 0x01;
/** Error bodies are small: code + a short message. */
export const MAX_ERROR_BODY_BYTES = 2048;
export const HANDLER_FAILED_CODE = 'P2P_HANDLER_FAILED';

/**
 * Reads exactly one frame from `stream` (at most `maxFrameBytes`). Rejects with
 * a `FrameError` on a framing violation, a `P2pError` if the stream ends
 * first, or `signal.reason` when aborted. Bytes after the first frame are ignored.
 */
export function readOneFrame(
  stream: Stream,
  maxFrameBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const decoder = new FrameDecoder(maxFrameBytes);
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('end', onEnd);
      stream.removeEventListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (err: unknown): void => {
      if (finish()) reject(asError(err));
    };
    function onMessage(evt: StreamMessageEvent): void {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(evt.data);
      } catch (err) {
        fail(err);
        return;
      }
      const first = frames[0];
      if (first !== undefined && finish()) resolve(first);
    }
    function onEnd(): void {
      fail(new P2pError(P2pErrorCode.requestFailed, 'stream ended before a complete frame'));
    }
    function onClose(evt: StreamCloseEvent): void {
      const reason = evt.error === undefined ? 'closed' : `reset (${evt.error.name})`;
      fail(new P2pError(P2pErrorCode.requestFailed, `stream ${reason} before a complete frame`));
    }
    function onAbort(): void {
      fail(signal.reason);
    }
    if (signal.aborted) {
      fail(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort);
    stream.addEventListener('message', onMessage);
    stream.addEventListener('end', onEnd);
    stream.addEventListener('close', onClose);
    if (stream.readableEnded || (stream.status !== 'open' && stream.readBufferLength === 0))
      onEnd();
  });
}

/** `err` if it is an Error, else a `P2P_REQUEST_FAILED` wrapping it. */
export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new P2pError(P2pErrorCode.requestFailed, 'request failed', {}, { cause: err });
}

export type RawResponse =
  | { readonly ok: true; readonly body: Uint8Array }
  | { readonly ok: false; readonly code: string; readonly message: string };

export function encodeOkResponse(body: Uint8Array): Uint8Array {
  const payload = new Uint8Array(body.length + 1);
  payload[0] = RESPONSE_STATUS_OK;
  payload.set(body, 1);
  return encodeFrame(payload);
}

export function encodeErrorResponse(code: string, message: string): Uint8Array {
  const safeCode = isRemoteCode(code) ? code : HANDLER_FAILED_CODE;
  const body = encode({ code: safeCode, message: message.slice(0, MAX_REMOTE_MESSAGE_CHARS) });
  const payload = new Uint8Array(body.length + 1);
  payload[0] = RESPONSE_STATUS_ERROR;
  payload.set(body, 1);
  return encodeFrame(payload);
}

/** Parses a response frame; a malformed one is a `P2pError` (`P2P_MALFORMED_FRAME`). */
export function parseResponse(frame: Uint8Array): RawResponse {
  const status = frame[0];
  const body = frame.subarray(1);
  if (status === RESPONSE_STATUS_OK) return { ok: true, body: new Uint8Array(body) };
  if (status === RESPONSE_STATUS_ERROR && body.length <= MAX_ERROR_BODY_BYTES) {
    try {
      const value = decode(body, { maxBytes: MAX_ERROR_BODY_BYTES });
      if (
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        !(value instanceof Uint8Array)
      ) {
        const record = value as Readonly<Record<string, unknown>>;
        const { code, message } = record;
        if (
          typeof code === 'string' &&
          typeof message === 'string' &&
          Object.keys(record).length === 2
        ) {
          return { ok: false, code, message };
        }
      }
    } catch {
      // fall through: malformed
    }
  }
  throw new P2pError(P2pErrorCode.malformedFrame, 'malformed response frame', {
    status: status ?? -1,
  });
}

export interface RequestOptions {
  readonly maxResponseBytes: number;
  readonly signal: AbortSignal;
}

/** Writes the request on a fresh stream and reads the one response frame. */
export async function exchange(
  stream: Stream,
  request: Uint8Array,
  options: RequestOptions,
): Promise<RawResponse> {
  try {
    stream.send(encodeFrame(request));
    await stream.close({ signal: options.signal });
    const frame = await readOneFrame(stream, options.maxResponseBytes + 1, options.signal);
    return parseResponse(frame);
  } catch (err) {
    stream.abort(asError(err));
    throw err;
  }
}

export type RequestHandler = (
  fromPeerId: string,
  bytes: Uint8Array,
  signal: AbortSignal,
) => Promise<Uint8Array>;

export interface ServeDeps {
  readonly maxRequestBytes: number;
  readonly maxResponseBytes: number;
  readonly readTimeoutMs: number;
  /** Aborted when the host stops. */
  readonly hostSignal: AbortSignal;
  readonly handler: RequestHandler;
  readonly logger: Logger;
  onRequest(bytes: number): void;
  /** `bytes`: payload of an ok response (0 for an error response). */
  onResponse(bytes: number, isError: boolean): void;
  onFrameError(error: FrameError): void;
}

/** Answers one inbound request stream. Never throws: every failure ends in an error frame or a reset. */
export async function serveRequest(
  stream: Stream,
  fromPeerId: string,
  deps: ServeDeps,
): Promise<void> {
  const controller = new AbortController();
  const abortHandler = (): void => {
    controller.abort(new P2pError(P2pErrorCode.requestAborted, 'request stream closed'));
  };
  const onHostAbort = (): void => {
    controller.abort(deps.hostSignal.reason);
  };
  deps.hostSignal.addEventListener('abort', onHostAbort);
  stream.addEventListener('close', abortHandler);
  const readTimer = setTimeout(() => {
    controller.abort(new P2pError(P2pErrorCode.requestTimeout, 'no request frame in time'));
  }, deps.readTimeoutMs);
  try {
    let request: Uint8Array;
    try {
      request = await readOneFrame(stream, deps.maxRequestBytes, controller.signal);
    } catch (err) {
      if (err instanceof FrameError) {
        deps.onFrameError(err);
        await respond(stream, encodeErrorResponse(err.code, err.message), 0, true, deps);
        stream.abort(err);
      } else {
        stream.abort(asError(err));
      }
      return;
    } finally {
      clearTimeout(readTimer);
    }
    deps.onRequest(request.length);
    let frame: Uint8Array;
    let payloadBytes = 0;
    let isError = true;
    try {
      const response = await deps.handler(fromPeerId, request, controller.signal);
      if (!(response instanceof Uint8Array)) {
        throw new P2pError(P2pErrorCode.requestFailed, 'handler returned no bytes');
      }
      if (response.length > deps.maxResponseBytes) {
        frame = encodeErrorResponse(
          P2pErrorCode.responseTooLarge,
          `response of ${response.length} bytes exceeds the limit of ${deps.maxResponseBytes}`,
        );
      } else {
        frame = encodeOkResponse(response);
        payloadBytes = response.length;
        isError = false;
      }
    } catch (err) {
      if (err instanceof MedchainError) {
        frame = encodeErrorResponse(err.code, err.message);
      } else {
        deps.logger.error({ peerId: fromPeerId, err }, 'request handler threw a non-MedchainError');
        frame = encodeErrorResponse(HANDLER_FAILED_CODE, 'internal error');
      }
    }
    if (controller.signal.aborted) {
      stream.abort(new P2pError(P2pErrorCode.requestAborted, 'request aborted'));
      return;
    }
    await respond(stream, frame, payloadBytes, isError, deps);
  } finally {
    clearTimeout(readTimer);
    deps.hostSignal.removeEventListener('abort', onHostAbort);
    stream.removeEventListener('close', abortHandler);
  }
}

async function respond(
  stream: Stream,
  frame: Uint8Array,
  payloadBytes: number,
  isError: boolean,
  deps: ServeDeps,
): Promise<void> {
  try {
    stream.send(frame);
    deps.onResponse(payloadBytes, isError);
    await stream.close({ signal: deps.hostSignal });
  } catch (err) {
    deps.logger.debug({ err }, 'could not send response');
    stream.abort(asError(err));
  }
}
