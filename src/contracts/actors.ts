/**
 * Who signed a transaction, and what policy lets them do.
 *
 * A signer is either an institution's genesis signing key (it acts as the
 * institution, with the rights of an `admin` member) or a member key with a
 * certificate on chain. A certificate that is revoked, not yet valid or
 * expired at the block height can do nothing.
 */
import { toHex } from '../codec/index.js';
import { DATA_LEVELS } from '../identity/types.js';
import type {
  DataLevel,
  DataLevelRule,
  Genesis,
  Institution,
  MemberRole,
} from '../identity/types.js';
import { ContractCode, fail } from './errors.js';
import type { ContractFailureCode } from './errors.js';
import { stateKey } from './keys.js';
import { decodeMember } from './model.js';
import type { ActorRole, MemberCertificate } from './model.js';
import type { StateReader } from './overlay.js';

export interface Actor {
  readonly publicKey: Uint8Array;
  readonly kind: 'institution' | 'member';
  readonly institution: Institution;
  /** `institution` for an institution key, else the certificate's role. */
  readonly role: ActorRole;
  readonly certificate: MemberCertificate | null;
}

interface InstitutionTable {
  readonly byKey: ReadonlyMap<string, Institution>;
  readonly byId: ReadonlyMap<string, Institution>;
}

/** Lookup tables per genesis object (built once; the genesis is immutable). */
const tables = new WeakMap<Genesis, InstitutionTable>();

function tableOf(genesis: Genesis): InstitutionTable {
  let table = tables.get(genesis);
  if (table === undefined) {
    table = {
      byKey: new Map(genesis.institutions.map((i) => [toHex(i.signingKey), i])),
      byId: new Map(genesis.institutions.map((i) => [i.id, i])),
    };
    tables.set(genesis, table);
  }
  return table;
}

export function institutionById(genesis: Genesis, id: string): Institution | undefined {
  return tableOf(genesis).byId.get(id);
}

export function institutionByKey(genesis: Genesis, key: Uint8Array): Institution | undefined {
  return tableOf(genesis).byKey.get(toHex(key));
}

export function readMember(
  state: StateReader,
  publicKey: Uint8Array,
): MemberCertificate | undefined {
  const bytes = state.get(stateKey.member(publicKey));
  return bytes === undefined ? undefined : decodeMember(bytes);
}

export type Validity =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: ContractFailureCode; readonly reason: string };

/** Whether a certificate may act at `height`. */
export function certificateValidity(cert: MemberCertificate, height: number): Validity {
  if (cert.revokedAt !== null) {
    return {
      ok: false,
      code: ContractCode.certRevoked,
      reason: `the certificate of member ${cert.memberId} (${cert.institution}) was revoked at height ${cert.revokedAt}`,
    };
  }
  if (height < cert.notBefore) {
    return {
      ok: false,
      code: ContractCode.certNotYetValid,
      reason: `the certificate of member ${cert.memberId} (${cert.institution}) is valid from height ${cert.notBefore}, this is height ${height}`,
    };
  }
  if (height > cert.notAfter) {
    return {
      ok: false,
      code: ContractCode.certExpired,
      reason: `the certificate of member ${cert.memberId} (${cert.institution}) expired after height ${cert.notAfter}, this is height ${height}`,
    };
  }
  return { ok: true };
}

export type ResolvedSigner =
  | { readonly ok: true; readonly actor: Actor }
  | { readonly ok: false; readonly code: ContractFailureCode; readonly reason: string };

/** The actor behind `publicKey` at `height`: an institution key, or a member with a valid certificate. */
export function resolveActor(
  genesis: Genesis,
  state: StateReader,
  publicKey: Uint8Array,
  height: number,
): ResolvedSigner {
  const institution = institutionByKey(genesis, publicKey);
  if (institution !== undefined) {
    return {
      ok: true,
      actor: {
        publicKey,
        kind: 'institution',
        institution,
        role: 'institution',
        certificate: null,
      },
    };
  }
  const cert = readMember(state, publicKey);
  if (cert === undefined) {
    return {
      ok: false,
      code: ContractCode.unknownSigner,
      reason: 'the signer is neither an institution key nor a certified member key',
    };
  }
  const validity = certificateValidity(cert, height);
  if (!validity.ok) return validity;
  const home = institutionById(genesis, cert.institution);
  if (home === undefined) {
    return {
      ok: false,
      code: ContractCode.unknownInstitution,
      reason: `the certificate names institution ${cert.institution}, which is not in the genesis`,
    };
  }
  return {
    ok: true,
    actor: { publicKey, kind: 'member', institution: home, role: cert.role, certificate: cert },
  };
}

/** The role policy sees: an institution key has the rights of an admin. */
export function policyRole(actor: Actor): MemberRole {
  return actor.role === 'institution' ? 'admin' : actor.role;
}

export function levelRank(level: DataLevel): number {
  return DATA_LEVELS.indexOf(level);
}

/** Levels L1..maxLevel. */
export function levelsUpTo(maxLevel: DataLevel): DataLevel[] {
  return DATA_LEVELS.slice(0, levelRank(maxLevel) + 1);
}

export function policyAllows(
  genesis: Genesis,
  action: keyof DataLevelRule,
  role: MemberRole,
  level: DataLevel,
): boolean {
  return genesis.policy.dataLevels[level][action].includes(role);
}

/** Fails with ROLE_FORBIDDEN unless policy lets the actor's role `action` records of `level`. */
export function requirePolicy(
  genesis: Genesis,
  actor: Actor,
  action: keyof DataLevelRule,
  level: DataLevel,
): void {
  const role = policyRole(actor);
  if (!policyAllows(genesis, action, role, level)) {
    const who = actor.role === 'institution' ? 'an institution key (admin rights)' : `role ${role}`;
    fail(ContractCode.roleForbidden, `policy does not let ${who} ${action} ${level} records`);
  }
}

/** Fails with ROLE_FORBIDDEN unless the actor is a member with one of `roles`. */
export function requireMemberRole(actor: Actor, roles: readonly MemberRole[], what: string): void {
  if (actor.kind !== 'member' || !roles.includes(actor.role as MemberRole)) {
    const who = actor.kind === 'institution' ? 'an institution key' : `role ${actor.role}`;
    fail(
      ContractCode.roleForbidden,
      `${what} needs a member with role ${roles.join(' or ')}, not ${who}`,
    );
  }
}
