/**
 * Where the medical commands find keys in a devnet directory (src/devnet),
 * and the institution pseudonym secrets:
 *
 *     <dir>/<institution>/keys/signing.json     the institution key (genesis)
 *     <dir>/<institution>/keys/admin.json       admin-1 (certified by bootstrap)
 *     <dir>/<institution>/keys/doctor.json      doctor-1
 *     <dir>/<institution>/keys/pseudonym.json   the institution's pseudonym secret (created on first use)
 *     <dir>/passphrase                          the devnet's keystore passphrase
 *
 * A pseudonym secret is kept as an encrypted keystore whose private key bytes
 * are the HMAC secret (it never signs anything), so it is never in a plain
 * file either.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SCRYPT_PARAMS, loadKeystore, writeKeystore } from '../crypto/keystore.js';
import type { ScryptParams } from '../crypto/keystore.js';
import type { CryptoSuite, KeyPair } from '../crypto/suite.js';
import { readDevnetPassphrase } from '../devnet/bootstrap.js';
import { readDevnetManifest } from '../devnet/layout.js';
import type { DevnetManifest, DevnetNode } from '../devnet/layout.js';
import { MedicalError } from './errors.js';

export const DEVNET_ROLES = ['doctor', 'admin', 'institution'] as const;
export type DevnetRole = (typeof DEVNET_ROLES)[number];

export function devnetKeyFile(node: DevnetNode, role: DevnetRole): string {
  const file = role === 'institution' ? 'signing.json' : `${role}.json`;
  return path.join(node.dir, 'keys', file);
}

export function pseudonymKeyFile(node: DevnetNode): string {
  return path.join(node.dir, 'keys', 'pseudonym.json');
}

export function devnetNode(manifest: DevnetManifest, institutionId: string): DevnetNode {
  const node = manifest.nodes.find((n) => n.id === institutionId);
  if (node === undefined) {
    throw new MedicalError(
      'DEVNET_NO_NODE',
      `no institution "${institutionId}" in this devnet (it has ${manifest.nodes.map((n) => n.id).join(', ')})`,
    );
  }
  return node;
}

export interface DevnetKeys {
  readonly manifest: DevnetManifest;
  readonly passphrase: string;
  load(institutionId: string, role: DevnetRole): Promise<KeyPair>;
}

/** Keys of a devnet directory, loaded on demand (each keystore once). */
export async function openDevnetKeys(dir: string): Promise<DevnetKeys> {
  const manifest = await readDevnetManifest(dir);
  const passphrase = await readDevnetPassphrase(manifest);
  const cache = new Map<string, Promise<KeyPair>>();
  return {
    manifest,
    passphrase,
    load: (institutionId, role) => {
      const id = `${institutionId}/${role}`;
      let key = cache.get(id);
      if (key === undefined) {
        key = loadKeystore(devnetKeyFile(devnetNode(manifest, institutionId), role), passphrase);
        cache.set(id, key);
      }
      return key;
    },
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * The institution's pseudonym secret from its keystore at `file`; with
 * `create`, a new random one is made when the file does not exist yet.
 */
export async function loadPseudonymSecret(
  suite: CryptoSuite,
  file: string,
  passphrase: string,
  options: { readonly create?: boolean; readonly scrypt?: ScryptParams } = {},
): Promise<Uint8Array> {
  if (options.create === true && !(await exists(file))) {
    await writeKeystore(file, suite.generateKeyPair(), passphrase, {
      scrypt: options.scrypt ?? DEFAULT_SCRYPT_PARAMS,
    });
  }
  return (await loadKeystore(file, passphrase)).privateKey;
}
