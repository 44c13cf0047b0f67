/** What a contract entry point works with: the chain, the state overlay of its transaction, the actor. */
import type { CryptoSuite } from '../crypto/suite.js';
import type { Genesis } from '../identity/types.js';
import type { Actor } from './actors.js';
import type { EventBody } from './events.js';
import type { Overlay } from './overlay.js';
import type { PayloadRules } from './payloads.js';

/** The chain a contract runs on: its suite and genesis (institutions, policy). */
export interface ContractEnv {
  readonly suite: CryptoSuite;
  readonly genesis: Genesis;
}

export interface TxContext {
  readonly env: ContractEnv;
  readonly rules: PayloadRules;
  /** The transaction's own overlay: merged into the block only if the transaction succeeds. */
  readonly state: Overlay;
  readonly height: number;
  readonly timestamp: number;
  readonly txHash: Uint8Array;
  readonly txIndex: number;
  readonly actor: Actor;
  emit(body: EventBody): void;
}

export function payloadRules(env: ContractEnv): PayloadRules {
  return { publicKeyLength: env.suite.publicKeyLength, hashLength: env.suite.hashLength };
}
