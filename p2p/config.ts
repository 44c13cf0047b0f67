/**
 * Options of the p2p host: protocol ids and topics, size limits with their
 * defaults, and `validateP2pOptions`, which names the bad field.
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Logger } from 'pino';
import { MAX_FRAME_BYTES } from './framing.js';
import { P2pError, P2pErrorCode } from './errors.js';
import type { PeerKey } from './peer-key.js';

/** A member of the alliance network: validators (`voting`) and observers. */
export interface MemberPeer {
  /** base58btc libp2p peer id, `12D3KooW…` (bound to the institution in genesis). */
  readonly peerId: string;
  /** Multiaddrs to dial, e.g. `/ip4/127.0.0.1/tcp/7101` (a `/p2p/<peerId>` suffix is optional). */
  readonly addrs: readonly string[];
  readonly voting: boolean;
}

/** Size limits on every inbound and outbound message, in bytes. */
export interface P2pLimits {
  /** One consensus message on a direct stream. */
  maxConsensusMessageBytes: number;
  /** One gossip message (a transaction bundle, or a block with its certificate). */
  maxGossipMessageBytes: number;
  /** One sync or vault request. */
  maxRequestBytes: number;
  /** One sync or vault response. */
  maxResponseBytes: number;
}

export const DEFAULT_P2P_LIMITS: Readonly<P2pLimits> = Object.freeze({
  maxConsensusMessageBytes: 4 * 1024 * 1024,
  maxGossipMessageBytes: 4 * 1024 * 1024,
  maxRequestBytes: 64 * 1024,
  maxResponseBytes: 16 * 1024 * 1024,
});

export interface P2pOptions {
  /** Names every protocol and topic: `/medchain/<chainId>/…`. */
  readonly chainId: string;
  readonly peerKey: PeerKey;
  /** Multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/7101` (port 0: any free port). */
  readonly listen: readonly string[];
  /** The allowlist: every peer we accept and dial (self may be included and is ignored). */
  readonly members: readonly MemberPeer[];
  readonly limits?: Partial<P2pLimits>;
  /** pino; the host logs through `child({ module: 'p2p' })`. */
  readonly logger: Logger;
  /** How often members that are not connected are dialled again (default 5000 ms). */
  readonly redialIntervalMs?: number;
  /**
   * Gossip topics to subscribe to (default both). A node that does not need a
   * topic's messages (validators get blocks from consensus) neither receives nor
   * forwards them; it can still publish to it.
   */
  readonly subscribe?: { readonly txs?: boolean; readonly blocks?: boolean };
  /** Default timeout of `request()` when the caller gives none (default 10000 ms). */
  readonly requestTimeoutMs?: number;
  /** How long a member that keeps sending malformed frames is refused (default 60000 ms). */
  readonly peerBanMs?: number;
}

export const DEFAULT_REDIAL_INTERVAL_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_PEER_BAN_MS = 60_000;
/** This many malformed or oversize frames from one peer within the window get it banned. */
export const MISBEHAVIOUR_LIMIT = 5;
export const MISBEHAVIOUR_WINDOW_MS = 60_000;
/** Hot-stream backpressure: stop writing while this much is already buffered (FACTS.md). */
export const CONSENSUS_HIGH_WATER_BYTES = 1024 * 1024;
/** Upper bound on one batched write to a consensus stream. */
export const CONSENSUS_MAX_BATCH_BYTES = 256 * 1024;
/** Per-peer consensus outbox bounds; beyond them the oldest messages are dropped and counted. */
export const CONSENSUS_QUEUE_MAX_MESSAGES = 10_000;
export const CONSENSUS_QUEUE_MAX_BYTES = 16 * 1024 * 1024;
/** Allowance for gossipsub's RPC envelope (topic, ids, piggybacked control) around one message. */
export const GOSSIP_RPC_OVERHEAD_BYTES = 64 * 1024;
/** How long a responder waits for the request frame after a stream opens. */
export const REQUEST_READ_TIMEOUT_MS = 10_000;
/** Concurrent inbound streams per connection and protocol. */
export const MAX_INBOUND_REQUEST_STREAMS = 16;
export const MAX_INBOUND_CONSENSUS_STREAMS = 4;

export interface ProtocolIds {
  readonly consensus: string;
  readonly sync: string;
  readonly vault: string;
  /** Direct streams of transaction bundles (the node sends one copy to each validator). */
  readonly txBundles: string;
  readonly txsTopic: string;
  readonly blocksTopic: string;
}

const CHAIN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function protocolIds(chainId: string): ProtocolIds {
  const base = `/medchain/${chainId}`;
  return {
    consensus: `${base}/consensus/1`,
    txBundles: `${base}/tx-bundles/1`,
    sync: `${base}/sync/1`,
    vault: `${base}/vault/1`,
    txsTopic: `${base}/txs/1`,
    blocksTopic: `${base}/blocks/1`,
  };
}

/** A member after validation: parsed addrs, each ending in `/p2p/<peerId>`. */
export interface ResolvedMember {
  readonly peerId: string;
  readonly voting: boolean;
  readonly addrs: readonly Multiaddr[];
}

export interface ResolvedP2pOptions {
  readonly chainId: string;
  readonly protocols: ProtocolIds;
  readonly listen: readonly Multiaddr[];
  readonly limits: Readonly<P2pLimits>;
  readonly redialIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly peerBanMs: number;
  readonly subscribe: { readonly txs: boolean; readonly blocks: boolean };
}

function invalid(field: string, problem: string): never {
  throw new P2pError(P2pErrorCode.invalidOptions, `${field}: ${problem}`, { field });
}

function parseMultiaddr(field: string, value: unknown): Multiaddr {
  if (typeof value !== 'string' || value.length === 0)
    invalid(field, 'expected a multiaddr string');
  try {
    return multiaddr(value);
  } catch {
    return invalid(field, 'not a valid multiaddr');
  }
}

function positiveInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(field, `expected an integer in ${min}..${max}`);
  }
  return value;
}

/** Validates the member list; drops `selfPeerId`; every addr gets the `/p2p/<peerId>` suffix. */
export function resolveMembers(
  members: unknown,
  selfPeerId: string,
  field = 'members',
): Map<string, ResolvedMember> {
  if (!Array.isArray(members)) invalid(field, 'expected an array');
  const out = new Map<string, ResolvedMember>();
  const seen = new Set<string>();
  members.forEach((raw: unknown, index) => {
    const at = `${field}[${index}]`;
    if (typeof raw !== 'object' || raw === null) invalid(at, 'expected an object');
    const member = raw as Partial<Record<keyof MemberPeer, unknown>>;
    const peerId = member.peerId;
    if (typeof peerId !== 'string') invalid(`${at}.peerId`, 'expected a peer id string');
    try {
      const parsed = peerIdFromString(peerId);
      if (parsed.type !== 'Ed25519') invalid(`${at}.peerId`, 'expected an Ed25519 peer id');
    } catch (err) {
      if (err instanceof P2pError) throw err;
      invalid(`${at}.peerId`, 'not a valid peer id');
    }
    if (seen.has(peerId)) invalid(`${at}.peerId`, 'listed twice');
    seen.add(peerId);
    if (typeof member.voting !== 'boolean') invalid(`${at}.voting`, 'expected a boolean');
    if (!Array.isArray(member.addrs)) invalid(`${at}.addrs`, 'expected an array of multiaddrs');
    const addrs = member.addrs.map((value: unknown, i) => {
      const addr = parseMultiaddr(`${at}.addrs[${i}]`, value);
      const p2p = addr.getComponents().find((c) => c.name === 'p2p');
      if (p2p === undefined) return addr.encapsulate(`/p2p/${peerId}`);
      if (p2p.value !== peerId) invalid(`${at}.addrs[${i}]`, 'names another peer id');
      return addr;
    });
    if (peerId === selfPeerId) return;
    out.set(peerId, { peerId, voting: member.voting, addrs });
  });
  return out;
}

export function resolveP2pOptions(options: P2pOptions): ResolvedP2pOptions {
  if (typeof options.chainId !== 'string' || !CHAIN_ID_PATTERN.test(options.chainId)) {
    invalid(
      'chainId',
      'expected 1–64 characters of [A-Za-z0-9._-], starting with a letter or digit',
    );
  }
  if (!Array.isArray(options.listen)) invalid('listen', 'expected an array of multiaddrs');
  const listen = options.listen.map((value, i) => parseMultiaddr(`listen[${i}]`, value));
  const limits: P2pLimits = { ...DEFAULT_P2P_LIMITS };
  const given = options.limits ?? {};
  for (const key of Object.keys(DEFAULT_P2P_LIMITS) as (keyof P2pLimits)[]) {
    const value = given[key];
    if (value !== undefined)
      limits[key] = positiveInteger(`limits.${key}`, value, 1, MAX_FRAME_BYTES - 1);
  }
  const redialIntervalMs = positiveInteger(
    'redialIntervalMs',
    options.redialIntervalMs ?? DEFAULT_REDIAL_INTERVAL_MS,
    10,
    3_600_000,
  );
  const requestTimeoutMs = positiveInteger(
    'requestTimeoutMs',
    options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    1,
    3_600_000,
  );
  const peerBanMs = positiveInteger(
    'peerBanMs',
    options.peerBanMs ?? DEFAULT_PEER_BAN_MS,
    1,
    86_400_000,
  );
  return {
    chainId: options.chainId,
    protocols: protocolIds(options.chainId),
    listen,
    limits: Object.freeze(limits),
    redialIntervalMs,
    requestTimeoutMs,
    peerBanMs,
    subscribe: { txs: options.subscribe?.txs ?? true, blocks: options.subscribe?.blocks ?? true },
  };
}
