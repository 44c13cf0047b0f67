/**
 * Client-side helpers for hospital systems and the CLI (not pure: they use
 * randomness): patient pseudonyms, sealing and opening record pointers, key
 * wraps for grantees, and builders for every transaction payload.
 */
export * from './errors.js';
export * from './keys.js';
export * from './pseudonym.js';
export * from './pointer.js';
export * from './builders.js';
