/**
 * The HTTP API through fastify `inject`, against the in-memory FakeNode:
 * every route's happy path, malformed and oversize requests, node errors
 * mapped to statuses, and no stack trace in any response.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { encode, fromHex, toHex } from '../../src/codec/index.js';
import { InvalidInputError, MedchainError } from '../../src/errors.js';
import {
  blockHash,
  decodeBlock,
  decodeCommitCertificate,
  decodeTransaction,
  encodeTransaction,
} from '../../src/ledger/index.js';
import { resolveApiLimits } from '../../src/api/server.js';
import type {
  BatchJson,
  BlockJson,
  StatusJson,
  SubmitJson,
  TxRecordJson,
} from '../../src/api/json.js';
import { transactionFromJson } from '../../src/api/json.js';
import {
  expectErrorResponse,
  expectNoStackTrace,
  FakeNode,
  GENESIS_HASH,
  newTx,
  SENDER,
  suite,
  testServer,
} from './api-fake-node.js';
import type { TestServer } from './api-fake-node.js';
import { CHAIN_ID, flipped, signedTx } from './ledger-fixtures.js';

const CBOR = { 'content-type': 'application/cbor' };
const JSON_TYPE = { 'content-type': 'application/json' };

let current: TestServer | undefined;
function setup(...args: Parameters<typeof testServer>): TestServer {
  current = testServer(...args);
  return current;
}
afterEach(async () => {
  await current?.server.close();
  current = undefined;
});

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed JSON.parse for test bodies
function parse<T>(body: string): T {
  expectNoStackTrace(body);
  return JSON.parse(body) as T;
}

describe('status and peers', () => {
  it('GET /v1/status reports height, view, primary, validators, sync, mempool', async () => {
    const { server, node } = setup();
    node.view = 5;
    node.commitBlock();
    const res = await server.app.inject({ method: 'GET', url: '/v1/status' });
    expect(res.statusCode).toBe(200);
    const status = parse<StatusJson>(res.body);
    expect(status).toMatchObject({
      chainId: CHAIN_ID,
      institutionId: 'hospital-0',
      role: 'validator',
      suite: 'intl',
      genesisHash: toHex(GENESIS_HASH),
      height: 1,
      view: 5,
      primary: { index: 1, institutionId: 'hospital-1' },
      validators: { total: 4, connected: 3 },
      sync: { state: 'synced', targetHeight: 1 },
      mempool: { size: 0, bytes: 0 },
      peers: 4,
      version: '0.1.0-test',
    });
    expect(status.latestBlockHash).toBe(toHex(node.blocks[0]?.hash ?? new Uint8Array()));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('GET /v1/status at height 0 has a null latest block hash', async () => {
    const { server } = setup();
    const status = parse<StatusJson>(
      (await server.app.inject({ method: 'GET', url: '/v1/status' })).body,
    );
    expect(status.height).toBe(0);
    expect(status.latestBlockHash).toBeNull();
  });

  it('GET /v1/peers lists the connected peers', async () => {
    const { server } = setup();
    const res = await server.app.inject({ method: 'GET', url: '/v1/peers' });
    expect(res.statusCode).toBe(200);
    const body = parse<{ peers: { peerId: string; institutionId: string; direction: string }[] }>(
      res.body,
    );
    expect(body.peers.map((p) => p.institutionId)).toEqual([
      'hospital-1',
      'hospital-2',
      'hospital-3',
    ]);
    expect(body.peers[0]?.direction).toBe('inbound');
  });
});

describe('POST /v1/txs', () => {
  it('accepts canonical CBOR with 202, then reports a resubmission as a 200 duplicate', async () => {
    const { server, node } = setup();
    const bytes = encodeTransaction(newTx());
    const first = await server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      headers: CBOR,
      payload: Buffer.from(bytes),
    });
    expect(first.statusCode).toBe(202);
    const accepted = parse<SubmitJson>(first.body);
    expect(accepted).toEqual({ hash: toHex(suite.hash(bytes)), duplicate: false });
    expect(node.mempool.size).toBe(1);

    const again = await server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      headers: CBOR,
      payload: Buffer.from(bytes),
    });
    expect(again.statusCode).toBe(200);
    expect(parse<SubmitJson>(again.body)).toEqual({ hash: accepted.hash, duplicate: true });
    expect(node.mempool.size).toBe(1);
  });

  it('accepts JSON {"tx": hex} in either case', async () => {
    const { server, node } = setup();
    const bytes = encodeTransaction(newTx());
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      headers: JSON_TYPE,
      payload: JSON.stringify({ tx: toHex(bytes).toUpperCase() }),
    });
    expect(res.statusCode).toBe(202);
    expect(parse<SubmitJson>(res.body).hash).toBe(toHex(suite.hash(bytes)));
    expect(node.mempool.size).toBe(1);
  });

  it('rejects malformed JSON, missing or extra fields and bad hex with 400 INVALID_INPUT', async () => {
    const { server, node } = setup();
    const cases = [
      '{"tx": "ab"',
      '{}',
      '{"tx": "abc"}',
      '{"tx": "zz"}',
      '{"tx": ""}',
      '{"tx": 12}',
      `{"tx": "${toHex(encodeTransaction(newTx()))}", "extra": 1}`,
      '[]',
      '{"__proto__": {"x": 1}, "tx": "00"}',
    ];
    for (const payload of cases) {
      const res = await server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: JSON_TYPE,
        payload,
      });
      expectErrorResponse(res, 400, 'INVALID_INPUT');
    }
    expect(node.submitCalls).toBe(0);
  });

  it('rejects an empty body and a missing content type with 400', async () => {
    const { server } = setup();
    expectErrorResponse(
      await server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: CBOR,
        payload: Buffer.alloc(0),
      }),
      400,
      'INVALID_INPUT',
    );
    expectErrorResponse(
      await server.app.inject({ method: 'POST', url: '/v1/txs' }),
      400,
      'INVALID_INPUT',
    );
  });

  it('rejects other content types with 415', async () => {
    const { server } = setup();
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
    ]) {
      const res = await server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: { 'content-type': type },
        payload: 'tx=00',
      });
      expectErrorResponse(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('rejects a body over the limit with 413 before the node sees it', async () => {
    const { server, node } = setup(new FakeNode(), { bodyLimitBytes: 1024 });
    const big = Buffer.alloc(2048, 0xa0);
    expectErrorResponse(
      await server.app.inject({ method: 'POST', url: '/v1/txs', headers: CBOR, payload: big }),
      413,
      'BODY_TOO_LARGE',
    );
    expectErrorResponse(
      await server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: JSON_TYPE,
        payload: JSON.stringify({ tx: 'ab'.repeat(1024) }),
      }),
      413,
      'BODY_TOO_LARGE',
    );
    expect(node.submitCalls).toBe(0);
  });

  it('maps ledger rejections from the node to 400 and 413 with the field named', async () => {
    const { server } = setup(
      new FakeNode({ limits: { maxTxBytes: 400, maxBlockBytes: 1 << 20, maxBlockTxs: 100 } }),
    );
    const post = (bytes: Uint8Array) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: CBOR,
        payload: Buffer.from(bytes),
      });

    expectErrorResponse(await post(Uint8Array.of(0xff, 0x00)), 400, 'LEDGER_MALFORMED');
    expectErrorResponse(await post(encode({ hello: 'world' })), 400, 'LEDGER_MALFORMED');

    const tx = newTx();
    const badSig = { ...tx, signature: flipped(tx.signature) };
    const err = expectErrorResponse(
      await post(encodeTransaction(badSig)),
      400,
      'LEDGER_BAD_SIGNATURE',
    );
    expect(err.details?.field).toBe('signature');

    const otherChain = signedTx(suite, SENDER, { chainId: 'another-chain', nonce: 999 });
    expectErrorResponse(await post(encodeTransaction(otherChain)), 400, 'LEDGER_WRONG_CHAIN');

    const big = newTx({ payload: { blob: new Uint8Array(1000) } });
    expectErrorResponse(await post(encodeTransaction(big)), 413, 'LEDGER_TX_TOO_LARGE');
  });

  it('maps a full mempool and a node that is not ready to 503 with Retry-After', async () => {
    const { server, node } = setup(new FakeNode({ mempoolCapacity: 1 }));
    const post = () =>
      server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: CBOR,
        payload: Buffer.from(encodeTransaction(newTx())),
      });
    expect((await post()).statusCode).toBe(202);
    const full = await post();
    const error = expectErrorResponse(full, 503, 'MEMPOOL_FULL');
    expect(error.details?.capacity).toBe(1);
    expect(full.headers['retry-after']).toBe('2');

    node.failNextSubmit = new MedchainError('NODE_NOT_READY', 'node is syncing');
    const notReady = await post();
    expectErrorResponse(notReady, 503, 'NODE_NOT_READY');
    expect(notReady.headers['retry-after']).toBe('1');
  });

  it('answers 500 INTERNAL with a generic message for unexpected and unmapped errors', async () => {
    const { server, node } = setup();
    const post = () =>
      server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: CBOR,
        payload: Buffer.from(encodeTransaction(newTx())),
      });
    node.failNextSubmit = new TypeError('cannot read properties of undefined (secret internals)');
    let res = await post();
    let error = expectErrorResponse(res, 500, 'INTERNAL');
    expect(error.message).toBe('internal error');
    expect(res.body).not.toContain('secret internals');

    node.failNextSubmit = new MedchainError('STORE_IO', 'disk at /var/lib/medchain failed', {
      path: '/var/lib/x',
    });
    res = await post();
    error = expectErrorResponse(res, 500, 'INTERNAL');
    expect(res.body).not.toContain('/var/lib');

    // a thrown non-Error value
    node.failNextSubmit = 'just a string';
    expectErrorResponse(await post(), 500, 'INTERNAL');
  });

  it('maps every node error family to its status', async () => {
    const { server, node } = setup();
    const cases: [string, number][] = [
      ['TX_INVALID', 400],
      ['TX_TOO_LARGE', 413],
      ['LEDGER_SOMETHING_NEW', 400],
      ['CODEC_NON_CANONICAL', 400],
      ['CODEC_TOO_LARGE', 413],
      ['MEMPOOL_LIFETIME_TOO_LONG', 400],
      ['MEMPOOL_ALREADY_COMMITTED', 409],
      ['MEMPOOL_SENDER_LIMIT', 429],
      ['MEMPOOL_FULL', 503],
      ['NODE_NOT_READY', 503],
      ['INVALID_INPUT', 400],
    ];
    for (const [code, status] of cases) {
      node.failNextSubmit = new MedchainError(code, `failed with ${code}`, { field: 'x' });
      const res = await server.app.inject({
        method: 'POST',
        url: '/v1/txs',
        headers: CBOR,
        payload: Buffer.from(encodeTransaction(newTx())),
      });
      const error = expectErrorResponse(res, status, code);
      expect(error).toEqual({ code, message: `failed with ${code}`, details: { field: 'x' } });
      expect(res.headers['retry-after'] !== undefined, code).toBe(status === 429 || status === 503);
    }
  });

  it('extends the status table with errorStatus', async () => {
    const { server, node } = setup(new FakeNode(), { errorStatus: { CONTRACT_NONCE_USED: 409 } });
    node.failNextSubmit = new MedchainError('CONTRACT_NONCE_USED', 'nonce 3 already used', {
      nonce: 3,
    });
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      headers: CBOR,
      payload: Buffer.from(encodeTransaction(newTx())),
    });
    const error = expectErrorResponse(res, 409, 'CONTRACT_NONCE_USED');
    expect(error).toEqual({
      code: 'CONTRACT_NONCE_USED',
      message: 'nonce 3 already used',
      details: { nonce: 3 },
    });
  });
});

describe('POST /v1/txs/batch', () => {
  it('reports one result per transaction, in order (CBOR and JSON)', async () => {
    const { server, node } = setup();
    const known = encodeTransaction(newTx());
    await node.submitTransaction(known);
    const fresh = encodeTransaction(newTx());
    const tx = newTx();
    const bad = encodeTransaction({ ...tx, signature: flipped(tx.signature) });
    const garbage = Uint8Array.of(0x01);

    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/txs/batch',
      headers: CBOR,
      payload: Buffer.from(encode([fresh, known, bad, garbage])),
    });
    expect(res.statusCode).toBe(200);
    const batch = parse<BatchJson>(res.body);
    expect(batch).toMatchObject({ accepted: 1, duplicates: 1, rejected: 2 });
    expect(batch.results.map((r) => r.status)).toEqual([
      'accepted',
      'duplicate',
      'rejected',
      'rejected',
    ]);
    expect(batch.results.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(batch.results[0]).toMatchObject({ hash: toHex(suite.hash(fresh)) });
    const third = batch.results[2];
    expect(third?.status === 'rejected' ? third.error.code : '').toBe('LEDGER_BAD_SIGNATURE');
    const fourth = batch.results[3];
    expect(fourth?.status === 'rejected' ? fourth.error.code : '').toBe('LEDGER_MALFORMED');

    const json = await server.app.inject({
      method: 'POST',
      url: '/v1/txs/batch',
      headers: JSON_TYPE,
      payload: JSON.stringify({ txs: [toHex(encodeTransaction(newTx())), toHex(fresh)] }),
    });
    expect(json.statusCode).toBe(200);
    expect(parse<BatchJson>(json.body)).toMatchObject({ accepted: 1, duplicates: 1, rejected: 0 });
    expect(node.mempool.size).toBe(3);
  });

  it('keeps internal failures of single transactions generic', async () => {
    const { server, node } = setup();
    node.failNextSubmit = new RangeError('internal detail');
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/txs/batch',
      headers: CBOR,
      payload: Buffer.from(encode([encodeTransaction(newTx())])),
    });
    const batch = parse<BatchJson>(res.body);
    expect(batch.results[0]).toEqual({
      index: 0,
      status: 'rejected',
      error: { code: 'INTERNAL', message: 'internal error' },
    });
    expect(res.body).not.toContain('internal detail');
  });

  it('rejects an empty, oversized or malformed batch as a whole', async () => {
    const { server, node } = setup(new FakeNode(), { maxBatchTxs: 3, batchBodyLimitBytes: 8192 });
    const post = (payload: Buffer | string, headers = CBOR) =>
      server.app.inject({ method: 'POST', url: '/v1/txs/batch', headers, payload });
    const four = Array.from({ length: 4 }, () => encodeTransaction(newTx()));
    expectErrorResponse(await post(Buffer.from(encode(four))), 400, 'INVALID_INPUT');
    expectErrorResponse(await post(Buffer.from(encode([]))), 400, 'INVALID_INPUT');
    expectErrorResponse(await post(Buffer.from(encode({ txs: [] }))), 400, 'INVALID_INPUT');
    expectErrorResponse(await post(Buffer.from(encode(['not bytes']))), 400, 'INVALID_INPUT');
    expectErrorResponse(await post(Buffer.from([0x9f, 0x41, 0x00, 0xff])), 400, 'CODEC_DECODE');
    expectErrorResponse(
      await post(JSON.stringify({ txs: four.map(toHex) }), JSON_TYPE),
      400,
      'INVALID_INPUT',
    );
    expectErrorResponse(
      await post(JSON.stringify({ txs: ['xyz'] }), JSON_TYPE),
      400,
      'INVALID_INPUT',
    );
    expectErrorResponse(await post(Buffer.alloc(9000)), 413, 'BODY_TOO_LARGE');
    expect(node.submitCalls).toBe(0);
  });
});

describe('GET /v1/txs/:hash', () => {
  it('returns a pending transaction, then the committed one with receipt and height', async () => {
    const { server, node } = setup();
    const tx = newTx();
    const bytes = encodeTransaction(tx);
    const hash = toHex(suite.hash(bytes));
    await node.submitTransaction(bytes);

    const pending = parse<TxRecordJson>(
      (await server.app.inject({ method: 'GET', url: `/v1/txs/${hash}` })).body,
    );
    expect(pending).toMatchObject({
      hash,
      status: 'pending',
      height: null,
      index: null,
      receipt: null,
    });
    expect(pending.raw).toBe(toHex(bytes));
    expect(encodeTransaction(transactionFromJson(pending.tx))).toEqual(bytes);

    node.nextReceiptCodes = { 0: 'CONSENT_NOT_FOUND' };
    node.commitBlock();
    const res = await server.app.inject({ method: 'GET', url: `/v1/txs/${hash.toUpperCase()}` });
    expect(res.statusCode).toBe(200);
    const committed = parse<TxRecordJson>(res.body);
    expect(committed).toMatchObject({
      hash,
      status: 'committed',
      height: 1,
      index: 0,
      receipt: {
        txHash: hash,
        height: 1,
        index: 0,
        code: 'CONSENT_NOT_FOUND',
        reason: 'rejected by contract',
      },
    });
    expect(toHex(suite.hash(fromHex(committed.raw)))).toBe(hash);
    expect(decodeTransaction(fromHex(committed.raw))).toEqual(tx);
  });

  it('answers 404 for an unknown hash and 400 for a malformed one', async () => {
    const { server } = setup();
    const unknown = await server.app.inject({ method: 'GET', url: `/v1/txs/${'ab'.repeat(32)}` });
    expectErrorResponse(unknown, 404, 'TX_NOT_FOUND');
    for (const bad of [
      'ab'.repeat(31),
      'ab'.repeat(33),
      'zz'.repeat(32),
      'ab'.repeat(31) + 'a%20',
    ]) {
      expectErrorResponse(
        await server.app.inject({ method: 'GET', url: `/v1/txs/${bad}` }),
        400,
        'INVALID_INPUT',
      );
    }
    const long = await server.app.inject({ method: 'GET', url: `/v1/txs/${'a'.repeat(500)}` });
    expect(expectErrorResponse(long, 414, 'INVALID_INPUT').message).toBe('URL too long');
  });
});

describe('GET /v1/blocks', () => {
  it('returns the latest block and a block by height, verifiable from raw', async () => {
    const { server, node } = setup();
    expectErrorResponse(
      await server.app.inject({ method: 'GET', url: '/v1/blocks/latest' }),
      404,
      'BLOCK_NOT_FOUND',
    );

    const txs = [newTx(), newTx()];
    for (const tx of txs) await node.submitTransaction(encodeTransaction(tx));
    const first = node.commitBlock();
    node.view = 2;
    const second = node.commitBlock();

    const latest = parse<BlockJson>(
      (await server.app.inject({ method: 'GET', url: '/v1/blocks/latest' })).body,
    );
    expect(latest.height).toBe(2);
    expect(latest.hash).toBe(toHex(second.hash));
    expect(latest.header.view).toBe(2);
    expect(latest.txCount).toBe(0);

    const res = await server.app.inject({ method: 'GET', url: '/v1/blocks/1' });
    expect(res.statusCode).toBe(200);
    const block = parse<BlockJson>(res.body);
    expect(block.height).toBe(1);
    expect(block.hash).toBe(toHex(first.hash));
    expect(block.header.prevHash).toBe(toHex(first.block.header.prevHash));
    expect(block.header.txRoot).toBe(toHex(first.block.header.txRoot));
    expect(block.txCount).toBe(2);
    expect(block.txHashes).toEqual(txs.map((tx) => toHex(suite.hash(encodeTransaction(tx)))));
    expect(block.receipts.map((r) => r.code)).toEqual(['OK', 'OK']);
    expect(block.certificate.signers).toEqual([0, 1, 2]);
    expect(block.certificate.blockHash).toBe(block.hash);

    const decoded = decodeBlock(fromHex(block.raw));
    expect(toHex(blockHash(suite, decoded.header))).toBe(block.hash);
    expect(decoded.txs).toEqual(txs);
    expect(decodeCommitCertificate(fromHex(block.certificate.raw))).toEqual(first.certificate);
  });

  it('answers 404 above the latest height and 400 for a height that is not a positive integer', async () => {
    const { server, node } = setup();
    node.commitBlock();
    const missing = expectErrorResponse(
      await server.app.inject({ method: 'GET', url: '/v1/blocks/2' }),
      404,
      'BLOCK_NOT_FOUND',
    );
    expect(missing.details).toEqual({ height: 2, latestHeight: 1 });
    for (const bad of [
      '0',
      '-1',
      '01',
      '1.5',
      'abc',
      '1e3',
      '12345678901234567',
      '99999999999999999',
    ]) {
      expectErrorResponse(
        await server.app.inject({ method: 'GET', url: `/v1/blocks/${bad}` }),
        400,
        'INVALID_INPUT',
      );
    }
    // 16 digits, above 2^53
    expectErrorResponse(
      await server.app.inject({ method: 'GET', url: '/v1/blocks/9999999999999999' }),
      400,
      'INVALID_INPUT',
    );
  });

  it('answers 500 without details when the node fails to read a block', async () => {
    const { server, node } = setup();
    node.commitBlock();
    node.failGetBlock = new Error('LEVEL_IO_ERROR at /data/blocks');
    const res = await server.app.inject({ method: 'GET', url: '/v1/blocks/1' });
    expectErrorResponse(res, 500, 'INTERNAL');
    expect(res.body).not.toContain('/data');
  });
});

describe('operations routes', () => {
  it('/healthz is 200 while healthy and 503 with the reason once halted', async () => {
    const { server, node } = setup();
    let res = await server.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(parse(res.body)).toEqual({ ok: true });
    node.healthReport = { ok: false, reason: 'halted: invariant broken at height 7' };
    res = await server.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(parse(res.body)).toEqual({ ok: false, reason: 'halted: invariant broken at height 7' });
  });

  it('/readyz needs the store open, p2p started and the node synced', async () => {
    const { server, node } = setup();
    let res = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(parse(res.body)).toEqual({
      ready: true,
      checks: { storeOpen: true, p2pStarted: true, synced: true },
    });
    for (const check of ['storeOpen', 'p2pStarted', 'synced'] as const) {
      node.readinessReport = { storeOpen: true, p2pStarted: true, synced: true, [check]: false };
      res = await server.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const body = parse<{ ready: boolean; checks: Record<string, boolean> }>(res.body);
      expect(body.ready).toBe(false);
      expect(body.checks[check]).toBe(false);
    }
  });

  it('GET /v1/events without an upgrade is 426', async () => {
    const { server } = setup();
    expectErrorResponse(
      await server.app.inject({ method: 'GET', url: '/v1/events' }),
      426,
      'UPGRADE_REQUIRED',
    );
  });

  it('a malformed URL escape is a JSON 400', async () => {
    const { server } = setup();
    for (const url of ['/v1/txs/%zz', '/v1/blocks/%E0%A4%A']) {
      expectErrorResponse(await server.app.inject({ method: 'GET', url }), 400, 'INVALID_INPUT');
    }
  });

  it('unknown routes and methods get a JSON 404', async () => {
    const { server } = setup();
    for (const [method, url] of [
      ['GET', '/nope'],
      ['GET', '/v1'],
      ['DELETE', '/v1/status'],
      ['PUT', '/v1/txs'],
      ['GET', '/v1/txs'],
    ] as const) {
      expectErrorResponse(await server.app.inject({ method, url }), 404, 'NOT_FOUND');
    }
  });
});

describe('logging and options', () => {
  it('never logs request bodies or transaction payloads', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const { server, node } = setup(new FakeNode(), { logger });
    const marker = 'PATIENT-MARKER-123456';
    const bytes = encodeTransaction(newTx({ payload: { note: marker } }));
    await server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      headers: CBOR,
      payload: Buffer.from(bytes),
    });
    await server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      headers: JSON_TYPE,
      payload: JSON.stringify({ tx: toHex(bytes), note: marker }),
    });
    node.failNextSubmit = new TypeError('boom');
    await server.app.inject({
      method: 'POST',
      url: '/v1/txs',
      headers: CBOR,
      payload: Buffer.from(bytes),
    });
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(0);
    expect(all).toContain('"route":"/v1/txs"');
    expect(all).not.toContain(marker);
    expect(all).not.toContain(toHex(bytes));
    expect(all).not.toContain(Buffer.from(marker).toString('hex'));
  });

  it('validates its limits and port', () => {
    expect(resolveApiLimits({}).bodyLimitBytes).toBe(256 * 1024);
    expect(resolveApiLimits({ wsPingIntervalMs: 0 }).wsPingIntervalMs).toBe(0);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => resolveApiLimits({ bodyLimitBytes: bad })).toThrow(InvalidInputError);
    }
    expect(() => resolveApiLimits({ maxBatchTxs: 0 })).toThrow(/maxBatchTxs/);
    expect(() => testServer(new FakeNode(), { port: 70000 })).toThrow(/port/);
  });
});
