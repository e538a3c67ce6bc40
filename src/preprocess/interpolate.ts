import { validateQArray } from '../data/generator-options.js';
import { ReflectkitError } from '../errors.js';

/**
 * The samples of a measured curve that interpolation reads. `MeasuredCurve` (from `parseMeasured` /
 * `readMeasuredFile`) fits it; it is declared here by shape because `preprocess/` does not import `io/`.
 */
export interface CurveSamples {
  /** Q, Å⁻¹: finite, > 0, non-decreasing (repeated Q allowed: those points are merged). */
  q: ArrayLike<number>;
  /** Reflectivity R (dimensionless), finite; points with R ≤ 0 are dropped. */
  r: ArrayLike<number>;
  /** 1-σ uncertainty of R (dimensionless, finite, ≥ 0), or absent. */
  dr?: ArrayLike<number> | null;
}

/** A measured curve on a model Q grid, from {@link interpolateOntoGrid}. */
export interface GridInterpolation {
  /** R at each grid point (dimensionless). Outside the measured range: the nearest end's R (not extrapolated). */
  r: Float64Array;
  /** 1-σ uncertainty of R at each grid point, or `null` when the curve has no dR. Outside: the nearest end's dR. */
  dr: Float64Array | null;
  /** 1 where the grid point lies within the measured Q range [qMin, qMax], 0 where it was filled from an end. */
  inside: Uint8Array;
  /** Grid points below qMin. */
  pointsBelow: number;
  /** Grid points above qMax. */
  pointsAbove: number;
  /** (pointsBelow + pointsAbove) / grid length. */
  outsideFraction: number;
  /** Measured points (after merging repeated Q) dropped because R ≤ 0: log R needs R > 0. */
  droppedNonPositive: number;
  /** Measured points folded into another one with the same Q (overlaps of stitched data). */
  mergedDuplicates: number;
  /** Smallest Q of the points used, Å⁻¹ (after merging and dropping). */
  qMin: number;
  /** Largest Q of the points used, Å⁻¹. */
  qMax: number;
}

/** Checks the curve's samples; returns whether it carries dR. */
function checkCurve(curve: CurveSamples): boolean {
  const { q, r } = curve;
  const dr = curve.dr ?? null;
  if (r.length !== q.length || (dr !== null && dr.length !== q.length)) {
    throw new ReflectkitError('BAD_SHAPE', `curve has ${q.length} Q, ${r.length} R${dr === null ? '' : ` and ${dr.length} dR`} values`, {
      path: 'curve',
      expected: 'as many R (and dR) values as Q values',
    });
  }
  validateQArray(q, 'curve.q', { minPoints: 0, allowRepeats: true });
  for (let i = 0; i < q.length; i++) {
    if (!Number.isFinite(r[i]!)) {
      throw new ReflectkitError('MEASURED_FORMAT', `curve R ${r[i]} is not finite`, { path: `curve.r[${i}]`, expected: 'a finite R', received: r[i] });
    }
    if (dr !== null && !(Number.isFinite(dr[i]!) && dr[i]! >= 0)) {
      throw new ReflectkitError('MEASURED_FORMAT', `curve dR ${dr[i]} is not a finite number ≥ 0`, { path: `curve.dr[${i}]`, expected: 'dR ≥ 0', received: dr[i] });
    }
  }
  return dr !== null;
}

/**
 * Merges runs of equal Q: an inverse-variance weighted mean when every point of the run has dR > 0
 * (dR = 1/√Σ dR⁻²), else the plain mean (dR = √Σ dR² / n).
 */
function mergeRepeatedQ(curve: CurveSamples, hasDr: boolean): { q: number[]; r: number[]; dr: number[] | null; merged: number } {
  const q: number[] = [];
  const r: number[] = [];
  const dr: number[] | null = hasDr ? [] : null;
  const n = curve.q.length;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && curve.q[end] === curve.q[start]) end++;
    q.push(curve.q[start]!);
    if (end - start === 1) {
      r.push(curve.r[start]!);
      dr?.push(curve.dr![start]!);
    } else {
      const count = end - start;
      const weighted = hasDr && Array.from({ length: count }, (_, k) => curve.dr![start + k]!).every((e) => e > 0);
      let sumW = 0;
      let sumWR = 0;
      let sumR = 0;
      let sumE2 = 0;
      for (let k = start; k < end; k++) {
        const e = hasDr ? curve.dr![k]! : 0;
        sumR += curve.r[k]!;
        sumE2 += e * e;
        if (weighted) {
          sumW += 1 / (e * e);
          sumWR += curve.r[k]! / (e * e);
        }
      }
      r.push(weighted ? sumWR / sumW : sumR / count);
      dr?.push(weighted ? 1 / Math.sqrt(sumW) : Math.sqrt(sumE2) / count);
    }
    start = end;
  }
  return { q, r, dr, merged: n - q.length };
}

/**
 * Puts a measured curve onto a model Q grid by linear interpolation of log10 R against log10 Q (exact for a
 * power law such as the Fresnel tail R ∝ Q⁻⁴). The relative error dR/R is interpolated linearly in log10 Q
 * and multiplied by the interpolated R.
 *
 * Before interpolating, points with the same Q (overlaps of stitched data) are merged — inverse-variance
 * weighted when all their dR > 0, else averaged — and points with R ≤ 0 are dropped (counted in
 * `droppedNonPositive`). Grid points outside the Q range of the remaining points are **not** extrapolated:
 * they take the nearest end's R and dR, are flagged 0 in `inside` and counted in `pointsBelow` / `pointsAbove`,
 * so that callers can report them or give them no weight.
 *
 * @param curve measured Q (Å⁻¹, sorted ascending), R and optional 1-σ dR, e.g. a `MeasuredCurve`.
 * @param grid the model's Q grid, Å⁻¹.
 * @throws ReflectkitError `INVALID_Q` for a grid that is empty, not strictly increasing, or has Q ≤ 0 (and
 *   for curve Q that are ≤ 0 or not sorted); `BAD_SHAPE` for columns of unequal length; `MEASURED_FORMAT` for
 *   non-finite R, negative dR, or fewer than two distinct Q with R > 0.
 */
export function interpolateOntoGrid(curve: CurveSamples, grid: ArrayLike<number>): GridInterpolation {
  validateQArray(grid, 'grid', { minPoints: 1 });
  const hasDr = checkCurve(curve);
  const merged = mergeRepeatedQ(curve, hasDr);
  const usedQ: number[] = [];
  const logQ: number[] = [];
  const logR: number[] = [];
  const rel: number[] = [];
  const endR: number[] = [];
  const endDr: number[] = [];
  let droppedNonPositive = 0;
  for (let i = 0; i < merged.q.length; i++) {
    const ri = merged.r[i]!;
    if (!(ri > 0)) {
      droppedNonPositive++;
      continue;
    }
    usedQ.push(merged.q[i]!);
    logQ.push(Math.log10(merged.q[i]!));
    logR.push(Math.log10(ri));
    rel.push(merged.dr ? merged.dr[i]! / ri : 0);
    endR.push(ri);
    endDr.push(merged.dr ? merged.dr[i]! : 0);
  }
  const m = logQ.length;
  if (m < 2) {
    throw new ReflectkitError('MEASURED_FORMAT', `only ${m} distinct Q with R > 0 (${droppedNonPositive} dropped with R ≤ 0)`, {
      path: 'curve',
      expected: 'at least two points with R > 0 at different Q',
    });
  }
  const lo = usedQ[0]!;
  const hi = usedQ[m - 1]!;

  const n = grid.length;
  const r = new Float64Array(n);
  const dr = hasDr ? new Float64Array(n) : null;
  const inside = new Uint8Array(n);
  let pointsBelow = 0;
  let pointsAbove = 0;
  let j = 0; // segment [j, j+1] of the measured points
  for (let k = 0; k < n; k++) {
    const g = grid[k]!;
    let at: number | undefined; // index of a measured point the grid point sits on (or takes from an end)
    if (g < lo) {
      pointsBelow++;
      at = 0;
    } else if (g > hi) {
      pointsAbove++;
      at = m - 1;
    } else {
      inside[k] = 1;
      while (j < m - 2 && usedQ[j + 1]! < g) j++;
      if (g === usedQ[j]) at = j;
      else if (g === usedQ[j + 1]) at = j + 1;
      else {
        const t = (Math.log10(g) - logQ[j]!) / (logQ[j + 1]! - logQ[j]!);
        const value = 10 ** (logR[j]! + t * (logR[j + 1]! - logR[j]!));
        r[k] = value;
        if (dr) dr[k] = (rel[j]! + t * (rel[j + 1]! - rel[j]!)) * value;
      }
    }
    if (at !== undefined) {
      r[k] = endR[at]!;
      if (dr) dr[k] = endDr[at]!;
    }
  }
  return {
    r,
    dr,
    inside,
    pointsBelow,
    pointsAbove,
    outsideFraction: (pointsBelow + pointsAbove) / n,
    droppedNonPositive,
    mergedDuplicates: merged.merged,
    qMin: lo,
    qMax: hi,
  };
}
