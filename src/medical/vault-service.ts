/**
 * The document vault, both sides of a fetch (DESIGN.md §4, §6).
 *
 * Owner node (`serveFetch`): a reader's node sends the reader's signed
 * access.log transaction. The owner verifies it (signature, type, payload,
 * signer a member of the requesting node's institution), checks the record is
 * its own and in its vault, checks `canAccess` for the signer at its current
 * height, submits the transaction and waits until it commits with an OK
 * receipt — so "who looked" is on chain before a byte leaves, and a grant
 * revoked in between is caught by the contract — then returns the
 * ciphertext. The owner holds no data key: the vault has only what the
 * owner's client sealed.
 *
 * Reader node (`relayFetch`): checks the transaction is the requester's own,
 * for this record, and asks the owner's node (or itself, when it is the owner).
 */
import { bytesEqual, toHex } from '../codec/index.js';
import {
  canAccess,
  ContractRuleError,
  getMember,
  getRecord,
  parseAccessLog,
} from '../contracts/index.js';
import type {
  AccessLogPayload,
  ContractEnv,
  RecordEntry,
  StateReader,
} from '../contracts/index.js';
import { MedchainError } from '../errors.js';
import type { Institution } from '../identity/types.js';
import { decodeHashedTransaction, verifyTransactionSignature } from '../ledger/hashing.js';
import type { HashedTransaction } from '../ledger/hashing.js';
import type { Receipt } from '../ledger/types.js';
import type { Logger } from '../logger.js';
import type { CommitWatcher } from './commit-watcher.js';
import { isMedicalServerCode, MedicalError, MedicalErrorCode } from './errors.js';
import type { Principal } from './principal.js';
import { forbidden, isStaffOf } from './principal.js';
import {
  decodeVaultRequest,
  decodeVaultResponse,
  encodeVaultRequest,
  encodeVaultResponse,
} from './vault-protocol.js';
import type { VaultFetchResponse } from './vault-protocol.js';

/** What the vault needs from the node (a subset of `NodeContext`). */
export interface VaultNode {
  readonly env: ContractEnv;
  readonly institution: Institution;
  readonly state: StateReader;
  height(): number;
  readonly vault: {
    put(documentId: Uint8Array, ciphertext: Uint8Array): Promise<void>;
    get(documentId: Uint8Array): Promise<Uint8Array | undefined>;
  };
  /** Whether a transaction is committed here (and its receipt). */
  committedReceipt(txHash: Uint8Array): Promise<Receipt | undefined>;
  submitTransaction(
    bytes: Uint8Array,
  ): Promise<{ readonly hash: Uint8Array; readonly duplicate: boolean }>;
  requestVault(
    institutionId: string,
    bytes: Uint8Array,
    options: { readonly signal?: AbortSignal; readonly timeoutMs?: number },
  ): Promise<Uint8Array>;
  readonly commits: CommitWatcher;
  readonly logger: Logger;
}

export interface VaultLimits {
  /** Largest document (ciphertext) the vault stores and serves. */
  readonly maxDocumentBytes: number;
  /** How long the owner waits for the access.log to commit before refusing to serve. */
  readonly accessLogTimeoutMs: number;
  /** How long a reader's node waits for the owner's node. */
  readonly fetchTimeoutMs: number;
}

export const DEFAULT_VAULT_LIMITS: VaultLimits = {
  maxDocumentBytes: 8 * 1024 * 1024,
  accessLogTimeoutMs: 10_000,
  fetchTimeoutMs: 15_000,
};

/** Roles that may put documents into their institution's vault. */
const UPLOAD_ROLES: ReadonlySet<string> = new Set(['institution', 'doctor', 'department', 'admin']);

export function documentId(recordId: string): Uint8Array {
  return new TextEncoder().encode(`doc/${recordId}`);
}

export interface CheckedAccessTx {
  readonly htx: HashedTransaction;
  readonly payload: AccessLogPayload;
}

function badTx(
  message: string,
  details: Readonly<Record<string, string | number>> = {},
): MedicalError {
  return new MedicalError(MedicalErrorCode.badAccessTx, message, details);
}

/** Decodes and checks a signed access.log transaction (anything else → `MEDICAL_BAD_ACCESS_TX`). */
export function checkAccessTx(
  env: ContractEnv,
  bytes: Uint8Array,
  height: number,
): CheckedAccessTx {
  const { suite, genesis } = env;
  let htx: HashedTransaction;
  try {
    htx = decodeHashedTransaction(suite, bytes, { maxTxBytes: genesis.policy.maxTxBytes });
  } catch (err) {
    if (!(err instanceof MedchainError)) throw err;
    throw badTx(`tx: not a transaction (${err.code}: ${err.message})`);
  }
  const { tx } = htx;
  if (tx.chainId !== genesis.chainId)
    throw badTx(`tx.chainId: the transaction is for chain ${tx.chainId}`);
  if (tx.type !== 'access.log') throw badTx(`tx.type: expected access.log, got ${tx.type}`);
  if (tx.validUntilHeight <= height) {
    throw badTx(
      `tx.validUntilHeight: the transaction expires at height ${tx.validUntilHeight}, the chain is at ${height}`,
    );
  }
  if (!verifyTransactionSignature(suite, tx))
    throw badTx('tx.signature: does not verify for the signer');
  let payload: AccessLogPayload;
  try {
    payload = parseAccessLog(
      { publicKeyLength: suite.publicKeyLength, hashLength: suite.hashLength },
      tx.payload,
    );
  } catch (err) {
    if (!(err instanceof ContractRuleError)) throw err;
    throw badTx(`tx.${err.reason}`);
  }
  return { htx, payload };
}

function vaultRecord(node: VaultNode, recordId: string): RecordEntry {
  const record = getRecord(node.state, recordId);
  if (record === undefined) {
    throw new MedicalError(MedicalErrorCode.recordNotFound, `no record ${recordId}`, { recordId });
  }
  if (record.storage !== 'vault') {
    throw new MedicalError(
      MedicalErrorCode.notInVault,
      `record ${recordId} is registered with an external locator: open its sealed locator, nothing is fetched`,
      { recordId },
    );
  }
  return record;
}

export class VaultService {
  readonly #node: VaultNode;
  readonly #limits: VaultLimits;

  constructor(node: VaultNode, limits: VaultLimits = DEFAULT_VAULT_LIMITS) {
    this.#node = node;
    this.#limits = limits;
  }

  get limits(): VaultLimits {
    return this.#limits;
  }

  /** Stores a sealed document of this institution. Returns whether it was new. */
  async upload(
    principal: Principal,
    recordId: string,
    ciphertext: Uint8Array,
  ): Promise<{ created: boolean }> {
    const node = this.#node;
    const me = node.institution.id;
    if (!isStaffOf(principal, me) || !UPLOAD_ROLES.has(principal.role)) {
      throw forbidden(
        `only doctors, departments and admins of ${me} (or its institution key) put documents into its vault`,
      );
    }
    if (ciphertext.length === 0 || ciphertext.length > this.#limits.maxDocumentBytes) {
      throw new MedicalError(
        MedicalErrorCode.documentTooLarge,
        `a sealed document must be 1 to ${this.#limits.maxDocumentBytes} bytes, got ${ciphertext.length}`,
        { bytes: ciphertext.length, maxBytes: this.#limits.maxDocumentBytes },
      );
    }
    const record = getRecord(node.state, recordId);
    if (record !== undefined) {
      if (record.owner !== me) {
        throw new MedicalError(
          MedicalErrorCode.notOwner,
          `record ${recordId} belongs to ${record.owner}, not ${me}`,
          {
            recordId,
            owner: record.owner,
          },
        );
      }
      if (record.storage !== 'vault') {
        throw new MedicalError(
          MedicalErrorCode.notInVault,
          `record ${recordId} is registered with an external locator`,
          {
            recordId,
          },
        );
      }
    }
    const id = documentId(recordId);
    const existing = await node.vault.get(id);
    if (existing !== undefined) {
      if (bytesEqual(existing, ciphertext)) return { created: false };
      throw new MedicalError(
        MedicalErrorCode.documentExists,
        `the vault already holds a different document for record ${recordId}`,
        { recordId },
      );
    }
    await node.vault.put(id, ciphertext);
    node.logger.info(
      { recordId, bytes: ciphertext.length, by: principal.memberId ?? 'institution' },
      'vault document stored',
    );
    return { created: true };
  }

  /** Owner side of a fetch: see the module comment. */
  async serveFetch(
    fromInstitutionId: string,
    txBytes: Uint8Array,
    signal?: AbortSignal,
  ): Promise<VaultFetchResponse> {
    const node = this.#node;
    const { env } = node;
    const height = node.height();
    const { htx, payload } = checkAccessTx(env, txBytes, height);
    const signer = htx.tx.signer;
    const cert = getMember(node.state, signer);
    if (cert === undefined) {
      throw badTx('tx.signer: access.log must be signed by a certified member key', {
        signer: toHex(signer),
      });
    }
    if (cert.institution !== fromInstitutionId) {
      throw forbidden(
        `the node of ${fromInstitutionId} relayed an access.log signed by a member of ${cert.institution}; members fetch through their own institution's node`,
      );
    }
    const record = vaultRecord(node, payload.recordId);
    if (record.owner !== node.institution.id) {
      throw new MedicalError(
        MedicalErrorCode.notOwner,
        `record ${record.id} belongs to ${record.owner}`,
        {
          recordId: record.id,
          owner: record.owner,
        },
      );
    }
    const ciphertext = await node.vault.get(documentId(record.id));
    if (ciphertext === undefined) {
      throw new MedicalError(
        MedicalErrorCode.documentNotFound,
        `the vault of ${record.owner} holds no document for record ${record.id}`,
        {
          recordId: record.id,
        },
      );
    }
    const decision = canAccess(env, node.state, height, signer, record.id, {
      grantId: payload.grantId,
    });
    if (!decision.ok) {
      node.logger.info(
        {
          recordId: record.id,
          reader: cert.memberId,
          readerInstitution: cert.institution,
          code: decision.code,
        },
        'vault fetch denied',
      );
      throw new MedicalError(
        MedicalErrorCode.accessDenied,
        `access denied at height ${height}: ${decision.reason}`,
        {
          recordId: record.id,
          accessCode: decision.code,
          height,
        },
      );
    }
    if ((await node.committedReceipt(htx.hash)) !== undefined) {
      throw new MedicalError(
        MedicalErrorCode.accessTxUsed,
        'this access.log transaction was already committed: sign a new one for each fetch',
        {
          txHash: toHex(htx.hash),
        },
      );
    }
    const controller = new AbortController();
    const waitSignal =
      signal === undefined ? controller.signal : AbortSignal.any([signal, controller.signal]);
    const committed = node.commits.wait(htx.hash, this.#limits.accessLogTimeoutMs, waitSignal);
    committed.catch(() => undefined);
    try {
      const submitted = await node.submitTransaction(htx.bytes);
      if (submitted.duplicate && (await node.committedReceipt(htx.hash)) !== undefined) {
        throw new MedicalError(
          MedicalErrorCode.accessTxUsed,
          'this access.log transaction was already committed: sign a new one for each fetch',
          {
            txHash: toHex(htx.hash),
          },
        );
      }
    } catch (err) {
      controller.abort();
      if (err instanceof MedicalError || !(err instanceof MedchainError)) throw err;
      throw badTx(
        `the node did not admit the access.log transaction: ${err.code}: ${err.message}`,
        { cause: err.code },
      );
    }
    const receipt = await committed;
    if (receipt.code !== 'OK') {
      node.logger.info(
        { recordId: record.id, reader: cert.memberId, code: receipt.code },
        'access.log refused by the chain',
      );
      throw new MedicalError(
        MedicalErrorCode.accessRefused,
        `the chain refused the access at height ${receipt.height}: ${receipt.code}: ${receipt.reason}`,
        {
          recordId: record.id,
          receiptCode: receipt.code,
          height: receipt.height,
        },
      );
    }
    node.logger.info(
      {
        recordId: record.id,
        reader: cert.memberId,
        readerInstitution: cert.institution,
        txHash: toHex(htx.hash),
        height: receipt.height,
      },
      'vault document served',
    );
    return { recordId: record.id, ciphertext, accessTx: htx.hash, height: receipt.height };
  }

  /** `/vault/1` handler of the owner node. */
  async onVaultRequest(
    fromInstitutionId: string,
    bytes: Uint8Array,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    const request = decodeVaultRequest(bytes);
    return encodeVaultResponse(await this.serveFetch(fromInstitutionId, request.tx, signal));
  }

  /** Reader side: the requester's own node forwards its access.log to the owner's node. */
  async relayFetch(
    principal: Principal,
    recordId: string,
    txBytes: Uint8Array,
    signal?: AbortSignal,
  ): Promise<VaultFetchResponse> {
    const node = this.#node;
    const { htx, payload } = checkAccessTx(node.env, txBytes, node.height());
    if (payload.recordId !== recordId) {
      throw badTx(
        `tx.payload.recordId: the transaction logs access to ${payload.recordId}, not ${recordId}`,
      );
    }
    if (!bytesEqual(htx.tx.signer, principal.publicKey)) {
      throw badTx('tx.signer: the access.log must be signed by the key that signs this request');
    }
    const record = vaultRecord(node, recordId);
    if (record.owner === node.institution.id)
      return this.serveFetch(principal.institution.id, txBytes, signal);
    let bytes: Uint8Array;
    try {
      bytes = await node.requestVault(
        record.owner,
        encodeVaultRequest({ op: 'fetch', tx: htx.bytes }),
        {
          timeoutMs: this.#limits.fetchTimeoutMs,
          ...(signal === undefined ? {} : { signal }),
        },
      );
    } catch (err) {
      throw relayedError(err, record.owner);
    }
    const response = decodeVaultResponse(bytes, this.#limits.maxDocumentBytes + 1024);
    if (response.recordId !== recordId || !bytesEqual(response.accessTx, htx.hash)) {
      throw new MedicalError(
        MedicalErrorCode.ownerUnreachable,
        `the node of ${record.owner} answered for another fetch`,
      );
    }
    return response;
  }
}

/** The owner's refusal as our own error (same code), or `MEDICAL_OWNER_UNREACHABLE`. */
function relayedError(err: unknown, owner: string): unknown {
  if (!(err instanceof MedchainError)) return err;
  const remoteCode = err.details.remoteCode;
  const remoteMessage = err.details.remoteMessage;
  if (
    err.code === 'P2P_REMOTE_ERROR' &&
    typeof remoteCode === 'string' &&
    isMedicalServerCode(remoteCode)
  ) {
    return new MedicalError(
      remoteCode,
      `${owner}: ${typeof remoteMessage === 'string' ? remoteMessage : ''}`,
      {
        owner,
      },
    );
  }
  if (err instanceof MedicalError) return err;
  return new MedicalError(
    MedicalErrorCode.ownerUnreachable,
    `cannot fetch from the node of ${owner}: ${err.code}: ${err.message}`,
    { owner, cause: err.code },
    { cause: err },
  );
}
