import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import {
  DEFAULT_P2P_LIMITS,
  protocolIds,
  resolveMembers,
  resolveP2pOptions,
} from '../../p2p/config.js';
import type { P2pOptions } from '../../p2p/config.js';
import { P2pError, P2pErrorCode, P2pRemoteError } from '../../p2p/errors.js';
import { peerKeyFromSeed } from '../../p2p/peer-key.js';
import {
  encodeErrorResponse,
  encodeOkResponse,
  parseResponse,
} from '../../p2p/request-response.js';
import { FrameDecoder } from '../../p2p/framing.js';
import { encode } from '../../src/codec/index.js';

const SELF = await peerKeyFromSeed(new Uint8Array(32).fill(1));
const OTHER = await peerKeyFromSeed(new Uint8Array(32).fill(2));

function base(overrides: Partial<P2pOptions> = {}): P2pOptions {
  return {
    chainId: 'alliance-1',
    peerKey: SELF,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    members: [],
    logger: silentLogger(),
    ...overrides,
  };
}

function failure(run: () => unknown): P2pError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(P2pError);
    return err as P2pError;
  }
  return expect.fail('expected a P2pError');
}

describe('p2p options', () => {
  it('names protocols and topics after the chain id', () => {
    expect(protocolIds('alliance-1')).toEqual({
      consensus: '/medchain/alliance-1/consensus/1',
      txBundles: '/medchain/alliance-1/tx-bundles/1',
      sync: '/medchain/alliance-1/sync/1',
      vault: '/medchain/alliance-1/vault/1',
      txsTopic: '/medchain/alliance-1/txs/1',
      blocksTopic: '/medchain/alliance-1/blocks/1',
    });
  });

  it('fills limit defaults and keeps overrides', () => {
    const resolved = resolveP2pOptions(base({ limits: { maxRequestBytes: 1234 } }));
    expect(resolved.limits).toEqual({ ...DEFAULT_P2P_LIMITS, maxRequestBytes: 1234 });
    expect(resolved.redialIntervalMs).toBe(5000);
  });

  it.each([
    [{ chainId: '' }, 'chainId'],
    [{ chainId: 'a/b' }, 'chainId'],
    [{ listen: ['not-a-multiaddr'] }, 'listen[0]'],
    [{ limits: { maxGossipMessageBytes: 0 } }, 'limits.maxGossipMessageBytes'],
    [{ limits: { maxResponseBytes: 1.5 } }, 'limits.maxResponseBytes'],
    [{ redialIntervalMs: 1 }, 'redialIntervalMs'],
  ] as [Partial<P2pOptions>, string][])('rejects %o naming %s', (overrides, field) => {
    const err = failure(() => resolveP2pOptions(base(overrides)));
    expect(err.code).toBe(P2pErrorCode.invalidOptions);
    expect(err.details['field']).toBe(field);
    expect(err.message.startsWith(`${field}:`)).toBe(true);
  });
});

describe('member list', () => {
  it('drops self and appends /p2p/<peerId> to each address', () => {
    const members = resolveMembers(
      [
        { peerId: SELF.peerId, addrs: ['/ip4/127.0.0.1/tcp/1'], voting: true },
        { peerId: OTHER.peerId, addrs: ['/ip4/127.0.0.1/tcp/2'], voting: false },
      ],
      SELF.peerId,
    );
    expect([...members.keys()]).toEqual([OTHER.peerId]);
    expect(members.get(OTHER.peerId)?.addrs.map(String)).toEqual([
      `/ip4/127.0.0.1/tcp/2/p2p/${OTHER.peerId}`,
    ]);
  });

  it.each([
    [[{ peerId: 'nope', addrs: [], voting: true }], 'members[0].peerId'],
    [[{ peerId: OTHER.peerId, addrs: [], voting: 'yes' }], 'members[0].voting'],
    [
      [
        { peerId: OTHER.peerId, addrs: ['/ip4/1.2.3.4/tcp/1'], voting: true },
        { peerId: OTHER.peerId, addrs: [], voting: true },
      ],
      'members[1].peerId',
    ],
    [
      [{ peerId: OTHER.peerId, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${SELF.peerId}`], voting: true }],
      'members[0].addrs[0]',
    ],
    [[{ peerId: OTHER.peerId, addrs: [7], voting: true }], 'members[0].addrs[0]'],
    [[null], 'members[0]'],
  ] as [unknown, string][])('rejects a bad member list naming %#: %s', (members, field) => {
    const err = failure(() => resolveMembers(members, SELF.peerId));
    expect(err.details['field']).toBe(field);
  });
});

describe('response frames', () => {
  function payloadOf(frame: Uint8Array): Uint8Array {
    const [payload] = new FrameDecoder(1 << 20).push(frame);
    return payload ?? expect.fail('no frame');
  }

  it('round-trips ok and error responses', () => {
    expect(parseResponse(payloadOf(encodeOkResponse(new Uint8Array([5, 6]))))).toEqual({
      ok: true,
      body: new Uint8Array([5, 6]),
    });
    expect(parseResponse(payloadOf(encodeErrorResponse('VAULT_DENIED', 'no grant')))).toEqual({
      ok: false,
      code: 'VAULT_DENIED',
      message: 'no grant',
    });
  });

  it('replaces a code that is not an upper-case id', () => {
    const parsed = parseResponse(payloadOf(encodeErrorResponse('lower case!', 'x')));
    expect(parsed).toEqual({ ok: false, code: 'P2P_HANDLER_FAILED', message: 'x' });
  });

  it('calls unknown status bytes and malformed error bodies malformed', () => {
    const bad = [
      new Uint8Array([7, 1, 2]),
      new Uint8Array([1, 0xff]),
      new Uint8Array([1, ...encode({ code: 'A' })]),
      new Uint8Array([1, ...encode({ code: 'A', message: 'm', extra: 1 })]),
      new Uint8Array([1, ...encode(['A', 'm'])]),
    ];
    for (const frame of bad) {
      const err = failure(() => parseResponse(frame));
      expect(err.code).toBe(P2pErrorCode.malformedFrame);
    }
  });

  it('sanitises remote errors: code pattern and message length', () => {
    const err = new P2pRemoteError('bad code\n', 'x'.repeat(2000));
    expect(err.code).toBe(P2pErrorCode.remoteError);
    expect(err.remoteCode).toBe('UNKNOWN');
    expect(err.remoteMessage).toHaveLength(512);
  });
});
