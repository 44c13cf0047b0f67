import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInstitutionDescriptor, parsePolicyOverrides } from '../../cli/commands/genesis.js';
import { peerKeyFromSeed } from '../../p2p/peer-key.js';
import { toHex } from '../../src/codec/index.js';
import { encodePublicKey, getSuite } from '../../src/crypto/index.js';
import type { SuiteId } from '../../src/crypto/index.js';
import { MedchainError } from '../../src/errors.js';
import { DEFAULT_POLICY, genesisHash, parseGenesisText } from '../../src/identity/index.js';
import { cli, jsonOf } from './cli-harness.js';

const GENESIS_TIME = '2026-01-01T00:00:00Z';
const GENESIS_TIME_MS = Date.parse(GENESIS_TIME);

interface Descriptor {
  id: string;
  name: string;
  role: string;
  signingKey: string;
  peerId: string;
  voting: boolean;
  apiAddress?: string;
  p2pAddresses?: string[];
}

async function descriptorFor(suite: SuiteId, i: number): Promise<Descriptor> {
  const signing = getSuite(suite).generateKeyPair();
  const p2p = getSuite('intl').generateKeyPair();
  const regulator = i === 4;
  return {
    id: `inst-${i}`,
    name: regulator ? '市卫生健康委员会' : `第${i}人民医院`,
    role: regulator ? 'regulator' : 'hospital',
    signingKey: encodePublicKey(suite, signing.publicKey),
    peerId: (await peerKeyFromSeed(p2p.privateKey)).peerId,
    voting: !regulator,
    ...(i === 0
      ? { apiAddress: 'http://127.0.0.1:8080', p2pAddresses: ['/ip4/127.0.0.1/tcp/7000'] }
      : {}),
  };
}

/** YAML for even indexes, JSON for odd ones: both formats are accepted. */
function descriptorText(descriptor: Descriptor, i: number): { name: string; text: string } {
  if (i % 2 === 1) return { name: `inst-${i}.json`, text: JSON.stringify(descriptor) };
  const lines = Object.entries(descriptor).map(
    ([key, value]) => `${key}: ${JSON.stringify(value)}`,
  );
  return { name: `inst-${i}.yaml`, text: `${lines.join('\n')}\n` };
}

describe('medchain genesis', () => {
  let dir: string;
  const files: Record<SuiteId, string[]> = { intl: [], gm: [] };
  const descriptors: Record<SuiteId, Descriptor[]> = { intl: [], gm: [] };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-cli-genesis-'));
    for (const suite of ['intl', 'gm'] as const) {
      for (let i = 0; i < 5; i++) {
        const descriptor = await descriptorFor(suite, i);
        const { name, text } = descriptorText(descriptor, i);
        const file = path.join(dir, `${suite}-${name}`);
        await writeFile(file, text);
        files[suite].push(file);
        descriptors[suite].push(descriptor);
      }
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const institutionArgs = (list: readonly string[]) =>
    list.flatMap((file) => ['--institution', file]);

  for (const suite of ['intl', 'gm'] as const) {
    it(`create (${suite}) → file that parseGenesis accepts, printed hash = genesisHash; show and hash agree`, async () => {
      const out = path.join(dir, `${suite}-genesis.json`);
      const created = await cli([
        'genesis',
        'create',
        '--json',
        '--chain-id',
        'alliance-test',
        ...institutionArgs(files[suite]),
        '--genesis-time',
        GENESIS_TIME,
        '--out',
        out,
      ]);
      expect(created.code, created.stderr).toBe(0);
      const genesis = parseGenesisText(await readFile(out, 'utf8'));
      const hash = toHex(genesisHash(getSuite(suite), genesis));
      // the suite was inferred from the signing keys
      expect(jsonOf(created)).toEqual({
        file: out,
        chainId: 'alliance-test',
        suite,
        genesisTime: GENESIS_TIME_MS,
        institutions: 5,
        validators: 4,
        maxFaulty: 1,
        hash,
      });
      expect(genesis.institutions.map((institution) => institution.id)).toEqual(
        descriptors[suite].map((d) => d.id),
      );
      expect(genesis.institutions[0]?.p2pAddresses).toEqual(['/ip4/127.0.0.1/tcp/7000']);
      expect(genesis.policy).toEqual(DEFAULT_POLICY);

      const hashed = await cli(['genesis', 'hash', out]);
      expect(hashed).toMatchObject({ code: 0, stdout: `${hash}\n` });
      const shown = await cli(['genesis', 'show', out, '--json']);
      expect(shown.code).toBe(0);
      const body = jsonOf(shown);
      expect(body).toMatchObject({ hash, suite, validators: 4 });
      expect(body.institutionList).toEqual(descriptors[suite]);
      const human = await cli(['genesis', 'show', out]);
      expect(human.stdout).toContain(hash);
      expect(human.stdout).toContain('市卫生健康委员会');
      expect(human.stdout).toMatch(/inst-4\s+regulator\s+no/);
    });
  }

  it('--policy overrides single fields and whole data levels; the hash changes with it', async () => {
    const policyFile = path.join(dir, 'policy.yaml');
    await writeFile(
      policyFile,
      'maxBlockTxs: 1000\nviewChangeTimeoutMs: 5000\ndataLevels:\n  L4: {register: [doctor], grant: [patient, admin], read: [doctor]}\n',
    );
    const out = path.join(dir, 'policy-genesis.json');
    const args = [
      'genesis',
      'create',
      '--chain-id',
      'alliance-test',
      ...institutionArgs(files.intl),
      '--genesis-time',
      GENESIS_TIME,
    ];
    const r = await cli([...args, '--policy', policyFile, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const genesis = parseGenesisText(await readFile(out, 'utf8'));
    expect(genesis.policy).toEqual({
      ...DEFAULT_POLICY,
      maxBlockTxs: 1000,
      viewChangeTimeoutMs: 5000,
      dataLevels: {
        ...DEFAULT_POLICY.dataLevels,
        L4: { register: ['doctor'], grant: ['admin', 'patient'], read: ['doctor'] },
      },
    });
    const plain = await cli([...args, '--out', path.join(dir, 'plain-genesis.json'), '--json']);
    expect(jsonOf(plain).hash).not.toBe(jsonOf(r).hash);
  });

  it('errors name the descriptor file and field, exit 2, one line', async () => {
    const write = async (name: string, text: string) => {
      const file = path.join(dir, name);
      await writeFile(file, text);
      return file;
    };
    const [first, second] = descriptors.intl;
    if (!first || !second) throw new MedchainError('FIXTURE', 'fixture missing');
    const unknownField = await write(
      'unknown.json',
      JSON.stringify({ ...first, id: 'x-1', colour: 'red' }),
    );
    const badPeer = await write(
      'bad-peer.json',
      JSON.stringify({ ...second, peerId: 'QmNotAnEd25519PeerId' }),
    );
    const noVoting = await write(
      'no-voting.yaml',
      `id: x-2\nname: n\nrole: hospital\nsigningKey: ${second.signingKey}\npeerId: ${second.peerId}\n`,
    );
    const badYaml = await write('bad.yaml', 'id: [unclosed\n');
    const badRole = await write('bad-role.json', JSON.stringify({ ...first, role: 'pharmacy' }));
    const badPolicy = await write('bad-policy.yaml', 'maxBlockTxs: 0\n');
    const unknownPolicy = await write('unknown-policy.yaml', 'blockSize: 10\n');
    const base = [
      'genesis',
      'create',
      '--chain-id',
      'alliance-test',
      '--out',
      path.join(dir, 'never.json'),
    ];
    const one = files.intl[0] ?? '';
    const cases: [readonly string[], string][] = [
      [
        ['--institution', one, '--institution', one],
        `institution ${one}: id: duplicate of the id of ${one}`,
      ],
      [
        ['--institution', one, '--institution', unknownField],
        `institution ${unknownField}: colour: unknown field`,
      ],
      [['--institution', badPeer], `institution ${badPeer}: peerId: not an Ed25519 libp2p peer id`],
      [['--institution', noVoting], `institution ${noVoting}: voting: missing`],
      [['--institution', badYaml], `institution ${badYaml}: not valid YAML`],
      [['--institution', badRole], `institution ${badRole}: role: expected one of hospital`],
      [
        ['--institution', one, '--suite', 'gm'],
        `institution ${one}: signingKey: not a gm public key`,
      ],
      [
        ['--institution', one, '--policy', badPolicy],
        `policy ${badPolicy}: maxBlockTxs: must be at least 1`,
      ],
      [
        ['--institution', one, '--policy', unknownPolicy],
        `policy ${unknownPolicy}: blockSize: unknown field`,
      ],
      [
        ['--institution', path.join(dir, 'nope.yaml')],
        `institution ${path.join(dir, 'nope.yaml')}: no such file`,
      ],
      [
        ['--institution', one, '--genesis-time', 'yesterday'],
        '--genesis-time: expected milliseconds',
      ],
    ];
    for (const [extra, message] of cases) {
      const r = await cli([...base, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderrLines, extra.join(' ')).toHaveLength(1);
      expect(r.stderr, extra.join(' ')).toContain(`medchain: ${message}`);
    }
    const badChain = await cli([
      'genesis',
      'create',
      '--chain-id',
      'Bad Chain',
      '--institution',
      one,
      '--out',
      path.join(dir, 'never.json'),
      '--json',
    ]);
    expect(badChain.code).toBe(2);
    expect(jsonOf(badChain).error).toMatchObject({ code: 'GENESIS_INVALID' });
    expect(badChain.stderr).toMatch(/^medchain: --chain-id: /);
  });

  it('show/hash reject a file that is not a valid genesis (exit 2), naming the field', async () => {
    const file = path.join(dir, 'broken-genesis.json');
    await writeFile(
      file,
      JSON.stringify({ chainId: 'x', suite: 'intl', genesisTime: 1, institutions: [], policy: {} }),
    );
    for (const command of ['show', 'hash']) {
      const r = await cli(['genesis', command, file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`medchain: genesis ${file}: institutions: must not be empty\n`);
    }
  });

  it('descriptor and policy readers check shape only and keep values for createGenesis', () => {
    const [first] = descriptors.intl;
    if (!first) throw new MedchainError('FIXTURE', 'fixture missing');
    const params = parseInstitutionDescriptor(first, 'a.yaml', 'intl');
    expect(params).toMatchObject({
      id: first.id,
      role: 'hospital',
      voting: true,
      apiAddress: 'http://127.0.0.1:8080',
    });
    expect(encodePublicKey('intl', params.signingKey)).toBe(first.signingKey);
    expect(() => parseInstitutionDescriptor([], 'a.yaml', 'intl')).toThrow(
      /^institution a\.yaml: \(root\): expected a map/,
    );
    expect(() => parseInstitutionDescriptor({ ...first, voting: 'yes' }, 'a.yaml', 'intl')).toThrow(
      /voting: expected a boolean/,
    );
    expect(parsePolicyOverrides({ maxTxBytes: 1024 }, 'p.yaml')).toEqual({ maxTxBytes: 1024 });
    expect(() => parsePolicyOverrides({ dataLevels: { L5: {} } }, 'p.yaml')).toThrow(
      /dataLevels\.L5: unknown field/,
    );
    expect(() =>
      parsePolicyOverrides(
        { dataLevels: { L1: { register: ['nurse'], grant: [], read: [] } } },
        'p.yaml',
      ),
    ).toThrow(/dataLevels\.L1\.register\[0\]: expected one of doctor/);
  });
});
