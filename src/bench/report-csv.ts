/**
 * CSV views of a report: `timeseries.csv` (one row per step and second) and
 * `steps.csv` (one row per step). RFC 4180 quoting; empty cell for null.
 */
import type { BenchReport } from './report.js';

type Cell = string | number | boolean | null | undefined;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly Cell[]): string {
  return cells.map(csvCell).join(',');
}

export function timeSeriesCsv(report: BenchReport): string {
  const nodeIds = report.steps[0]?.nodes.map((n) => n.id) ?? [];
  const header = [
    'step',
    'label',
    't_s',
    'in_window',
    'offered_tx',
    'submitted_tx',
    'committed_tx',
    'blocks',
    'latency_p50_ms',
    'latency_p99_ms',
    'view',
    ...nodeIds.map((id) => `committed_tx_${id}`),
    ...nodeIds.map((id) => `cpu_cores_${id}`),
    ...nodeIds.map((id) => `rss_mib_${id}`),
  ];
  const lines = [csvLine(header)];
  for (const step of report.steps) {
    for (const p of step.series) {
      lines.push(
        csvLine([
          step.step,
          step.label,
          p.t,
          p.inWindow,
          p.offered,
          p.submitted,
          p.committed,
          p.blocks,
          p.latencyP50Ms,
          p.latencyP99Ms,
          p.view,
          ...nodeIds.map((_, i) => p.committedPerNode[i] ?? null),
          ...nodeIds.map((_, i) => p.cpuCores[i] ?? null),
          ...nodeIds.map((_, i) => p.rssMiB[i] ?? null),
        ]),
      );
    }
  }
  return lines.join('\n') + '\n';
}

export function stepsCsv(report: BenchReport): string {
  const header = [
    'step',
    'label',
    'target_rate',
    'offered_tps',
    'submitted_tps',
    'committed_tps',
    'fraction_of_bound',
    'p50_ms',
    'p90_ms',
    'p99_ms',
    'p999_ms',
    'max_ms',
    'blocks_per_s',
    'txs_per_block',
    'view_changes',
    'messages_per_tx',
    'bytes_per_tx',
    'accepted',
    'committed',
    'uncommitted',
    'rejected',
    'failed',
    'generator_kept_rate',
    'generator_cpu_cores',
    'saturated',
  ];
  const lines = [csvLine(header)];
  for (const s of report.steps) {
    lines.push(
      csvLine([
        s.step,
        s.label,
        s.targetRate,
        s.offeredTps,
        s.submittedTps,
        s.committedTps,
        s.fractionOfBound,
        s.latencyMs.p50,
        s.latencyMs.p90,
        s.latencyMs.p99,
        s.latencyMs.p999,
        s.latencyMs.max,
        s.blocksPerSec,
        s.txsPerBlock,
        s.viewChanges,
        s.messagesPerTx,
        s.bytesPerTx,
        s.counts.accepted,
        s.counts.committed,
        s.counts.uncommitted,
        s.counts.rejected,
        s.counts.failed,
        s.generator.keptRate,
        s.generator.cpuCores,
        s.saturated,
      ]),
    );
  }
  return lines.join('\n') + '\n';
}
