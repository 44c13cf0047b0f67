/**
 * The contracts: medchain's deterministic state machine (DESIGN.md §4,
 * docs/contracts.md). Pure: same genesis and blocks → same receipts, state
 * changes, events, index entries and state root on every machine.
 *
 * The node calls `executeBlock` once per committed height and writes
 * `stateChanges`, `indexEntries`/`indexRemovals` and `receipts` with the block
 * in one atomic batch; the API uses the query helpers and the `…ToJson` forms.
 */
import type { ContractEnv } from './context.js';
import { genesisStateRootOf } from './state-root.js';

export type { ContractEnv } from './context.js';
export type { StateReader, StateWrite } from './overlay.js';
export { executeBlock, readNonce } from './execute.js';
export type { BlockExecution, ExecuteBlockInput } from './execute.js';
export { STATE_ROOT_TAG, GENESIS_STATE_ROOT_TAG, nextStateRoot } from './state-root.js';
export { ContractCode, ContractRuleError } from './errors.js';
export type { ContractFailureCode } from './errors.js';
export { CONTRACT_LIMITS, ID_PATTERN, TOKEN_PATTERN } from './limits.js';
export * from './model.js';
export * from './payloads.js';
export * from './events.js';
export {
  INDEX,
  eventPosition,
  granteeIndexKey,
  indexesForEvent,
  statsKey,
  utcDay,
} from './indexes.js';
export type { ContractIndexEntry, ContractIndexRef } from './indexes.js';
export { stateKey, compareBytes } from './keys.js';
export { referralGrantId, returnGrantId } from './referrals.js';
export type { AccessDecision, CanAccessOptions } from './access.js';
export { certificateValidity } from './actors.js';
export {
  canAccess,
  getGrant,
  getMember,
  getNonce,
  getPatientKey,
  getRecord,
  getReferral,
  nextNonce,
} from './queries.js';

/** The state root at height 0: commits to the genesis (its hash). */
export function genesisStateRoot(env: ContractEnv): Uint8Array {
  return genesisStateRootOf(env.suite, env.genesis);
}
