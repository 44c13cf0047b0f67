/**
 * `gov.propose` / `gov.vote`: not enabled yet. Admitting or removing
 * institutions and changing policy on chain is future work (DESIGN.md §4);
 * until then every governance transaction gets a failed receipt
 * `NOT_ENABLED` and changes nothing (except the signer's nonce, like every
 * failed transaction).
 */
import { ContractCode, fail } from './errors.js';

export function governanceNotEnabled(type: string): never {
  return fail(
    ContractCode.notEnabled,
    `${type} is not enabled on this chain version: institutions and policy change only with a new genesis for now`,
  );
}
