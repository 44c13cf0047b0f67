/**
 * Which state a block header commits to. Consensus pipelines several heights,
 * so a proposer at height h has usually not executed h−1 yet. The header of
 * block h therefore carries the state root after height
 * `stateRootHeightFor(h) = max(0, h − 1 − STATE_ROOT_LAG_HEIGHTS)`, a height
 * every replica inside the pipeline window has executed (or, failing that, is
 * about to execute before h; see src/node/executor.ts for the execution-time check).
 */
export const STATE_ROOT_LAG_HEIGHTS = 16;

export function stateRootHeightFor(height: number): number {
  return Math.max(0, height - 1 - STATE_ROOT_LAG_HEIGHTS);
}
