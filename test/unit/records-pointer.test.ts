import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { getSuite } from '../../src/crypto/index.js';
import type { CryptoSuite } from '../../src/crypto/suite.js';
import { InvalidInputError } from '../../src/errors.js';
import {
  encryptionPublicKeyOf,
  openRecordPointer,
  patientMemberId,
  patientPseudonym,
  RecordsError,
  rewrapForGrantee,
  sealRecordPointer,
  unwrapDataKey,
  wrapForGrantee,
} from '../../src/records/index.js';

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new TypeError('expected a value');
  return value;
}

const SUITES: readonly CryptoSuite[] = [getSuite('intl'), getSuite('gm')];
const CHAIN = 'records-test';
const SECRET = new Uint8Array(32).fill(0x42);

const key = (suite: CryptoSuite, seed: number) =>
  suite.keyPairFromPrivateKey(new Uint8Array(32).fill(seed));

describe.each(SUITES)('record pointers ($id suite)', (suite) => {
  const owner = key(suite, 11);
  const patient = key(suite, 40);
  const grantee = key(suite, 12);
  const stranger = key(suite, 13);

  const sealed = () =>
    sealRecordPointer(suite, {
      chainId: CHAIN,
      recordId: 'rec-1',
      locator: 'https://emr.example/records/synthetic-1',
      metadata: { title: 'check-up', pages: 3 },
      recipients: [owner.publicKey, patient.publicKey],
    });
  const record = (s: ReturnType<typeof sealed>, id = 'rec-1') => ({
    id,
    sealedLocator: s.sealedLocator,
    sealedMetadata: s.sealedMetadata,
    wraps: s.wraps,
  });

  it('the encryption key of a signing key is the one the suite derives on the private side', () => {
    for (const k of [owner, patient, grantee]) {
      expect(toHex(encryptionPublicKeyOf(suite, k.publicKey))).toBe(
        toHex(suite.encryptionKeyPairFromSigningKey(k.privateKey).publicKey),
      );
    }
    expect(() => encryptionPublicKeyOf(suite, new Uint8Array(7))).toThrow(InvalidInputError);
  });

  it('seals with a fresh data key and opens for each recipient', () => {
    const a = sealed();
    const b = sealed();
    expect(toHex(a.dataKey)).not.toBe(toHex(b.dataKey));
    expect(a.dataKey.length).toBe(suite.aeadKeyLength);
    expect(a.wraps.map((w) => toHex(w.recipient))).toEqual([
      toHex(owner.publicKey),
      toHex(patient.publicKey),
    ]);
    for (const k of [owner, patient]) {
      const opened = openRecordPointer(suite, {
        chainId: CHAIN,
        record: record(a),
        signingPrivateKey: k.privateKey,
      });
      expect(opened.locator).toBe('https://emr.example/records/synthetic-1');
      expect(opened.metadata).toEqual({ title: 'check-up', pages: 3 });
      expect(toHex(opened.dataKey)).toBe(toHex(a.dataKey));
    }
  });

  it('the wrong key cannot unwrap', () => {
    const a = sealed();
    expect(() =>
      openRecordPointer(suite, {
        chainId: CHAIN,
        record: record(a),
        signingPrivateKey: stranger.privateKey,
      }),
    ).toThrow(expect.objectContaining({ code: 'RECORDS_NO_WRAP_FOR_KEY' }));
    // a wrap relabelled with the stranger's key still does not unwrap with it
    const forged = {
      ...record(a),
      wraps: [{ recipient: stranger.publicKey, wrapped: must(a.wraps[0]).wrapped }],
    };
    expect(() =>
      openRecordPointer(suite, {
        chainId: CHAIN,
        record: forged,
        signingPrivateKey: stranger.privateKey,
      }),
    ).toThrow(expect.objectContaining({ code: 'RECORDS_UNWRAP_FAILED' }));
    const tampered = Uint8Array.from(must(a.wraps[0]).wrapped);
    tampered.set([(tampered.at(-1) ?? 0) ^ 1], tampered.length - 1);
    expect(() =>
      unwrapDataKey(suite, [{ recipient: owner.publicKey, wrapped: tampered }], owner.privateKey),
    ).toThrow(RecordsError);
  });

  it('a sealed locator is bound to its chain and record', () => {
    const a = sealed();
    const open = (chainId: string, id: string) =>
      openRecordPointer(suite, {
        chainId,
        record: record(a, id),
        signingPrivateKey: owner.privateKey,
      });
    expect(() => open(CHAIN, 'rec-2')).toThrow(
      expect.objectContaining({ code: 'RECORDS_OPEN_FAILED' }),
    );
    expect(() => open('other-chain', 'rec-1')).toThrow(
      expect.objectContaining({ code: 'RECORDS_OPEN_FAILED' }),
    );
    const swapped = {
      ...record(a),
      sealedLocator: a.sealedMetadata,
      sealedMetadata: a.sealedLocator,
    };
    expect(() =>
      openRecordPointer(suite, {
        chainId: CHAIN,
        record: swapped,
        signingPrivateKey: owner.privateKey,
      }),
    ).toThrow(expect.objectContaining({ code: 'RECORDS_OPEN_FAILED' }));
  });

  it('wraps for a grantee open for the grantee only', () => {
    const a = sealed();
    const [wrap] = rewrapForGrantee(suite, [record(a)], patient.privateKey, grantee.publicKey);
    expect(wrap?.recordId).toBe('rec-1');
    const opened = openRecordPointer(suite, {
      chainId: CHAIN,
      record: record(a),
      grantWraps: [must(wrap)],
      signingPrivateKey: grantee.privateKey,
    });
    expect(opened.locator).toBe('https://emr.example/records/synthetic-1');
    // a grant wrap for another record is ignored
    const other = wrapForGrantee(suite, a.dataKey, 'rec-other', stranger.publicKey);
    expect(() =>
      openRecordPointer(suite, {
        chainId: CHAIN,
        record: record(a),
        grantWraps: [other],
        signingPrivateKey: stranger.privateKey,
      }),
    ).toThrow(expect.objectContaining({ code: 'RECORDS_NO_WRAP_FOR_KEY' }));
    // the stranger can unwrap its own wrap of the same key, but not the grantee's
    expect(() =>
      unwrapDataKey(suite, [{ ...must(wrap), recipient: stranger.publicKey }], stranger.privateKey),
    ).toThrow(expect.objectContaining({ code: 'RECORDS_UNWRAP_FAILED' }));
  });

  it('refuses bad input with the field named', () => {
    const base = { chainId: CHAIN, recordId: 'r', locator: 'x', recipients: [owner.publicKey] };
    expect(() => sealRecordPointer(suite, { ...base, locator: '' })).toThrow(/^locator:/);
    expect(() => sealRecordPointer(suite, { ...base, recipients: [] })).toThrow(/^recipients:/);
    expect(() =>
      sealRecordPointer(suite, { ...base, metadata: { blob: new Uint8Array(9000) } }),
    ).toThrow(/^metadata:/);
  });
});

describe('patient pseudonyms', () => {
  const intl = getSuite('intl');
  const gm = getSuite('gm');

  it('are a keyed hash: stable for one secret and id, different for another secret, id or suite', () => {
    const p = patientPseudonym(intl, SECRET, 'P-000123');
    expect(p.length).toBe(32);
    expect(toHex(patientPseudonym(intl, SECRET, 'P-000123'))).toBe(toHex(p));
    expect(toHex(patientPseudonym(intl, new Uint8Array(32).fill(0x43), 'P-000123'))).not.toBe(
      toHex(p),
    );
    expect(toHex(patientPseudonym(intl, SECRET, 'P-000124'))).not.toBe(toHex(p));
    expect(toHex(patientPseudonym(gm, SECRET, 'P-000123'))).not.toBe(toHex(p));
    expect(patientPseudonym(gm, SECRET, 'P-000123').length).toBe(32);
    // the id itself is not a plain hash of the id
    expect(toHex(p)).not.toBe(toHex(intl.hash(new TextEncoder().encode('P-000123'))));
  });

  it('normalise Unicode (NFC), so the same name in two encodings maps to one pseudonym', () => {
    expect(toHex(patientPseudonym(intl, SECRET, 'Jos\u00e9'))).toBe(
      toHex(patientPseudonym(intl, SECRET, 'Jose\u0301')),
    );
  });

  it('refuse short secrets and bad ids without echoing the id', () => {
    expect(() => patientPseudonym(intl, new Uint8Array(8), 'P-1')).toThrow(/^institutionSecret:/);
    expect(() => patientPseudonym(intl, SECRET, '')).toThrow(/^localPatientId:/);
    try {
      patientPseudonym(intl, SECRET, `SECRET-ID-${'x'.repeat(300)}`);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('SECRET-ID');
    }
  });

  it('patient member ids derive from the pseudonym, not the local id', () => {
    const p = patientPseudonym(intl, SECRET, 'P-000123');
    expect(patientMemberId(p)).toBe(`patient-${toHex(p).slice(0, 32)}`);
    expect(patientMemberId(p)).not.toContain('000123');
  });
});
