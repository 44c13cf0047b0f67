/**
 * The typed client against a real server listening on 127.0.0.1:0: every
 * route round-trips, server error codes come back as `ApiClientError`s,
 * transport failures have their own codes, and the WebSocket stream delivers
 * blocks in order while a slow reader is dropped without hurting the others.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/codec/index.js';
import { InvalidInputError, MedchainError } from '../../src/errors.js';
import { decodeBlock, encodeTransaction } from '../../src/ledger/index.js';
import { MedchainClient } from '../../src/api/client.js';
import type { BlockEventJson } from '../../src/api/client.js';
import { ApiClientError } from '../../src/api/errors.js';
import { FakeNode, newTx, suite, testServer } from './api-fake-node.js';
import type { TestServer } from './api-fake-node.js';
import { CHAIN_ID, flipped } from './ledger-fixtures.js';

/** Waits for `condition` (polling every few ms) until `timeoutMs`; fails with `what`. */
async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new RangeError(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function expectClientError(
  promise: Promise<unknown>,
  code: string,
  status: number,
): Promise<ApiClientError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiClientError);
  expect(err).toBeInstanceOf(MedchainError);
  const apiError = err as ApiClientError;
  expect(apiError.code, apiError.message).toBe(code);
  expect(apiError.status).toBe(status);
  return apiError;
}

/** A port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe('client over a real listener', () => {
  let ctx: TestServer;
  let client: MedchainClient;

  beforeAll(async () => {
    ctx = testServer(new FakeNode({ mempoolCapacity: 5 }));
    const url = await ctx.server.listen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ctx.server.url).toBe(url);
    client = new MedchainClient(url, { timeoutMs: 5000 });
  });
  afterAll(async () => {
    await ctx.server.close();
  });

  it('round-trips status, peers, submit, batch, tx, blocks, health, readiness, metrics, openapi', async () => {
    const { node } = ctx;
    const status = await client.status();
    expect(status).toMatchObject({
      chainId: CHAIN_ID,
      height: node.latestHeight(),
      role: 'validator',
    });
    expect((await client.peers()).length).toBe(3);

    const tx = newTx();
    const submitted = await client.submitTransaction(tx);
    expect(submitted).toEqual({ hash: toHex(suite.hash(encodeTransaction(tx))), duplicate: false });
    expect(await client.submitTransaction(encodeTransaction(tx))).toEqual({
      ...submitted,
      duplicate: true,
    });

    const batch = await client.submitBatch([newTx(), encodeTransaction(newTx()), tx]);
    expect(batch).toMatchObject({ accepted: 2, duplicates: 1, rejected: 0 });

    const pending = await client.getTransaction(submitted.hash);
    expect(pending.status).toBe('pending');

    const block = node.commitBlock();
    const committed = await client.getTransaction(fromHex(submitted.hash));
    expect(committed).toMatchObject({
      status: 'committed',
      height: block.block.header.height,
      receipt: { code: 'OK' },
    });

    const byHeight = await client.getBlock(block.block.header.height);
    expect(byHeight.hash).toBe(toHex(block.hash));
    expect(byHeight.txCount).toBe(3);
    expect(decodeBlock(fromHex(byHeight.raw)).txs.length).toBe(3);
    expect((await client.latestBlock()).hash).toBe(byHeight.hash);

    expect(await client.health()).toEqual({ ok: true });
    node.healthReport = { ok: false, reason: 'halted' };
    expect(await client.health()).toEqual({ ok: false, reason: 'halted' });
    node.healthReport = { ok: true };
    node.readinessReport = { storeOpen: true, p2pStarted: true, synced: false };
    expect(await client.readiness()).toMatchObject({ ready: false, checks: { synced: false } });
    node.readinessReport = { storeOpen: true, p2pStarted: true, synced: true };
    expect((await client.readiness()).ready).toBe(true);

    const metrics = await client.metrics();
    expect(metrics).toContain('medchain_chain_height');
    expect(metrics).toContain('route="/v1/txs/batch"');
    const doc = await client.openapi();
    expect(doc.openapi).toBe('3.1.0');
  });

  it('surfaces the server error codes as ApiClientError', async () => {
    await expectClientError(client.getTransaction('ab'.repeat(32)), 'TX_NOT_FOUND', 404);
    await expectClientError(client.getTransaction('zz'), 'INVALID_INPUT', 400);
    const height = ctx.node.latestHeight();
    const missing = await expectClientError(client.getBlock(height + 10), 'BLOCK_NOT_FOUND', 404);
    expect(missing.details).toMatchObject({ height: height + 10 });

    const tx = newTx();
    const bad = await expectClientError(
      client.submitTransaction({ ...tx, signature: flipped(tx.signature) }),
      'LEDGER_BAD_SIGNATURE',
      400,
    );
    expect(bad.details.field).toBe('signature');
    await expectClientError(
      client.submitTransaction(Uint8Array.of(1, 2, 3)),
      'LEDGER_MALFORMED',
      400,
    );

    ctx.node.mempoolCapacity = 0;
    const full = await expectClientError(client.submitTransaction(newTx()), 'MEMPOOL_FULL', 503);
    expect(full.details.retryAfterSeconds).toBe(2);
    ctx.node.mempoolCapacity = 5;

    expect(() => client.getBlock(0)).toThrow(InvalidInputError);
  });

  it('waits for a height with a deadline', async () => {
    const target = ctx.node.latestHeight() + 1;
    const timer = setTimeout(() => ctx.node.commitBlock(), 30);
    const status = await client.waitForHeight(target, { timeoutMs: 5000, intervalMs: 10 });
    clearTimeout(timer);
    expect(status.height).toBe(target);
    await expectClientError(
      client.waitForHeight(target + 100, { timeoutMs: 60, intervalMs: 10 }),
      'API_TIMEOUT',
      0,
    );
  });
});

describe('client transport failures', () => {
  it('reports an unreachable node, a timeout and a non-JSON answer with their own codes', async () => {
    const port = await freePort();
    const unreachable = await expectClientError(
      new MedchainClient(`http://127.0.0.1:${port}`).status(),
      'API_UNREACHABLE',
      0,
    );
    expect(unreachable.message).toContain('ECONNREFUSED');

    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      await expectClientError(
        new MedchainClient(`http://127.0.0.1:${silentPort}`, { timeoutMs: 150 }).status(),
        'API_TIMEOUT',
        0,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }

    const fakeFetch =
      (body: string, status: number): typeof fetch =>
      () =>
        Promise.resolve(new Response(body, { status, headers: { 'content-type': 'text/html' } }));
    await expectClientError(
      new MedchainClient('http://127.0.0.1:1', { fetch: fakeFetch('<html>', 200) }).status(),
      'API_BAD_RESPONSE',
      200,
    );
    await expectClientError(
      new MedchainClient('http://127.0.0.1:1', {
        fetch: fakeFetch('<html>bad gateway</html>', 502),
      }).status(),
      'API_BAD_RESPONSE',
      502,
    );

    const aborted = new AbortController();
    aborted.abort();
    await expectClientError(
      new MedchainClient(`http://127.0.0.1:${port}`).status({ signal: aborted.signal }),
      'API_ABORTED',
      0,
    );
  });

  it('sends a byte body with its length over node:http and refuses an answer cut short', async () => {
    const seen: { length: string | undefined; bytes: number }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ length: req.headers['content-length'], bytes: Buffer.concat(chunks).length });
        if (req.url === '/v1/status') {
          // an answer in several chunks (no content-length): all of it is read
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"chainId":');
          res.end('"x"}');
          return;
        }
        // promises 100 bytes, sends 10, then drops the connection
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"results"', () => res.socket?.destroy());
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = new MedchainClient(
      `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    );
    try {
      expect(await client.status()).toEqual({ chainId: 'x' });
      const cut = await expectClientError(
        client.submitBatch([new Uint8Array(3000)]),
        'API_UNREACHABLE',
        0,
      );
      expect(cut.message).toContain('/v1/txs/batch');
      expect(seen[0]).toEqual({ length: undefined, bytes: 0 });
      expect(seen[1]?.length).toBe(String(seen[1]?.bytes));
      expect(seen[1]?.bytes).toBeGreaterThan(3000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('rejects a base URL that is not http(s)', () => {
    expect(() => new MedchainClient('not a url')).toThrow(InvalidInputError);
    expect(() => new MedchainClient('ftp://127.0.0.1')).toThrow(/baseUrl/);
    expect(() => new MedchainClient('http://127.0.0.1', { timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(new MedchainClient('http://127.0.0.1:8080/').baseUrl).toBe('http://127.0.0.1:8080');
  });
});

describe('event stream', () => {
  let ctx: TestServer | undefined;
  afterEach(async () => {
    await ctx?.server.close();
    ctx = undefined;
  });

  async function start(
    options: Parameters<typeof testServer>[1] = {},
  ): Promise<{ ctx: TestServer; client: MedchainClient }> {
    ctx = testServer(new FakeNode(), options);
    const url = await ctx.server.listen();
    return { ctx, client: new MedchainClient(url) };
  }

  it('delivers hello and then every committed block in order with its receipts', async () => {
    const { ctx, client } = await start();
    ctx.node.commitBlock();
    const events: BlockEventJson[] = [];
    const sub = client.subscribe((e) => events.push(e));
    const hello = await sub.ready;
    expect(hello).toEqual({ type: 'hello', chainId: CHAIN_ID, height: 1 });

    const tx = newTx();
    await ctx.node.submitTransaction(encodeTransaction(tx));
    ctx.node.nextReceiptCodes = { 0: 'CONSENT_EXPIRED' };
    const second = ctx.node.commitBlock();
    ctx.node.commitBlock();
    ctx.node.commitBlock();
    await until(() => events.length === 3, '3 block events');
    expect(events.map((e) => e.height)).toEqual([2, 3, 4]);
    expect(events[0]).toEqual({
      type: 'block',
      height: 2,
      hash: toHex(second.hash),
      view: 0,
      timestamp: second.block.header.timestamp,
      txCount: 1,
      receipts: [{ txHash: toHex(suite.hash(encodeTransaction(tx))), code: 'CONSENT_EXPIRED' }],
    });
    await sub.close();
    await until(
      () => ctx.metrics.render().then((t) => t.includes('medchain_ws_clients 0')),
      'client gone',
    );
  });

  it('drops a client that stops reading, counts it, and keeps serving the others', async () => {
    const { ctx, client } = await start({ wsMaxBufferedBytes: 256 * 1024 });
    const fast: BlockEventJson[] = [];
    const fastSub = client.subscribe((e) => fast.push(e));
    await fastSub.ready;

    // a raw WebSocket client that completes the handshake and then never reads
    const { hostname, port } = new URL(ctx.server.url);
    const slow = net.connect(Number(port), hostname);
    await once(slow, 'connect');
    slow.write(
      'GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const [first] = (await once(slow, 'data')) as [Buffer];
    expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    slow.pause();
    const slowClosed = once(slow, 'close');
    await until(
      () => ctx.metrics.render().then((t) => t.includes('medchain_ws_clients 2')),
      'two clients',
    );

    const dropped = async (): Promise<boolean> =>
      (await ctx.metrics.render()).includes('medchain_ws_clients_dropped_total{reason="slow"} 1');
    let emitted = 0;
    // ~180 KB per event; kernel socket buffers absorb a few MB before the server's own buffer grows
    while (!(await dropped())) {
      expect(emitted, 'the slow client was never dropped').toBeLessThan(600);
      emitted++;
      ctx.node.emitSyntheticEvent(emitted, 2000);
      await until(() => fast.length === emitted, `fast client to receive event ${emitted}`);
    }
    expect(emitted).toBeGreaterThan(1);
    expect(fast.map((e) => e.height)).toEqual(Array.from({ length: emitted }, (_, i) => i + 1));

    // the fast client is still subscribed and served
    ctx.node.emitSyntheticEvent(emitted + 1, 1);
    await until(() => fast.length === emitted + 1, 'the event after the drop');
    expect((await ctx.metrics.render()).includes('medchain_ws_clients 1')).toBe(true);

    slow.resume();
    slow.on('data', () => undefined);
    await slowClosed;
    await fastSub.close();
  });

  it('refuses clients over the limit with TOO_MANY_CLIENTS', async () => {
    const { client } = await start({ maxWsClients: 1 });
    const first = client.subscribe(() => undefined);
    await first.ready;
    const second = client.subscribe(() => undefined);
    await expectClientError(second.ready, 'TOO_MANY_CLIENTS', 503);
    await second.closed;
    await first.close();
  });

  it('closes subscribers with 1001 and unsubscribes from the node when the server stops', async () => {
    const { ctx, client } = await start();
    const sub = client.subscribe(() => undefined);
    await sub.ready;
    expect(ctx.node.listenerCount).toBe(1);
    await ctx.server.close();
    const info = await sub.closed;
    expect(info.code).toBe(1001);
    expect(ctx.node.listenerCount).toBe(0);
  });

  it('rejects ready when nothing listens', async () => {
    const port = await freePort();
    const sub = new MedchainClient(`http://127.0.0.1:${port}`).subscribe(() => undefined);
    await expectClientError(sub.ready, 'API_UNREACHABLE', 0);
    await sub.closed;
  });
});
