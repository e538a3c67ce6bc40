/**
 * `numpy.linspace(start, stop, count)`: `i·step + start` with `step = (stop − start)/(count − 1)` and the
 * last point set exactly to `stop`.
 */
export function linspace(start: number, stop: number, count: number): Float64Array {
  const out = new Float64Array(count);
  if (count === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (count - 1);
  for (let i = 0; i < count; i++) out[i] = i * step + start;
  out[count - 1] = stop;
  return out;
}

/**
 * `numpy.logspace(log10(qMin), log10(qMax), count)`: 10 to the power of a linspace of exponents, as
 * pyreflect builds its Q grid. Values in Å⁻¹.
 */
export function logspaceQ(qMin: number, qMax: number, count: number): Float64Array {
  const exponents = linspace(Math.log10(qMin), Math.log10(qMax), count);
  for (let i = 0; i < count; i++) exponents[i] = 10 ** exponents[i]!;
  return exponents;
}

/** pyreflect's default Q grid: logspace(log10(0.0081), log10(0.1975), 308), Å⁻¹. */
export const DEFAULT_Q_GRID = {
  /** Lowest Q, Å⁻¹. */
  qMin: 0.0081,
  /** Highest Q, Å⁻¹. */
  qMax: 0.1975,
  /** Number of log-spaced Q points. */
  numQ: 308,
} as const;

/** The Q grid of pyreflect's legacy 5-film-layer model, Å⁻¹. */
export const LEGACY_Q_GRID = {
  /** Lowest Q, Å⁻¹. */
  qMin: 0.008101436040354381,
  /** Highest Q, Å⁻¹. */
  qMax: 0.1975709062238298,
  /** Number of log-spaced Q points. */
  numQ: 308,
} as const;
