import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../storage/errors.js';
import { LevelKvStore, classifyLevelError } from '../../storage/level-kv.js';

async function openError(location: string, createIfMissing = true): Promise<StorageError> {
  const err: unknown = await LevelKvStore.open(location, { createIfMissing }).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
}

/** An error shaped like abstract-level's: a wrapper with the native error as `cause`. */
function levelError(code: string, message: string): Error {
  const cause = Object.assign(new Error(message), { code });
  return Object.assign(new Error('Database failed to open', { cause }), {
    code: 'LEVEL_DATABASE_NOT_OPEN',
  });
}

describe('LevelKvStore environment errors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medchain-level-'));
  });
  afterEach(async () => {
    await chmod(dir, 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('reports DB_LOCKED when the directory is already open in this process', async () => {
    const first = await LevelKvStore.open(path.join(dir, 'db'));
    try {
      const err = await openError(path.join(dir, 'db'));
      expect(err.code).toBe('DB_LOCKED');
      expect(err.message).toContain(path.join(dir, 'db'));
      expect(err.message).toContain('already open in this process');
    } finally {
      await first.close();
    }
    const again = await LevelKvStore.open(path.join(dir, 'db'));
    await again.close();
  });

  it('reports NOT_FOUND for a missing directory when creating is not allowed', async () => {
    const err = await openError(path.join(dir, 'missing'), false);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toContain(path.join(dir, 'missing'));
  });

  it('reports IO_ERROR when the location is a file', async () => {
    const file = path.join(dir, 'file');
    await writeFile(file, 'not a database');
    const err = await openError(file);
    expect(err.code).toBe('IO_ERROR');
    expect(err.message).toContain('is not a directory');
  });

  // Root ignores permission bits; as root the open runs in a child process
  // whose capabilities to override them are dropped (setpriv, util-linux).
  const isRoot = process.getuid?.() === 0;
  const canDropCaps = isRoot && spawnSync('setpriv', ['--version']).status === 0;
  it.skipIf(isRoot && !canDropCaps)(
    'reports PERMISSION_DENIED for an unreadable directory',
    async () => {
      const locked = path.join(dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o000);
      if (!isRoot) {
        const err = await openError(path.join(locked, 'db'));
        expect(err.code).toBe('PERMISSION_DENIED');
        return;
      }
      const levelKv = pathToFileURL(path.resolve('dist/storage/level-kv.js')).href;
      const script = `import { LevelKvStore } from ${JSON.stringify(levelKv)};
        LevelKvStore.open(${JSON.stringify(path.join(locked, 'db'))}).then(
          () => console.log('OPENED'), (e) => console.log(e.code));`;
      const child = spawnSync(
        'setpriv',
        [
          '--bounding-set',
          '-dac_override,-dac_read_search',
          '--inh-caps',
          '-dac_override,-dac_read_search',
          process.execPath,
          '--input-type=module',
          '-e',
          script,
        ],
        { encoding: 'utf8' },
      );
      expect(child.stderr).toBe('');
      expect(child.stdout.trim()).toBe('PERMISSION_DENIED');
    },
  );

  it('maps LevelDB and file-system failures to codes with actionable messages', () => {
    const at = '/data/medchain';
    const cases: [unknown, string, RegExp][] = [
      [
        levelError(
          'LEVEL_LOCKED',
          'IO error: lock /data/medchain/LOCK: Resource temporarily unavailable',
        ),
        'DB_LOCKED',
        /already in use by another process \(is another medchain node running with this data directory\?\)/,
      ],
      [
        levelError('LEVEL_CORRUPTION', 'Corruption: checksum mismatch'),
        'CORRUPT_DATABASE',
        /is corrupt .*checksum mismatch.*backup/,
      ],
      [
        levelError('LEVEL_IO_ERROR', 'IO error: /data/medchain/LOCK: Permission denied'),
        'PERMISSION_DENIED',
        /permission denied/,
      ],
      [
        Object.assign(new Error("EACCES: permission denied, mkdir '/data'"), { code: 'EACCES' }),
        'PERMISSION_DENIED',
        /must be able to read and write/,
      ],
      [
        levelError(
          'LEVEL_IO_ERROR',
          'IO error: /data/medchain/000005.log: No space left on device',
        ),
        'DISK_FULL',
        /no space left.*free disk space/,
      ],
      [
        Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
        'DISK_FULL',
        /no space left/,
      ],
      [
        levelError('LEVEL_IO_ERROR', 'IO error: /data/medchain/LOCK: Read-only file system'),
        'PERMISSION_DENIED',
        /read-only file system/,
      ],
      [
        levelError('LEVEL_IO_ERROR', 'IO error: /data/medchain/LOCK: No such file or directory'),
        'NOT_FOUND',
        /does not exist/,
      ],
      [
        levelError('LEVEL_IO_ERROR', 'IO error: something odd'),
        'IO_ERROR',
        /open failed: IO error: something odd/,
      ],
    ];
    for (const [err, code, message] of cases) {
      const mapped = classifyLevelError(err, at, 'open');
      expect(mapped.code, String(message)).toBe(code);
      expect(mapped.message).toMatch(message);
      expect(mapped.message).toContain(at);
      expect(mapped.cause).toBe(err);
      expect(mapped.details.location).toBe(at);
    }
    const notOpen = Object.assign(new Error('Database is not open'), {
      code: 'LEVEL_DATABASE_NOT_OPEN',
    });
    expect(classifyLevelError(notOpen, at, 'get').code).toBe('CLOSED');
  });
});
