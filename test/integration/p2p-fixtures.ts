/**
 * Helpers for the p2p tests: deterministic peer keys, recording handlers, and
 * a small alliance of real hosts on 127.0.0.1 (ephemeral ports). Hosts start
 * with the member list but no addresses, then learn everyone's listen
 * addresses through `setMembers` — which also exercises that path.
 */
import { expect } from 'vitest';
import { MedchainError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { MemberPeer, P2pLimits } from '../../p2p/config.js';
import { P2pHost } from '../../p2p/host.js';
import type { GossipVerdict, P2pHandlers } from '../../p2p/host.js';
import { peerKeyFromSeed } from '../../p2p/peer-key.js';
import type { PeerKey } from '../../p2p/peer-key.js';

export const CHAIN_ID = 'p2p-test';
export const TEST_REDIAL_MS = 100;

export async function testPeerKey(index: number): Promise<PeerKey> {
  const seed = new Uint8Array(32);
  seed[0] = 0x70;
  seed[1] = index;
  return peerKeyFromSeed(seed);
}

/** Waits until `condition()` holds, polling, failing with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  condition: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; ; round++) {
    if (condition()) return;
    if (Date.now() > deadline) expect.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5 + round, 25)));
  }
}

export interface Received {
  readonly from: string;
  readonly bytes: Uint8Array;
}

/** Handlers that record every call; verdicts and request behaviour are settable per test. */
export class RecordingHandlers implements P2pHandlers {
  readonly consensus: Received[] = [];
  readonly txBundles: Received[] = [];
  readonly blocks: Received[] = [];
  readonly syncRequests: Received[] = [];
  readonly vaultRequests: Received[] = [];
  verdict: (bytes: Uint8Array) => GossipVerdict = () => 'accept';
  sync: (from: string, bytes: Uint8Array, signal: AbortSignal) => Promise<Uint8Array> = (
    _f,
    bytes,
  ) => Promise.resolve(new Uint8Array([0x53, ...bytes]));
  vault: (from: string, bytes: Uint8Array, signal: AbortSignal) => Promise<Uint8Array> = (
    _f,
    bytes,
  ) => Promise.resolve(new Uint8Array([0x56, ...bytes]));

  onConsensusMessage(fromPeerId: string, bytes: Uint8Array): void {
    this.consensus.push({ from: fromPeerId, bytes });
  }
  onTxBundle(fromPeerId: string, bytes: Uint8Array): GossipVerdict {
    this.txBundles.push({ from: fromPeerId, bytes });
    return this.verdict(bytes);
  }
  onBlock(fromPeerId: string, bytes: Uint8Array): GossipVerdict {
    this.blocks.push({ from: fromPeerId, bytes });
    return this.verdict(bytes);
  }
  onSyncRequest(fromPeerId: string, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    this.syncRequests.push({ from: fromPeerId, bytes });
    return this.sync(fromPeerId, bytes, signal);
  }
  onVaultRequest(fromPeerId: string, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    this.vaultRequests.push({ from: fromPeerId, bytes });
    return this.vault(fromPeerId, bytes, signal);
  }

  /** Every peer id any handler was ever called with. */
  allSenders(): Set<string> {
    return new Set(
      [this.consensus, this.txBundles, this.blocks, this.syncRequests, this.vaultRequests]
        .flat()
        .map((r) => r.from),
    );
  }
}

export class TestError extends MedchainError {}

export interface TestNode {
  readonly key: PeerKey;
  readonly host: P2pHost;
  readonly handlers: RecordingHandlers;
}

export interface NodeOptions {
  readonly listen?: readonly string[];
  readonly limits?: Partial<P2pLimits>;
  readonly requestTimeoutMs?: number;
  readonly peerBanMs?: number;
  readonly subscribe?: { readonly txs?: boolean; readonly blocks?: boolean };
}

export async function createNode(
  key: PeerKey,
  members: readonly MemberPeer[],
  options: NodeOptions = {},
): Promise<TestNode> {
  const handlers = new RecordingHandlers();
  const host = await P2pHost.create(
    {
      chainId: CHAIN_ID,
      peerKey: key,
      listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      members,
      logger: silentLogger(),
      redialIntervalMs: TEST_REDIAL_MS,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.peerBanMs === undefined ? {} : { peerBanMs: options.peerBanMs }),
      ...(options.subscribe === undefined ? {} : { subscribe: options.subscribe }),
    },
    handlers,
  );
  return { key, host, handlers };
}

export function memberOf(
  node: { key: PeerKey; host?: P2pHost },
  addrs?: readonly string[],
): MemberPeer {
  return {
    peerId: node.key.peerId,
    addrs: addrs ?? node.host?.listenAddresses() ?? [],
    voting: true,
  };
}

/**
 * Starts `count` hosts that all list each other, and waits until every pair is
 * connected. `options[i]` configures host i.
 */
export async function startAlliance(
  count: number,
  options: NodeOptions[] = [],
): Promise<TestNode[]> {
  const keys = await Promise.all(Array.from({ length: count }, (_, i) => testPeerKey(i)));
  const bare = keys.map((key) => ({ peerId: key.peerId, addrs: [], voting: true }));
  const nodes = await Promise.all(keys.map((key, i) => createNode(key, bare, options[i] ?? {})));
  await Promise.all(nodes.map((n) => n.host.start()));
  const members = nodes.map((n) => memberOf(n));
  for (const n of nodes) n.host.setMembers(members);
  await waitFor('every host connected to every other', () =>
    nodes.every((n) => n.host.connectedPeers().length === count - 1),
  );
  return nodes;
}

export async function stopAll(nodes: readonly { host: P2pHost }[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.host.stop()));
}

/** Waits until every host sees every other as subscribed to both topics. */
export async function waitForGossipMesh(nodes: readonly TestNode[]): Promise<void> {
  await waitFor('gossip subscriptions to propagate', () =>
    nodes.every(
      (n) =>
        n.host.gossipSubscribers('txs').length === nodes.length - 1 &&
        n.host.gossipSubscribers('blocks').length === nodes.length - 1,
    ),
  );
}

/** `length` bytes whose first 4 encode `index` (big-endian) and the rest `fill`. */
export function numbered(index: number, length = 256, fill = 0xab): Uint8Array {
  const bytes = new Uint8Array(length).fill(fill);
  new DataView(bytes.buffer).setUint32(0, index);
  return bytes;
}

export function indexOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}
