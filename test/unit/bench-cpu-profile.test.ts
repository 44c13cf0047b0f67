import { describe, expect, it } from 'vitest';
import {
  parseCpuProfile,
  profileTimeOf,
  summarizeCpuProfile,
} from '../../src/bench/cpu-profile.js';
import type { CpuProfile } from '../../src/bench/cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({
  functionName,
  url,
  lineNumber,
});

/**
 * (root) → main → validateTransaction → verify (crypto/intl)
 *                → encode (cborg)
 *        → (garbage collector)
 *        → (idle)
 */
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 6, 7] },
    { id: 2, callFrame: frame('main', 'file:///app/dist/src/node/node.js', 9), children: [3, 5] },
    {
      id: 3,
      callFrame: frame('validateTransaction', 'file:///app/dist/src/ledger/validate.js', 41),
      children: [4],
    },
    { id: 4, callFrame: frame('verify', 'file:///app/dist/src/crypto/intl.js', 195) },
    { id: 5, callFrame: frame('encode', 'file:///app/node_modules/cborg/lib/encode.js', 10) },
    { id: 6, callFrame: frame('(garbage collector)') },
    { id: 7, callFrame: frame('(idle)') },
  ],
  // 1 ms per sample: verify ×6, encode ×2, main ×1, gc ×1, idle ×10
  samples: [4, 4, 4, 4, 4, 4, 5, 5, 2, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
  timeDeltas: new Array<number>(20).fill(1000),
  startTime: 0,
  endTime: 20_000,
};

describe('cpu profile summary', () => {
  it('self time, inclusive time and categories', () => {
    const s = summarizeCpuProfile(PROFILE, 'node-a', 5);
    expect(s.totalMs).toBe(20);
    expect(s.busyMs).toBe(10);
    expect(s.topSelf[0]).toEqual({ name: '(idle)', ms: 10, percent: 50 });
    expect(s.topSelf[1]).toEqual({ name: 'verify (src/crypto/intl.js:196)', ms: 6, percent: 30 });
    expect(s.topSelf.find((e) => e.name.startsWith('encode'))?.name).toBe(
      'encode (cborg/lib/encode.js:11)',
    );
    const main = s.topInclusive.find((e) => e.name.startsWith('main'));
    expect(main?.ms).toBe(9);
    expect(s.topInclusive.some((e) => e.name.startsWith('(root)'))).toBe(false);
    const category = (name: string) => s.categories.find((c) => c.name === name);
    expect(category('signature verification')).toEqual({
      name: 'signature verification',
      ms: 6,
      percent: 60,
    });
    expect(category('codec (CBOR)')?.percent).toBe(20);
    expect(category('garbage collection')?.percent).toBe(10);
    expect(s.categories.some((c) => c.name === 'idle')).toBe(false);
    // medchain's own frames only: main 9 of 10 busy ms, validateTransaction and verify 6
    expect(s.topProject.map((e) => [e.name, e.percent])).toEqual([
      ['main (src/node/node.js:10)', 90],
      ['validateTransaction (src/ledger/validate.js:42)', 60],
      ['verify (src/crypto/intl.js:196)', 60],
    ]);
  });

  it('parse rejects what is not a profile', () => {
    expect(() => parseCpuProfile('nope')).toThrow(/not JSON/);
    expect(() => parseCpuProfile('{"nodes": []}')).toThrow(/samples/);
    expect(parseCpuProfile(JSON.stringify(PROFILE)).nodes).toHaveLength(7);
  });
});

describe('cpu profile range', () => {
  it('keeps only the samples inside the range, aligned on the profile end', () => {
    // sample i ends at startTime + (i + 1) ms; keep the first 8 (verify ×6, encode ×2)
    const s = summarizeCpuProfile(PROFILE, 'node-a', 5, { fromUs: 0, toUs: 8000 });
    expect(s.totalMs).toBe(8);
    expect(s.categories.find((c) => c.name === 'signature verification')?.percent).toBe(75);
    // the process exited at wall 100 000 ms: wall 80 000 ms is 20 s before the profile's end
    expect(profileTimeOf(PROFILE, 100_000, 80_000)).toBe(PROFILE.endTime - 20_000_000);
  });
});
