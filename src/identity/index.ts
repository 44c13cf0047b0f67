/** Identity: the genesis document, institutions, roles, policy and validator sets. Pure. */
export * from './types.js';
export * from './errors.js';
export * from './genesis.js';
export * from './validators.js';
