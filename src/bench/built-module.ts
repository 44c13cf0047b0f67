/**
 * Where the compiled form of a bench module lives. Worker threads and the
 * forked load generator must run JavaScript: from `dist/` this is the file
 * beside the caller; from the TypeScript sources (vitest) it is the same path
 * under `dist/`, which `npm test` builds first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { MedchainError } from '../errors.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Absolute path of `dist/src/bench/<name>.js`. Throws `BENCH_NOT_BUILT` if it is missing. */
export function builtBenchModule(name: string): string {
  const beside = path.join(HERE, `${name}.js`);
  const candidates = [beside];
  // running from <root>/src/bench (TypeScript): the build is <root>/dist/src/bench
  const root = path.resolve(HERE, '..', '..');
  candidates.push(path.join(root, 'dist', 'src', 'bench', `${name}.js`));
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  throw new MedchainError(
    'BENCH_NOT_BUILT',
    `the compiled bench module ${name}.js is missing (looked in ${candidates.join(', ')}); run npm run build`,
  );
}
