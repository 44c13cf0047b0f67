/**
 * Errors of the p2p layer. Messages name peers by peer id (public) and
 * protocols by name; they never carry message contents.
 */
import { MedchainError } from '../src/errors.js';
import type { ErrorDetails } from '../src/errors.js';

export const P2pErrorCode = {
  /** Options passed to the host are malformed (names the field). */
  invalidOptions: 'P2P_INVALID_OPTIONS',
  /** A message is larger than the limit for its protocol; refused before anything was sent. */
  messageTooLarge: 'P2P_MESSAGE_TOO_LARGE',
  /** A listen address could not be bound (in use, not local, malformed for TCP). */
  listenFailed: 'P2P_LISTEN_FAILED',
  /** The host is not running (not yet started, or stopped). */
  notStarted: 'P2P_NOT_STARTED',
  /** The peer is not in the current membership. */
  notMember: 'P2P_NOT_MEMBER',
  /** The peer is a member but no connection to it is open right now. */
  peerNotConnected: 'P2P_PEER_NOT_CONNECTED',
  /** A request got no response within its timeout. */
  requestTimeout: 'P2P_REQUEST_TIMEOUT',
  /** The caller aborted a request. */
  requestAborted: 'P2P_REQUEST_ABORTED',
  /** A request's stream failed (reset, closed early, malformed response). */
  requestFailed: 'P2P_REQUEST_FAILED',
  /** A response was larger than `maxResponseBytes`. */
  responseTooLarge: 'P2P_RESPONSE_TOO_LARGE',
  /** The remote answered with an error frame; `remoteCode`/`remoteMessage` say what it was. */
  remoteError: 'P2P_REMOTE_ERROR',
  /** A frame on a stream was malformed (bad length prefix, empty frame, bad status byte). */
  malformedFrame: 'P2P_MALFORMED_FRAME',
  /** Publishing to a gossip topic failed inside gossipsub. */
  publishFailed: 'P2P_PUBLISH_FAILED',
} as const;
export type P2pErrorCode = (typeof P2pErrorCode)[keyof typeof P2pErrorCode];

export class P2pError extends MedchainError {
  declare readonly code: P2pErrorCode;

  constructor(
    code: P2pErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}

/** Codes the remote side of a request/response protocol may send back (a short upper-case id). */
const REMOTE_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const MAX_REMOTE_MESSAGE_CHARS = 512;

/**
 * The remote answered a request with an error frame. `code` is always
 * `P2P_REMOTE_ERROR`; the remote's own code and message are `remoteCode` and
 * `remoteMessage` (sanitised: a remote cannot inject arbitrary codes or long
 * text into our logs).
 */
export class P2pRemoteError extends P2pError {
  readonly remoteCode: string;
  readonly remoteMessage: string;

  constructor(remoteCode: string, remoteMessage: string, details: ErrorDetails = {}) {
    const code = REMOTE_CODE_PATTERN.test(remoteCode) ? remoteCode : 'UNKNOWN';
    const message = remoteMessage.slice(0, MAX_REMOTE_MESSAGE_CHARS);
    super(P2pErrorCode.remoteError, `remote error ${code}: ${message}`, {
      ...details,
      remoteCode: code,
      remoteMessage: message,
    });
    this.remoteCode = code;
    this.remoteMessage = message;
  }
}

export function isRemoteCode(code: string): boolean {
  return REMOTE_CODE_PATTERN.test(code);
}
