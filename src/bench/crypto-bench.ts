/**
 * Crypto benchmark: operations per second of both suites and of `sm-crypto`
 * (the reference SM2 implementation), measured in the same process, plus the
 * two ratios the gm suite must meet:
 *
 *   gm known-key verify ÷ intl verify      ≥ 0.15
 *   gm known-key verify ÷ sm-crypto verify ≥ 20
 *
 * Usage: node dist/src/bench/crypto-bench.js [--json] [--seconds=1] [--strict]
 *   --json     print one JSON object instead of the table
 *   --seconds  time budget per measurement (default 1)
 *   --strict   exit 1 if a ratio fails
 */
import { cpus, platform, arch, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import smCrypto from 'sm-crypto';
import { DOMAIN, getSuite } from '../crypto/index.js';
import type { CryptoSuite, SuiteId } from '../crypto/index.js';

const THRESHOLDS = { gmKnownVsIntlVerify: 0.15, gmKnownVsSmCryptoVerify: 20 } as const;
const CHAIN_ID = 'bench-chain';
const VARIANTS = 64;
const MAX_OPS = 2_000_000;

interface Options {
  readonly json: boolean;
  readonly seconds: number;
  readonly strict: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  let seconds = 1;
  for (const arg of argv) {
    const match = /^--seconds=(\d+(?:\.\d+)?)$/.exec(arg);
    if (match?.[1] !== undefined) seconds = Math.min(30, Math.max(0.05, Number(match[1])));
  }
  return { json: argv.includes('--json'), seconds, strict: argv.includes('--strict') };
}

/** Run `op(i)` in batches until the time budget or the op cap is reached; ops per second. */
function measure(op: (i: number) => unknown, seconds: number, maxOps = MAX_OPS): number {
  for (let i = 0; i < 3; i++) op(i); // warm-up (JIT, caches, lazy tables)
  const budgetMs = seconds * 1000;
  let ops = 0;
  let batch = 1;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs && ops < maxOps) {
    for (let i = 0; i < batch; i++) op(ops + i);
    ops += batch;
    elapsed = performance.now() - start;
    if (elapsed < budgetMs / 20) batch = Math.min(batch * 2, 4096);
  }
  return Math.round((ops / elapsed) * 1000);
}

interface SuiteResult {
  signPerSec: number;
  verifyPerSec: number;
  verifyKnownKeyPerSec: number;
  hash200BPerSec: number;
  seal1KiBPerSec: number;
  open1KiBPerSec: number;
  wrapPerSec: number;
  unwrapPerSec: number;
}

function must(condition: boolean, what: string): void {
  if (!condition) {
    console.error(`crypto-bench: self-check failed: ${what}`);
    process.exit(2);
  }
}

function benchSuite(suite: CryptoSuite, seconds: number): SuiteResult {
  const signer = suite.generateKeyPair();
  const known = suite.generateKeyPair();
  const messages = Array.from({ length: VARIANTS }, (_, i) =>
    new Uint8Array(200).map((_, j) => (i * 31 + j) & 0xff),
  );
  const signatures = messages.map((m) => suite.sign(DOMAIN.tx, CHAIN_ID, m, signer.privateKey));
  const knownSignatures = messages.map((m) => suite.sign(DOMAIN.tx, CHAIN_ID, m, known.privateKey));
  suite.registerKnownSigner(known.publicKey);
  must(
    signatures.every((s, i) =>
      suite.verify(DOMAIN.tx, CHAIN_ID, messages[i % VARIANTS] as Uint8Array, s, signer.publicKey),
    ) &&
      knownSignatures.every((s, i) =>
        suite.verify(DOMAIN.tx, CHAIN_ID, messages[i % VARIANTS] as Uint8Array, s, known.publicKey),
      ),
    `${suite.id} signatures verify`,
  );

  const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;
  const key = suite.randomBytes(suite.aeadKeyLength);
  const kib = suite.randomBytes(1024);
  const sealed = suite.seal(key, kib);
  const recipient = suite.generateEncryptionKeyPair();
  const dataKey = suite.randomBytes(suite.aeadKeyLength);
  const wrapped = suite.wrapKey(dataKey, recipient.publicKey);

  let sink = 0;
  const result: SuiteResult = {
    signPerSec: measure(
      (i) => suite.sign(DOMAIN.tx, CHAIN_ID, pick(messages, i), signer.privateKey),
      seconds,
    ),
    verifyPerSec: measure(
      (i) =>
        suite.verify(DOMAIN.tx, CHAIN_ID, pick(messages, i), pick(signatures, i), signer.publicKey),
      seconds,
    ),
    verifyKnownKeyPerSec: measure(
      (i) =>
        suite.verify(
          DOMAIN.tx,
          CHAIN_ID,
          pick(messages, i),
          pick(knownSignatures, i),
          known.publicKey,
        ),
      seconds,
    ),
    hash200BPerSec: measure((i) => (sink ^= suite.hash(pick(messages, i))[0] ?? 0), seconds),
    seal1KiBPerSec: measure(() => suite.seal(key, kib), seconds),
    open1KiBPerSec: measure(() => suite.open(key, sealed), seconds),
    wrapPerSec: measure(() => suite.wrapKey(dataKey, recipient.publicKey), seconds),
    unwrapPerSec: measure(() => suite.unwrapKey(wrapped, recipient.privateKey), seconds),
  };
  must(sink >= 0, 'hash sink');
  return result;
}

function benchSmCrypto(seconds: number): { signPerSec: number; verifyPerSec: number } {
  const pair = smCrypto.sm2.generateKeyPairHex();
  const messages = Array.from({ length: 8 }, (_, i) => new Uint8Array(200).fill(i));
  const signatures = messages.map((m) =>
    smCrypto.sm2.doSignature(m, pair.privateKey, { hash: true }),
  );
  const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;
  must(
    smCrypto.sm2.doVerifySignature(pick(messages, 0), pick(signatures, 0), pair.publicKey, {
      hash: true,
    }),
    'sm-crypto verifies its own signature',
  );
  return {
    signPerSec: measure(
      (i) =>
        smCrypto.sm2.doSignature(pick(messages, i), pair.privateKey, {
          hash: true,
          publicKey: pair.publicKey,
        }),
      seconds,
    ),
    verifyPerSec: measure(
      (i) =>
        smCrypto.sm2.doVerifySignature(pick(messages, i), pick(signatures, i), pair.publicKey, {
          hash: true,
        }),
      seconds,
    ),
  };
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const suites: Record<SuiteId, SuiteResult> = {
    intl: benchSuite(getSuite('intl'), options.seconds),
    gm: benchSuite(getSuite('gm'), options.seconds),
  };
  const reference = benchSmCrypto(options.seconds);
  const knownVsIntl = suites.gm.verifyKnownKeyPerSec / suites.intl.verifyPerSec;
  const knownVsSmCrypto = suites.gm.verifyKnownKeyPerSec / reference.verifyPerSec;
  const ratios = {
    gmKnownVsIntlVerify: {
      value: Number(knownVsIntl.toFixed(3)),
      threshold: THRESHOLDS.gmKnownVsIntlVerify,
      pass: knownVsIntl >= THRESHOLDS.gmKnownVsIntlVerify,
    },
    gmKnownVsSmCryptoVerify: {
      value: Number(knownVsSmCrypto.toFixed(1)),
      threshold: THRESHOLDS.gmKnownVsSmCryptoVerify,
      pass: knownVsSmCrypto >= THRESHOLDS.gmKnownVsSmCryptoVerify,
    },
  };
  const cpuList = cpus();
  const machine = {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpus: cpuList.length,
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
    platform: platform(),
    arch: arch(),
    node: process.versions.node,
    openssl: process.versions.openssl,
    secondsPerMeasurement: options.seconds,
    measuredAt: new Date().toISOString(),
  };
  const report = { intl: suites.intl, gm: suites.gm, smCrypto: reference, ratios, machine };

  if (options.json) {
    console.log(JSON.stringify(report));
  } else {
    const rows: [string, keyof SuiteResult][] = [
      ['sign', 'signPerSec'],
      ['verify', 'verifyPerSec'],
      ['verify (known key)', 'verifyKnownKeyPerSec'],
      ['hash 200 B', 'hash200BPerSec'],
      ['seal 1 KiB', 'seal1KiBPerSec'],
      ['open 1 KiB', 'open1KiBPerSec'],
      ['wrap key', 'wrapPerSec'],
      ['unwrap key', 'unwrapPerSec'],
    ];
    const fmt = (n: number | undefined): string =>
      (n === undefined ? '—' : n.toLocaleString('en-US')).padStart(12);
    console.log(
      `medchain crypto bench — ${machine.cpuModel} ×${machine.cpus}, node ${machine.node}, OpenSSL ${machine.openssl}`,
    );
    console.log(
      `${'ops/s'.padEnd(20)}${'intl'.padStart(12)}${'gm'.padStart(12)}${'sm-crypto'.padStart(12)}`,
    );
    for (const [label, field] of rows) {
      const ref =
        field === 'signPerSec'
          ? reference.signPerSec
          : field === 'verifyPerSec'
            ? reference.verifyPerSec
            : undefined;
      console.log(
        `${label.padEnd(20)}${fmt(suites.intl[field])}${fmt(suites.gm[field])}${fmt(ref)}`,
      );
    }
    const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');
    console.log(
      `gm known-key verify ÷ intl verify      = ${ratios.gmKnownVsIntlVerify.value.toFixed(3)}  (≥ ${THRESHOLDS.gmKnownVsIntlVerify}) ${verdict(ratios.gmKnownVsIntlVerify.pass)}`,
    );
    console.log(
      `gm known-key verify ÷ sm-crypto verify = ${ratios.gmKnownVsSmCryptoVerify.value.toFixed(1)}  (≥ ${THRESHOLDS.gmKnownVsSmCryptoVerify}) ${verdict(ratios.gmKnownVsSmCryptoVerify.pass)}`,
    );
  }
  if (options.strict && !(ratios.gmKnownVsIntlVerify.pass && ratios.gmKnownVsSmCryptoVerify.pass)) {
    process.exitCode = 1;
  }
}

main();
