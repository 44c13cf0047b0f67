/**
 * Executing a block: transactions run in block order on an overlay of the
 * committed state; each one on its own child overlay, merged only if it
 * succeeds. Rule failures become failed receipts; an exception out of here is
 * a bug (InvariantError) and the node must halt.
 *
 * Per transaction: (1) resolve the signer — unknown signers and revoked,
 * not-yet-valid or expired certificates fail with no change at all; (2) the
 * nonce must be above the signer's last one (NONCE_REUSED otherwise, no
 * change); (3) the nonce is consumed — from here on even a failed transaction
 * advances it, so a failed transaction can never be replayed to succeed
 * later; (4) the contract runs.
 */
import { InvariantError, MedchainError, invariant } from '../errors.js';
import { assertSuiteOf } from '../identity/genesis.js';
import { MAX_RECEIPT_REASON_LENGTH } from '../ledger/encoding.js';
import type { Block, Receipt, Transaction, TxType } from '../ledger/types.js';
import { accessLog } from './access.js';
import { resolveActor } from './actors.js';
import type { Actor } from './actors.js';
import { consentGrant, consentRevoke } from './consent.js';
import { payloadRules } from './context.js';
import type { ContractEnv, TxContext } from './context.js';
import { ContractCode, ContractRuleError } from './errors.js';
import type { ContractEvent, EventBase, EventBody } from './events.js';
import { governanceNotEnabled } from './governance.js';
import { indexEntryId, indexesForEvent } from './indexes.js';
import type { ContractIndexEntry, ContractIndexRef } from './indexes.js';
import { stateKey } from './keys.js';
import { memberCertify, memberRevoke } from './members.js';
import { decodeNonce, encodeNonce } from './model.js';
import { Overlay } from './overlay.js';
import type { StateReader, StateWrite } from './overlay.js';
import type { PayloadRules } from './payloads.js';
import { recordRegister } from './records.js';
import { referralAccept, referralComplete, referralCreate, referralReject } from './referrals.js';
import { nextStateRoot } from './state-root.js';

export interface ExecuteBlockInput {
  /** Already validated by the ledger rules (signatures verified). */
  readonly block: Block;
  /** Hash of each transaction, in block order. */
  readonly txHashes: readonly Uint8Array[];
  /** State root after the previous height (`genesisStateRoot(env)` at height 0). */
  readonly prevStateRoot: Uint8Array;
}

export interface BlockExecution {
  /** One per transaction: `OK`, or an UPPER_SNAKE contract code with a reason. */
  readonly receipts: Receipt[];
  /** Net changes, sorted by key bytes, one per key (`value: null` deletes). */
  readonly stateChanges: StateWrite[];
  readonly indexEntries: ContractIndexEntry[];
  /** Applied by storage before `indexEntries`; never names an entry that `indexEntries` adds. */
  readonly indexRemovals: ContractIndexRef[];
  readonly events: ContractEvent[];
  /** State root after this block. */
  readonly stateRoot: Uint8Array;
}

type Handler = (ctx: TxContext, payload: unknown) => void;

const HANDLERS: Readonly<Record<TxType, Handler>> = {
  'record.register': recordRegister,
  'consent.grant': consentGrant,
  'consent.revoke': consentRevoke,
  'referral.create': referralCreate,
  'referral.accept': referralAccept,
  'referral.reject': referralReject,
  'referral.complete': referralComplete,
  'access.log': accessLog,
  'member.certify': memberCertify,
  'member.revoke': memberRevoke,
  'gov.propose': () => governanceNotEnabled('gov.propose'),
  'gov.vote': () => governanceNotEnabled('gov.vote'),
};

/** The last nonce `signer` used, if any. */
export function readNonce(state: StateReader, signer: Uint8Array): number | undefined {
  const bytes = state.get(stateKey.nonce(signer));
  return bytes === undefined ? undefined : decodeNonce(bytes);
}

function boundedReason(reason: string): string {
  return reason.length <= MAX_RECEIPT_REASON_LENGTH
    ? reason
    : `${reason.slice(0, MAX_RECEIPT_REASON_LENGTH - 1)}…`;
}

interface TxOutcome {
  readonly code: string;
  readonly reason: string;
  readonly events: readonly EventBody[];
  /** Set when the transaction succeeded. */
  readonly actor: Actor | null;
}

function runTransaction(
  env: ContractEnv,
  rules: PayloadRules,
  blockState: Overlay,
  block: Block,
  tx: Transaction,
  txIndex: number,
  txHash: Uint8Array,
): TxOutcome {
  const height = block.header.height;
  const failed = (code: string, reason: string): TxOutcome => ({
    code,
    reason: boundedReason(reason),
    events: [],
    actor: null,
  });
  const resolved = resolveActor(env.genesis, blockState, tx.signer, height);
  if (!resolved.ok) return failed(resolved.code, resolved.reason);
  const last = readNonce(blockState, tx.signer);
  if (last !== undefined && tx.nonce <= last) {
    return failed(
      ContractCode.nonceReused,
      `nonce ${tx.nonce} is not above the signer's last nonce ${last}`,
    );
  }
  blockState.put(stateKey.nonce(tx.signer), encodeNonce(tx.nonce));

  const txState = new Overlay(blockState);
  const events: EventBody[] = [];
  const ctx: TxContext = {
    env,
    rules,
    state: txState,
    height,
    timestamp: block.header.timestamp,
    txHash,
    txIndex,
    actor: resolved.actor,
    emit: (body) => {
      events.push(body);
    },
  };
  try {
    HANDLERS[tx.type](ctx, tx.payload);
  } catch (err) {
    if (err instanceof ContractRuleError) return failed(err.code, err.reason);
    if (err instanceof InvariantError) throw err;
    const detail = err instanceof MedchainError ? `${err.code}: ${err.message}` : String(err);
    throw new InvariantError(
      `contract ${tx.type} threw unexpectedly at height ${height}, tx ${txIndex}: ${detail}`,
      {
        height,
        txIndex,
      },
    );
  }
  txState.mergeInto(blockState);
  return { code: ContractCode.ok, reason: '', events, actor: resolved.actor };
}

export function executeBlock(
  env: ContractEnv,
  state: StateReader,
  input: ExecuteBlockInput,
): BlockExecution {
  const { block, txHashes, prevStateRoot } = input;
  assertSuiteOf(env.genesis, env.suite);
  invariant(
    txHashes.length === block.txs.length,
    `executeBlock: ${txHashes.length} tx hashes for ${block.txs.length} transactions`,
  );
  const header = block.header;
  const rules = payloadRules(env);
  const blockState = new Overlay(state);
  const receipts: Receipt[] = [];
  const events: ContractEvent[] = [];
  /** Last operation per index entry, in first-touch order: later operations on one entry win. */
  const indexOps = new Map<string, { put: ContractIndexEntry } | { remove: ContractIndexRef }>();

  block.txs.forEach((tx, txIndex) => {
    const txHash = txHashes[txIndex];
    invariant(txHash !== undefined, 'a tx hash per transaction');
    const outcome = runTransaction(env, rules, blockState, block, tx, txIndex, txHash);
    receipts.push({
      txHash,
      height: header.height,
      index: txIndex,
      code: outcome.code,
      reason: outcome.reason,
    });
    const actor = outcome.actor;
    if (actor === null) return;
    outcome.events.forEach((body, eventIndex) => {
      const base: EventBase = {
        height: header.height,
        txIndex,
        eventIndex,
        txHash,
        timestamp: header.timestamp,
        actor: actor.publicKey,
        actorRole: actor.role,
        actorInstitution: actor.institution.id,
      };
      events.push({ ...body, ...base });
    });
  });

  for (const event of events) {
    const { entries, removals } = indexesForEvent(event);
    for (const ref of removals) indexOps.set(indexEntryId(ref), { remove: ref });
    for (const entry of entries) indexOps.set(indexEntryId(entry), { put: entry });
  }
  const indexEntries: ContractIndexEntry[] = [];
  const indexRemovals: ContractIndexRef[] = [];
  for (const op of indexOps.values()) {
    if ('put' in op) indexEntries.push(op.put);
    else indexRemovals.push(op.remove);
  }

  const stateChanges = blockState.netChanges();
  return {
    receipts,
    stateChanges,
    indexEntries,
    indexRemovals,
    events,
    stateRoot: nextStateRoot(env.suite, prevStateRoot, header.height, stateChanges),
  };
}
