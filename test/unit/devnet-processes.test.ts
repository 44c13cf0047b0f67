/**
 * A devnet node whose port is taken is not started: whatever listens there
 * (another devnet, another bench) would otherwise answer in its place.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DevnetManifest, DevnetNode } from '../../src/devnet/layout.js';
import { DevnetProcesses, DevnetProcessError } from '../../src/devnet/processes.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => {
            resolve();
          });
        }),
    ),
  );
});

/** A port on 127.0.0.1 held by a listening server of this test. */
async function heldPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  return (server.address() as AddressInfo).port;
}

/** A port that was free a moment ago (bound and released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

function manifestWith(node: Pick<DevnetNode, 'p2pPort' | 'apiPort'>): DevnetManifest {
  const n: DevnetNode = {
    id: 'city-hospital',
    name: 'City Hospital',
    role: 'hospital',
    voting: true,
    ...node,
    apiUrl: `http://127.0.0.1:${node.apiPort}`,
    dir: '/nonexistent/city-hospital',
    configFile: '/nonexistent/city-hospital/config.json',
    logFile: '/nonexistent/city-hospital/node.log',
  };
  return {
    chainId: 'medchain-devnet',
    suite: 'intl',
    genesisFile: '/nonexistent/genesis.json',
    genesisHash: '00',
    passphraseFile: '/nonexistent/passphrase',
    nodes: [n],
  };
}

async function startError(manifest: DevnetManifest): Promise<DevnetProcessError> {
  const processes = new DevnetProcesses(manifest);
  const err: unknown = await processes.start('city-hospital').then(
    () => null,
    (e: unknown) => e,
  );
  expect(processes.isRunning('city-hospital')).toBe(false);
  expect(err).toBeInstanceOf(DevnetProcessError);
  return err as DevnetProcessError;
}

describe('DevnetProcesses.start', () => {
  it('refuses a node whose p2p port is in use, naming the port and the node', async () => {
    const p2pPort = await heldPort();
    const err = await startError(manifestWith({ p2pPort, apiPort: await freePort() }));
    expect(err.code).toBe('DEVNET_PORT_IN_USE');
    expect(err.message).toContain(`port ${p2pPort} on 127.0.0.1 (p2p of city-hospital) is in use`);
    expect(err.details).toEqual({ port: p2pPort, node: 'city-hospital' });
  });

  it('refuses a node whose HTTP port is in use', async () => {
    const apiPort = await heldPort();
    const err = await startError(manifestWith({ p2pPort: await freePort(), apiPort }));
    expect(err.code).toBe('DEVNET_PORT_IN_USE');
    expect(err.message).toContain(`port ${apiPort} on 127.0.0.1 (HTTP of city-hospital)`);
  });

  it('gets past the port check when both ports are free (and then fails on the missing log directory)', async () => {
    const processes = new DevnetProcesses(
      manifestWith({ p2pPort: await freePort(), apiPort: await freePort() }),
    );
    await expect(processes.start('city-hospital')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(processes.isRunning('city-hospital')).toBe(false);
  });
});
