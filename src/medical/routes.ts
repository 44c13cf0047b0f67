/**
 * The medical endpoints (one route group): records with their ciphertext,
 * wraps and grants; document upload and fetch; grants; referrals and the
 * inbox; members; audit trails per record, patient and institution;
 * statistics for the regulator; and the referral WebSocket. Every route but
 * `GET /v1/institutions` needs a signed request (./signed-request.ts); the
 * rule each applies is written beside it and in docs/medical.md.
 *
 * Rules use the principal's role at the node's current height:
 * staff of X / oversight / the patient (./principal.ts), and `canAccess` of
 * the contracts for grantees.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CodecError, decode, fromHex, toHex } from '../codec/index.js';
import { createFieldReader } from '../codec/fields.js';
import {
  canAccess,
  certificateValidity,
  getGrant,
  getMember,
  getPatientKey,
  getRecord,
  getReferral,
  granteeIndexKey,
  INDEX,
  utcDay,
} from '../contracts/index.js';
import type {
  AccessDecision,
  ContractEnv,
  Grant,
  Grantee,
  Json,
  RecordEntry,
  StateReader,
} from '../contracts/index.js';
import { InvalidInputError } from '../errors.js';
import type { Institution } from '../identity/types.js';
import { errorResponses } from '../api/route-group.js';
import type { OpenApiPaths, RouteGroup } from '../api/route-group.js';
import { MEDIA_CBOR } from '../api/schemas.js';
import { MedicalError, MedicalErrorCode } from './errors.js';
import type { Principal } from './principal.js';
import {
  describePrincipal,
  forbidden,
  isOversight,
  isPatient,
  isStaffOf,
  maySeeStatisticsOf,
  resolvePrincipal,
} from './principal.js';
import type { ReferralEventHub } from './referral-events.js';
import { SIGNATURE_HEADER, verifySignedRequest } from './signed-request.js';
import type { VaultService } from './vault-service.js';
import {
  auditTrail,
  daysBetween,
  grantsFromIndex,
  grantToJson,
  MAX_STATISTICS_DAYS,
  memberToJson,
  membersOf,
  recordsFromIndex,
  recordSummaryJson,
  recordToJson,
  referralsFromIndex,
  referralToJson,
  statistics,
  STATISTICS,
} from './views.js';
import type { IndexReader, ListOptions, Statistic, StatisticsGranularity } from './views.js';

export interface MedicalRouteDeps {
  readonly env: ContractEnv;
  readonly institution: Institution;
  readonly state: StateReader;
  readonly indexes: IndexReader;
  height(): number;
  now(): number;
  readonly signatureWindowMs: number;
  readonly vault: VaultService;
  readonly hub: ReferralEventHub;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** Scans that decide a permission look at most this many index entries. */
const MAX_PERMISSION_SCAN = 1000;

// ---------------------------------------------------------------------------
// parameters

const ID_SOURCE = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const GRANT_ID_SOURCE = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$';
const HEX32_SOURCE = '^[0-9a-fA-F]{64}$';
const KEY_SOURCE = '^(?:[0-9a-fA-F]{2}){16,128}$';
const INSTITUTION_SOURCE = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function paramsSchema(params: Readonly<Record<string, string>>): object {
  return {
    type: 'object',
    required: Object.keys(params),
    properties: Object.fromEntries(
      Object.entries(params).map(([name, pattern]) => [name, { type: 'string', pattern }]),
    ),
  };
}

type Query = Readonly<Record<string, string | undefined>>;

function queryOf(request: FastifyRequest): Query {
  const q = request.query as Readonly<Record<string, unknown>>;
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(q)) {
    if (typeof value !== 'string') throw new InvalidInputError(key, 'give a query parameter once');
    out[key] = value;
  }
  return out;
}

function checkQueryKeys(query: Query, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) {
      throw new InvalidInputError(
        key,
        `unknown query parameter (allowed: ${allowed.join(', ') || 'none'})`,
      );
    }
  }
}

function listOptions(query: Query, extra: readonly string[] = []): ListOptions {
  checkQueryKeys(query, ['limit', 'order', ...extra]);
  let limit = DEFAULT_LIMIT;
  if (query.limit !== undefined) {
    if (!/^[1-9][0-9]{0,3}$/.test(query.limit) || Number(query.limit) > MAX_LIMIT) {
      throw new InvalidInputError('limit', `expected an integer from 1 to ${MAX_LIMIT}`);
    }
    limit = Number(query.limit);
  }
  const order = query.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc')
    throw new InvalidInputError('order', 'expected asc or desc');
  return { limit, reverse: order === 'desc' };
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function bodyBytes(request: FastifyRequest): Uint8Array | undefined {
  return Buffer.isBuffer(request.body) ? new Uint8Array(request.body) : undefined;
}

const readBody = createFieldReader((path, problem) => {
  throw new InvalidInputError(`body.${path}`, problem);
});

function cborBody(request: FastifyRequest, field: string, maxBytes: number): Uint8Array {
  const bytes = bodyBytes(request);
  if (bytes === undefined || bytes.length === 0) {
    throw new InvalidInputError(
      'body',
      `expected ${MEDIA_CBOR}: a canonical CBOR map {${field}: bytes}`,
    );
  }
  let value: unknown;
  try {
    value = decode(bytes, { maxBytes });
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
    throw new InvalidInputError('body', `not canonical CBOR: ${err.message}`);
  }
  const r = readBody.record(value, '', [field]);
  return readBody.bytes(r[field], field, { minLength: 1, maxLength: maxBytes });
}

// ---------------------------------------------------------------------------
// rules

function isGranularity(value: string): value is StatisticsGranularity {
  return value === 'total' || value === 'month' || value === 'day';
}

function grantAddressedTo(grant: Grant, principal: Principal): boolean {
  return grant.grantee.kind === 'institution'
    ? grant.grantee.institution === principal.institution.id && principal.role !== 'patient'
    : toHex(grant.grantee.member) === toHex(principal.publicKey);
}

function isLive(grant: Grant, height: number): boolean {
  return grant.status === 'active' && grant.createdAt <= height && height <= grant.expiresAt;
}

/** `value`, or the 404 `code` when the lookup found nothing. */
function found<T>(
  value: T | undefined,
  code: MedicalErrorCode,
  message: string,
  details: Record<string, string> = {},
): T {
  if (value === undefined) throw new MedicalError(code, message, details);
  return value;
}

export function createMedicalRoutes(deps: MedicalRouteDeps): RouteGroup {
  const { env, state, indexes } = deps;
  const { genesis, suite } = env;

  async function authenticate(request: FastifyRequest): Promise<Principal> {
    await Promise.resolve();
    const signer = verifySignedRequest(
      suite,
      genesis.chainId,
      request.headers[SIGNATURE_HEADER],
      {
        method: request.method,
        path: request.url,
        ...(bodyBytes(request) ? { body: bodyBytes(request) } : {}),
      },
      { nowMs: deps.now(), windowMs: deps.signatureWindowMs },
    );
    return resolvePrincipal(genesis, state, signer, deps.height());
  }

  function recordOr404(recordId: string): RecordEntry {
    return found(
      getRecord(state, recordId),
      MedicalErrorCode.recordNotFound,
      `no record ${recordId}`,
      {
        recordId,
      },
    );
  }

  function institutionOr404(id: string): Institution {
    return found(
      genesis.institutions.find((i) => i.id === id),
      MedicalErrorCode.institutionNotFound,
      `no institution ${id} in the genesis`,
      { institution: id },
    );
  }

  /** Owner staff / the patient: full view; a reader with access: its own grants. */
  function recordReadRight(principal: Principal, record: RecordEntry): 'full' | 'reader' | null {
    if (isStaffOf(principal, record.owner) || isPatient(principal, record.patient)) return 'full';
    const decision = canAccess(env, state, deps.height(), principal.publicKey, record.id);
    return decision.ok ? 'reader' : null;
  }

  /** Staff of an institution that certified the patient's key or owns a record of the patient. */
  async function isCustodian(principal: Principal, pseudonym: Uint8Array): Promise<boolean> {
    if (principal.role === 'patient') return false;
    const me = principal.institution.id;
    const key = getPatientKey(state, pseudonym);
    if (key !== undefined && getMember(state, key)?.institution === me) return true;
    let seen = 0;
    for await (const hit of indexes.scan(INDEX.recordByPatient, pseudonym, {
      limit: MAX_PERMISSION_SCAN,
    })) {
      const owner = (hit.value as { readonly owner?: unknown } | null)?.owner;
      if (owner === me) return true;
      if (++seen >= MAX_PERMISSION_SCAN) break;
    }
    return false;
  }

  async function requirePatientTrail(principal: Principal, pseudonym: Uint8Array): Promise<void> {
    if (isPatient(principal, pseudonym) || isOversight(principal)) return;
    if (await isCustodian(principal, pseudonym)) return;
    throw forbidden(
      `${describePrincipal(principal)} may not read this patient's trail: only the patient, the institutions holding the patient's records or key, and the regulator may`,
    );
  }

  /**
   * The start of every per-institution list: the signer, the query and list
   * options, the institution (404 if unknown), and the rule that only its
   * staff and the regulator may read it — checked in that order.
   */
  async function institutionList(
    request: FastifyRequest<{ Params: { institutionId: string } }>,
    what: string,
    extraQueryKeys: readonly string[] = [],
  ): Promise<{
    principal: Principal;
    query: Query;
    options: ListOptions;
    institution: Institution;
  }> {
    const principal = await authenticate(request);
    const query = queryOf(request);
    const options = listOptions(query, extraQueryKeys);
    const institution = institutionOr404(request.params.institutionId);
    requireStaffOrOversight(principal, institution.id, what);
    return { principal, query, options, institution };
  }

  function requireStaffOrOversight(
    principal: Principal,
    institutionId: string,
    what: string,
  ): void {
    if (isStaffOf(principal, institutionId) || isOversight(principal)) return;
    throw forbidden(
      `${describePrincipal(principal)} may not read ${what} of ${institutionId}: only its staff and the regulator may`,
    );
  }

  function statisticsQuery(principal: Principal, query: Query) {
    checkQueryKeys(query, ['from', 'to', 'institution', 'statistic', 'by']);
    const today = utcDay(deps.now());
    const to = query.to ?? today;
    const from = query.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000);
    for (const [name, day] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (
        !DAY_PATTERN.test(day) ||
        Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ||
        utcDay(Date.parse(`${day}T00:00:00Z`)) !== day
      ) {
        throw new InvalidInputError(name, 'expected a UTC day YYYY-MM-DD');
      }
    }
    if (from > to) throw new InvalidInputError('from', 'must not be after to');
    if (daysBetween(from, to).length > MAX_STATISTICS_DAYS) {
      throw new InvalidInputError('from', `a period is at most ${MAX_STATISTICS_DAYS} days`);
    }
    const by = query.by ?? 'total';
    if (!isGranularity(by)) throw new InvalidInputError('by', 'expected total, month or day');
    let institutions: string[];
    if (query.institution !== undefined) {
      institutions = [institutionOr404(query.institution).id];
    } else if (isOversight(principal)) {
      institutions = genesis.institutions.map((i) => i.id);
    } else {
      institutions = [principal.institution.id];
    }
    for (const id of institutions) {
      if (!maySeeStatisticsOf(principal, id)) {
        throw forbidden(
          `${describePrincipal(principal)} may not read the statistics of ${id}: the regulator, or that institution's admins and auditors, may`,
        );
      }
    }
    let wanted: Statistic[] = [...STATISTICS];
    if (query.statistic !== undefined) {
      if (!(STATISTICS as readonly string[]).includes(query.statistic)) {
        throw new InvalidInputError('statistic', `expected one of ${STATISTICS.join(', ')}`);
      }
      wanted = [query.statistic as Statistic];
    }
    return { from, to, institutions, statistics: wanted, by };
  }

  function register(app: FastifyInstance): void {
    const maxDocumentBytes = deps.vault.limits.maxDocumentBytes;

    app.get('/v1/institutions', () => ({
      institutions: genesis.institutions.map((i) => ({
        id: i.id,
        name: i.name,
        role: i.role,
        voting: i.voting,
        signingKey: toHex(i.signingKey),
      })),
    }));

    // ---- records

    app.get(
      '/v1/records/:recordId',
      { schema: { params: paramsSchema({ recordId: ID_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { recordId: string } }>) => {
        const principal = await authenticate(request);
        checkQueryKeys(queryOf(request), []);
        const record = recordOr404(request.params.recordId);
        const right = recordReadRight(principal, record);
        if (right === null) {
          throw forbidden(
            `${describePrincipal(principal)} may not read record ${record.id}: no live grant, not its owner or patient`,
          );
        }
        const grants = await grantsFromIndex(indexes, state, INDEX.grantByRecord, utf8(record.id), {
          limit: MAX_LIMIT,
          reverse: false,
        });
        const access: AccessDecision = canAccess(
          env,
          state,
          deps.height(),
          principal.publicKey,
          record.id,
        );
        // a patient-scope grant relied on does not name the record: include it
        if (access.ok && access.grantId !== null && !grants.some((g) => g.id === access.grantId)) {
          const relied = getGrant(state, access.grantId);
          if (relied !== undefined) grants.push(relied);
        }
        const visible =
          right === 'full' ? grants : grants.filter((g) => grantAddressedTo(g, principal));
        return {
          record: recordToJson(record),
          grants: visible.map(grantToJson),
          access: access.ok
            ? { ok: true, basis: access.basis, grantId: access.grantId }
            : { ok: false, code: access.code, reason: access.reason },
          height: deps.height(),
        };
      },
    );

    app.get(
      '/v1/records/:recordId/grants',
      { schema: { params: paramsSchema({ recordId: ID_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { recordId: string } }>) => {
        const principal = await authenticate(request);
        const options = listOptions(queryOf(request));
        const record = recordOr404(request.params.recordId);
        const right = recordReadRight(principal, record);
        if (right === null && !isOversight(principal)) {
          throw forbidden(
            `${describePrincipal(principal)} may not read the grants of record ${record.id}`,
          );
        }
        const grants = await grantsFromIndex(
          indexes,
          state,
          INDEX.grantByRecord,
          utf8(record.id),
          options,
        );
        const visible =
          right === 'reader' ? grants.filter((g) => grantAddressedTo(g, principal)) : grants;
        return { grants: visible.map(grantToJson) };
      },
    );

    app.post(
      '/v1/records/:recordId/document',
      { schema: { params: paramsSchema({ recordId: ID_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { recordId: string } }>) => {
        const principal = await authenticate(request);
        checkQueryKeys(queryOf(request), []);
        const tx = cborBody(request, 'tx', 64 * 1024);
        const served = await deps.vault.relayFetch(principal, request.params.recordId, tx);
        return {
          recordId: served.recordId,
          ciphertext: toHex(served.ciphertext),
          accessTx: toHex(served.accessTx),
          height: served.height,
        };
      },
    );

    app.put(
      '/v1/vault/:recordId',
      {
        bodyLimit: maxDocumentBytes + 4096,
        schema: { params: paramsSchema({ recordId: ID_SOURCE }) },
      },
      async (request: FastifyRequest<{ Params: { recordId: string } }>, reply) => {
        const principal = await authenticate(request);
        checkQueryKeys(queryOf(request), []);
        const ciphertext = cborBody(request, 'ciphertext', maxDocumentBytes + 1024);
        const { created } = await deps.vault.upload(principal, request.params.recordId, ciphertext);
        return reply
          .code(created ? 201 : 200)
          .send({ recordId: request.params.recordId, bytes: ciphertext.length, created });
      },
    );

    // ---- patients

    app.get(
      '/v1/patients/:pseudonym',
      { schema: { params: paramsSchema({ pseudonym: HEX32_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { pseudonym: string } }>) => {
        const principal = await authenticate(request);
        checkQueryKeys(queryOf(request), []);
        const pseudonym = fromHex(request.params.pseudonym, 'pseudonym');
        // Staff of any institution may learn the live key bound to a pseudonym: a new record (or a
        // discharge summary) must carry a wrap for it. The chain copy on every node holds the same.
        const full =
          isPatient(principal, pseudonym) ||
          isOversight(principal) ||
          (await isCustodian(principal, pseudonym));
        if (!full && principal.role === 'patient') {
          throw forbidden(`${describePrincipal(principal)} may not read another patient`);
        }
        const key = getPatientKey(state, pseudonym);
        const cert = key === undefined ? undefined : getMember(state, key);
        const live = cert !== undefined && certificateValidity(cert, deps.height()).ok;
        return {
          pseudonym: toHex(pseudonym),
          patientKey: live && key !== undefined ? toHex(key) : null,
          // the certificate (which institution, since when) only for the patient, custodians, the regulator
          certificate: cert === undefined || !full ? null : memberToJson(cert),
        };
      },
    );

    app.get(
      '/v1/patients/:pseudonym/records',
      { schema: { params: paramsSchema({ pseudonym: HEX32_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { pseudonym: string } }>) => {
        const principal = await authenticate(request);
        const options = listOptions(queryOf(request));
        const pseudonym = fromHex(request.params.pseudonym, 'pseudonym');
        const records = await recordsFromIndex(
          indexes,
          state,
          INDEX.recordByPatient,
          pseudonym,
          options,
        );
        const visible = isOversight(principal)
          ? records
          : records.filter((r) => recordReadRight(principal, r) !== null);
        return { records: visible.map(recordSummaryJson) };
      },
    );

    app.get(
      '/v1/patients/:pseudonym/grants',
      { schema: { params: paramsSchema({ pseudonym: HEX32_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { pseudonym: string } }>) => {
        const principal = await authenticate(request);
        const options = listOptions(queryOf(request));
        const pseudonym = fromHex(request.params.pseudonym, 'pseudonym');
        await requirePatientTrail(principal, pseudonym);
        const grants = await grantsFromIndex(
          indexes,
          state,
          INDEX.grantByPatient,
          pseudonym,
          options,
        );
        return { grants: grants.map(grantToJson) };
      },
    );

    // ---- grants

    app.get(
      '/v1/grants/:grantId',
      { schema: { params: paramsSchema({ grantId: GRANT_ID_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { grantId: string } }>) => {
        const principal = await authenticate(request);
        checkQueryKeys(queryOf(request), []);
        const grant = found(
          getGrant(state, request.params.grantId),
          MedicalErrorCode.grantNotFound,
          `no grant ${request.params.grantId}`,
        );
        if (
          !isStaffOf(principal, grant.grantorInstitution) &&
          !grantAddressedTo(grant, principal) &&
          !isPatient(principal, grant.patient) &&
          !isOversight(principal)
        ) {
          throw forbidden(
            `${describePrincipal(principal)} may not read grant ${grant.id}: not its grantor, grantee, patient or the regulator`,
          );
        }
        return { grant: grantToJson(grant), live: isLive(grant, deps.height()) };
      },
    );

    app.get(
      '/v1/institutions/:institutionId/grants',
      { schema: { params: paramsSchema({ institutionId: INSTITUTION_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { institutionId: string } }>) => {
        const { options, institution } = await institutionList(request, 'the grants held');
        const grantee: Grantee = { kind: 'institution', institution: institution.id };
        const grants = await grantsFromIndex(
          indexes,
          state,
          INDEX.grantByGrantee,
          granteeIndexKey(grantee),
          options,
        );
        return { grants: grants.map(grantToJson) };
      },
    );

    app.get(
      '/v1/members/:publicKey/grants',
      { schema: { params: paramsSchema({ publicKey: KEY_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { publicKey: string } }>) => {
        const principal = await authenticate(request);
        const options = listOptions(queryOf(request));
        const key = fromHex(request.params.publicKey, 'publicKey');
        const cert = found(
          getMember(state, key),
          MedicalErrorCode.memberNotFound,
          'no member with this key',
        );
        if (toHex(key) !== toHex(principal.publicKey))
          requireStaffOrOversight(principal, cert.institution, 'the grants of a member');
        const grantee: Grantee = { kind: 'member', member: key };
        const grants = await grantsFromIndex(
          indexes,
          state,
          INDEX.grantByGrantee,
          granteeIndexKey(grantee),
          options,
        );
        return { grants: grants.map(grantToJson) };
      },
    );

    // ---- institutions: records, referrals, members

    app.get(
      '/v1/institutions/:institutionId/records',
      { schema: { params: paramsSchema({ institutionId: INSTITUTION_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { institutionId: string } }>) => {
        const { options, institution } = await institutionList(request, 'the records');
        const records = await recordsFromIndex(
          indexes,
          state,
          INDEX.recordByOwner,
          utf8(institution.id),
          options,
        );
        return { records: records.map(recordSummaryJson) };
      },
    );

    app.get(
      '/v1/institutions/:institutionId/referrals',
      { schema: { params: paramsSchema({ institutionId: INSTITUTION_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { institutionId: string } }>) => {
        const { query, options, institution } = await institutionList(request, 'the referrals', [
          'direction',
          'open',
        ]);
        const direction = query.direction ?? 'incoming';
        if (direction !== 'incoming' && direction !== 'outgoing') {
          throw new InvalidInputError('direction', 'expected incoming or outgoing');
        }
        const open = query.open ?? 'false';
        if (open !== 'true' && open !== 'false')
          throw new InvalidInputError('open', 'expected true or false');
        const index =
          direction === 'incoming'
            ? open === 'true'
              ? INDEX.referralOpenByTo
              : INDEX.referralByTo
            : open === 'true'
              ? INDEX.referralOpenByFrom
              : INDEX.referralByFrom;
        const referrals = await referralsFromIndex(indexes, state, index, institution.id, options);
        return { referrals: referrals.map(referralToJson) };
      },
    );

    app.get('/v1/referrals/inbox', async (request: FastifyRequest) => {
      const principal = await authenticate(request);
      const options = listOptions(queryOf(request));
      if (principal.role === 'patient') throw forbidden('patients have no referral inbox');
      const referrals = await referralsFromIndex(
        indexes,
        state,
        INDEX.referralOpenByTo,
        principal.institution.id,
        options,
      );
      return { institution: principal.institution.id, referrals: referrals.map(referralToJson) };
    });

    app.get(
      '/v1/referrals/:referralId',
      { schema: { params: paramsSchema({ referralId: ID_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { referralId: string } }>) => {
        const principal = await authenticate(request);
        checkQueryKeys(queryOf(request), []);
        const referral = found(
          getReferral(state, request.params.referralId),
          MedicalErrorCode.referralNotFound,
          `no referral ${request.params.referralId}`,
        );
        if (
          !isStaffOf(principal, referral.from) &&
          !isStaffOf(principal, referral.to) &&
          !isPatient(principal, referral.patient) &&
          !isOversight(principal)
        ) {
          throw forbidden(
            `${describePrincipal(principal)} may not read referral ${referral.id}: not a party, its patient or the regulator`,
          );
        }
        return { referral: referralToJson(referral) };
      },
    );

    app.get(
      '/v1/institutions/:institutionId/members',
      { schema: { params: paramsSchema({ institutionId: INSTITUTION_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { institutionId: string } }>) => {
        const { options, institution } = await institutionList(request, 'the members');
        const members = await membersOf(indexes, state, institution.id, options);
        const height = deps.height();
        return {
          members: members.map((m) => ({
            ...(memberToJson(m) as Record<string, Json>),
            valid: certificateValidity(m, height).ok,
          })),
        };
      },
    );

    app.get(
      '/v1/members/:publicKey',
      { schema: { params: paramsSchema({ publicKey: KEY_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { publicKey: string } }>) => {
        const principal = await authenticate(request);
        checkQueryKeys(queryOf(request), []);
        const key = fromHex(request.params.publicKey, 'publicKey');
        const cert = found(
          getMember(state, key),
          MedicalErrorCode.memberNotFound,
          'no member with this key',
        );
        // a patient certificate links a key to a pseudonym: only the patient, its institution, the regulator
        if (cert.role === 'patient' && toHex(key) !== toHex(principal.publicKey)) {
          requireStaffOrOversight(principal, cert.institution, 'a patient certificate');
        }
        const validity = certificateValidity(cert, deps.height());
        return {
          member: memberToJson(cert),
          valid: validity.ok,
          ...(validity.ok ? {} : { invalidReason: validity.code }),
        };
      },
    );

    // ---- audit

    app.get(
      '/v1/audit/records/:recordId',
      { schema: { params: paramsSchema({ recordId: ID_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { recordId: string } }>) => {
        const principal = await authenticate(request);
        const options = listOptions(queryOf(request));
        const record = recordOr404(request.params.recordId);
        if (
          !isStaffOf(principal, record.owner) &&
          !isPatient(principal, record.patient) &&
          !isOversight(principal)
        ) {
          throw forbidden(
            `${describePrincipal(principal)} may not read the audit trail of record ${record.id}: its owner, its patient and the regulator may`,
          );
        }
        const events = await auditTrail(
          indexes,
          state,
          genesis,
          INDEX.auditByRecord,
          utf8(record.id),
          options,
        );
        return { recordId: record.id, events };
      },
    );

    app.get(
      '/v1/audit/patients/:pseudonym',
      { schema: { params: paramsSchema({ pseudonym: HEX32_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { pseudonym: string } }>) => {
        const principal = await authenticate(request);
        const options = listOptions(queryOf(request));
        const pseudonym = fromHex(request.params.pseudonym, 'pseudonym');
        await requirePatientTrail(principal, pseudonym);
        const events = await auditTrail(
          indexes,
          state,
          genesis,
          INDEX.auditByPatient,
          pseudonym,
          options,
        );
        return { patient: toHex(pseudonym), events };
      },
    );

    app.get(
      '/v1/audit/institutions/:institutionId',
      { schema: { params: paramsSchema({ institutionId: INSTITUTION_SOURCE }) } },
      async (request: FastifyRequest<{ Params: { institutionId: string } }>) => {
        const { options, institution } = await institutionList(request, 'the audit trail');
        const events = await auditTrail(
          indexes,
          state,
          genesis,
          INDEX.auditByInstitution,
          utf8(institution.id),
          options,
        );
        return { institution: institution.id, events };
      },
    );

    app.get('/v1/statistics', async (request: FastifyRequest) => {
      const principal = await authenticate(request);
      const query = statisticsQuery(principal, queryOf(request));
      const rows = await statistics(indexes, query);
      return { from: query.from, to: query.to, by: query.by, rows };
    });

    // ---- referral events

    app.route({
      method: 'GET',
      url: '/v1/medical/events',
      preHandler: async (request: FastifyRequest) => {
        const principal = await authenticate(request);
        if (!isStaffOf(principal, deps.institution.id)) {
          throw forbidden(`the referral stream of ${deps.institution.id} is for its own staff`);
        }
        if (request.ws && deps.hub.full) {
          throw new MedicalError(
            MedicalErrorCode.tooManyClients,
            'too many referral event clients',
            {
              retryAfterSeconds: 5,
            },
          );
        }
      },
      handler: () => {
        throw new InvalidInputError(
          'upgrade',
          '/v1/medical/events is a WebSocket endpoint: send an Upgrade: websocket request',
        );
      },
      wsHandler: (socket) => {
        deps.hub.add(socket, deps.height());
      },
    });

    app.addHook('preClose', (done) => {
      deps.hub.close();
      done();
    });
  }

  return {
    name: 'medical',
    paths: MEDICAL_PATHS,
    register: (app) => {
      register(app);
    },
  };
}

// ---------------------------------------------------------------------------
// OpenAPI

const SIGNED = 'Needs a signed request (`x-medchain-signature`, see docs/medical.md).';
const object = { type: 'object' } as const;
const ok = (description: string): Readonly<Record<string, unknown>> => ({
  description,
  content: { 'application/json': { schema: object } },
});
const AUTH_ERRORS = {
  401: 'Unsigned, malformed, badly signed or stale request; unknown signer (MEDICAL_SIGNATURE_*, MEDICAL_UNKNOWN_SIGNER)',
  403: 'Revoked/expired certificate or not allowed (MEDICAL_CERT_INVALID, MEDICAL_FORBIDDEN)',
} as const;

function pathParam(name: string, pattern: string): Readonly<Record<string, unknown>> {
  return { name, in: 'path', required: true, schema: { type: 'string', pattern } };
}
const LIST_PARAMS = [
  {
    name: 'limit',
    in: 'query',
    required: false,
    schema: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
  },
  {
    name: 'order',
    in: 'query',
    required: false,
    schema: { type: 'string', enum: ['asc', 'desc'] },
  },
];

function signedGet(
  operationId: string,
  summary: string,
  rule: string,
  parameters: readonly unknown[],
  notFound?: string,
): Readonly<Record<string, unknown>> {
  return {
    get: {
      operationId,
      summary,
      description: `${SIGNED} Allowed: ${rule}`,
      tags: ['medical'],
      parameters,
      responses: {
        '200': ok(summary),
        ...errorResponses({
          400: 'Malformed parameter (INVALID_INPUT)',
          ...AUTH_ERRORS,
          ...(notFound === undefined ? {} : { 404: notFound }),
        } as Readonly<Record<number, string>>),
      },
    },
  };
}

const cborBodySpec = (field: string, description: string): Readonly<Record<string, unknown>> => ({
  required: true,
  content: {
    [MEDIA_CBOR]: {
      schema: {
        type: 'string',
        contentMediaType: MEDIA_CBOR,
        description: `canonical CBOR {${field}: bytes}: ${description}`,
      },
    },
  },
});

const RECORD_ID = pathParam('recordId', ID_SOURCE);
const PSEUDONYM = pathParam('pseudonym', HEX32_SOURCE);
const INSTITUTION = pathParam('institutionId', INSTITUTION_SOURCE);
const PUBLIC_KEY = pathParam('publicKey', KEY_SOURCE);

export const MEDICAL_PATHS: OpenApiPaths = {
  '/v1/institutions': {
    get: {
      operationId: 'listInstitutions',
      summary:
        'The institutions of the genesis with their signing keys (public; wrap data keys to these)',
      tags: ['medical'],
      responses: { '200': ok('Institutions') },
    },
  },
  '/v1/records/{recordId}': signedGet(
    'getRecord',
    "A record pointer (sealed locator and metadata, key wraps), its grants, and the requester's access",
    "staff of the owner institution and the record's patient (every grant); a reader with a live grant (its own grants)",
    [RECORD_ID],
    'No such record (MEDICAL_RECORD_NOT_FOUND)',
  ),
  '/v1/records/{recordId}/grants': signedGet(
    'listRecordGrants',
    'Grants naming a record (consent, referral, referral-return), current status',
    'owner staff, the patient, the regulator; a live grantee sees its own',
    [RECORD_ID, ...LIST_PARAMS],
    'No such record',
  ),
  '/v1/records/{recordId}/document': {
    post: {
      operationId: 'fetchDocument',
      summary:
        "Fetch a vault document from the owner's node, bound to a signed access.log transaction",
      description:
        `${SIGNED} Send it to your own institution's node with your signed access.log transaction for the record; ` +
        'the owner node checks canAccess, commits the access.log and returns the ciphertext. Open it with the ' +
        "record's data key and check the content hash on chain.",
      tags: ['medical'],
      parameters: [RECORD_ID],
      requestBody: cborBodySpec('tx', 'the signed access.log transaction'),
      responses: {
        '200': ok('{recordId, ciphertext (hex), accessTx, height}'),
        ...errorResponses({
          400: 'Not an access.log of this record by the requester (MEDICAL_BAD_ACCESS_TX)',
          ...AUTH_ERRORS,
          404: 'No record or no document (MEDICAL_RECORD_NOT_FOUND, MEDICAL_DOCUMENT_NOT_FOUND)',
          409: 'External record or access.log already used (MEDICAL_NOT_IN_VAULT, MEDICAL_ACCESS_TX_USED)',
          502: "Owner's node unreachable (MEDICAL_OWNER_UNREACHABLE)",
          504: 'access.log did not commit in time (MEDICAL_ACCESS_LOG_TIMEOUT)',
        }),
      },
    },
  },
  '/v1/vault/{recordId}': {
    put: {
      operationId: 'putDocument',
      summary: "Store a sealed document in this institution's vault",
      description: `${SIGNED} Allowed: doctors, departments and admins of this node's institution (or its key), before or after record.register.`,
      tags: ['medical'],
      parameters: [RECORD_ID],
      requestBody: cborBodySpec('ciphertext', 'the document sealed with the record data key'),
      responses: {
        '201': ok('Stored {recordId, bytes, created: true}'),
        '200': ok('The same document was already stored {created: false}'),
        ...errorResponses({
          400: 'Malformed body',
          ...AUTH_ERRORS,
          409: "Another document is stored, or the record is not this institution's vault record",
          413: 'Document too large',
        }),
      },
    },
  },
  '/v1/patients/{pseudonym}': signedGet(
    'getPatient',
    "A patient pseudonym's live patient key (to wrap for) and, for custodians, its certificate",
    'staff of any institution (the key only); the patient, custodians (certifier or owner of a record of the patient) and the regulator also get the certificate',
    [PSEUDONYM],
  ),
  '/v1/patients/{pseudonym}/records': signedGet(
    'listPatientRecords',
    "A patient's records (summaries), filtered to those the requester may read",
    'anyone signed; each record only if the requester may read it (the regulator sees all summaries)',
    [PSEUDONYM, ...LIST_PARAMS],
  ),
  '/v1/patients/{pseudonym}/grants': signedGet(
    'listPatientGrants',
    'Grants about a patient',
    'the patient, custodians, the regulator',
    [PSEUDONYM, ...LIST_PARAMS],
  ),
  '/v1/grants/{grantId}': signedGet(
    'getGrant',
    'One grant with its current status and whether it is live',
    'grantor institution staff, the grantee, the patient, the regulator',
    [pathParam('grantId', GRANT_ID_SOURCE)],
    'No such grant (MEDICAL_GRANT_NOT_FOUND)',
  ),
  '/v1/institutions/{institutionId}/grants': signedGet(
    'listInstitutionGrants',
    'Grants held by an institution',
    'its staff, the regulator',
    [INSTITUTION, ...LIST_PARAMS],
  ),
  '/v1/members/{publicKey}/grants': signedGet(
    'listMemberGrants',
    'Grants held by a member key',
    "the member, its institution's staff, the regulator",
    [PUBLIC_KEY, ...LIST_PARAMS],
  ),
  '/v1/institutions/{institutionId}/records': signedGet(
    'listInstitutionRecords',
    'Records an institution owns (summaries)',
    'its staff, the regulator',
    [INSTITUTION, ...LIST_PARAMS],
  ),
  '/v1/institutions/{institutionId}/referrals': signedGet(
    'listInstitutionReferrals',
    'Referrals to (`direction=incoming`, default) or from (`outgoing`) an institution; `open=true` for open ones',
    'its staff, the regulator',
    [
      INSTITUTION,
      ...LIST_PARAMS,
      {
        name: 'direction',
        in: 'query',
        required: false,
        schema: { type: 'string', enum: ['incoming', 'outgoing'] },
      },
      {
        name: 'open',
        in: 'query',
        required: false,
        schema: { type: 'string', enum: ['true', 'false'] },
      },
    ],
  ),
  '/v1/referrals/inbox': signedGet(
    'referralInbox',
    "Open referrals addressed to the requester's institution",
    'any non-patient member (its own institution)',
    LIST_PARAMS,
  ),
  '/v1/referrals/{referralId}': signedGet(
    'getReferral',
    'One referral',
    'staff of either party, the patient, the regulator',
    [pathParam('referralId', ID_SOURCE)],
    'No such referral (MEDICAL_REFERRAL_NOT_FOUND)',
  ),
  '/v1/institutions/{institutionId}/members': signedGet(
    'listInstitutionMembers',
    'Member certificates of an institution with their validity now',
    'its staff, the regulator',
    [INSTITUTION, ...LIST_PARAMS],
  ),
  '/v1/members/{publicKey}': signedGet(
    'getMember',
    'A member certificate and whether it is valid now',
    "anyone signed; a patient certificate only the patient, its institution's staff and the regulator",
    [PUBLIC_KEY],
    'No such member (MEDICAL_MEMBER_NOT_FOUND)',
  ),
  '/v1/audit/records/{recordId}': signedGet(
    'auditRecord',
    'Every event about a record: actor, institution, time, height, tx, scope',
    'owner staff, the patient, the regulator',
    [RECORD_ID, ...LIST_PARAMS],
  ),
  '/v1/audit/patients/{pseudonym}': signedGet(
    'auditPatient',
    'Every event about a patient: who authorised whom, for what scope, when, and who looked',
    'the patient, custodians, the regulator',
    [PSEUDONYM, ...LIST_PARAMS],
  ),
  '/v1/audit/institutions/{institutionId}': signedGet(
    'auditInstitution',
    'Everything an institution did or was the counterpart of',
    'its staff, the regulator',
    [INSTITUTION, ...LIST_PARAMS],
  ),
  '/v1/statistics': signedGet(
    'statistics',
    'Counts per institution and period (referrals, accesses, grants, …) from the daily statistics index',
    "the regulator (every institution); an institution's admins, auditors and key (its own)",
    [
      { name: 'from', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
      { name: 'to', in: 'query', required: false, schema: { type: 'string', format: 'date' } },
      {
        name: 'institution',
        in: 'query',
        required: false,
        schema: { type: 'string', pattern: INSTITUTION_SOURCE },
      },
      {
        name: 'statistic',
        in: 'query',
        required: false,
        schema: { type: 'string', enum: [...STATISTICS] },
      },
      {
        name: 'by',
        in: 'query',
        required: false,
        schema: { type: 'string', enum: ['total', 'month', 'day'] },
      },
    ],
  ),
  '/v1/medical/events': {
    get: {
      operationId: 'streamReferralEvents',
      summary: "WebSocket: referral events of this node's institution as they commit",
      description: `${SIGNED} Allowed: staff of this node's institution. Messages: {type:"hello"}, then {type:"referral", direction, event}.`,
      tags: ['medical'],
      responses: {
        '101': { description: 'Switching to the WebSocket protocol' },
        ...errorResponses({
          400: 'Not a WebSocket upgrade',
          ...AUTH_ERRORS,
          503: 'Too many clients (MEDICAL_TOO_MANY_CLIENTS)',
        }),
      },
    },
  },
};
