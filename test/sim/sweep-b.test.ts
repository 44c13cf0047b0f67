import { describe, it } from 'vitest';
import { sweep } from './sweep.js';

describe('seed sweep (second half)', () => {
  it('seeds 101–200 across n ∈ {4, 7, 10} with mixed faults', () => {
    sweep(101, 100);
  }, 170_000);
});
