import { ReflectkitError } from '../errors.js';
import type { SldErrorMetrics } from './result.js';

/** Squared and absolute error sums of one set of values, and what R² needs. */
interface Sums {
  count: number;
  squared: number;
  absolute: number;
  truthSum: number;
  truthSquared: number;
}

function emptySums(): Sums {
  return { count: 0, squared: 0, absolute: 0, truthSum: 0, truthSquared: 0 };
}

function addRow(sums: Sums, predicted: ArrayLike<number>, truth: ArrayLike<number>, offset: number, length: number, map: (v: number) => number): void {
  for (let k = 0; k < length; k++) {
    const t = map(truth[offset + k]!);
    const d = map(predicted[offset + k]!) - t;
    sums.squared += d * d;
    sums.absolute += Math.abs(d);
    sums.truthSum += t;
    sums.truthSquared += t * t;
    sums.count += 1;
  }
}

/** R² = 1 − SS_res/SS_tot, SS_tot about the mean of the truth; NaN when the truth is constant and the fit is not exact, 1 when both vanish. */
function rSquared(s: Sums): number {
  const total = s.truthSquared - (s.truthSum * s.truthSum) / s.count;
  if (!(total > 0)) return s.squared === 0 ? 1 : Number.NaN;
  return 1 - s.squared / total;
}

function summary(s: Sums): { mse: number; mae: number; r2: number } {
  return { mse: s.squared / s.count, mae: s.absolute / s.count, r2: rSquared(s) };
}

/**
 * SLD error metrics of predicted against true profiles, both `(N, 2, P)` flattened float arrays in physical
 * units (row 0 z in Å, row 1 SLD in 10⁻⁶ Å⁻²): MSE, MAE and R² of the SLD row over all N·P values, the same
 * after `normalize` (the model's min-max map of SLD, so the numbers compare with training losses), and
 * each per curve. R² here is 1 − SS_res/SS_tot of the same quantity, unlike pyreflect's interface, which
 * divided a validation loss by a variance of a different set.
 *
 * @param predicted predicted profiles, `(N, 2, P)` flattened: z in Å, SLD in 10⁻⁶ Å⁻².
 * @param truth true profiles, same shape and units.
 * @param curves N, the number of profiles.
 * @param normalize maps a physical SLD to the model's normalised units.
 * @throws ReflectkitError `BAD_SHAPE` when the arrays do not hold N profiles of 2 rows.
 */
export function sldErrorMetrics(
  predicted: ArrayLike<number>,
  truth: ArrayLike<number>,
  curves: number,
  normalize: (sld: number) => number,
): SldErrorMetrics & {
  /** The three metrics of each curve, in curve order (physical units). */
  perCurve: {
    /** MSE of each curve's SLD row, (10⁻⁶ Å⁻²)²; length N. */
    mse: number[];
    /** MAE of each curve's SLD row, 10⁻⁶ Å⁻²; length N. */
    mae: number[];
    /** R² of each curve's SLD row; length N. */
    r2: number[];
  };
} {
  if (!Number.isSafeInteger(curves) || curves < 1 || predicted.length !== truth.length || predicted.length % (2 * curves) !== 0) {
    throw new ReflectkitError('BAD_SHAPE', `${predicted.length} predicted and ${truth.length} true values for ${curves} profiles`, {
      path: 'predicted',
      expected: 'two equal arrays of shape (N, 2, P)',
    });
  }
  const points = predicted.length / (2 * curves);
  const all = emptySums();
  const normalized = emptySums();
  const perCurve = { mse: [] as number[], mae: [] as number[], r2: [] as number[] };
  const same = (v: number) => v;
  for (let c = 0; c < curves; c++) {
    const offset = (2 * c + 1) * points;
    const one = emptySums();
    addRow(one, predicted, truth, offset, points, same);
    addRow(normalized, predicted, truth, offset, points, normalize);
    const s = summary(one);
    perCurve.mse.push(s.mse);
    perCurve.mae.push(s.mae);
    perCurve.r2.push(s.r2);
    all.count += one.count;
    all.squared += one.squared;
    all.absolute += one.absolute;
    all.truthSum += one.truthSum;
    all.truthSquared += one.truthSquared;
  }
  return { ...summary(all), normalized: summary(normalized), curves, perCurve };
}

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>, name: string): void {
  if (a.length !== b.length || a.length === 0) {
    throw new ReflectkitError('BAD_SHAPE', `${name}: ${a.length} computed against ${b.length} reference values`, { path: name, expected: 'two non-empty arrays of equal length' });
  }
}

/**
 * χ² of a computed curve against a reference curve in log R: mean over Q of (log10 R_c − log10 R_ref)².
 * Values ≤ `floor` are clipped to it first (default 1e-300).
 */
export function chiSquaredLog(computed: ArrayLike<number>, reference: ArrayLike<number>, floor = 1e-300): number {
  checkPair(computed, reference, 'chiSquaredLog');
  let sum = 0;
  for (let i = 0; i < computed.length; i++) {
    const d = Math.log10(Math.max(computed[i]!, floor)) - Math.log10(Math.max(reference[i]!, floor));
    sum += d * d;
  }
  return sum / computed.length;
}

/**
 * χ² of a computed curve against measured data with uncertainties, per point: mean of ((R_c − R)/dR)²
 * over the points with dR > 0 (a reduced χ² without subtracting fitted parameters; ≈ 1 for a model that
 * describes the data within its errors). Points selected by `use` only, when given.
 *
 * @throws ReflectkitError `BAD_SHAPE` when no point has dR > 0.
 */
export function chiSquaredData(computed: ArrayLike<number>, measured: ArrayLike<number>, dr: ArrayLike<number>, use?: ArrayLike<number>): number {
  checkPair(computed, measured, 'chiSquaredData');
  checkPair(computed, dr, 'chiSquaredData.dr');
  let sum = 0;
  let count = 0;
  for (let i = 0; i < computed.length; i++) {
    if (use !== undefined && !use[i]) continue;
    const sigma = dr[i]!;
    if (!(sigma > 0)) continue;
    const d = (computed[i]! - measured[i]!) / sigma;
    sum += d * d;
    count += 1;
  }
  if (count === 0) throw new ReflectkitError('BAD_SHAPE', 'no point has an uncertainty dR > 0', { path: 'dr', expected: 'dR > 0 for at least one point' });
  return sum / count;
}

/** Median and largest |R_c − R_ref|/R_ref over the points with R_ref > 0. */
export function relativeError(
  computed: ArrayLike<number>,
  reference: ArrayLike<number>,
): {
  /** Median relative difference (a fraction, not %); NaN when no reference point is > 0. */
  median: number;
  /** Largest relative difference; NaN when no reference point is > 0. */
  max: number;
} {
  checkPair(computed, reference, 'relativeError');
  const errors: number[] = [];
  for (let i = 0; i < computed.length; i++) {
    const r = reference[i]!;
    if (r > 0) errors.push(Math.abs(computed[i]! - r) / r);
  }
  if (errors.length === 0) return { median: Number.NaN, max: Number.NaN };
  errors.sort((a, b) => a - b);
  const mid = errors.length >> 1;
  return { median: errors.length % 2 ? errors[mid]! : 0.5 * (errors[mid - 1]! + errors[mid]!), max: errors[errors.length - 1]! };
}

/** Indices of pyreflect's interface's 50 sampled comparison points: `floor(linspace(0, P − 1, count))`. */
export function comparisonIndices(points: number, count = 50): number[] {
  const out: number[] = [];
  if (count === 1) return [0];
  for (let i = 0; i < count; i++) out.push(Math.trunc((i * (points - 1)) / (count - 1)));
  return out;
}
