/**
 * The medical workflows as a node extension (src/node/extension.ts): the
 * route group of ./routes.ts, the `MEDICAL_*` error statuses, the
 * `/vault/1` handler (./vault-service.ts) and the referral WebSocket hub,
 * fed by every block the node stores.
 *
 *     new MedchainNode({ config, extensions: [medicalExtension] })
 */
import { toHex } from '../codec/index.js';
import type { NodeContext, NodeExtension, NodeExtensionFactory } from '../node/extension.js';
import { CommitWatcher } from './commit-watcher.js';
import { MEDICAL_ERROR_STATUS } from './errors.js';
import { DEFAULT_REFERRAL_HUB_OPTIONS, ReferralEventHub } from './referral-events.js';
import type { ReferralHubOptions } from './referral-events.js';
import { createMedicalRoutes } from './routes.js';
import { DEFAULT_SIGNATURE_WINDOW_MS } from './signed-request.js';
import { DEFAULT_VAULT_LIMITS, VaultService } from './vault-service.js';
import type { VaultLimits } from './vault-service.js';

export interface MedicalExtensionOptions {
  /** Wall clock for signed-request windows (tests pin it). */
  readonly now?: () => number;
  /** Largest accepted |now − signed timestamp|; default 5 minutes. */
  readonly signatureWindowMs?: number;
  readonly vault?: Partial<VaultLimits>;
  readonly referralEvents?: Partial<ReferralHubOptions>;
}

/** What the extension exposes beyond `NodeExtension` (tests use the vault directly). */
export interface MedicalExtension extends NodeExtension {
  readonly vault: VaultService;
}

export function createMedicalExtension(
  options: MedicalExtensionOptions = {},
): (context: NodeContext) => MedicalExtension {
  return (ctx) => {
    const env = { suite: ctx.suite, genesis: ctx.genesis };
    const logger = ctx.logger.child({ module: 'medical' });
    const commits = new CommitWatcher();
    const vault = new VaultService(
      {
        env,
        institution: ctx.institution,
        state: ctx.state,
        height: () => ctx.height(),
        vault: ctx.store.vault,
        committedReceipt: (hash) => ctx.store.receipts.getByTxHash(hash),
        submitTransaction: (bytes) => ctx.submitTransaction(bytes),
        requestVault: (institutionId, bytes, requestOptions) =>
          ctx.requestVault(institutionId, bytes, requestOptions),
        commits,
        logger,
      },
      { ...DEFAULT_VAULT_LIMITS, ...options.vault },
    );
    const hub = new ReferralEventHub(
      ctx.institution.id,
      { ...DEFAULT_REFERRAL_HUB_OPTIONS, ...options.referralEvents },
      logger,
    );
    const unsubscribe = ctx.onStored((committed) => {
      commits.onCommitted(committed);
      hub.onCommitted(committed.events);
    });
    const routes = createMedicalRoutes({
      env,
      institution: ctx.institution,
      state: ctx.state,
      indexes: ctx.store.indexes,
      height: () => ctx.height(),
      now: options.now ?? Date.now,
      signatureWindowMs: options.signatureWindowMs ?? DEFAULT_SIGNATURE_WINDOW_MS,
      vault,
      hub,
    });
    logger.debug(
      { institution: ctx.institution.id, key: toHex(ctx.institution.signingKey).slice(0, 16) },
      'medical extension ready',
    );
    return {
      vault,
      routeGroups: [routes],
      errorStatus: MEDICAL_ERROR_STATUS,
      onVaultRequest: (from, bytes, signal) => vault.onVaultRequest(from, bytes, signal),
      stop: () => {
        unsubscribe();
        hub.close();
        return Promise.resolve();
      },
    };
  };
}

/** The extension with default limits, for `medchain start`. */
export const medicalExtension: NodeExtensionFactory = createMedicalExtension();
