/**
 * Minimal inline-SVG charts for the HTML report (no script, no CDN): line or
 * point series on linear axes with "nice" ticks, an optional shaded x-range
 * (the measurement window) and vertical markers (crashes).
 */

export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number | null])[];
  readonly color: string;
  /** Draw markers at each point (default: lines only). */
  readonly dots?: boolean;
  readonly dashed?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  readonly shade?: readonly [number, number];
  readonly markers?: readonly { readonly x: number; readonly label: string }[];
  readonly width?: number;
  readonly height?: number;
  /** Force the y axis to start at 0 (default true). */
  readonly yFromZero?: boolean;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max <= min) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9) * step;
  for (let v = first, i = 0; v <= max + step * 1e-9 && i < 100; v += step, i++) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

function formatTick(v: number): string {
  if (Math.abs(v) >= 10_000) return `${Math.round(v / 1000)}k`;
  if (Number.isInteger(v)) return String(v);
  return v.toPrecision(3).replace(/\.?0+$/, '');
}

export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 720;
  const height = spec.height ?? 300;
  const m = { left: 64, right: 16, top: 32, bottom: 44 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    for (const [x, y] of s.points) {
      xs.push(x);
      if (y !== null && Number.isFinite(y)) ys.push(y);
    }
  }
  if (spec.shade) xs.push(...spec.shade);
  for (const mk of spec.markers ?? []) xs.push(mk.x);
  const xMin = xs.length > 0 ? Math.min(...xs) : 0;
  const xMax = xs.length > 0 ? Math.max(...xs) : 1;
  const yMinRaw = ys.length > 0 ? Math.min(...ys) : 0;
  const yMin = spec.yFromZero === false ? yMinRaw : Math.min(0, yMinRaw);
  const yMax = ys.length > 0 ? Math.max(...ys) : 1;
  const xTicks = niceTicks(xMin, xMax, 8);
  const yTicks = niceTicks(yMin, yMax * 1.05, 5);
  const x0 = Math.min(xMin, xTicks[0] ?? xMin);
  const x1 = Math.max(xMax, xTicks[xTicks.length - 1] ?? xMax, x0 + 1e-9);
  const y0 = Math.min(yMin, yTicks[0] ?? yMin);
  const y1 = Math.max(yMax, yTicks[yTicks.length - 1] ?? yMax, y0 + 1e-9);
  const px = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number): number => m.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
  );
  parts.push(
    `<text x="${m.left}" y="18" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  if (spec.shade) {
    const [a, b] = spec.shade;
    parts.push(
      `<rect x="${f(px(a))}" y="${m.top}" width="${f(Math.max(0, px(b) - px(a)))}" height="${plotH}" fill="#eef5ff"/>`,
    );
  }
  for (const t of yTicks) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${f(py(t))}" y2="${f(py(t))}" stroke="#ddd"/>` +
        `<text x="${m.left - 6}" y="${f(py(t) + 4)}" font-size="11" text-anchor="end">${formatTick(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    parts.push(
      `<line x1="${f(px(t))}" x2="${f(px(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 4}" stroke="#444"/>` +
        `<text x="${f(px(t))}" y="${m.top + plotH + 16}" font-size="11" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`,
  );
  parts.push(
    `<text x="${m.left + plotW / 2}" y="${height - 6}" font-size="12" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" font-size="12" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );
  for (const mk of spec.markers ?? []) {
    parts.push(
      `<line x1="${f(px(mk.x))}" x2="${f(px(mk.x))}" y1="${m.top}" y2="${m.top + plotH}" stroke="#c00" stroke-dasharray="4 3"/>` +
        `<text x="${f(px(mk.x) + 4)}" y="${m.top + 12}" font-size="11" fill="#c00">${escapeXml(mk.label)}</text>`,
    );
  }
  for (const s of spec.series) {
    const segments: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        segments.push([]);
        continue;
      }
      segments[segments.length - 1]?.push(`${f(px(x))},${f(py(y))}`);
    }
    for (const seg of segments) {
      if (seg.length > 1) {
        parts.push(
          `<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''} points="${seg.join(' ')}"/>`,
        );
      }
    }
    if (s.dots === true || s.points.length === 1) {
      for (const [x, y] of s.points) {
        if (y === null || !Number.isFinite(y)) continue;
        parts.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3.5" fill="${s.color}"/>`);
      }
    }
  }
  // legend
  let lx = m.left + 8;
  for (const s of spec.series) {
    parts.push(
      `<rect x="${lx}" y="${m.top + 6}" width="12" height="3" fill="${s.color}"/>` +
        `<text x="${lx + 16}" y="${m.top + 11}" font-size="11">${escapeXml(s.name)}</text>`,
    );
    lx += 24 + s.name.length * 6.5;
  }
  parts.push('</svg>');
  return parts.join('');
}
