import { escapeHtml as e } from './escape.js';
import { formatTick, linearScale } from './scale.js';

/** Colours for series, chosen to stay apart for colour-blind readers (Okabe-Ito). */
export const SERIES_COLOURS = Object.freeze([
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#f0e442',
  '#000000',
] as const);

export interface LinePoint {
  x: number;
  y: number;
  /** Shown on hover. */
  title: string;
  /** Drawn as a red ring and tagged `data-regression`. */
  regression?: boolean;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
}

/** A vertical marker across the plot, e.g. where a run starts. */
export interface XMarker {
  x: number;
  label: string;
}

export interface LineChartInput {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  markers?: XMarker[];
  width?: number;
  height?: number;
}

const MARGIN = { top: 28, right: 16, bottom: 44, left: 72 };

function frame(width: number, height: number, title: string, id: string, kind: string) {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${e(kind)}" ` +
    `data-chart-id="${e(id)}" viewBox="0 0 ${width} ${height}" width="${width}" ` +
    `height="${height}" role="img" aria-label="${e(title)}">` +
    `<title>${e(title)}</title>`
  );
}

/**
 * A line chart as inline SVG: one polyline and one circle per point for each series,
 * regressions ringed in red, vertical markers, axes with round ticks, and a legend. Every
 * series is a `<g data-series="NAME">` and every point a `<circle data-point data-x data-y>`,
 * so tests can count them.
 */
export function lineChart(input: LineChartInput): string {
  const width = input.width ?? 860;
  const height = input.height ?? 320;
  const points = input.series.flatMap((s) => s.points);
  const xs = [...points.map((p) => p.x), ...(input.markers ?? []).map((m) => m.x)];
  const ys = points.map((p) => p.y);
  const x = linearScale(
    Math.min(...xs, 0),
    Math.max(...xs, 1),
    MARGIN.left,
    width - MARGIN.right,
    8,
  );
  // Counters live far from 0 on a used key: the y axis spans the data, not 0..max.
  const y = linearScale(
    ys.length ? Math.min(...ys) : 0,
    ys.length ? Math.max(...ys) : 1,
    height - MARGIN.bottom,
    MARGIN.top,
    5,
  );
  const parts = [frame(width, height, input.title, input.id, 'line')];

  parts.push(
    axes(
      x.ticks.map((t) => [x(t), formatTick(t)]),
      y.ticks.map((t) => [y(t), formatTick(t)]),
      width,
      height,
    ),
  );
  parts.push(axisLabels(input.xLabel, input.yLabel, width, height));

  for (const marker of input.markers ?? []) {
    const mx = x(marker.x).toFixed(1);
    parts.push(
      `<g class="marker" data-marker="${e(marker.label)}"><line x1="${mx}" x2="${mx}" ` +
        `y1="${MARGIN.top}" y2="${height - MARGIN.bottom}" stroke="#999" stroke-dasharray="4 3"/>` +
        `<text x="${(Number(mx) + 3).toFixed(1)}" y="${MARGIN.top + 10}" font-size="10" ` +
        `fill="#666">${e(marker.label)}</text></g>`,
    );
  }

  input.series.forEach((series, index) => {
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    const path = series.points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    parts.push(
      `<g class="series" data-series="${e(series.name)}" data-points="${series.points.length}">`,
    );
    parts.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    for (const p of series.points) {
      const cx = x(p.x).toFixed(1);
      const cy = y(p.y).toFixed(1);
      const regression = p.regression ? ' data-regression="true"' : '';
      parts.push(
        `<circle data-point="" data-x="${p.x}" data-y="${p.y}"${regression} cx="${cx}" cy="${cy}" ` +
          `r="${p.regression ? 5 : 2.5}" fill="${p.regression ? '#fff' : colour}" ` +
          `stroke="${p.regression ? '#d00' : colour}" stroke-width="${p.regression ? 2.5 : 1}">` +
          `<title>${e(p.title)}</title></circle>`,
      );
    }
    parts.push('</g>');
  });

  parts.push(
    legend(
      input.series.map((s) => s.name),
      width,
    ),
  );
  parts.push('</svg>');
  return parts.join('');
}

export interface Bar {
  label: string;
  value: number;
  title: string;
}

/**
 * A bar chart as inline SVG (the step-size histogram): each bar is a
 * `<rect data-bar data-label data-value>`.
 */
export function barChart(input: {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  bars: Bar[];
  width?: number;
  height?: number;
}): string {
  const width = input.width ?? 420;
  const height = input.height ?? 260;
  const y = linearScale(
    0,
    Math.max(1, ...input.bars.map((b) => b.value)),
    height - MARGIN.bottom,
    MARGIN.top,
    4,
  );
  const slot = (width - MARGIN.left - MARGIN.right) / Math.max(1, input.bars.length);
  const parts = [frame(width, height, input.title, input.id, 'bar')];

  const xTicks = input.bars.map((b, i): [number, string] => [
    MARGIN.left + slot * (i + 0.5),
    b.label,
  ]);
  parts.push(
    axes(
      xTicks,
      y.ticks.map((t) => [y(t), formatTick(t)]),
      width,
      height,
    ),
  );
  parts.push(axisLabels(input.xLabel, input.yLabel, width, height));
  input.bars.forEach((bar, i) => {
    const top = y(bar.value);
    const barWidth = Math.min(48, slot * 0.7);
    parts.push(
      `<rect data-bar="" data-label="${e(bar.label)}" data-value="${bar.value}" ` +
        `x="${(MARGIN.left + slot * (i + 0.5) - barWidth / 2).toFixed(1)}" y="${top.toFixed(1)}" ` +
        `width="${barWidth.toFixed(1)}" height="${(height - MARGIN.bottom - top).toFixed(1)}" ` +
        `fill="${SERIES_COLOURS[0]}"><title>${e(bar.title)}</title></rect>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function axes(
  xTicks: [number, string][],
  yTicks: [number, string][],
  width: number,
  height: number,
): string {
  const bottom = height - MARGIN.bottom;
  const parts = [
    `<g class="axes" font-size="11" fill="#444">`,
    `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${bottom}" y2="${bottom}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${bottom}" stroke="#444"/>`,
  ];
  for (const [px, label] of xTicks) {
    parts.push(
      `<line x1="${px.toFixed(1)}" x2="${px.toFixed(1)}" y1="${bottom}" y2="${bottom + 4}" stroke="#444"/>` +
        `<text x="${px.toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${e(label)}</text>`,
    );
  }
  for (const [py, label] of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${py.toFixed(1)}" y2="${py.toFixed(1)}" stroke="#eee"/>` +
        `<text x="${MARGIN.left - 6}" y="${(py + 4).toFixed(1)}" text-anchor="end">${e(label)}</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}

function axisLabels(xLabel: string, yLabel: string, width: number, height: number): string {
  const midX = (MARGIN.left + width - MARGIN.right) / 2;
  const midY = (MARGIN.top + height - MARGIN.bottom) / 2;
  return (
    `<text x="${midX}" y="${height - 8}" text-anchor="middle" font-size="12" fill="#222">${e(xLabel)}</text>` +
    `<text transform="translate(14 ${midY}) rotate(-90)" text-anchor="middle" font-size="12" ` +
    `fill="#222">${e(yLabel)}</text>`
  );
}

function legend(names: string[], width: number): string {
  const parts = ['<g class="legend" font-size="11">'];
  let x = MARGIN.left;
  names.forEach((name, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length]!;
    parts.push(
      `<rect x="${x}" y="8" width="10" height="10" fill="${colour}"/>` +
        `<text x="${x + 14}" y="17" fill="#222">${e(name)}</text>`,
    );
    x += 24 + name.length * 6.5;
    if (x > width - 100) x = MARGIN.left;
  });
  parts.push('</g>');
  return parts.join('');
}
