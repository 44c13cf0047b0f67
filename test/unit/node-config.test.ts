import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildConfig,
  DEFAULT_CONFIG,
  envNameOf,
  loadConfig,
  PASSPHRASE_ENV,
  readPassphrase,
} from '../../src/node/config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return expect.fail('expected an error');
}

describe('node config', () => {
  it('names environment variables after the field path', () => {
    expect(envNameOf('api.port')).toBe('MEDCHAIN_API_PORT');
    expect(envNameOf('dataDir')).toBe('MEDCHAIN_DATA_DIR');
    expect(envNameOf('mempool.maxTxsPerSender')).toBe('MEDCHAIN_MEMPOOL_MAX_TXS_PER_SENDER');
  });

  it('loads YAML, resolves paths against the file and applies env overrides last', async () => {
    const file = path.join(dir, 'node.yaml');
    await writeFile(
      file,
      [
        '# a hospital node',
        'institutionId: district-hospital',
        'dataDir: ./data',
        'api:',
        '  port: 8200',
        'p2p:',
        '  listen: [/ip4/127.0.0.1/tcp/7200]',
        '  peers:',
        '    city-hospital: [/ip4/127.0.0.1/tcp/7202]',
      ].join('\n'),
    );
    const config = await loadConfig(file, {
      env: {
        MEDCHAIN_API_PORT: '8300',
        MEDCHAIN_P2P_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2',
      },
    });
    expect(config.institutionId).toBe('district-hospital');
    expect(config.dataDir).toBe(path.join(dir, 'data'));
    expect(config.genesisFile).toBe(path.join(dir, 'genesis.json'));
    expect(config.api.port).toBe(8300);
    expect(config.p2p.listen).toEqual(['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2']);
    expect(config.p2p.peers).toEqual({ 'city-hospital': ['/ip4/127.0.0.1/tcp/7202'] });
    expect(config.mempool).toEqual(DEFAULT_CONFIG.mempool);
  });

  it('names the bad field and where its value came from', () => {
    const base = { institutionId: 'a' };
    expect(message(() => buildConfig({ ...base, api: { port: 70_000 } }, dir))).toBe(
      'config api.port: must be an integer from 0 to 65535, got 70000 (file)',
    );
    expect(message(() => buildConfig(base, dir, { env: { MEDCHAIN_API_PORT: 'eighty' } }))).toBe(
      'config api.port: not a number: "eighty" (environment MEDCHAIN_API_PORT)',
    );
    expect(message(() => buildConfig({ ...base, mempol: {} }, dir))).toBe(
      'config mempol: unknown field (file)',
    );
    expect(message(() => buildConfig({ ...base, log: { level: 'loud' } }, dir))).toContain(
      'config log.level: must be one of fatal, error',
    );
    expect(message(() => buildConfig({}, dir))).toBe(
      'config institutionId: must not be empty (default)',
    );
    expect(
      message(() => buildConfig({ ...base, p2p: { listen: ['127.0.0.1:7000'] } }, dir)),
    ).toContain('p2p.listen[0]: "127.0.0.1:7000" is not a multiaddr');
    expect(message(() => buildConfig(['x'], dir))).toContain('must hold a mapping');
  });

  it('reads a true/false field from the file or the environment, and refuses anything else', () => {
    const base = { institutionId: 'a' };
    expect(buildConfig(base, dir).consensus.compactPrePrepares).toBe(true);
    const off = { ...base, consensus: { compactPrePrepares: false } };
    expect(buildConfig(off, dir).consensus.compactPrePrepares).toBe(false);
    const env = { MEDCHAIN_CONSENSUS_COMPACT_PRE_PREPARES: 'false' };
    expect(buildConfig(base, dir, { env }).consensus.compactPrePrepares).toBe(false);
    expect(
      message(() =>
        buildConfig(base, dir, { env: { MEDCHAIN_CONSENSUS_COMPACT_PRE_PREPARES: 'no' } }),
      ),
    ).toBe(
      'config consensus.compactPrePrepares: not true or false: "no" (environment MEDCHAIN_CONSENSUS_COMPACT_PRE_PREPARES)',
    );
    expect(
      message(() => buildConfig({ ...base, consensus: { compactPrePrepares: 'yes' } }, dir)),
    ).toBe('config consensus.compactPrePrepares: must be true or false, got "yes" (file)');
  });

  it('reads the passphrase from a file or the environment, never from the config itself', async () => {
    const file = path.join(dir, 'pass');
    await writeFile(file, 'correct horse\nignored\n');
    expect(await readPassphrase({ passphraseFile: file }, {})).toBe('correct horse');
    expect(await readPassphrase({ passphraseFile: '' }, { [PASSPHRASE_ENV]: 'from-env' })).toBe(
      'from-env',
    );
    await expect(readPassphrase({ passphraseFile: '' }, {})).rejects.toThrow(/MEDCHAIN_PASSPHRASE/);
    await writeFile(file, '\n');
    await expect(readPassphrase({ passphraseFile: file }, {})).rejects.toThrow(/is empty/);
    expect(() => buildConfig({ institutionId: 'a', passphrase: 'x' }, dir)).toThrow(
      /unknown field/,
    );
  });
});
