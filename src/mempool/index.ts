/** The mempool: admission with a verdict cache, dedup, limits, expiry, FIFO selection. */
export * from './errors.js';
export * from './mempool.js';
