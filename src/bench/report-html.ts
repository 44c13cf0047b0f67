/**
 * The self-contained HTML report: setup, summary and step tables, a
 * throughput–latency chart over the steps, and per step the time series of
 * offered/committed throughput, latency and node CPU, with the measurement
 * window shaded and crashes marked. Inline SVG and CSS only: it opens from
 * disk with no network.
 */
import type { BenchReport, StepReport } from './report.js';
import { floorLine } from './report-text.js';
import { escapeXml, lineChart } from './svg-chart.js';

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#e377c2',
  '#17becf',
];

const cell = (v: unknown): string =>
  `<td>${escapeXml(v === null || v === undefined ? '—' : typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 2 }) : typeof v === 'string' ? v : JSON.stringify(v))}</td>`;

function kvTable(rows: readonly (readonly [string, unknown])[]): string {
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${escapeXml(k)}</th>${cell(v)}</tr>`).join('')}</table>`;
}

function stepTable(steps: readonly StepReport[]): string {
  const headers = [
    'step',
    'offered tx/s',
    'submitted tx/s',
    'committed tx/s',
    'of bound',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'blocks/s',
    'tx/block',
    'view changes',
    'msgs/tx',
    'bytes/tx',
    'generator kept rate',
    'generator cores',
  ];
  const rows = steps.map((s) =>
    [
      s.label,
      s.offeredTps,
      s.submittedTps,
      s.committedTps,
      s.fractionOfBound === null ? null : `${(s.fractionOfBound * 100).toFixed(1)}%`,
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
      s.generator.keptRate ? 'yes' : 'no',
      s.generator.cpuCores,
    ]
      .map(cell)
      .join(''),
  );
  return `<table><tr>${headers.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r}</tr>`).join('')}</table>`;
}

function nodeTable(step: StepReport): string {
  const headers = [
    'node',
    'committed tx/s',
    'CPU cores (mean)',
    'CPU cores (max)',
    'RSS MiB (max)',
    'view changes',
    'msgs out/tx',
    'bytes out/tx',
    'sig checks/tx',
    'crashed at s',
  ];
  const rows = step.nodes.map((n) =>
    [
      n.id,
      n.committedTps,
      n.cpuCores,
      n.cpuCoresMax,
      n.rssMiBMax,
      n.viewChanges,
      n.p2pMessagesOutPerTx,
      n.p2pBytesOutPerTx,
      n.signatureChecksPerTx,
      n.crashedAtS,
    ]
      .map(cell)
      .join(''),
  );
  return `<table><tr>${headers.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r}</tr>`).join('')}</table>`;
}

function stepCharts(step: StepReport, report: BenchReport): string {
  const windowStart = step.series.find((p) => p.inWindow)?.t ?? 0;
  const windowEnd = windowStart + step.windowSeconds;
  const shade: [number, number] = [windowStart, windowEnd];
  const markers = step.faults.map((f) => ({ x: f.atS, label: f.kind }));
  const throughput = lineChart({
    title: `${step.label}: throughput per second`,
    xLabel: 'seconds since the load started',
    yLabel: 'tx/s',
    shade,
    markers,
    series: [
      {
        name: 'offered',
        color: '#999',
        dashed: true,
        points: step.series.map((p) => [p.t, p.offered]),
      },
      { name: 'accepted', color: '#2ca02c', points: step.series.map((p) => [p.t, p.submitted]) },
      {
        name: 'committed (quorum)',
        color: '#1f77b4',
        points: step.series.map((p) => [p.t, p.committed]),
      },
      ...(report.boundTps === null
        ? []
        : [
            {
              name: 'bound',
              color: '#d62728',
              dashed: true,
              points: step.series.map((p) => [p.t, report.boundTps] as const),
            },
          ]),
    ],
  });
  const latency = lineChart({
    title: `${step.label}: latency of transactions committed in each second`,
    xLabel: 'seconds since the load started',
    yLabel: 'ms (submit → commit seen)',
    shade,
    markers,
    series: [
      { name: 'p50', color: '#1f77b4', points: step.series.map((p) => [p.t, p.latencyP50Ms]) },
      { name: 'p99', color: '#d62728', points: step.series.map((p) => [p.t, p.latencyP99Ms]) },
    ],
  });
  const cpu = lineChart({
    title: `${step.label}: CPU per node`,
    xLabel: 'seconds since the load started',
    yLabel: 'cores',
    shade,
    markers,
    series: step.nodes.map((n, i) => ({
      name: n.id,
      color: PALETTE[i % PALETTE.length] ?? '#000',
      points: step.series.map((p) => [p.t, p.cpuCores[i] ?? null] as const),
    })),
  });
  return `<div class="charts">${throughput}${latency}${cpu}</div>`;
}

export function renderHtml(report: BenchReport): string {
  const s = report.summary;
  const measured = report.steps;
  const tpl = lineChart({
    title: 'throughput–latency (one point per step)',
    xLabel: 'committed tx/s',
    yLabel: 'latency ms',
    series: [
      {
        name: 'p50',
        color: '#1f77b4',
        dots: true,
        points: measured.map((st) => [st.committedTps, st.latencyMs.p50]),
      },
      {
        name: 'p99',
        color: '#d62728',
        dots: true,
        points: measured.map((st) => [st.committedTps, st.latencyMs.p99]),
      },
      {
        name: 'p99.9',
        color: '#9467bd',
        dots: true,
        dashed: true,
        points: measured.map((st) => [st.committedTps, st.latencyMs.p999]),
      },
    ],
    markers: report.boundTps === null ? [] : [{ x: report.boundTps, label: 'bound' }],
  });
  const summaryRows: [string, unknown][] = [
    ['committed tx/s', s.committedTps],
    ['offered tx/s', s.offeredTps],
    ['bound tx/s', s.boundTps],
    ['fraction of bound', s.fractionOfBound],
    [
      'latency p50 / p90 / p99 / p99.9 / max (ms)',
      [s.latencyMs.p50, s.latencyMs.p90, s.latencyMs.p99, s.latencyMs.p999, s.latencyMs.max]
        .map((v) => v ?? '—')
        .join(' / '),
    ],
    ['view changes', s.viewChanges],
    ['blocks/s, tx/block', `${s.blocksPerSec} , ${s.txsPerBlock ?? '—'}`],
    ['messages / bytes per committed tx', `${s.messagesPerTx ?? '—'} / ${s.bytesPerTx ?? '—'}`],
    ['submitted / committed / lost', `${s.submitted} / ${s.committed} / ${s.lost}`],
    ['generator kept the rate', s.generatorKeptRate ? 'yes' : 'no'],
    ...(s.saturationTps === null
      ? []
      : ([['saturation tx/s', s.saturationTps]] as [string, unknown][])),
    ...(s.latencyAt80PercentOfSaturationMs === null
      ? []
      : ([
          [
            'p50 / p99 at 80% of saturation (ms)',
            `${s.latencyAt80PercentOfSaturationMs.p50 ?? '—'} / ${s.latencyAt80PercentOfSaturationMs.p99 ?? '—'}`,
          ],
        ] as [string, unknown][])),
    ...s.recovery.map((f): [string, unknown] => [
      `${f.kind} (${f.node}) at ${f.atS} s`,
      `first commit after ${f.firstCommitAfterMs ?? '—'} ms; first commit in new view ${f.newView ?? '—'} after ${f.firstCommitInNewViewMs ?? '—'} ms`,
    ]),
  ];
  const c = report.calibration;
  const setupRows: [string, unknown][] = [
    [
      'git commit',
      `${report.git.commit ?? 'unknown'}${report.git.dirty === true ? ' (dirty)' : ''}`,
    ],
    [
      'machine',
      `${report.machine.cpuModel} ×${report.machine.cpus}, ${report.machine.totalMemoryMiB} MiB, ${report.machine.platform} ${report.machine.kernel}`,
    ],
    [
      'versions',
      `node ${report.versions.node}, OpenSSL ${report.versions.openssl}, libp2p ${report.versions.libp2p ?? '?'}, level ${report.versions.level ?? '?'}, fastify ${report.versions.fastify ?? '?'}`,
    ],
    ['started / finished', `${report.startedAt} / ${report.finishedAt}`],
    ...(c === null
      ? []
      : ([
          [
            'calibration',
            `${c.verifyPerSecPerCore} verifies/s/core side by side (${c.verifyPerSecAlone} alone, known key ${c.knownKeyVerifyPerSecPerCore}), ${c.cores} cores, ${c.messageBytes}-byte messages; the bound uses the ${report.boundBasis ?? 'plain'} rate`,
          ],
        ] as [string, unknown][])),
    ...(report.floor === null
      ? []
      : ([['floor', floorLine(report.floor, report.summary.ceilingTps)]] as [string, unknown][])),
    ['config', report.config],
  ];
  const profiles = report.profiles
    .map(
      (p) =>
        `<h3>${escapeXml(p.file)}</h3><p>${p.busyMs} ms busy of ${p.totalMs} ms sampled.</p>` +
        `<table><tr><th>category</th><th>% of busy</th></tr>${p.categories.map((e) => `<tr>${cell(e.name)}${cell(e.percent)}</tr>`).join('')}</table>` +
        `<table><tr><th>self %</th><th>function</th></tr>${p.topSelf.map((e) => `<tr>${cell(e.percent)}${cell(e.name)}</tr>`).join('')}</table>` +
        `<table><tr><th>inclusive % of busy</th><th>medchain function</th></tr>${p.topProject.map((e) => `<tr>${cell(e.percent)}${cell(e.name)}</tr>`).join('')}</table>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medchain bench — ${escapeXml(report.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1500px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}
th{background:#f4f4f4}table.kv th{text-align:left}table.kv td{text-align:left;max-width:1000px;word-break:break-word}
.charts{display:flex;flex-wrap:wrap;gap:12px}h1{font-size:20px}h2{font-size:17px;margin-top:28px}
</style></head><body>
<h1>medchain bench</h1>
<p>${escapeXml(s.description)}</p>
<h2>Summary</h2>${kvTable(summaryRows)}
<h2>Steps</h2>${stepTable(report.steps)}
${tpl}
${report.steps.map((st) => `<h2>${escapeXml(st.label)}</h2>${nodeTable(st)}${stepCharts(st, report)}`).join('\n')}
${profiles === '' ? '' : `<h2>CPU profiles</h2>${profiles}`}
<h2>Setup</h2>${kvTable(setupRows)}
</body></html>
`;
}
