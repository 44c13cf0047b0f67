/**
 * The human summary of a report: the setup line, one row per step, the
 * nodes of the headline step, faults and profile tops.
 */
import { boundRate } from './calibrate.js';
import type { FloorBenchResult } from './floor-bench.js';
import type { BenchReport, StepReport } from './report.js';

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const num = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined
    ? '—'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(0)}%`);

/** The `--floor` line: each part per transaction, the floor and its ceiling. */
export function floorLine(floor: FloorBenchResult, ceilingTps: number | null): string {
  const parts = floor.rows.map((r) => `${r.part} ${num(r.us, 1)}`).join(', ');
  return (
    `floor: ${parts} µs CPU per transaction = ${num(floor.floorInVerifications, 2)} verifications → ` +
    `ceiling ${num(floor.ceilingOfBound, 2)} of the bound` +
    (ceilingTps === null ? '' : ` = ${num(ceilingTps)} tx/s`) +
    ` (${num(floor.ceilingUncheckedDecodeOfBound, 2)} if decoding skipped its canonical check)`
  );
}

function headlineStep(report: BenchReport): StepReport | undefined {
  return [...report.steps].sort((a, b) => b.committedTps - a.committedTps)[0];
}

export function renderSummary(report: BenchReport): string {
  const s = report.summary;
  const out: string[] = [];
  out.push(`medchain bench — ${s.description}`);
  out.push(
    `commit ${report.git.commit?.slice(0, 12) ?? 'unknown'}${report.git.dirty === true ? ' (dirty)' : ''}, node ${report.versions.node}, libp2p ${report.versions.libp2p ?? '?'}`,
  );
  if (report.calibration !== null) {
    const c = report.calibration;
    out.push(
      `bound: ${num(boundRate(c, report.boundBasis ?? 'plain'))} verifies/s/core (${c.suite}, ${report.boundBasis ?? 'plain'}, ${c.cores} cores side by side; plain ${num(c.verifyPerSecPerCore)}, ${num(c.verifyPerSecAlone)} alone; known key ${num(c.knownKeyVerifyPerSecPerCore)}) × ${c.cores} ÷ ${report.config.nodes} nodes = ${num(report.boundTps)} tx/s`,
    );
  }
  if (report.floor !== null) out.push(floorLine(report.floor, s.ceilingTps));
  out.push('');
  out.push(
    table(
      [
        'step',
        'offered',
        'committed',
        'of bound',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'blocks/s',
        'tx/block',
        'views',
        'gen kept',
      ],
      report.steps.map((st) => [
        st.label,
        num(st.offeredTps),
        num(st.committedTps),
        pct(st.fractionOfBound),
        num(st.latencyMs.p50, 1),
        num(st.latencyMs.p90, 1),
        num(st.latencyMs.p99, 1),
        num(st.latencyMs.p999, 1),
        num(st.latencyMs.max, 1),
        num(st.blocksPerSec, 1),
        num(st.txsPerBlock, 1),
        num(st.viewChanges),
        st.generator.keptRate ? 'yes' : 'NO',
      ]),
    ),
  );
  const head = headlineStep(report);
  if (head !== undefined) {
    out.push('');
    out.push(`nodes (${head.label}):`);
    out.push(
      table(
        [
          'node',
          'tx/s',
          'cpu cores',
          'cpu max',
          'rss MiB',
          'views',
          'msgs/tx',
          'bytes/tx',
          'sig checks/tx',
        ],
        head.nodes.map((n) => [
          n.id + (n.crashedAtS === null ? '' : ' (crashed)'),
          num(n.committedTps),
          num(n.cpuCores, 2),
          num(n.cpuCoresMax, 2),
          num(n.rssMiBMax),
          num(n.viewChanges),
          num(n.p2pMessagesOutPerTx, 2),
          num(n.p2pBytesOutPerTx),
          num(n.signatureChecksPerTx, 2),
        ]),
      ),
    );
    const g = head.generator;
    out.push(
      `generator: ${g.processes} process(es), ${num(g.cpuCores, 2)} cores, sent ${num(g.sentPerSec)} tx/s, lag p99 ${num(g.lagP99Ms, 1)} ms, request p50/p99 ${num(g.requestP50Ms, 1)}/${num(g.requestP99Ms, 1)} ms, kept rate: ${g.keptRate ? 'yes' : 'NO'}` +
        (Object.keys(g.errorCodes).length > 0 ? `, errors ${JSON.stringify(g.errorCodes)}` : '') +
        `; harness ${num(head.harnessCpuCores, 2)} cores`,
    );
  }
  out.push(
    `submitted ${num(s.submitted)} (accepted by the nodes), committed ${num(s.committed)}, lost ${num(s.lost)}`,
  );
  for (const step of report.steps) {
    const { scheduled, sent } = step.counts;
    if (sent < scheduled) {
      out.push(
        `WARNING ${step.label}: ${num(scheduled - sent)} of ${num(scheduled)} scheduled transactions were never sent (the generator passed its deadline); its rates cover less than the step`,
      );
    }
  }
  if (s.fractionOfCeiling !== null) {
    out.push(
      `committed ${num(s.committedTps)} tx/s = ${pct(s.fractionOfCeiling)} of the floor's ceiling (${num(s.ceilingTps)} tx/s)`,
    );
  }
  if (s.saturationTps !== null) {
    out.push(
      `saturation: ${num(s.saturationTps)} tx/s committed` +
        (s.latencyAt80PercentOfSaturationMs === null
          ? ''
          : `; at 80%: p50 ${num(s.latencyAt80PercentOfSaturationMs.p50, 1)} ms, p99 ${num(s.latencyAt80PercentOfSaturationMs.p99, 1)} ms`),
    );
  }
  for (const f of s.recovery) {
    out.push(
      `${f.kind} (${f.node}) at ${num(f.atS, 1)} s: first commit after ${num(f.firstCommitAfterMs)} ms, first commit in a new view (${f.newView ?? '—'}) after ${num(f.firstCommitInNewViewMs)} ms`,
    );
  }
  for (const p of report.profiles) {
    out.push('');
    out.push(`profile ${p.file}: ${num(p.busyMs)} ms busy of ${num(p.totalMs)} ms`);
    out.push(
      '  ' +
        p.categories
          .filter((c) => c.ms > 0)
          .map((c) => `${c.name} ${c.percent}%`)
          .join(', '),
    );
    out.push('  self time (% of sampled):');
    for (const e of p.topSelf.slice(0, 8)) {
      out.push(`  ${e.percent.toFixed(1).padStart(5)}%  ${e.name}`);
    }
    out.push('  medchain functions, inclusive (% of busy):');
    for (const e of p.topProject.slice(0, 10)) {
      out.push(`  ${e.percent.toFixed(1).padStart(5)}%  ${e.name}`);
    }
  }
  if (report.files !== null) {
    out.push('');
    out.push(`report: ${report.files.html}`);
    out.push(`json: ${report.files.json}   csv: ${report.files.csv}, ${report.files.stepsCsv}`);
  }
  return out.join('\n');
}
