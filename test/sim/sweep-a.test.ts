import { describe, it } from 'vitest';
import { sweep } from './sweep.js';

describe('seed sweep (first half)', () => {
  it('seeds 1–100 across n ∈ {4, 7, 10} with mixed faults', () => {
    sweep(1, 100);
  }, 170_000);
});
