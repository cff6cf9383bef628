/** A small dependency-free line chart, enough for the report's figures. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<{ readonly x: number; readonly y: number }>;
  /** A reference line (a target) rather than measurements. */
  readonly dashed?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Logarithmic x: for doubling steps such as 4, 8, 16… */
  readonly logX?: boolean;
  /** Logarithmic y: for latencies that range from milliseconds to seconds. */
  readonly logY?: boolean;
}

const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { top: 48, right: 190, bottom: 56, left: 72 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export const lineChart = (spec: ChartSpec): string => {
  const points = spec.series.flatMap((series) => series.points);
  if (points.length === 0) throw new Error(`Chart "${spec.title}" has no points`);
  const x = axis(points.map((p) => p.x), spec.logX === true, MARGIN.left, WIDTH - MARGIN.right, true);
  const y = axis(points.map((p) => p.y), spec.logY === true, HEIGHT - MARGIN.bottom, MARGIN.top, false);
  const plotBottom = HEIGHT - MARGIN.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2 - MARGIN.right / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(spec.title)}</text>`,
  ];
  for (const tick of y.ticks) {
    const py = y.scale(tick);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${py + 4}" text-anchor="end">${formatTick(tick)}</text>`,
    );
  }
  for (const tick of x.ticks) {
    const px = x.scale(tick);
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${plotBottom}" y2="${plotBottom + 5}" stroke="#333"/>`,
      `<text x="${px}" y="${plotBottom + 20}" text-anchor="middle">${formatTick(tick)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${plotBottom}" y2="${plotBottom}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${plotBottom}" stroke="#333"/>`,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escape(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${(MARGIN.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${escape(spec.yLabel)}</text>`,
  );
  spec.series.forEach((series, index) => {
    const color = COLORS[index % COLORS.length]!;
    const path = series.points.map((p) => `${x.scale(p.x).toFixed(1)},${y.scale(p.y).toFixed(1)}`).join(' ');
    const dash = series.dashed === true ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    if (series.dashed !== true) {
      for (const p of series.points) parts.push(`<circle cx="${x.scale(p.x).toFixed(1)}" cy="${y.scale(p.y).toFixed(1)}" r="3.5" fill="${color}"/>`);
    }
    const ly = MARGIN.top + 8 + index * 20;
    const lx = WIDTH - MARGIN.right + 16;
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 28}" y="${ly + 4}">${escape(series.name)}</text>`,
    );
  });
  parts.push('</svg>', '');
  return parts.join('\n');
};

interface Axis {
  readonly ticks: readonly number[];
  readonly scale: (value: number) => number;
}

/**
 * A linear axis from 0 with round ticks, or a log axis over whole decades; a log x axis is ticked
 * at the measured values instead (the steps of a sweep, e.g. 4, 8, 16…).
 */
const axis = (values: readonly number[], log: boolean, from: number, to: number, tickAtValues: boolean): Axis => {
  if (log) {
    const positive = values.filter((v) => v > 0);
    const [min, max] = [Math.min(...positive), Math.max(...positive)];
    const low = tickAtValues ? Math.log10(min) : Math.floor(Math.log10(min));
    const high = tickAtValues ? Math.log10(max) : Math.ceil(Math.log10(max));
    const span = high - low || 1;
    const ticks = tickAtValues ? [...new Set(positive)].sort((a, b) => a - b) : Array.from({ length: span + 1 }, (_, i) => 10 ** (low + i));
    const pad = tickAtValues ? 0.05 * (to - from) : 0;
    return { ticks, scale: (v) => from + pad + ((Math.log10(Math.max(v, 10 ** low)) - low) / span) * (to - from - 2 * pad) };
  }
  const max = Math.max(...values) * 1.08;
  const step = niceStep(max / 5);
  const top = Math.ceil(max / step) * step;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  return { ticks, scale: (v) => from + (v / top) * (to - from) };
};

const niceStep = (rough: number): number => {
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / magnitude;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
};

const formatTick = (value: number): string =>
  value >= 1_000_000 ? `${value / 1_000_000}M` : value >= 1_000 ? `${value / 1_000}k` : String(Math.round(value * 1000) / 1000);

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
