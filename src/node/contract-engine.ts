/**
 * The node's `ContractEngine`: src/contracts bound to the chain's suite and genesis.
 */
import { executeBlock, genesisStateRoot } from '../contracts/index.js';
import type { CryptoSuite } from '../crypto/suite.js';
import type { Genesis } from '../identity/types.js';
import type { ContractEngine } from './executor.js';

export function createContractEngine(env: {
  suite: CryptoSuite;
  genesis: Genesis;
}): ContractEngine {
  return {
    genesisStateRoot: () => genesisStateRoot(env),
    executeBlock: (state, input) => executeBlock(env, state, input),
  };
}
