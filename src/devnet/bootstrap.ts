/**
 * The devnet's first transactions: every institution certifies an admin and a
 * doctor member (keys in `<node>/keys/{admin,doctor}.json`), so the alliance
 * commits its first blocks and the demo and CLI have member keys to act with.
 * Idempotent: members already certified (keystore present) are skipped.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MedchainClient } from '../api/client.js';
import { getSuite } from '../crypto/index.js';
import { DEFAULT_SCRYPT_PARAMS, loadKeystore, writeKeystore } from '../crypto/keystore.js';
import type { ScryptParams } from '../crypto/keystore.js';
import type { KeyPair } from '../crypto/suite.js';
import { MedchainError } from '../errors.js';
import { signTransaction } from '../ledger/sign.js';
import type { MemberRole } from '../identity/types.js';
import { buildMemberCertify, unsignedTransaction } from '../records/builders.js';
import type { DevnetManifest, DevnetNode } from './layout.js';
import { waitFor } from './processes.js';

/** Members every devnet institution gets. */
export const DEVNET_MEMBERS: readonly {
  readonly file: string;
  readonly role: MemberRole;
  readonly memberId: string;
}[] = [
  { file: 'admin.json', role: 'admin', memberId: 'admin-1' },
  { file: 'doctor.json', role: 'doctor', memberId: 'doctor-1' },
];

/** Certificates issued by the devnet are valid this many heights. */
const CERTIFICATE_HEIGHTS = 10_000_000;
const TX_LIFETIME_HEIGHTS = 1000;

let lastNonce = 0;
/** A nonce above any this process used before: milliseconds × 1000 plus a counter. */
export function nextClientNonce(): number {
  lastNonce = Math.max(lastNonce + 1, Date.now() * 1000);
  return lastNonce;
}

export async function readDevnetPassphrase(manifest: DevnetManifest): Promise<string> {
  return (await readFile(manifest.passphraseFile, 'utf8')).split('\n')[0] ?? '';
}

export async function loadInstitutionKey(
  manifest: DevnetManifest,
  node: DevnetNode,
): Promise<KeyPair> {
  return loadKeystore(
    path.join(node.dir, 'keys', 'signing.json'),
    await readDevnetPassphrase(manifest),
  );
}

export async function loadMemberKey(
  manifest: DevnetManifest,
  node: DevnetNode,
  role: 'admin' | 'doctor',
): Promise<KeyPair> {
  return loadKeystore(
    path.join(node.dir, 'keys', `${role}.json`),
    await readDevnetPassphrase(manifest),
  );
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export interface BootstrapResult {
  /** Transactions submitted by this call (0 when everything was already there). */
  readonly submitted: number;
}

/** Certifies the devnet members and waits until every certificate is committed with an OK receipt. */
export async function bootstrapDevnet(
  manifest: DevnetManifest,
  options: { readonly scrypt?: ScryptParams; readonly timeoutMs?: number } = {},
): Promise<BootstrapResult> {
  const suite = getSuite(manifest.suite);
  const passphrase = await readDevnetPassphrase(manifest);
  const pending: { client: MedchainClient; hash: string; what: string }[] = [];
  for (const node of manifest.nodes) {
    const institutionKey = await loadInstitutionKey(manifest, node);
    const client = new MedchainClient(node.apiUrl);
    const { height } = await client.status();
    for (const member of DEVNET_MEMBERS) {
      const file = path.join(node.dir, 'keys', member.file);
      if (await exists(file)) continue;
      const key = suite.generateKeyPair();
      const body = buildMemberCertify(suite, {
        memberId: member.memberId,
        publicKey: key.publicKey,
        role: member.role,
        institution: node.id,
        notBefore: 0,
        notAfter: height + CERTIFICATE_HEIGHTS,
        patient: null,
      });
      const tx = signTransaction(
        suite,
        unsignedTransaction({
          chainId: manifest.chainId,
          body,
          signer: institutionKey.publicKey,
          nonce: nextClientNonce(),
          validUntilHeight: height + TX_LIFETIME_HEIGHTS,
        }),
        institutionKey.privateKey,
      );
      const result = await client.submitTransaction(tx);
      await writeKeystore(file, key, passphrase, {
        scrypt: options.scrypt ?? DEFAULT_SCRYPT_PARAMS,
      });
      pending.push({ client, hash: result.hash, what: `${member.role} of ${node.id}` });
    }
  }
  for (const p of pending) {
    const record = await waitFor(
      `the certificate of the ${p.what} to commit`,
      async () => {
        const found = await p.client.getTransaction(p.hash).catch(() => null);
        return found?.status === 'committed' ? found : null;
      },
      options.timeoutMs ?? 60_000,
    );
    if (record.receipt?.code !== 'OK') {
      throw new MedchainError(
        'DEVNET_BOOTSTRAP_FAILED',
        `certifying the ${p.what} failed: ${record.receipt?.code ?? '?'} ${record.receipt?.reason ?? ''}`,
      );
    }
  }
  return { submitted: pending.length };
}
