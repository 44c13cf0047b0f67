/**
 * Golden vectors for the ledger and identity encodings, hashes and signatures
 * (STYLE.md §6: vectors cannot shrink).
 *
 * Every vector is rebuilt here from fixed inputs (fixed private keys, payloads,
 * timestamps) and compared field by field with test/vectors/golden-ledger.json;
 * encodings are also decoded back and compared with their objects. Ed25519 is
 * deterministic, so intl signatures must match exactly; SM2 signatures are
 * randomized, so gm signatures are read from the file and must verify — and
 * every encoding and hash built on them must match exactly.
 *
 * The runner counts the vectors that ran and fails if the file holds more or
 * fewer than EXPECTED_VECTOR_COUNT. Regenerate (after an intended change) with
 *
 *     UPDATE_GOLDEN=1 npx vitest run test/vectors/golden-ledger.test.ts
 *
 * which keeps stored gm signatures that still verify, so unchanged vectors stay
 * byte-identical. Then update EXPECTED_VECTOR_COUNT if vectors were added.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encode, fromHex, toHex } from '../../src/codec/index.js';
import { getSuite } from '../../src/crypto/index.js';
import { DOMAIN } from '../../src/crypto/suite.js';
import type { CryptoSuite, DomainTag, KeyPair, SuiteId } from '../../src/crypto/suite.js';
import {
  createGenesis,
  genesisHash,
  genesisToCodec,
  parseGenesis,
  genesisToJson,
  validatorSet,
} from '../../src/identity/index.js';
import {
  blockHash,
  buildCommitCertificate,
  commitVoteBytes,
  decodeBlock,
  decodeBlockHeader,
  decodeCommitCertificate,
  decodeReceipt,
  decodeTransaction,
  decodeUnsignedTransaction,
  encodeBlock,
  encodeBlockHeader,
  encodeCommitCertificate,
  encodeReceipt,
  encodeTransaction,
  encodeUnsignedTransaction,
  hashTransaction,
  merkleProof,
  merkleRoot,
  verifyInclusion,
} from '../../src/ledger/index.js';
import type {
  Block,
  BlockHeader,
  Receipt,
  Transaction,
  UnsignedTransaction,
} from '../../src/ledger/index.js';

const FILE = new URL('./golden-ledger.json', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';
/** Raise (never lower) when vectors are added; the file may not shrink. */
const EXPECTED_VECTOR_COUNT = 58;

const CHAIN_ID = 'golden-alliance';
const GENESIS_TIME = 1_767_225_600_000;
/** Alice's keys are the published known-answer keys: RFC 8032 test 1 (intl), GB/T 32918 example (gm). */
const ALICE_PRIVATE_KEY: Record<SuiteId, string> = {
  intl: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  gm: '3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8',
};
const PEER_IDS = [
  '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
  '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDhpHw8qcfGiwPVFkMu',
  '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
  '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
  '12D3KooWLJtG8fd2hkQzTn96MrLvThmnNQjTUFZwGEsLRz5EmSD9',
];

type Vector = { readonly name: string; readonly suite: SuiteId } & Readonly<
  Record<string, unknown>
>;
interface GoldenFile {
  readonly about: string;
  readonly regenerate: string;
  readonly count: number;
  readonly vectors: readonly Vector[];
}
/** A computed vector, with a check to run beside the comparison (decoding, verification). */
interface Built {
  readonly vector: Vector;
  readonly check?: () => void;
}

const stored: GoldenFile | undefined = existsSync(FILE)
  ? (JSON.parse(readFileSync(FILE, 'utf8')) as GoldenFile)
  : undefined;
const storedByName = new Map((stored?.vectors ?? []).map((v) => [v.name, v]));

const hex = toHex;
const filled = (byte: number, length = 32): Uint8Array => new Uint8Array(length).fill(byte);

/**
 * A signature over `message`: computed when the suite is deterministic;
 * otherwise the stored one (its vector's check asserts that it verifies). In
 * update mode a stored gm signature is kept while it still verifies.
 */
function signatureFor(
  suite: CryptoSuite,
  name: string,
  domain: DomainTag,
  message: Uint8Array,
  key: KeyPair,
): Uint8Array {
  const fresh = (): Uint8Array => suite.sign(domain, CHAIN_ID, message, key.privateKey);
  if (suite.id === 'intl') return fresh();
  const saved = storedByName.get(name)?.signature;
  const savedBytes = typeof saved === 'string' ? fromHex(saved) : undefined;
  if (!UPDATE) {
    if (savedBytes === undefined) throw new RangeError(`${name}: no stored gm signature`);
    return savedBytes;
  }
  const stillValid =
    savedBytes !== undefined && suite.verify(domain, CHAIN_ID, message, savedBytes, key.publicKey);
  return stillValid ? savedBytes : fresh();
}

function buildVectors(suite: CryptoSuite): Built[] {
  const out: Built[] = [];
  const add = (name: string, fields: Record<string, unknown>, check?: () => void): void => {
    out.push({ vector: { name: `${suite.id}/${name}`, suite: suite.id, ...fields }, check });
  };
  const encodingVector = (
    name: string,
    bytes: Uint8Array,
    decodeBack: () => unknown,
    object: unknown,
  ): void => {
    add(name, { hex: hex(bytes) }, () => {
      expect(decodeBack()).toEqual(object);
    });
  };
  const signatureVector = (
    name: string,
    domain: DomainTag,
    message: Uint8Array,
    key: KeyPair,
  ): Uint8Array => {
    const fullName = `${suite.id}/${name}`;
    const signature = signatureFor(suite, fullName, domain, message, key);
    add(
      name,
      {
        domain,
        chainId: CHAIN_ID,
        publicKey: hex(key.publicKey),
        message: hex(message),
        signature: hex(signature),
        deterministic: suite.id === 'intl',
      },
      () => {
        expect(suite.verify(domain, CHAIN_ID, message, signature, key.publicKey)).toBe(true);
        // domain separation: the same signature is worthless under any other tag
        const other = domain === DOMAIN.tx ? DOMAIN.consensus : DOMAIN.tx;
        expect(suite.verify(other, CHAIN_ID, message, signature, key.publicKey)).toBe(false);
      },
    );
    return signature;
  };

  // keys
  const alice = suite.keyPairFromPrivateKey(fromHex(ALICE_PRIVATE_KEY[suite.id]));
  const validatorKeys = [101, 102, 103, 104].map((seed) =>
    suite.keyPairFromPrivateKey(filled(seed)),
  );
  add('keys', {
    alicePrivateKey: hex(alice.privateKey),
    alicePublicKey: hex(alice.publicKey),
    validatorPrivateKeys: validatorKeys.map((k) => hex(k.privateKey)),
    validatorPublicKeys: validatorKeys.map((k) => hex(k.publicKey)),
  });

  // transactions
  const unsigned = (nonce: number): UnsignedTransaction => ({
    chainId: CHAIN_ID,
    type: 'record.register',
    payload: {
      recordId: `rec-${nonce}`,
      patient: filled(0x11),
      level: 'L3',
      recordType: 'imaging.ct',
      contentHash: filled(0x22),
      locator: filled(0x33, 48),
      sizeBytes: 52_428_800,
    },
    signer: alice.publicKey,
    nonce,
    validUntilHeight: 1000,
  });
  const txs: Transaction[] = [];
  for (const nonce of [1, 2, 3]) {
    const u = unsigned(nonce);
    const unsignedBytes = encodeUnsignedTransaction(u);
    const signature = signatureVector(`tx-${nonce}/signature`, DOMAIN.tx, unsignedBytes, alice);
    const tx: Transaction = { ...u, signature };
    txs.push(tx);
    if (nonce === 1) {
      encodingVector(
        `tx-${nonce}/unsigned-encoding`,
        unsignedBytes,
        () => decodeUnsignedTransaction(unsignedBytes),
        u,
      );
      const bytes = encodeTransaction(tx);
      encodingVector(`tx-${nonce}/encoding`, bytes, () => decodeTransaction(bytes), tx);
    }
    add(`tx-${nonce}/hash`, { hex: hex(hashTransaction(suite, tx).hash) });
  }

  // merkle trees over fixed leaves
  const leaves = Array.from({ length: 7 }, (_, i) => suite.hash(Uint8Array.from([i])));
  for (const n of [0, 1, 2, 3, 5, 7]) {
    add(`merkle/root-${n}`, {
      leaves: leaves.slice(0, n).map(hex),
      root: hex(merkleRoot(suite, leaves.slice(0, n))),
    });
  }
  const proof = merkleProof(suite, leaves, 5);
  add(
    'merkle/proof-5-of-7',
    { index: proof.index, leafCount: proof.leafCount, path: proof.path.map(hex) },
    () => {
      const leaf = leaves[5] ?? filled(0);
      expect(verifyInclusion(suite, merkleRoot(suite, leaves), leaf, proof)).toBe(true);
    },
  );

  // genesis and validator set
  const roles = ['alliance-leader', 'hospital', 'hospital', 'health-centre', 'regulator'] as const;
  const genesis = createGenesis({
    chainId: CHAIN_ID,
    suite: suite.id,
    genesisTime: GENESIS_TIME,
    institutions: roles.map((role, i) => ({
      id: `inst-${i}`,
      name: role === 'regulator' ? '市卫生健康委员会' : `第${i + 1}人民医院`,
      role,
      signingKey: i < 4 ? (validatorKeys[i]?.publicKey ?? alice.publicKey) : alice.publicKey,
      peerId: PEER_IDS[i] ?? '',
    })),
  });
  const genesisPreimage = encode([DOMAIN.genesis, genesisToCodec(genesis)]);
  add(
    'genesis/hashed-encoding',
    { hex: hex(genesisPreimage), json: genesisToJson(genesis) },
    () => {
      expect(parseGenesis(JSON.parse(JSON.stringify(genesisToJson(genesis))))).toEqual(genesis);
    },
  );
  const gHash = genesisHash(suite, genesis);
  add('genesis/hash', { hex: hex(gHash) }, () => {
    expect(gHash).toEqual(suite.hash(genesisPreimage));
  });
  const set = validatorSet(suite, genesis);
  add('validator-set/hash', { hex: hex(set.hash), n: set.n, f: set.f, quorum: set.quorum });

  // block 1 on the genesis
  const txHashes = txs.map((tx) => hashTransaction(suite, tx).hash);
  add('block-1/tx-root', { txHashes: txHashes.map(hex), root: hex(merkleRoot(suite, txHashes)) });
  const header: BlockHeader = {
    chainId: CHAIN_ID,
    height: 1,
    prevHash: gHash,
    txRoot: merkleRoot(suite, txHashes),
    stateRoot: filled(0x44),
    proposer: 0,
    view: 0,
    timestamp: GENESIS_TIME + 1500,
    validatorSetHash: set.hash,
  };
  const headerBytes = encodeBlockHeader(header);
  encodingVector(
    'block-1/header-encoding',
    headerBytes,
    () => decodeBlockHeader(headerBytes),
    header,
  );
  const bHash = blockHash(suite, header);
  add('block-1/hash', { hex: hex(bHash) });
  const block: Block = { header, txs };
  const blockBytes = encodeBlock(block);
  encodingVector('block-1/encoding', blockBytes, () => decodeBlock(blockBytes), block);

  // commit certificate for block 1
  const vote = { chainId: CHAIN_ID, height: 1, view: 0, blockHash: bHash };
  const voteBytes = commitVoteBytes(vote);
  add('block-1/commit-vote-bytes', { hex: hex(voteBytes) });
  const signatures = [0, 1, 3].map((validator) => ({
    validator,
    signature: signatureVector(
      `block-1/commit-signature-${validator}`,
      DOMAIN.consensus,
      voteBytes,
      validatorKeys[validator] ?? alice,
    ),
  }));
  const cert = buildCommitCertificate(vote, signatures);
  const certBytes = encodeCommitCertificate(cert);
  encodingVector(
    'block-1/certificate-encoding',
    certBytes,
    () => decodeCommitCertificate(certBytes),
    cert,
  );

  // a failed receipt
  const receipt: Receipt = {
    txHash: txHashes[2] ?? filled(0),
    height: 1,
    index: 2,
    code: 'RECORD_EXISTS',
    reason: 'record rec-3 is already registered',
  };
  const receiptBytes = encodeReceipt(receipt);
  encodingVector(
    'block-1/receipt-2-encoding',
    receiptBytes,
    () => decodeReceipt(receiptBytes),
    receipt,
  );

  return out;
}

const SUITE_IDS: readonly SuiteId[] = ['intl', 'gm'];

if (UPDATE) {
  describe('golden ledger vectors (update)', () => {
    it('writes test/vectors/golden-ledger.json', () => {
      const built = SUITE_IDS.flatMap((id) => buildVectors(getSuite(id)));
      for (const b of built) b.check?.();
      const file: GoldenFile = {
        about:
          'Golden vectors for medchain ledger and identity: canonical encodings, hashes, Merkle roots and proofs, genesis and validator-set hashes, and signatures, for both suites. Hex is lower case. gm (SM2) signatures are randomized: they must verify, and everything built on them must match exactly.',
        regenerate: 'UPDATE_GOLDEN=1 npx vitest run test/vectors/golden-ledger.test.ts',
        count: built.length,
        vectors: built.map((b) => b.vector),
      };
      writeFileSync(FILE, `${JSON.stringify(file, null, 2)}\n`);
      expect(built.length).toBeGreaterThanOrEqual(EXPECTED_VECTOR_COUNT);
    });
  });
} else {
  describe('golden ledger vectors', () => {
    const storedVectors = stored?.vectors ?? [];
    const ran = new Set<string>();
    const built = new Map<string, Built>();
    const builtFor = (suite: SuiteId, name: string): Built | undefined => {
      if (!built.has(name)) {
        for (const b of buildVectors(getSuite(suite))) built.set(b.vector.name, b);
      }
      return built.get(name);
    };

    it('exists', () => {
      expect(stored, 'run with UPDATE_GOLDEN=1 to create the file').toBeDefined();
    });

    for (const expected of storedVectors) {
      it(expected.name, () => {
        const actual = builtFor(expected.suite, expected.name);
        expect(actual, `${expected.name} is no longer produced`).toBeDefined();
        expect(actual?.vector).toEqual(expected);
        actual?.check?.();
        ran.add(expected.name);
      });
    }

    it(`ran exactly ${EXPECTED_VECTOR_COUNT} vectors, and the code produces no others`, () => {
      expect(storedVectors.length).toBe(EXPECTED_VECTOR_COUNT);
      expect(stored?.count).toBe(EXPECTED_VECTOR_COUNT);
      expect(new Set(storedVectors.map((v) => v.name)).size).toBe(EXPECTED_VECTOR_COUNT);
      expect(ran.size).toBe(EXPECTED_VECTOR_COUNT);
      const produced = SUITE_IDS.flatMap((id) => buildVectors(getSuite(id))).map(
        (b) => b.vector.name,
      );
      expect(produced.sort()).toEqual(storedVectors.map((v) => v.name).sort());
    });
  });
}
