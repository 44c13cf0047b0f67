/**
 * The progress line on a terminal: a bar for the current phase and a few live
 * figures, redrawn in place on stderr. On anything that is not a TTY it only
 * prints phase changes as plain lines (or nothing, when quiet).
 */

export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export class ProgressLine {
  readonly #sink: ProgressSink;
  readonly #tty: boolean;
  readonly #quiet: boolean;
  #drawn = false;

  constructor(sink: ProgressSink, options: { readonly quiet?: boolean } = {}) {
    this.#sink = sink;
    this.#tty = sink.isTTY === true;
    this.#quiet = options.quiet === true;
  }

  /** A phase line ("starting 4 nodes …"): printed as a line in both modes. */
  phase(text: string): void {
    if (this.#quiet) return;
    this.clear();
    this.#sink.write(`${text}\n`);
  }

  /** Redraws the bar (TTY only): `fraction` in [0, 1]. */
  update(fraction: number, label: string): void {
    if (!this.#tty || this.#quiet) return;
    const width = 24;
    const clamped = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(clamped * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}%`;
    const columns = this.#sink.columns ?? 100;
    const line = `${bar} ${label}`.slice(0, Math.max(10, columns - 1));
    this.#sink.write(`\r\x1b[2K${line}`);
    this.#drawn = true;
  }

  clear(): void {
    if (this.#drawn) {
      this.#sink.write('\r\x1b[2K');
      this.#drawn = false;
    }
  }
}
