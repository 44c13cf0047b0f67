/**
 * The genesis document (DESIGN.md §4): the chain's id, crypto suite, founding
 * institutions and policy. Every node of an alliance starts from the same
 * genesis; its hash (./genesis.ts) is the parent of block 1.
 */
import type { SuiteId } from '../crypto/suite.js';

export const INSTITUTION_ROLES = [
  'hospital',
  'health-centre',
  'regulator',
  'alliance-leader',
] as const;
export type InstitutionRole = (typeof INSTITUTION_ROLES)[number];

/** Roles of members (holders of institution-issued certificates) that policy grants rights to. */
export const MEMBER_ROLES = ['doctor', 'department', 'admin', 'auditor', 'patient'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** 数据分级: L1 statistics/public, L2 de-identified, L3 identifiable clinical, L4 highly sensitive. */
export const DATA_LEVELS = ['L1', 'L2', 'L3', 'L4'] as const;
export type DataLevel = (typeof DATA_LEVELS)[number];

/** Which member roles may act on records of one data level. Each list is a set, kept in `MEMBER_ROLES` order. */
export interface DataLevelRule {
  /** May register record pointers of this level. */
  readonly register: readonly MemberRole[];
  /** May grant (and revoke) access to records of this level. */
  readonly grant: readonly MemberRole[];
  /** May read records of this level when a live grant allows it. */
  readonly read: readonly MemberRole[];
}

export interface Policy {
  readonly dataLevels: Readonly<Record<DataLevel, DataLevelRule>>;
  readonly maxBlockTxs: number;
  /** Largest encoded block, header included. */
  readonly maxBlockBytes: number;
  readonly maxTxBytes: number;
  /** The primary cuts a block after this long even if it is not full. */
  readonly blockIntervalMs: number;
  /** Heights between checkpoints. */
  readonly checkpointInterval: number;
  /** Initial view-change timeout; it backs off exponentially. */
  readonly viewChangeTimeoutMs: number;
}

export interface Institution {
  /** Stable id: lower-case letters, digits and '-'. */
  readonly id: string;
  /** Display name (any script). */
  readonly name: string;
  readonly role: InstitutionRole;
  /** Raw public signing key of the chain's suite. */
  readonly signingKey: Uint8Array;
  /** libp2p peer id (Ed25519, base58btc `12D3KooW…`) of the institution's node. */
  readonly peerId: string;
  /** Whether the institution is a PBFT validator (otherwise an observer). */
  readonly voting: boolean;
  /** Hint: base URL of the node's HTTP API. Not part of the genesis hash. */
  readonly apiAddress?: string;
  /** Hint: multiaddrs the node listens on. Not part of the genesis hash. */
  readonly p2pAddresses?: readonly string[];
}

/** A parsed, validated genesis document. */
export interface Genesis {
  readonly chainId: string;
  readonly suite: SuiteId;
  /** Milliseconds since the epoch; the timestamp of the chain's "block 0". */
  readonly genesisTime: number;
  readonly institutions: readonly Institution[];
  readonly policy: Policy;
}

/** The JSON form of an institution: the signing key as `<suite>:pub:<hex>` (src/crypto/keys.ts). */
export interface InstitutionJson {
  readonly id: string;
  readonly name: string;
  readonly role: InstitutionRole;
  readonly signingKey: string;
  readonly peerId: string;
  readonly voting: boolean;
  readonly apiAddress?: string;
  readonly p2pAddresses?: readonly string[];
}

/** The genesis file as JSON. Every field is explicit: a file's meaning never depends on code defaults. */
export interface GenesisJson {
  readonly chainId: string;
  readonly suite: SuiteId;
  readonly genesisTime: number;
  readonly institutions: readonly InstitutionJson[];
  readonly policy: Policy;
}
