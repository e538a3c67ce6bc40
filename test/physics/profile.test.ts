import { describe, expect, it } from 'vitest';
import { allocatePreparedStack, prepareStack } from '../../src/physics/abeles.js';
import { erf } from '../../src/physics/erf.js';
import { linspace } from '../../src/physics/qgrid.js';
import { profileGrid, resampledProfile, smoothProfile } from '../../src/physics/profile.js';

function prepared(rows: number[][]) {
  return prepareStack(
    { sld: rows.map((r) => r[0]!), isld: rows.map((r) => r[1]!), thickness: rows.map((r) => r[2]!), roughness: rows.map((r) => r[3]!) },
    allocatePreparedStack(rows.length),
  );
}

/** numpy.interp on increasing xp. */
function interp(x: number, xp: Float64Array, fp: Float64Array): number {
  if (x >= xp[xp.length - 1]!) return fp[fp.length - 1]!;
  let j = 0;
  while (xp[j + 1]! <= x) j++;
  if (x === xp[j]) return fp[j]!;
  return ((fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!)) * (x - xp[j]!) + fp[j]!;
}

describe('smoothProfile (refl1d smooth_profile, dz = 0.1)', () => {
  it('for a bare substrate with σ = 5 has 301 points from −15 to 14.999999999999893 and the erf shape', () => {
    const { z, rho } = smoothProfile(prepared([[2.07, 0, 0, 5], [0, 0, 0, 0]]));
    expect(z.length).toBe(301);
    expect(z[0]).toBe(-15);
    expect(z[300]).toBe(14.999999999999893);
    expect(z[150]).toBeCloseTo(-5.3e-14, 15);
    expect(Math.abs(rho[150]! - 1.0350000000000088)).toBeLessThanOrEqual(1e-14);
    let worst = 0;
    z.forEach((zi, i) => {
      const closed = 2.07 + (0 - 2.07) * (0.5 + 0.5 * erf(zi / (Math.SQRT2 * 5)));
      worst = Math.max(worst, Math.abs(rho[i]! - closed));
    });
    expect(worst).toBeLessThanOrEqual(1e-13);
  });

  it('spans min(−10, offset − 3σ) to max(last offset + 10, offset + 3σ)', () => {
    const offsets = Float64Array.from([0, 50, 150]);
    const sigma = Float64Array.from([2, 30, 1]);
    const grid = profileGrid(offsets, sigma, 3);
    expect(grid.left).toBe(-40); // 50 − 3·30
    expect(grid.length).toBe(Math.ceil((160 + 0.05 + 40) / 0.1));
    const wide = profileGrid(offsets, Float64Array.from([20, 3, 40]), 3);
    expect(wide.left).toBe(-60);
    expect(wide.right).toBeCloseTo(270, 9);
  });

  it('uses a step where σ = 0', () => {
    const { z, rho } = smoothProfile(prepared([[2.07, 0, 0, 0], [4, 0, 20, 0], [0, 0, 0, 0]]));
    z.forEach((zi, i) => expect(rho[i]).toBe(zi >= 20 ? 0 : zi >= 0 ? 4 : 2.07));
  });
});

describe('resampledProfile', () => {
  const stacks = [
    [[2.07, 0, 0, 3], [3.2, 0, 12, 1.1], [5.2, 0.1, 274, 91], [0, 0, 0, 0]],
    [[-0.56, 0, 0, 0], [6.3, 0, 40, 0.4], [1, 0, 3, 0], [2, 0, 90, 60], [6.36, 0, 0, 0]],
    [[2.07, 0, 0, 140], [0, 0, 0, 0]],
  ];
  for (const points of [900, 37, 2]) {
    it(`equals np.interp of the full profile onto linspace(z0, z_end, ${points})`, () => {
      for (const rows of stacks) {
        const stack = prepared(rows);
        const full = smoothProfile(stack);
        const z = new Float64Array(points);
        const rho = new Float64Array(points);
        resampledProfile(stack, points, z, rho);
        const expectedZ = linspace(full.z[0]!, full.z[full.z.length - 1]!, points);
        expect(Array.from(z)).toEqual(Array.from(expectedZ));
        // Same grid values, same interpolation: the bracketing evaluation is exact, not approximate.
        expect(Array.from(rho)).toEqual(Array.from(expectedZ, (x) => interp(x, full.z, full.rho)));
      }
    });
  }
});
