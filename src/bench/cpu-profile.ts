/**
 * Where the time went: a summary of a V8 `.cpuprofile` (what `node
 * --cpu-prof` writes when `medchain bench --cpu-prof` stops a node) — the
 * functions with the most self time, the most inclusive time, and the share
 * of broad categories (signature verification, codec, libp2p, HTTP, LevelDB,
 * GC, idle) so "how much of this is not signature verification" has a number.
 */
import { InvalidInputError } from '../errors.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface ProfileEntry {
  /** `function (file:line)` with the file relative to node_modules or the repository. */
  readonly name: string;
  readonly ms: number;
  /** Share of all sampled time, busy and idle. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  /** Sampled time that was not idle. */
  readonly busyMs: number;
  readonly topSelf: readonly ProfileEntry[];
  readonly topInclusive: readonly ProfileEntry[];
  /** Inclusive time of medchain's own functions (src/, consensus/, p2p/, storage/), as a share of busy time. */
  readonly topProject: readonly ProfileEntry[];
  /** Inclusive time per category (a sample counts once per category), as a share of busy time. */
  readonly categories: readonly ProfileEntry[];
}

/** Categories, in report order: name and the test a stack frame must pass. */
export const PROFILE_CATEGORIES: readonly {
  readonly name: string;
  readonly test: (f: CallFrame) => boolean;
}[] = [
  {
    name: 'signature verification',
    test: (f) => /\/src\/crypto\//.test(f.url) && /verify/i.test(f.functionName),
  },
  {
    name: 'signing',
    test: (f) => /\/src\/crypto\//.test(f.url) && /^sign|\.sign$/i.test(f.functionName),
  },
  { name: 'hashing', test: (f) => /\/src\/crypto\//.test(f.url) && /hash/i.test(f.functionName) },
  { name: 'codec (CBOR)', test: (f) => /cborg|\/src\/codec\//.test(f.url) },
  { name: 'consensus', test: (f) => /\/consensus\//.test(f.url) && !/node_modules/.test(f.url) },
  { name: 'contracts', test: (f) => /\/src\/contracts\//.test(f.url) },
  {
    name: 'libp2p (noise, yamux, gossipsub)',
    test: (f) =>
      /node_modules\/(@libp2p|libp2p|@chainsafe|it-|uint8arraylist|@multiformats)/.test(f.url),
  },
  {
    name: 'HTTP API (fastify, ws)',
    test: (f) =>
      /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|ws|pino)\//.test(f.url) ||
      /\/src\/api\//.test(f.url),
  },
  {
    name: 'LevelDB',
    test: (f) =>
      /node_modules\/(level|classic-level|abstract-level|level-)/.test(f.url) ||
      /\/storage\//.test(f.url),
  },
  { name: 'garbage collection', test: (f) => f.functionName === '(garbage collector)' },
  { name: 'idle', test: (f) => f.functionName === '(idle)' },
];

function isProjectFrame(f: CallFrame): boolean {
  return (
    f.url.startsWith('file:') &&
    !f.url.includes('/node_modules/') &&
    /\/(src|consensus|p2p|storage)\//.test(f.url)
  );
}

function frameName(f: CallFrame): string {
  const fn = f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === '') return fn;
  let file = f.url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) file = file.slice(nm + 'node_modules/'.length);
  else {
    const at = file.search(/\/(dist\/)?(src|consensus|p2p|storage|cli)\//);
    if (at >= 0) file = file.slice(at + 1).replace(/^dist\//, '');
  }
  return `${fn} (${file}:${f.lineNumber + 1})`;
}

export function parseCpuProfile(text: string): CpuProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError('cpuprofile', 'not JSON');
  }
  const p = value as Partial<CpuProfile> | null;
  if (
    p === null ||
    typeof p !== 'object' ||
    !Array.isArray(p.nodes) ||
    !Array.isArray(p.samples) ||
    !Array.isArray(p.timeDeltas)
  ) {
    throw new InvalidInputError('cpuprofile', 'expected nodes, samples and timeDeltas');
  }
  return p as CpuProfile;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

/** A slice of a profile in its own clock (microseconds, like `startTime`/`endTime`). */
export interface ProfileRange {
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * The profile time of wall-clock `atMs`, given that profiling ended (the
 * process exited) at wall-clock `endWallMs`: profiles carry only a monotonic
 * clock, so they are aligned on their end.
 */
export function profileTimeOf(profile: CpuProfile, endWallMs: number, atMs: number): number {
  return profile.endTime - (endWallMs - atMs) * 1000;
}

/** Summarises a profile (only the samples in `range`, if given); `top` entries per list. */
export function summarizeCpuProfile(
  profile: CpuProfile,
  file: string,
  top = 15,
  range?: ProfileRange,
): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const project = new Map<string, number>();
  const categories = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const seen = new Set<string>();
  const seenCategories = new Set<string>();
  let clock = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? -1;
    clock += profile.timeDeltas[i] ?? 0;
    if (range !== undefined && (clock < range.fromUs || clock > range.toUs)) continue;
    // as DevTools does: a sample stands for the time until the next one (the last for its own delta)
    const dt = Math.max(0, (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000);
    const leaf = byId.get(id);
    if (leaf === undefined) continue;
    total += dt;
    if (leaf.callFrame.functionName === '(idle)') idle += dt;
    const leafName = frameName(leaf.callFrame);
    self.set(leafName, (self.get(leafName) ?? 0) + dt);
    seen.clear();
    seenCategories.clear();
    // walk to the root; bounded by the node count
    let current: number | undefined = id;
    for (let depth = 0; current !== undefined && depth < profile.nodes.length; depth++) {
      const node = byId.get(current);
      if (node === undefined) break;
      const name = frameName(node.callFrame);
      if (!seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
        if (isProjectFrame(node.callFrame)) project.set(name, (project.get(name) ?? 0) + dt);
      }
      for (const category of PROFILE_CATEGORIES) {
        if (!seenCategories.has(category.name) && category.test(node.callFrame)) {
          seenCategories.add(category.name);
          categories.set(category.name, (categories.get(category.name) ?? 0) + dt);
        }
      }
      current = parent.get(current);
    }
  }
  const busy = total - idle;
  const entries = (map: Map<string, number>, base: number, n: number): ProfileEntry[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([name, ms]) => ({
        name,
        ms: round1(ms),
        percent: base > 0 ? round1((ms / base) * 100) : 0,
      }));
  const isRootish = (name: string): boolean => /^\((root|program|idle)\)/.test(name);
  const inclusiveFiltered = new Map([...inclusive].filter(([name]) => !isRootish(name)));
  return {
    file,
    totalMs: round1(total),
    busyMs: round1(busy),
    topSelf: entries(self, total, top),
    topInclusive: entries(inclusiveFiltered, total, top),
    topProject: entries(project, busy, top),
    categories: PROFILE_CATEGORIES.filter((c) => c.name !== 'idle').map((c) => {
      const ms = categories.get(c.name) ?? 0;
      return { name: c.name, ms: round1(ms), percent: busy > 0 ? round1((ms / busy) * 100) : 0 };
    }),
  };
}
