import { LOG_RESLIMIT, SQRT2, SQRT2PI } from './constants.js';
import { erf } from './erf.js';

/**
 * refl1d's Gaussian resolution as a sparse linear operator. refl1d's `convolve_gaussian` integrates the
 * piecewise-linear interpolant of R against a Gaussian analytically, over whole segments out to the
 * first grid points beyond ±√(−2σ²·ln 0.001), and renormalises by the truncated Gaussian's mass. The
 * result is linear in R with weights that depend only on the grids, so they are computed once per grid
 * and each curve costs one sparse dot product per output point.
 *
 * Output row `o` is `Σ weight[k]·R[column[k]]` for `k` in `[rowStart[o], rowStart[o + 1])`.
 */
export interface ResolutionOperator {
  /** Number of calculation points (input length). */
  readonly inputLength: number;
  /** Number of output points. */
  readonly outputLength: number;
  /** Row offsets, length outputLength + 1. */
  readonly rowStart: Int32Array;
  /** Input index of each weight. */
  readonly column: Int32Array;
  /** Weights. */
  readonly weight: Float64Array;
  /**
   * Output rows with σ ≤ 0, which refl1d fills by linear interpolation written as m·x + b; applied in that
   * form (not as weights) because b = y_k − m·x_k cancels, and refl1d's rounding is what we reproduce.
   */
  readonly linearRows: Int32Array;
  /**
   * For each linear row, refl1d's start index k: the row is m·x + b on segment [k, k + 1] with
   * b = y_k − m·x_k, or, at the last point, extrapolated from [k − 1, k] with the same b.
   */
  readonly linearStart: Int32Array;
  /** The calculation points (needed by the linear rows), Å⁻¹. */
  readonly xCalc: Float64Array;
  /** The output points, Å⁻¹. */
  readonly xOut: Float64Array;
}

/**
 * Builds the resolution operator.
 *
 * @param xCalc calculation points (refl1d's `calc_Q`), Å⁻¹, strictly increasing, length ≥ 2.
 * @param xOut output points (refl1d's `probe.Q`), Å⁻¹.
 * @param sigmaOut 1-σ Gaussian width at each output point, Å⁻¹ (refl1d's `dQ`). σ ≤ 0 gives linear
 *   interpolation, exactly as refl1d.
 */
export function buildResolutionOperator(
  xCalc: ArrayLike<number>,
  xOut: ArrayLike<number>,
  sigmaOut: ArrayLike<number>,
): ResolutionOperator {
  const nIn = xCalc.length;
  const nOut = xOut.length;
  const rowStart = new Int32Array(nOut + 1);
  const columns: number[] = [];
  const weights: number[] = [];
  const linearRows: number[] = [];
  const linearStart: number[] = [];
  let kIn = 0;
  for (let o = 0; o < nOut; o++) {
    const sigma = sigmaOut[o]!;
    const xo = xOut[o]!;
    const limit = Math.sqrt(-2.0 * sigma * sigma * LOG_RESLIMIT);
    while (kIn < nIn - 1 && xCalc[kIn]! < xo - limit) kIn++;
    while (kIn > 0 && xCalc[kIn]! > xo - limit) kIn--;
    rowStart[o] = columns.length;
    if (sigma > 0) {
      appendGaussianRow(xCalc, kIn, xo, limit, sigma, columns, weights);
    } else {
      // Linear interpolation on [k, k+1], or extrapolation from [k−1, k] at the last point.
      linearRows.push(o);
      linearStart.push(kIn);
    }
  }
  rowStart[nOut] = columns.length;
  return {
    inputLength: nIn,
    outputLength: nOut,
    rowStart,
    column: Int32Array.from(columns),
    weight: Float64Array.from(weights),
    linearRows: Int32Array.from(linearRows),
    linearStart: Int32Array.from(linearStart),
    xCalc: Float64Array.from(xCalc),
    xOut: Float64Array.from(xOut),
  };
}

function appendGaussianRow(
  x: ArrayLike<number>,
  start: number,
  xo: number,
  limit: number,
  sigma: number,
  columns: number[],
  weights: number[],
): void {
  const n = x.length;
  const twoSigmaSq = 2.0 * sigma * sigma;
  const gaussianSlope = sigma / SQRT2PI;
  let z = xo - x[start]!;
  let gLo = Math.exp((-z * z) / twoSigmaSq);
  const erfMin = erf(-z / (SQRT2 * sigma));
  let erfLo = erfMin;
  // Accumulate Σ_segments [½(m·xo + b)(ΔE) − σ/√(2π)·m·ΔG] as weights on y[k−1] and y[k]:
  // with m = (y_k − y_{k−1})/Δx and m·xo + b = y_k + m·(xo − x_k),
  // y_k gets ½ΔE + A/Δx and y_{k−1} gets −A/Δx, where A = ½(xo − x_k)ΔE − σ/√(2π)·ΔG.
  const rowWeights = new Map<number, number>();
  let k = start;
  while (k < n - 1) {
    k++;
    if (x[k] === x[k - 1]) continue;
    z = xo - x[k]!;
    const gHi = Math.exp((-z * z) / twoSigmaSq);
    const erfHi = erf(-z / (SQRT2 * sigma));
    const dE = erfHi - erfLo;
    const dx = x[k]! - x[k - 1]!;
    const a = 0.5 * z * dE - gaussianSlope * (gHi - gLo);
    rowWeights.set(k, (rowWeights.get(k) ?? 0) + 0.5 * dE + a / dx);
    rowWeights.set(k - 1, (rowWeights.get(k - 1) ?? 0) - a / dx);
    gLo = gHi;
    erfLo = erfHi;
    if (x[k]! >= xo + limit) break;
  }
  const norm = 2 / (erfLo - erfMin);
  for (const [column, w] of [...rowWeights.entries()].sort((p, q) => p[0] - q[0])) {
    columns.push(column);
    weights.push(w * norm);
  }
}

/**
 * Applies a {@link ResolutionOperator}: `out[outOffset + o] = Σ w·y[yOffset + column]`.
 * Allocation-free.
 */
export function applyResolution(
  op: ResolutionOperator,
  y: ArrayLike<number>,
  out: Float64Array,
  yOffset = 0,
  outOffset = 0,
): Float64Array {
  const { rowStart, column, weight, outputLength, linearRows, linearStart, xCalc, xOut } = op;
  for (let o = 0; o < outputLength; o++) {
    let acc = 0;
    const end = rowStart[o + 1]!;
    for (let k = rowStart[o]!; k < end; k++) acc += weight[k]! * y[yOffset + column[k]!]!;
    out[outOffset + o] = acc;
  }
  const last = xCalc.length - 1;
  for (let r = 0; r < linearRows.length; r++) {
    const k = linearStart[r]!;
    const lo = k < last ? k : k - 1;
    const m = (y[yOffset + lo + 1]! - y[yOffset + lo]!) / (xCalc[lo + 1]! - xCalc[lo]!);
    const b = y[yOffset + k]! - m * xCalc[k]!;
    out[outOffset + linearRows[r]!] = m * xOut[linearRows[r]!]! + b;
  }
  return out;
}

/**
 * 1-σ widths from a relative FWHM resolution, as pyreflect: `dq = qResolution·q/2.355`.
 *
 * @param q Å⁻¹. @param qResolution dQ/Q as FWHM (pyreflect's default 0.0294855).
 * @returns dQ (1 σ), Å⁻¹.
 */
export function sigmaFromRelativeFwhm(q: ArrayLike<number>, qResolution: number): Float64Array {
  const out = new Float64Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (qResolution * q[i]!) / 2.355;
  return out;
}
