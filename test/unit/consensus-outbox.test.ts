import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Stream } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { ConsensusOutbox } from '../../p2p/consensus-channel.js';
import { FrameDecoder } from '../../p2p/framing.js';
import { createP2pStats } from '../../p2p/stats.js';
import { silentLogger } from '../../src/logger.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** An always-writable stream that records what is sent. */
function fakeStream(): { stream: Stream; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const stream = {
    status: 'open',
    writeStatus: 'writable',
    writeBufferLength: 0,
    send: (bytes: Uint8Array) => {
      sent.push(bytes.slice());
      return true;
    },
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    close: () => Promise.resolve(),
    abort: () => undefined,
  } as unknown as Stream;
  return { stream, sent };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function outboxOn(stream: Stream): ConsensusOutbox {
  const stats = createP2pStats();
  return new ConsensusOutbox('peer-1', {
    openStream: () => Promise.resolve(stream),
    counters: stats.consensus,
    onStreamReset: () => undefined,
    logger: silentLogger(),
  });
}

describe('ConsensusOutbox', () => {
  it('sends queued messages in order, framed, in one write per flush', async () => {
    const { stream, sent } = fakeStream();
    const outbox = outboxOn(stream);
    for (let i = 1; i <= 3; i++) outbox.enqueue(Uint8Array.from([i, i]));
    await waitFor(() => sent.length > 0 && outbox.queuedMessages === 0, 'the flush');
    const frames: Uint8Array[] = [];
    const decoder = new FrameDecoder(1024);
    for (const chunk of sent) frames.push(...decoder.push(chunk));
    expect(frames.map((f) => [...f])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(sent).toHaveLength(1);
    outbox.close();
  });

  it('keeps no reference to a message once it is sent', async () => {
    const { stream, sent } = fakeStream();
    const outbox = outboxOn(stream);
    // Each message a view into its own large buffer, like an encoder's pool slab.
    const refs = Array.from({ length: 5 }, (_, i) => {
      const slab = new Uint8Array(8192);
      slab[i] = 1;
      const view = slab.subarray(0, 16);
      outbox.enqueue(view);
      return new WeakRef(slab.buffer);
    });
    await waitFor(() => sent.length > 0 && outbox.queuedMessages === 0, 'the flush');
    // WeakRefs may be cleared only after the job that created them ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    gc();
    expect(refs.map((r) => r.deref() === undefined)).toEqual([true, true, true, true, true]);
    outbox.close();
  });
});
