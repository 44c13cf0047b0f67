/**
 * Calibration with real worker threads (the compiled worker from dist/:
 * `npm test` builds first): short budgets, so the figures are rough, but they
 * are positive, the per-core figure is the side-by-side total over the
 * cores, and the bound follows from it.
 */
import { describe, expect, it } from 'vitest';
import { boundOf, calibrate } from '../../src/bench/calibrate.js';

describe('calibrate', () => {
  it('measures intl verification alone and side by side; the bound is per core × cores ÷ nodes', async () => {
    const c = await calibrate({
      suite: 'intl',
      seconds: 0.2,
      cores: 2,
      signers: 4,
      messageBytes: 600,
    });
    expect(c).toMatchObject({ suite: 'intl', cores: 2, messageBytes: 600, seconds: 0.2 });
    expect(c.verifyPerSecAlone).toBeGreaterThan(100);
    expect(c.verifyPerSecAllCores).toBeGreaterThan(100);
    expect(c.knownKeyVerifyPerSecPerCore).toBeGreaterThan(50);
    expect(c.verifyPerSecPerCore).toBe(Math.round(c.verifyPerSecAllCores / 2));
    expect(boundOf(c, 4, 'plain')).toBeCloseTo((c.verifyPerSecPerCore * 2) / 4, 0);
    expect(boundOf(c, 4, 'known-key')).toBeCloseTo((c.knownKeyVerifyPerSecPerCore * 2) / 4, 0);
  });

  it('gm too (slower, still positive)', async () => {
    const c = await calibrate({
      suite: 'gm',
      seconds: 0.2,
      cores: 1,
      signers: 2,
      messageBytes: 600,
    });
    expect(c.verifyPerSecAlone).toBeGreaterThan(10);
    expect(c.verifyPerSecPerCore).toBe(c.verifyPerSecAllCores);
  });

  it('refuses a silly budget or core count', async () => {
    await expect(calibrate({ suite: 'intl', seconds: 0 })).rejects.toThrow(/seconds/);
    await expect(calibrate({ suite: 'intl', seconds: 0.1, cores: 0 })).rejects.toThrow(/cores/);
  });
});
