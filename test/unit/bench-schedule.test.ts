import { describe, expect, it } from 'vitest';
import {
  dueCount,
  isSaturated,
  keptRate,
  parseSweep,
  saturationTps,
  scheduledAtMs,
  sweepRates,
  transactionsFor,
} from '../../src/bench/schedule.js';

describe('open-loop schedule', () => {
  it('transaction i is due at start + i / rate', () => {
    expect(scheduledAtMs(1000, 500, 0)).toBe(1000);
    expect(scheduledAtMs(1000, 500, 1)).toBe(1002);
    expect(scheduledAtMs(1000, 500, 500)).toBe(2000);
  });

  it('dueCount counts those scheduled at or before now, capped at the total', () => {
    expect(dueCount(1000, 500, 999, 100)).toBe(0);
    expect(dueCount(1000, 500, 1000, 100)).toBe(1);
    expect(dueCount(1000, 500, 1001.9, 100)).toBe(1);
    expect(dueCount(1000, 500, 1002, 100)).toBe(2);
    expect(dueCount(1000, 500, 1_000_000, 100)).toBe(100);
  });

  it('dueCount agrees with scheduledAtMs for every index', () => {
    const start = 123.4;
    const rate = 777;
    for (let i = 0; i < 2000; i++) {
      const t = scheduledAtMs(start, rate, i);
      expect(dueCount(start, rate, t + 1e-6, 10_000)).toBeGreaterThanOrEqual(i + 1);
      expect(dueCount(start, rate, t - 1e-6, 10_000)).toBeLessThanOrEqual(i);
    }
  });

  it('transactionsFor rounds up', () => {
    expect(transactionsFor(500, 25)).toBe(12_500);
    expect(transactionsFor(0.5, 3)).toBe(2);
  });
});

describe('kept rate', () => {
  it('needs everything sent and 99 % on time', () => {
    expect(keptRate({ scheduled: 1000, sent: 1000, onTime: 990 })).toBe(true);
    expect(keptRate({ scheduled: 1000, sent: 1000, onTime: 989 })).toBe(false);
    expect(keptRate({ scheduled: 1000, sent: 999, onTime: 999 })).toBe(false);
    expect(keptRate({ scheduled: 0, sent: 0, onTime: 0 })).toBe(true);
  });
});

describe('sweep', () => {
  it('parses auto and increasing lists', () => {
    expect(parseSweep('auto')).toEqual({ kind: 'auto' });
    expect(parseSweep('500, 1000,1500.5')).toEqual({ kind: 'list', rates: [500, 1000, 1500.5] });
  });

  it('refuses bad lists naming the problem', () => {
    expect(() => parseSweep('500')).toThrow(/at least two/);
    expect(() => parseSweep('500,400')).toThrow(/increase/);
    expect(() => parseSweep('500,x')).toThrow(/"x" is not a positive rate/);
    expect(() => parseSweep('0,5')).toThrow(/not a positive rate/);
  });

  it('auto steps through fractions of the bound and needs one', () => {
    const rates = sweepRates({ kind: 'auto' }, 3000);
    expect(rates[0]).toBe(600);
    expect(rates).toContain(3000);
    expect(rates[rates.length - 1]).toBe(3600);
    expect(() => sweepRates({ kind: 'auto' }, null)).toThrow(/--calibrate/);
    expect(sweepRates({ kind: 'list', rates: [1, 2] }, null)).toEqual([1, 2]);
  });

  it('saturation: committed below 90 % of offered', () => {
    expect(isSaturated(1000, 901)).toBe(false);
    expect(isSaturated(1000, 899)).toBe(true);
    expect(
      saturationTps([{ committedTps: 900 }, { committedTps: 1400 }, { committedTps: 1300 }]),
    ).toBe(1400);
    expect(saturationTps([])).toBeNull();
  });
});
