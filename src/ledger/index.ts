/** The ledger: transactions, blocks, commit certificates and receipts — encodings, hashes, Merkle proofs, validity rules. Pure. */
export * from './types.js';
export * from './errors.js';
export * from './encoding.js';
export * from './hashing.js';
export * from './sign.js';
export * from './merkle.js';
export * from './quorum.js';
export * from './validate.js';
export * from './state-root.js';
