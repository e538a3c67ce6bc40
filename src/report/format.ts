/**
 * Number formatting and log-axis ticks shared by the chart specs and the HTML report. Pure.
 */

const SUPERSCRIPT: Record<string, string> = {
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
  '-': '⁻',
};

/** An integer in Unicode superscript digits: `-7` → `⁻⁷`. */
export function superscript(n: number): string {
  return String(Math.round(n))
    .split('')
    .map((c) => SUPERSCRIPT[c] ?? c)
    .join('');
}

/** `x` with `digits` significant digits, trailing zeros kept off: 0.98730 → `0.9873`, 1.2e-5 → `1.2×10⁻⁵`. */
export function formatNumber(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  const sign = x < 0 ? '−' : '';
  if (abs >= 1e-3 && abs < 1e5) {
    const text = abs.toPrecision(digits);
    return sign + (text.includes('.') && !text.includes('e') ? text.replace(/0+$/, '').replace(/\.$/, '') : String(Number(text)));
  }
  const [mantissa, exponent] = abs.toExponential(digits - 1).split('e') as [string, string];
  const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return `${sign}${m === '1' ? '' : `${m}×`}10${superscript(Number(exponent))}`;
}

/** Seconds as `12.3 s`, `450 ms` or `2 min 03 s`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${formatNumber(seconds * 1000, 3)} ms`;
  if (seconds < 120) return `${formatNumber(seconds, 3)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds - 60 * minutes)).padStart(2, '0')} s`;
}

/** A log axis: its domain and the ticks with their labels. */
export interface LogAxis {
  /** `[lo, hi]` of the axis, both > 0, in the data's units. */
  domain: [number, number];
  /** Tick positions, ascending, within the domain. */
  values: number[];
  /** Label of each tick (`10⁻³`, `2×10⁻³`, or plain numbers such as `0.02` for short spans), aligned with `values`. */
  labels: string[];
}

const STEPS = [1, 2, 5];

/** The largest 1-2-5 value ≤ x (`down`) or smallest ≥ x. */
function snap125(x: number, down: boolean): number {
  const decade = Math.floor(Math.log10(x));
  const candidates: number[] = [];
  for (let d = decade - 1; d <= decade + 1; d++) for (const s of STEPS) candidates.push(s * 10 ** d);
  candidates.push(10 ** (decade + 2));
  const tol = 1e-12 * x;
  return down ? Math.max(...candidates.filter((c) => c <= x + tol)) : Math.min(...candidates.filter((c) => c >= x - tol));
}

/** A decade value 10^e, written without rounding noise. */
function decade(e: number): number {
  return Number(`1e${e}`);
}

/**
 * Domain and ticks for a log axis covering [min, max] (both > 0): the domain snapped outwards to whole
 * decades when the data span two or more (with a 15 % margin instead where the data pass a decade by less
 * than a quarter of one), else to a 1-2-5 grid; ticks at decades (every second one past 10
 * decades) or, for short spans, at 1-2-5 (or 1 … 9) multiples, with labels in 10ⁿ form.
 */
export function logAxis(min: number, max: number, maxTicks = 10): LogAxis {
  if (!(min > 0) || !Number.isFinite(min) || !(max > 0) || !Number.isFinite(max)) {
    return logAxis(1e-6, 1, maxTicks);
  }
  if (max < min) [min, max] = [max, min];
  if (max / min < 1.0001) {
    min /= 1.5;
    max *= 1.5;
  }
  let lo: number;
  let hi: number;
  if (Math.log10(max / min) >= 2) {
    // Whole decades, unless the data barely cross one: then a 15 % (top: 30 %) margin past the data, not a near-empty decade.
    const fMin = Math.log10(min);
    const fMax = Math.log10(max);
    lo = fMin - Math.floor(fMin + 1e-9) > 0.75 ? min / 1.15 : decade(Math.floor(fMin + 1e-9));
    hi = Math.ceil(fMax - 1e-9) - fMax > 0.75 ? max * 1.3 : decade(Math.ceil(fMax - 1e-9));
  } else {
    lo = snap125(min, true);
    hi = snap125(max, false);
  }
  const eLo = Math.round(Math.log10(lo) - 0.5);
  const eHi = Math.round(Math.log10(hi) + 0.5);
  const within = (v: number): boolean => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const multiples = (steps: number[]): number[] => {
    const out: number[] = [];
    for (let e = eLo; e <= eHi; e++) for (const s of steps) out.push(Number(`${s}e${e}`));
    return out.filter(within);
  };
  let values = multiples([1]);
  if (values.length < 3) values = multiples(STEPS);
  if (values.length < 3) values = multiples([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (values.length > maxTicks) {
    const stride = Math.ceil(values.length / maxTicks);
    // Keep the ticks whose exponent is a multiple of the stride, so the labels stay regular.
    values = values.filter((v) => Math.round(Math.log10(v)) % stride === 0);
  }
  const allDecades = values.every((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  const plain = !allDecades && values.every((v) => v >= 1e-3 && v < 1e4);
  const labels = values.map((v) => (plain ? formatNumber(v, 3) : logLabel(v)));
  return { domain: [lo, hi], values, labels };
}

/** `m×10ⁿ`, or `10ⁿ` for m = 1. */
function logLabel(v: number): string {
  const e = Math.floor(Math.log10(v) + 1e-9);
  const m = Math.round(v / 10 ** e);
  return `${m === 1 ? '' : `${m}×`}10${superscript(e)}`;
}

/**
 * A Vega expression that labels the ticks `values` with `labels` (Vega's own label otherwise), for an axis's
 * `labelExpr`.
 */
export function labelExpression(values: readonly number[], labels: readonly string[]): string {
  let expr = 'datum.label';
  for (let i = values.length - 1; i >= 0; i--) {
    expr = `abs(datum.value / ${String(values[i])} - 1) < 1e-6 ? ${JSON.stringify(labels[i])} : ${expr}`;
  }
  return expr;
}
