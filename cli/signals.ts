/**
 * Waiting for Ctrl-C / SIGTERM in long-running commands (`start`, `devnet`).
 * The first signal asks for a clean stop; a second one during the stop exits at once.
 */
export function waitForStopSignal(onSecond: () => void = () => process.exit(130)): {
  readonly signal: Promise<NodeJS.Signals>;
  dispose(): void;
} {
  let received = false;
  let resolveSignal!: (s: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    resolveSignal = resolve;
  });
  const handler = (s: NodeJS.Signals): void => {
    if (received) {
      onSecond();
      return;
    }
    received = true;
    resolveSignal(s);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
