/**
 * Extensions: what a feature module (the medical workflows in src/medical)
 * gets from the node, and what it adds — HTTP route groups, error statuses,
 * and the handler of the `/vault/1` protocol. The node stays generic; the
 * module reaches consensus, p2p and storage only through this narrow context.
 */
import type { RouteGroup } from '../api/route-group.js';
import type { SubmitResult } from '../api/types.js';
import type { StateReader } from '../contracts/overlay.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { Genesis, Institution } from '../identity/types.js';
import type { Logger } from '../logger.js';
import type { ChainStore } from '../../storage/chain-store.js';
import type { CommittedBlock } from './executor.js';

export interface NodeContext {
  readonly genesis: Genesis;
  readonly suite: CryptoSuite;
  /** This node's institution. */
  readonly institution: Institution;
  /** Committed chain data, world state, indexes and the document vault. */
  readonly store: ChainStore;
  readonly logger: Logger;
  /** Aborted when the node stops. */
  readonly signal: AbortSignal;
  /** Height of the latest stored block: `state` is the state after it. */
  height(): number;
  /** Synchronous reads of committed world state. */
  readonly state: StateReader;
  /** Admit a transaction (canonical bytes) as if a client had submitted it. */
  submitTransaction(bytes: Uint8Array): Promise<SubmitResult>;
  /** Ask the node of `institutionId` over the `/vault/1` protocol. */
  requestVault(
    institutionId: string,
    bytes: Uint8Array,
    options?: { readonly signal?: AbortSignal; readonly timeoutMs?: number },
  ): Promise<Uint8Array>;
  /** Called after every block is stored here, in height order; returns the unsubscribe function. */
  onStored(listener: (committed: CommittedBlock) => void): () => void;
}

export interface NodeExtension {
  readonly routeGroups?: readonly RouteGroup[];
  readonly errorStatus?: Readonly<Record<string, number>>;
  /**
   * Answer a `/vault/1` request from a member node (`fromInstitutionId` is
   * the institution bound to the peer id in genesis). Throw a MedchainError to
   * send an error response.
   */
  onVaultRequest?(
    fromInstitutionId: string,
    bytes: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array>;
  stop?(): Promise<void>;
}

export type NodeExtensionFactory = (context: NodeContext) => NodeExtension;
