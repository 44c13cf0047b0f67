// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Folders that must stay pure and deterministic (DESIGN.md §2): no I/O, no clock,
 * no timers, no randomness. The PBFT simulator is only trustworthy while this holds.
 */
const PURE = [
  'consensus/**/*.ts',
  'src/ledger/**/*.ts',
  'src/identity/**/*.ts',
  'src/contracts/**/*.ts',
];
const IMPURE_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'tls',
  'child_process',
  'cluster',
  'worker_threads',
  'timers',
  'timers/promises',
  'os',
  'process',
  'readline',
  'crypto',
  'perf_hooks',
  'async_hooks',
  'vm',
  'inspector',
];
const pureMessage =
  'is not allowed in a pure module (consensus/, src/ledger, src/identity, src/contracts): pass it in.';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        ...['crypto', 'node:crypto'].map((name) => ({
          name,
          importNames: ['generateKeyPairSync', 'generateKeyPair'],
          message:
            'Node 20 can deadlock exporting a key these made (src/crypto/intl.ts freshKeyPair): import 32 random bytes instead.',
        })),
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message: 'Throw a MedchainError subclass with a code, not a bare Error.',
        },
      ],
    },
  },
  {
    files: PURE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IMPURE_MODULES.flatMap((m) => [
            { name: m, message: `node:${m} ${pureMessage}` },
            { name: `node:${m}`, message: `node:${m} ${pureMessage}` },
          ]),
          patterns: [
            {
              group: [
                'level',
                'classic-level',
                'libp2p',
                '@libp2p/*',
                '@chainsafe/*',
                'pino',
                'fastify',
              ],
              message: `I/O libraries ${pureMessage}`,
            },
            {
              group: ['**/storage/**', '**/p2p/**', '**/node/**', '**/api/**', '**/cli/**'],
              message: `adapters ${pureMessage}`,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...[
          'setTimeout',
          'setInterval',
          'setImmediate',
          'clearTimeout',
          'clearInterval',
          'clearImmediate',
          'queueMicrotask',
          'fetch',
          'process',
          'performance',
          'crypto',
          'require',
        ].map((name) => ({ name, message: `${name} ${pureMessage}` })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: `Date.now ${pureMessage}` },
        { object: 'Math', property: 'random', message: `Math.random ${pureMessage}` },
        { object: 'globalThis', message: `globalThis ${pureMessage}` },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date']", message: `new Date() ${pureMessage}` },
        { selector: "CallExpression[callee.name='Date']", message: `Date() ${pureMessage}` },
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message: 'Throw a MedchainError subclass with a code, not a bare Error.',
        },
      ],
    },
  },
  {
    files: ['cli/**/*.ts', 'scripts/**/*.ts', 'src/bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
