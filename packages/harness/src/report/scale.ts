/** A linear map from a data domain onto a pixel range, with round tick values. */
export interface LinearScale {
  (value: number): number;
  ticks: number[];
}

/** 1, 2 or 5 times a power of ten: the tick step nearest `span / count`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/**
 * Scales [min, max] onto [from, to], widening the domain to whole ticks. A domain of one
 * value is widened by one on each side so a single point sits in the middle.
 */
export function linearScale(
  min: number,
  max: number,
  from: number,
  to: number,
  tickCount = 5,
): LinearScale {
  if (!Number.isFinite(min) || !Number.isFinite(max))
    throw new RangeError('scale: domain must be finite');
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const step = niceStep(max - min, tickCount);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const scale = ((value: number) => from + ((value - lo) / (hi - lo)) * (to - from)) as LinearScale;
  scale.ticks = [];
  for (let tick = lo; tick <= hi + step / 2; tick += step)
    scale.ticks.push(Number(tick.toPrecision(12)));
  return scale;
}

/** Short tick labels: 1.2k, 3.4M, 4.29G. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${+(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toFixed(1)}k`;
  return String(+value.toFixed(2));
}
