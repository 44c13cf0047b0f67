import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../../src/bench/progress.js';

function sink(isTTY: boolean): {
  text: string;
  isTTY: boolean;
  columns: number;
  write(t: string): void;
} {
  return {
    text: '',
    isTTY,
    columns: 60,
    write(t: string) {
      this.text += t;
    },
  };
}

describe('ProgressLine', () => {
  it('on a terminal: a bar redrawn in place, cleared before a phase line', () => {
    const s = sink(true);
    const p = new ProgressLine(s);
    p.update(0.5, 'rate 100: 5/10 s');
    expect(s.text).toBe('\r\x1b[2K[############------------]  50% rate 100: 5/10 s');
    p.update(2, 'x'.repeat(200));
    expect(s.text.split('\r\x1b[2K').at(-1)).toHaveLength(59);
    expect(s.text).toContain(' 100% ');
    p.phase('stopping the nodes …');
    expect(s.text.endsWith('\r\x1b[2Kstopping the nodes …\n')).toBe(true);
  });

  it('not a terminal: phases only; quiet: nothing', () => {
    const s = sink(false);
    const p = new ProgressLine(s);
    p.update(0.3, 'hidden');
    p.phase('starting');
    expect(s.text).toBe('starting\n');
    const q = sink(true);
    const quiet = new ProgressLine(q, { quiet: true });
    quiet.update(0.3, 'x');
    quiet.phase('y');
    expect(q.text).toBe('');
  });
});
