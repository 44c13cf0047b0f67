/**
 * Domain separation for signatures (DESIGN.md §3). Every suite signs
 *
 *     H( u16be(len(domain)) ‖ domain ‖ u16be(len(chainId)) ‖ chainId ‖ message )
 *
 * with domain and chainId as UTF-8. The length prefixes make the encoding
 * injective: ("tx", "ab", "c…") and ("tx", "abc", "…") hash different bytes.
 */
import type { DomainTag } from './suite.js';
import { CryptoError, CryptoErrorCode } from './errors.js';

/** Longest chain id accepted, in UTF-8 bytes. */
export const MAX_CHAIN_ID_BYTES = 256;
const PREFIX_CACHE_MAX = 256;
const prefixCache = new Map<string, Buffer>();

/**
 * The bytes hashed in front of the message. Throws `INVALID_ARGUMENT` for an
 * empty or over-long chain id or domain.
 */
export function signingPrefix(domain: DomainTag, chainId: string): Buffer {
  const cacheKey = `${domain}\u0000${chainId}`;
  const cached = prefixCache.get(cacheKey);
  if (cached !== undefined) return cached;
  if (typeof domain !== 'string' || domain.length === 0) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'domain: expected a domain tag');
  }
  if (typeof chainId !== 'string' || chainId.length === 0) {
    throw new CryptoError(CryptoErrorCode.invalidArgument, 'chainId: expected a non-empty string');
  }
  const d = Buffer.from(domain, 'utf8');
  const c = Buffer.from(chainId, 'utf8');
  if (c.length > MAX_CHAIN_ID_BYTES || d.length > MAX_CHAIN_ID_BYTES) {
    throw new CryptoError(
      CryptoErrorCode.invalidArgument,
      `chainId/domain: longer than ${MAX_CHAIN_ID_BYTES} bytes`,
    );
  }
  const prefix = Buffer.alloc(4 + d.length + c.length);
  prefix.writeUInt16BE(d.length, 0);
  d.copy(prefix, 2);
  prefix.writeUInt16BE(c.length, 2 + d.length);
  c.copy(prefix, 4 + d.length);
  if (prefixCache.size >= PREFIX_CACHE_MAX) {
    const oldest = prefixCache.keys().next();
    if (oldest.done !== true) prefixCache.delete(oldest.value);
  }
  prefixCache.set(cacheKey, prefix);
  return prefix;
}
