import { ReflectkitError } from '../errors.js';

/**
 * The straight line closest (least squares over the index) to a predicted depth row. Every profile the
 * generator makes samples z on a uniform grid (`linspace(z0, z1, P)`), so the model's z row is a noisy
 * estimate of a line; projecting it onto one removes the noise and guarantees an increasing axis, which
 * the microslab NR calculation needs.
 *
 * @param z predicted depth row, Å, length P ≥ 2.
 * @returns P depths, Å, strictly increasing.
 * @throws ReflectkitError `INVALID_PROFILE` when the fitted line does not increase.
 */
export function straightenDepth(z: ArrayLike<number>): Float64Array {
  const n = z.length;
  if (n < 2) throw new ReflectkitError('INVALID_PROFILE', `a depth row of ${n} point(s)`, { path: 'z', expected: 'at least 2 points' });
  const meanI = (n - 1) / 2;
  let meanZ = 0;
  for (let i = 0; i < n; i++) meanZ += z[i]!;
  meanZ /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - meanI) * (z[i]! - meanZ);
    sxx += (i - meanI) * (i - meanI);
  }
  const slope = sxy / sxx;
  if (!(slope > 0) || !Number.isFinite(meanZ)) {
    throw new ReflectkitError('INVALID_PROFILE', `the predicted depth row does not increase (slope ${slope} Å per point)`, {
      path: 'z',
      expected: 'a depth axis rising from the substrate side',
    });
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = meanZ + slope * (i - meanI);
  return out;
}
