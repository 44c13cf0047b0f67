import { describe, expect, it } from 'vitest';
import { fromWire, toWire } from '../../src/bench/generator-protocol.js';
import type { GeneratorPrepared, GeneratorProgress } from '../../src/bench/generator-protocol.js';

/** What the IPC channel does with `serialization: 'json'`. */
function overJson(value: unknown): unknown {
  return fromWire(JSON.parse(JSON.stringify(toWire(value))));
}

describe('generator IPC wire format', () => {
  it('carries every typed array of a progress message with its type and values', () => {
    const progress: GeneratorProgress = {
      type: 'progress',
      indexes: Uint32Array.from([0, 7, 4_000_000_000]),
      outcomes: Uint8Array.from([0, 2, 3]),
      sentAtMs: Float64Array.from([1.5, 1e12 + 0.25, -3]),
      nodes: Uint16Array.from([0, 3, 65_535]),
    };
    const back = overJson(progress) as GeneratorProgress;
    expect(back.indexes).toBeInstanceOf(Uint32Array);
    expect(back.outcomes).toBeInstanceOf(Uint8Array);
    expect(back.sentAtMs).toBeInstanceOf(Float64Array);
    expect(back.nodes).toBeInstanceOf(Uint16Array);
    expect(back).toEqual(progress);
  });

  it('reads a view into a larger buffer as the view only', () => {
    const backing = Uint8Array.from([9, 9, 1, 2, 3, 9]);
    const hashes = backing.subarray(2, 5);
    const message = { type: 'prepared', count: 1, hashes, hashLength: 3 } as const;
    const back = overJson(message) as Pick<GeneratorPrepared, 'hashes' | 'count'>;
    expect([...back.hashes]).toEqual([1, 2, 3]);
    expect(back.count).toBe(1);
  });

  it('leaves plain values, nested arrays and objects as they are', () => {
    const message = {
      type: 'init',
      targets: ['http://127.0.0.1:1'],
      nested: [{ a: null, b: [1, 'x'] }],
    };
    expect(overJson(message)).toEqual(message);
  });

  it('refuses a typed array it cannot restore', () => {
    expect(() => toWire({ x: new Int8Array(2) })).toThrow(/Int8Array/);
  });
});
