import { describe, expect, it } from 'vitest';
import { encodePublicKey } from '../../src/crypto/keys.js';
import { getSuite } from '../../src/crypto/index.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import {
  createGenesis,
  createValidatorSet,
  DEFAULT_POLICY,
  GenesisError,
  genesisHash,
  genesisToJson,
  IdentityError,
  IdentityErrorCode,
  parseGenesis,
  parseGenesisText,
  validatorSet,
} from '../../src/identity/index.js';
import type { Genesis, InstitutionParams } from '../../src/identity/index.js';
import { blockHash, validateBlock, validateCommitCertificate } from '../../src/ledger/index.js';
import {
  blockOf,
  certificateFor,
  CHAIN_ID,
  expectAccepted,
  fixedKey,
  peerIdFor,
  rulesFor,
  signedTx,
  SUITES,
} from './ledger-fixtures.js';

const GENESIS_TIME = 1_767_225_600_000;

function institutionsFor(suite: CryptoSuite): InstitutionParams[] {
  const roles = ['alliance-leader', 'hospital', 'hospital', 'health-centre', 'regulator'] as const;
  return roles.map((role, i) => ({
    id: `inst-${i}`,
    name: role === 'regulator' ? '市卫生健康委员会' : `第${i}人民医院`,
    role,
    signingKey: fixedKey(suite, 11 + i).publicKey,
    peerId: peerIdFor(i),
    ...(i === 0
      ? { apiAddress: 'https://node0.example:8443', p2pAddresses: ['/ip4/10.0.0.1/tcp/7000'] }
      : {}),
  }));
}

function genesisFor(suite: CryptoSuite): Genesis {
  return createGenesis({
    chainId: CHAIN_ID,
    suite: suite.id,
    genesisTime: GENESIS_TIME,
    institutions: institutionsFor(suite),
  });
}

/** The JSON of a genesis as a mutable plain object, for building broken variants. */
type Json = Record<string, unknown>;
function jsonOf(genesis: Genesis): Json {
  return JSON.parse(JSON.stringify(genesisToJson(genesis))) as Json;
}
function at(json: Json, path: (string | number)[]): Json {
  let node: unknown = json;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node as Json;
}

function expectGenesisError(input: unknown, expectedMessage: string | RegExp): GenesisError {
  let caught: unknown;
  try {
    parseGenesis(input);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GenesisError);
  const error = caught as GenesisError;
  expect(error.code).toBe(IdentityErrorCode.invalidGenesis);
  if (typeof expectedMessage === 'string') expect(error.message).toBe(expectedMessage);
  else expect(error.message).toMatch(expectedMessage);
  expect(error.message.startsWith(`${error.path}: `)).toBe(true);
  expect(error.details.path).toBe(error.path);
  return error;
}

/** Recursively reverse the key order of every object. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  }
  return value;
}

describe.each(SUITES)('genesis ($id)', (suite) => {
  const genesis = genesisFor(suite);
  const otherSuite = getSuite(suite.id === 'intl' ? 'gm' : 'intl');

  it('builds a genesis with defaults that round-trips through its JSON', () => {
    expect(genesis.policy).toEqual(DEFAULT_POLICY);
    expect(genesis.institutions.map((i) => i.voting)).toEqual([true, true, true, true, false]);
    expect(genesis.institutions[0]?.signingKey).toEqual(fixedKey(suite, 11).publicKey);
    const text = JSON.stringify(genesisToJson(genesis), null, 2);
    expect(parseGenesisText(text)).toEqual(genesis);
    expect(genesisToJson(genesis).institutions[0]?.signingKey).toBe(
      encodePublicKey(suite.id, fixedKey(suite, 11).publicKey),
    );
  });

  it('hashes deterministically, regardless of key order, whitespace, role order and address hints', () => {
    const h = genesisHash(suite, genesis);
    expect(h).toHaveLength(suite.hashLength);
    expect(genesisHash(suite, genesisFor(suite))).toEqual(h);
    expect(genesisHash(suite, parseGenesis(reverseKeys(jsonOf(genesis))))).toEqual(h);
    expect(genesisHash(suite, parseGenesisText(JSON.stringify(genesisToJson(genesis))))).toEqual(h);

    const reordered = jsonOf(genesis);
    at(reordered, ['policy', 'dataLevels', 'L1']).read = [
      'auditor',
      'admin',
      'department',
      'doctor',
    ];
    expect(genesisHash(suite, parseGenesis(reordered))).toEqual(h);

    const moved = jsonOf(genesis);
    at(moved, ['institutions', 0]).apiAddress = 'https://elsewhere.example';
    delete at(moved, ['institutions', 0]).p2pAddresses;
    at(moved, ['institutions', 1]).p2pAddresses = ['/dns4/node1.example/tcp/7000'];
    expect(genesisHash(suite, parseGenesis(moved))).toEqual(h);
  });

  it('changes the hash when anything but the hints changes', () => {
    const h = genesisHash(suite, genesis);
    const mutations: [string, (json: Json) => void][] = [
      ['chainId', (j) => (j.chainId = 'other-chain')],
      ['genesisTime', (j) => (j.genesisTime = GENESIS_TIME + 1)],
      ['institution name', (j) => (at(j, ['institutions', 2]).name = 'renamed')],
      ['institution role', (j) => (at(j, ['institutions', 1]).role = 'health-centre')],
      ['voting', (j) => (at(j, ['institutions', 3]).voting = false)],
      ['peer id', (j) => (at(j, ['institutions', 3]).peerId = peerIdFor(99))],
      [
        'signing key',
        (j) =>
          (at(j, ['institutions', 3]).signingKey = encodePublicKey(
            suite.id,
            fixedKey(suite, 99).publicKey,
          )),
      ],
      ['institution order', (j) => (j.institutions as unknown[]).reverse()],
      ['a policy number', (j) => (at(j, ['policy']).blockIntervalMs = 201)],
      [
        'a data-level rule',
        (j) => (at(j, ['policy', 'dataLevels', 'L4']).grant = ['admin', 'patient']),
      ],
    ];
    for (const [what, mutate] of mutations) {
      const json = jsonOf(genesis);
      mutate(json);
      expect(genesisHash(suite, parseGenesis(json)), what).not.toEqual(h);
    }
  });

  it("refuses to hash or derive validators with another suite than the genesis's", () => {
    for (const fn of [
      () => genesisHash(otherSuite, genesis),
      () => validatorSet(otherSuite, genesis),
    ]) {
      expect(fn).toThrow(IdentityError);
      try {
        fn();
      } catch (err) {
        expect((err as IdentityError).code).toBe(IdentityErrorCode.suiteMismatch);
      }
    }
  });

  it('derives the validator set: voting institutions in listed order', () => {
    const set = validatorSet(suite, genesis);
    expect(set.validators.map((v) => v.institutionId)).toEqual([
      'inst-0',
      'inst-1',
      'inst-2',
      'inst-3',
    ]);
    expect(set.validators.map((v) => v.index)).toEqual([0, 1, 2, 3]);
    expect([set.n, set.f, set.quorum]).toEqual([4, 1, 3]);
    expect(set.indexOf(fixedKey(suite, 13).publicKey)).toBe(2);
    expect(set.indexOf(fixedKey(suite, 15).publicKey)).toBe(-1); // the regulator observes
    expect(set.indexOf(new Uint8Array(3))).toBe(-1);
    expect(set.validators[1]?.peerId).toBe(peerIdFor(1));
  });

  it('hashes the validator set over order and keys, not peer ids', () => {
    const set = validatorSet(suite, genesis);
    const members = set.validators.map(({ institutionId, publicKey, peerId }) => ({
      institutionId,
      publicKey,
      peerId,
    }));
    expect(createValidatorSet(suite, members).hash).toEqual(set.hash);
    expect(
      createValidatorSet(
        suite,
        members.map((m, i) => ({ ...m, peerId: peerIdFor(50 + i) })),
      ).hash,
    ).toEqual(set.hash);
    expect(createValidatorSet(suite, [...members].reverse()).hash).not.toEqual(set.hash);
    expect(createValidatorSet(suite, members.slice(1)).hash).not.toEqual(set.hash);
  });

  it('rejects an empty validator set, a repeated key and a key of the wrong length', () => {
    const set = validatorSet(suite, genesis);
    const member = {
      institutionId: 'a',
      publicKey: fixedKey(suite, 1).publicKey,
      peerId: peerIdFor(1),
    };
    const cases = [
      [],
      [member, { ...member, institutionId: 'b' }],
      [{ ...member, publicKey: new Uint8Array(suite.publicKeyLength - 1) }],
    ];
    for (const members of cases) {
      expect(() => createValidatorSet(suite, members)).toThrow(IdentityError);
    }
    expect(set.n).toBe(4);
  });

  it('anchors block 1 and its certificate in the genesis', () => {
    const set = validatorSet(suite, genesis);
    const parent = { height: 0, hash: genesisHash(suite, genesis), timestamp: genesis.genesisTime };
    const keys = [11, 12, 13, 14].map((seed) => fixedKey(suite, seed));
    const block = blockOf(suite, set, [signedTx(suite, fixedKey(suite, 1))], {}, parent);
    const rules = rulesFor(suite, genesis.policy);
    const verdict = validateBlock(rules, block, { parent, validators: set });
    expectAccepted(verdict);
    const cert = certificateFor(suite, keys, block.header, [1, 2, 3]);
    expectAccepted(
      validateCommitCertificate(rules, cert, set, {
        height: 1,
        blockHash: blockHash(suite, block.header),
      }),
    );
  });

  describe('validation names the field', () => {
    const wrongSuiteKey = encodePublicKey(otherSuite.id, fixedKey(otherSuite, 11).publicKey);
    const cases: [string, (json: Json) => unknown, string | RegExp][] = [
      ['unknown top-level field', (j) => (j.version = 1), 'version: unknown field'],
      ['missing field', (j) => delete j.policy, 'policy: missing'],
      ['chainId', (j) => (j.chainId = 'Medical Alliance'), /^chainId: not a chain id/],
      ['chainId', (j) => (j.chainId = 7), 'chainId: expected a string, got a number'],
      ['suite', (j) => (j.suite = 'rsa'), 'suite: expected one of intl, gm, got "rsa"'],
      ['genesisTime', (j) => (j.genesisTime = -1), 'genesisTime: must be at least 0'],
      [
        'genesisTime',
        (j) => (j.genesisTime = 1.5),
        'genesisTime: expected a safe integer, got a non-integer number',
      ],
      [
        'genesisTime',
        (j) => (j.genesisTime = '2026-01-01'),
        'genesisTime: expected a safe integer, got a string',
      ],
      ['institutions', (j) => (j.institutions = []), 'institutions: must not be empty'],
      ['institutions', (j) => (j.institutions = {}), 'institutions: expected an array, got a map'],
      [
        'signing key of the other suite',
        (j) => (at(j, ['institutions', 2]).signingKey = wrongSuiteKey),
        new RegExp(
          `^institutions\\[2\\]\\.signingKey: not a ${suite.id} public key \\(.*${otherSuite.id}`,
        ),
      ],
      [
        'signing key that is not hex',
        (j) => (at(j, ['institutions', 1]).signingKey = `${suite.id}:pub:zz`),
        new RegExp(`^institutions\\[1\\]\\.signingKey: not a ${suite.id} public key`),
      ],
      [
        'signing key that is a private key',
        (j) => (at(j, ['institutions', 1]).signingKey = `${suite.id}:priv:${'07'.repeat(32)}`),
        new RegExp(`^institutions\\[1\\]\\.signingKey: not a ${suite.id} public key \\(.*priv`),
      ],
      [
        'signing key of the wrong length',
        (j) => (at(j, ['institutions', 1]).signingKey = `${suite.id}:pub:${'04'.repeat(20)}`),
        new RegExp(`^institutions\\[1\\]\\.signingKey: not a ${suite.id} public key`),
      ],
      [
        'peer id',
        (j) =>
          (at(j, ['institutions', 0]).peerId = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'),
        /^institutions\[0\]\.peerId: not an Ed25519 libp2p peer id/,
      ],
      [
        'peer id with a character outside base58',
        (j) => (at(j, ['institutions', 0]).peerId = `${peerIdFor(0).slice(0, -1)}0`),
        /^institutions\[0\]\.peerId: not an Ed25519 libp2p peer id/,
      ],
      [
        'role',
        (j) => (at(j, ['institutions', 0]).role = 'clinic'),
        'institutions[0].role: expected one of hospital, health-centre, regulator, alliance-leader, got "clinic"',
      ],
      [
        'id',
        (j) => (at(j, ['institutions', 0]).id = 'Inst 0'),
        /^institutions\[0\]\.id: not an institution id/,
      ],
      [
        'id',
        (j) => (at(j, ['institutions', 0]).id = 'inst-'),
        /^institutions\[0\]\.id: not an institution id/,
      ],
      [
        'name',
        (j) => (at(j, ['institutions', 4]).name = ''),
        'institutions[4].name: must not be empty',
      ],
      [
        'voting',
        (j) => (at(j, ['institutions', 4]).voting = 'no'),
        'institutions[4].voting: expected a boolean, got a string',
      ],
      [
        'unknown institution field',
        (j) => (at(j, ['institutions', 1]).email = 'x'),
        'institutions[1].email: unknown field',
      ],
      [
        'missing institution field',
        (j) => delete at(j, ['institutions', 1]).voting,
        'institutions[1].voting: missing',
      ],
      [
        'apiAddress',
        (j) => (at(j, ['institutions', 0]).apiAddress = 'ftp://node0'),
        'institutions[0].apiAddress: not an http(s) URL',
      ],
      [
        'p2pAddresses',
        (j) =>
          (at(j, ['institutions', 0]).p2pAddresses = ['/ip4/10.0.0.1/tcp/7000', 'ip4/10.0.0.1']),
        /^institutions\[0\]\.p2pAddresses\[1\]: not a multiaddr/,
      ],
      [
        'duplicate id',
        (j) => (at(j, ['institutions', 3]).id = 'inst-1'),
        'institutions[3].id: duplicate of institutions[1].id',
      ],
      [
        'duplicate signing key',
        (j) => (at(j, ['institutions', 4]).signingKey = at(j, ['institutions', 0]).signingKey),
        'institutions[4].signingKey: duplicate of institutions[0].signingKey',
      ],
      [
        'duplicate peer id',
        (j) => (at(j, ['institutions', 2]).peerId = at(j, ['institutions', 1]).peerId),
        'institutions[2].peerId: duplicate of institutions[1].peerId',
      ],
      [
        'no voting institution',
        (j) => {
          for (const i of j.institutions as Json[]) i.voting = false;
        },
        /^institutions: no institution has voting: true/,
      ],
      [
        'unknown policy field',
        (j) => (at(j, ['policy']).maxGas = 1),
        'policy.maxGas: unknown field',
      ],
      [
        'missing policy field',
        (j) => delete at(j, ['policy']).maxTxBytes,
        'policy.maxTxBytes: missing',
      ],
      [
        'maxTxBytes',
        (j) => (at(j, ['policy']).maxTxBytes = 0),
        'policy.maxTxBytes: must be at least 256',
      ],
      [
        'maxBlockTxs',
        (j) => (at(j, ['policy']).maxBlockTxs = 1e9),
        'policy.maxBlockTxs: must be at most 100000',
      ],
      [
        'maxBlockBytes below one full transaction',
        (j) => (at(j, ['policy']).maxBlockBytes = 65536),
        /^policy\.maxBlockBytes: must be at least \d+ so that a transaction of maxTxBytes \(65536\) fits in a block$/,
      ],
      [
        'blockIntervalMs',
        (j) => (at(j, ['policy']).blockIntervalMs = 0.5),
        'policy.blockIntervalMs: expected a safe integer, got a non-integer number',
      ],
      [
        'viewChangeTimeoutMs',
        (j) => (at(j, ['policy']).viewChangeTimeoutMs = -1),
        'policy.viewChangeTimeoutMs: must be at least 10',
      ],
      [
        'checkpointInterval',
        (j) => (at(j, ['policy']).checkpointInterval = null),
        'policy.checkpointInterval: expected a safe integer, got null',
      ],
      [
        'data level',
        (j) => (at(j, ['policy', 'dataLevels']).L5 = at(j, ['policy', 'dataLevels', 'L1'])),
        'policy.dataLevels.L5: unknown field',
      ],
      [
        'missing data level',
        (j) => delete at(j, ['policy', 'dataLevels']).L4,
        'policy.dataLevels.L4: missing',
      ],
      [
        'data-level role',
        (j) => (at(j, ['policy', 'dataLevels', 'L3']).read = ['doctor', 'nurse']),
        'policy.dataLevels.L3.read[1]: expected one of doctor, department, admin, auditor, patient, got "nurse"',
      ],
      [
        'repeated data-level role',
        (j) => (at(j, ['policy', 'dataLevels', 'L1']).grant = ['patient', 'patient']),
        'policy.dataLevels.L1.grant[1]: "patient" is listed twice',
      ],
      [
        'missing data-level right',
        (j) => delete at(j, ['policy', 'dataLevels', 'L2']).register,
        'policy.dataLevels.L2.register: missing',
      ],
    ];
    for (const [what, mutate, message] of cases) {
      it(`${what}: ${String(message)}`, () => {
        const json = jsonOf(genesis);
        mutate(json);
        expectGenesisError(json, message);
      });
    }

    it('rejects a document that is not a map', () => {
      expectGenesisError([], '(root): expected a map, got an array');
      expectGenesisError(null, '(root): expected a map, got null');
      expectGenesisError('genesis', '(root): expected a map, got a string');
    });

    it('reports JSON syntax errors as a GenesisError', () => {
      expect(() => parseGenesisText('{"chainId": ')).toThrow(GenesisError);
      expect(() => parseGenesisText('{"chainId": ')).toThrow(/^\(root\): not valid JSON/);
    });

    it('createGenesis validates like a file, naming the field', () => {
      const institutions = institutionsFor(suite);
      expect(() =>
        createGenesis({
          chainId: CHAIN_ID,
          suite: suite.id,
          genesisTime: GENESIS_TIME,
          institutions: institutions.map((i, k) =>
            k === 2 ? { ...i, signingKey: new Uint8Array(suite.publicKeyLength + 1) } : i,
          ),
        }),
      ).toThrow(new RegExp(`^institutions\\[2\\]\\.signingKey: not a ${suite.id} public key`));
      expect(() =>
        createGenesis({
          chainId: CHAIN_ID,
          suite: suite.id,
          genesisTime: GENESIS_TIME,
          institutions,
          policy: { maxTxBytes: 100 },
        }),
      ).toThrow('policy.maxTxBytes: must be at least 256');
      const custom = createGenesis({
        chainId: CHAIN_ID,
        suite: suite.id,
        genesisTime: GENESIS_TIME,
        institutions: institutions.map((i) => ({ ...i, voting: true })),
        policy: {
          blockIntervalMs: 50,
          dataLevels: { L4: { register: ['doctor'], grant: ['patient'], read: [] } },
        },
      });
      expect(custom.policy.blockIntervalMs).toBe(50);
      expect(custom.policy.dataLevels.L4.read).toEqual([]);
      expect(custom.policy.dataLevels.L3).toEqual(DEFAULT_POLICY.dataLevels.L3);
      expect(validatorSet(suite, custom).n).toBe(5);
    });
  });
});
