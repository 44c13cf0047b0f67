/** The deterministic PBFT simulator: `runSimulation(options)` for tests and the `medchain sim` command. */
export { runSimulation, BYZANTINE_BEHAVIOURS, VIOLATION_CLASSES } from './simulator.js';
export type {
  ByzantineBehaviour,
  NetworkOptions,
  ScriptedCrash,
  ScriptedPartition,
  SimulationOptions,
  SimulationResult,
  Violation,
  ViolationClass,
} from './simulator.js';
export { Prng } from './prng.js';
export { SimApp, simTransaction } from './app.js';
export { sweepScenario, runSweep } from './sweep.js';
export type { SweepResult } from './sweep.js';
