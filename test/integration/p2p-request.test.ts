/**
 * Sync and vault request/response between real hosts: round trips, error
 * responses with code and message, timeouts and aborts, and size limits on
 * both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P2pError, P2pErrorCode, P2pRemoteError } from '../../p2p/errors.js';
import { TestError, startAlliance, stopAll, waitFor } from './p2p-fixtures.js';
import type { TestNode } from './p2p-fixtures.js';

async function failure(promise: Promise<unknown>): Promise<P2pError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(P2pError);
  return err as P2pError;
}

async function remoteFailure(promise: Promise<unknown>): Promise<P2pRemoteError> {
  const err = await failure(promise);
  if (!(err instanceof P2pRemoteError))
    return expect.fail(`expected a remote error, got ${err.code}`);
  return err;
}

describe('request/response (3 hosts)', () => {
  let nodes: TestNode[];
  let a: TestNode;
  let b: TestNode;
  let c: TestNode;
  beforeAll(async () => {
    nodes = await startAlliance(3, [
      { limits: { maxResponseBytes: 100_000, maxRequestBytes: 2000 } },
      { limits: { maxResponseBytes: 50_000 } },
      { limits: { maxRequestBytes: 100 } },
    ]);
    [a, b, c] = nodes as [TestNode, TestNode, TestNode];
  });
  afterAll(async () => {
    await stopAll(nodes);
  });

  it('round-trips sync and vault requests', async () => {
    const sync = await a.host.request('sync', b.key.peerId, new Uint8Array([1, 2, 3]));
    expect(sync).toEqual(new Uint8Array([0x53, 1, 2, 3]));
    const vault = await a.host.request('vault', b.key.peerId, new Uint8Array([4]));
    expect(vault).toEqual(new Uint8Array([0x56, 4]));
    expect(b.handlers.syncRequests).toEqual([
      { from: a.key.peerId, bytes: new Uint8Array([1, 2, 3]) },
    ]);
    expect(b.handlers.vaultRequests).toEqual([{ from: a.key.peerId, bytes: new Uint8Array([4]) }]);
    expect(a.host.stats.sync.requestsOut).toBe(1);
    expect(b.host.stats.sync.requestsIn).toBe(1);
    expect(b.host.stats.vault.requestsIn).toBe(1);
  });

  it('serves concurrent requests from several peers', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).host.request('sync', c.key.peerId, new Uint8Array([i + 1])),
      ),
    );
    expect(results.map((r) => r[1])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('carries an error response as code + message', async () => {
    b.handlers.vault = () =>
      Promise.reject(new TestError('VAULT_ACCESS_DENIED', 'no live grant for this record'));
    const err = await remoteFailure(a.host.request('vault', b.key.peerId, new Uint8Array([1])));
    expect(err.code).toBe(P2pErrorCode.remoteError);
    expect(err.remoteCode).toBe('VAULT_ACCESS_DENIED');
    expect(err.remoteMessage).toBe('no live grant for this record');
    expect(err.details['peerId']).toBe(b.key.peerId);
    expect(b.host.stats.vault.errorResponsesOut).toBeGreaterThanOrEqual(1);
    expect(a.host.stats.vault.errorResponsesIn).toBeGreaterThanOrEqual(1);
  });

  it('hides the details of a handler crash behind P2P_HANDLER_FAILED', async () => {
    b.handlers.sync = () => Promise.reject(new TypeError('secret internal state'));
    const err = await remoteFailure(a.host.request('sync', b.key.peerId, new Uint8Array([1])));
    expect(err.remoteCode).toBe('P2P_HANDLER_FAILED');
    expect(err.remoteMessage).toBe('internal error');
    b.handlers.sync = (_f, bytes) => Promise.resolve(new Uint8Array([0x53, ...bytes]));
  });

  it('honours timeouts and tells the handler through its signal', async () => {
    let handlerAborted = false;
    b.handlers.sync = (_f, _bytes, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          handlerAborted = true;
          reject(new TestError('ABORTED', 'aborted'));
        });
      });
    const started = Date.now();
    const err = await failure(
      a.host.request('sync', b.key.peerId, new Uint8Array([1]), { timeoutMs: 200 }),
    );
    expect(err.code).toBe(P2pErrorCode.requestTimeout);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(a.host.stats.sync.timeouts).toBe(1);
    await waitFor('the handler sees the abort', () => handlerAborted);
    b.handlers.sync = (_f, bytes) => Promise.resolve(new Uint8Array([0x53, ...bytes]));
  });

  it('honours the caller’s abort signal', async () => {
    b.handlers.sync = () => new Promise(() => undefined);
    const controller = new AbortController();
    const pending = a.host.request('sync', b.key.peerId, new Uint8Array([1]), {
      signal: controller.signal,
    });
    controller.abort();
    const err = await failure(pending);
    expect(err.code).toBe(P2pErrorCode.requestAborted);
    const already = await failure(
      a.host.request('sync', b.key.peerId, new Uint8Array([1]), { signal: AbortSignal.abort() }),
    );
    expect(already.code).toBe(P2pErrorCode.requestAborted);
    b.handlers.sync = (_f, bytes) => Promise.resolve(new Uint8Array([0x53, ...bytes]));
  });

  it('refuses a response over the requester’s limit', async () => {
    // c may send up to 16 MiB; a reads at most 100 000.
    c.handlers.sync = () => Promise.resolve(new Uint8Array(100_001).fill(7));
    const before = a.host.stats.drops.oversize;
    const err = await failure(a.host.request('sync', c.key.peerId, new Uint8Array([1])));
    expect(err.code).toBe(P2pErrorCode.responseTooLarge);
    expect(err.message).toContain('100000');
    expect(a.host.stats.drops.oversize).toBe(before + 1);
    // Exactly the limit is fine.
    c.handlers.sync = () => Promise.resolve(new Uint8Array(100_000).fill(8));
    const ok = await a.host.request('sync', c.key.peerId, new Uint8Array([1]));
    expect(ok.length).toBe(100_000);
    expect(ok.every((x) => x === 8)).toBe(true);
    c.handlers.sync = (_f, bytes) => Promise.resolve(new Uint8Array([0x53, ...bytes]));
  });

  it('answers P2P_RESPONSE_TOO_LARGE when the handler’s response is over the responder’s limit', async () => {
    b.handlers.sync = () => Promise.resolve(new Uint8Array(50_001));
    const err = await remoteFailure(a.host.request('sync', b.key.peerId, new Uint8Array([1])));
    expect(err.remoteCode).toBe(P2pErrorCode.responseTooLarge);
    b.handlers.sync = (_f, bytes) => Promise.resolve(new Uint8Array([0x53, ...bytes]));
  });

  it('refuses a request over the local limit, and the responder enforces its own', async () => {
    const local = await failure(a.host.request('sync', b.key.peerId, new Uint8Array(2001)));
    expect(local.code).toBe(P2pErrorCode.messageTooLarge);
    // c accepts at most 100 bytes: a may send 2000, c answers with an error frame.
    const before = c.host.stats.drops.oversize;
    const remote = await failure(a.host.request('sync', c.key.peerId, new Uint8Array(500)));
    expect(c.host.stats.drops.oversize).toBe(before + 1);
    expect(c.handlers.syncRequests.some((r) => r.bytes.length === 500)).toBe(false);
    // Either the error frame arrives, or the reset beats it: both are refusals.
    expect([P2pErrorCode.remoteError, P2pErrorCode.requestFailed]).toContain(remote.code);
    if (remote instanceof P2pRemoteError)
      expect(remote.remoteCode).toBe(P2pErrorCode.messageTooLarge);
  });

  it('fails fast for non-members and bad input', async () => {
    const stranger = '12D3KooWNotAMemberNotAMemberNotAMemberNotAMember';
    expect((await failure(a.host.request('sync', stranger, new Uint8Array([1])))).code).toBe(
      P2pErrorCode.notMember,
    );
    await expect(a.host.request('sync', b.key.peerId, new Uint8Array())).rejects.toThrow(
      /bytes: must not be empty/,
    );
    await expect(
      a.host.request('blocks' as 'sync', b.key.peerId, new Uint8Array([1])),
    ).rejects.toThrow(/protocol/);
  });
});
