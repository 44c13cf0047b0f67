/**
 * What the load generator sends: signed transactions of one workload, built
 * with the public builders of src/records (never hand-written payloads).
 *
 * | workload          | signers                                     | each transaction                                                  |
 * | ----------------- | ------------------------------------------- | ----------------------------------------------------------------- |
 * | `record.register` | doctors certified by their institution      | registers a record pointer sealed for the owner institution (L3)  |
 * | `member.certify`  | admins certified by their institution       | certifies a fresh doctor key of the admin's institution           |
 * | `rejected`        | keys nobody certified                       | a well-formed `record.register` that fails by rule (`UNKNOWN_SIGNER`): signature, ordering and consensus cost without state writes |
 *
 * Every signer's transactions use increasing nonces and go to one node, in
 * order (the generator keeps one request in flight per lane; ./generator.ts).
 * All patients, locators and metadata are synthetic.
 */
import { toHex } from '../codec/index.js';
import { encodeTransaction } from '../ledger/encoding.js';
import { hashTransaction } from '../ledger/hashing.js';
import { signTransaction } from '../ledger/sign.js';
import type { CryptoSuite } from '../crypto/suite.js';
import { InvalidInputError } from '../errors.js';
import type { MemberRole } from '../identity/types.js';
import {
  buildMemberCertify,
  buildRecordRegister,
  newId,
  patientPseudonym,
  sealRecordPointer,
  unsignedTransaction,
} from '../records/index.js';
import type { TxBody } from '../records/index.js';

export const WORKLOADS = ['record.register', 'member.certify', 'rejected'] as const;
export type Workload = (typeof WORKLOADS)[number];

export const WORKLOAD_DESCRIPTIONS: Readonly<Record<Workload, string>> = {
  'record.register': 'certified doctors register sealed record pointers (L3, default)',
  'member.certify': 'certified admins certify fresh doctor keys',
  rejected: 'uncertified keys send record.register: verified and ordered, failed by rule',
};

/** The member role the setup certifies for each signer of a workload (null: none). */
export function signerRoleOf(workload: Workload): MemberRole | null {
  switch (workload) {
    case 'record.register':
      return 'doctor';
    case 'member.certify':
      return 'admin';
    case 'rejected':
      return null;
  }
}

/** The receipt code every transaction of the workload should get. */
export function expectedReceiptCode(workload: Workload): string {
  return workload === 'rejected' ? 'UNKNOWN_SIGNER' : 'OK';
}

/** A signer of the workload: its key pair (kept in memory only), its institution and the node it sends to. */
export interface WorkloadSigner {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly institution: string;
  /** The institution's genesis signing key (the owner wrap of a record). */
  readonly institutionKey: Uint8Array;
  /** Index of the node (in the run's node list) this signer submits to. */
  readonly target: number;
  /** First nonce to use. */
  readonly firstNonce: number;
}

export interface WorkloadParams {
  readonly suite: CryptoSuite;
  readonly chainId: string;
  readonly workload: Workload;
  /** Approximate bytes of synthetic metadata sealed into each record pointer. */
  readonly payloadBytes: number;
  /** Certificates issued by `member.certify` transactions end at this height. */
  readonly certificateNotAfter: number;
}

export const MAX_PAYLOAD_BYTES = 6000;

/** One pre-signed transaction: its canonical bytes, hash and destination. */
export interface PreparedTx {
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
  /** Index into the signer list. */
  readonly signer: number;
}

/**
 * Builds the transactions of one workload, round-robin over its signers (so
 * consecutive transactions spread over signers and nodes). Not pure: record
 * ids, data keys and key wraps are random.
 */
export class WorkloadBuilder {
  readonly #params: WorkloadParams;
  readonly #signers: readonly WorkloadSigner[];
  readonly #nonces: number[];
  readonly #institutionSecret: Uint8Array;
  readonly #padding: string;
  #next = 0;
  #count = 0;

  constructor(params: WorkloadParams, signers: readonly WorkloadSigner[]) {
    if (signers.length === 0) throw new InvalidInputError('signers', 'need at least one signer');
    if (
      !Number.isSafeInteger(params.payloadBytes) ||
      params.payloadBytes < 0 ||
      params.payloadBytes > MAX_PAYLOAD_BYTES
    ) {
      throw new InvalidInputError(
        'payloadBytes',
        `must be an integer from 0 to ${MAX_PAYLOAD_BYTES}, got ${params.payloadBytes}`,
      );
    }
    this.#params = params;
    this.#signers = signers;
    this.#nonces = signers.map((s) => s.firstNonce);
    this.#institutionSecret = params.suite.randomBytes(32);
    this.#padding = 'x'.repeat(params.payloadBytes);
  }

  /** The next nonce each signer would use (to continue in a later step). */
  get nonces(): readonly number[] {
    return this.#nonces;
  }

  /** Builds and signs the next `count` transactions, valid until `validUntilHeight`. */
  prepare(count: number, validUntilHeight: number): PreparedTx[] {
    const out: PreparedTx[] = [];
    for (let i = 0; i < count; i++) out.push(this.#one(validUntilHeight));
    return out;
  }

  #one(validUntilHeight: number): PreparedTx {
    const { suite, chainId } = this.#params;
    const index = this.#next;
    this.#next = (this.#next + 1) % this.#signers.length;
    const signer = this.#signers[index];
    if (signer === undefined) throw new InvalidInputError('signers', 'signer list changed');
    const nonce = this.#nonces[index] ?? 1;
    this.#nonces[index] = nonce + 1;
    this.#count++;
    const body = this.#body(signer);
    const tx = signTransaction(
      suite,
      unsignedTransaction({ chainId, body, signer: signer.publicKey, nonce, validUntilHeight }),
      signer.privateKey,
    );
    const hashed = hashTransaction(suite, tx);
    return { bytes: encodeTransaction(tx), hash: hashed.hash, signer: index };
  }

  #body(signer: WorkloadSigner): TxBody {
    const { suite, chainId, workload } = this.#params;
    if (workload === 'member.certify') {
      const member = suite.generateKeyPair();
      return buildMemberCertify(suite, {
        memberId: `bench-${toHex(suite.randomBytes(12))}`,
        publicKey: member.publicKey,
        role: 'doctor',
        institution: signer.institution,
        notBefore: 0,
        notAfter: this.#params.certificateNotAfter,
        patient: null,
      });
    }
    const recordId = newId(suite, 'rec');
    const sealed = sealRecordPointer(suite, {
      chainId,
      recordId,
      locator: `vault:bench/${recordId}`,
      metadata: { title: 'synthetic benchmark record', padding: this.#padding },
      recipients: [signer.institutionKey],
    });
    return buildRecordRegister(suite, {
      recordId,
      patient: patientPseudonym(
        suite,
        this.#institutionSecret,
        `synthetic-patient-${this.#count % 1000}`,
      ),
      recordType: 'lab-report',
      level: 'L3',
      contentHash: suite.hash(sealed.sealedMetadata),
      sealedLocator: sealed.sealedLocator,
      sealedMetadata: sealed.sealedMetadata,
      wraps: sealed.wraps,
      storage: 'vault',
    });
  }
}
