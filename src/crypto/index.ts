/**
 * Public API of the crypto layer: pick a suite with `getSuite(id)`; serialise
 * keys with ./keys.ts; keep private keys at rest in ./keystore.ts.
 */
import { showValue } from './bytes.js';
import { CryptoError, CryptoErrorCode } from './errors.js';
import { gmSuite } from './gm.js';
import { intlSuite } from './intl.js';
import { SUITE_IDS } from './suite.js';
import type { CryptoSuite, SuiteId } from './suite.js';

export * from './suite.js';
export { CryptoError, CryptoErrorCode } from './errors.js';
export { signingPrefix, MAX_CHAIN_ID_BYTES } from './domain.js';
export * from './keys.js';
export * from './keystore.js';
export { intlSuite } from './intl.js';
export { gmSuite } from './gm.js';
export {
  sm2SignRaw,
  sm2VerifyRaw,
  sm2Encrypt,
  sm2Decrypt,
  sm2Z,
  SM2_DEFAULT_USER_ID,
} from './sm2.js';

const SUITES: Readonly<Record<SuiteId, CryptoSuite>> = { intl: intlSuite, gm: gmSuite };

export function isSuiteId(value: unknown): value is SuiteId {
  return typeof value === 'string' && (SUITE_IDS as readonly string[]).includes(value);
}

/** The suite with this id; throws `UNKNOWN_SUITE` otherwise. */
export function getSuite(id: string): CryptoSuite {
  if (!isSuiteId(id)) {
    const shown = showValue(id);
    throw new CryptoError(
      CryptoErrorCode.unknownSuite,
      `unknown crypto suite ${shown} (expected one of ${SUITE_IDS.join(', ')})`,
      { suite: shown },
    );
  }
  return SUITES[id];
}
