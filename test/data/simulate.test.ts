import { describe, expect, it } from 'vitest';
import { simulateModel } from '../../src/data/simulate.js';
import { erf } from '../../src/physics/erf.js';
import { maxAbsoluteError, maxRelativeError } from '../helpers/compare.js';
import { runPythonJson } from '../helpers/python.js';

const layers = [
  { sld: 2.07, thickness: 0, roughness: 3 },
  { sld: 4.0, isld: 0.02, thickness: 100, roughness: 5 },
  { sld: 0, thickness: 0, roughness: 0 },
];

describe('simulateModel (reflectkit simulate)', () => {
  it('uses pyreflect’s defaults: 308-point grid, 900-point profile in refl1d’s frame', () => {
    const out = simulateModel({ layers });
    expect(Object.keys(out)).toEqual(['q', 'R', 'z', 'sld']);
    expect(out.q).toHaveLength(308);
    expect(out.R).toHaveLength(308);
    expect(out.z).toHaveLength(900);
    expect(out.z[0]).toBe(-10); // not shifted: z = 0 is the substrate interface, the range starts at −10
    // At z = −10 the substrate/film interface (σ = 3) has not quite settled: 2.07 + 1.93·β(−10).
    expect(out.sld[0]).toBeCloseTo(2.07 + (4 - 2.07) * (0.5 + 0.5 * erf(-10 / (Math.SQRT2 * 3))), 14);
  });
  it('agrees with refl1d for an explicit grid, resolution, background and scale', () => {
    const model = { layers, q: [0.01, 0.02, 0.05, 0.1, 0.15], qResolution: 0.05, background: 2e-7, scale: 0.9, profilePoints: 50 };
    const out = simulateModel(model);
    const reference = runPythonJson<{ results: Array<{ r_final: number[]; z: number[]; sld: number[] }> }>('refl1d_oracle.py', {
      cases: [{ ...model, layers: layers.map((l) => ({ isld: 0, ...l })) }],
    }).results[0]!;
    expect(maxRelativeError(out.R, reference.r_final)).toBeLessThanOrEqual(1e-10);
    expect(maxAbsoluteError(out.z, reference.z)).toBeLessThanOrEqual(1e-10);
    expect(maxAbsoluteError(out.sld, reference.sld)).toBeLessThanOrEqual(1e-10);
  });
  const bad: Array<[string, unknown, string, string]> = [
    ['a missing layer list', {}, 'INVALID_LAYERS', 'layers'],
    ['an unknown key', { layers, qres: 0.1 }, 'INVALID_CONFIG', ''],
    ['a negative roughness', { layers: [layers[0], { ...layers[1], roughness: -1 }, layers[2]] }, 'INVALID_LAYERS', 'layers[1].roughness'],
    ['unsorted Q', { layers, q: [0.02, 0.01] }, 'INVALID_Q', 'q[1]'],
    ['max ≤ min', { layers, q: { min: 0.1, max: 0.05 } }, 'INVALID_Q', 'q.max'],
    ['zero points', { layers, q: { points: 0 } }, 'INVALID_CONFIG', 'q.points'],
    ['a string', 'layers', 'INVALID_CONFIG', ''],
  ];
  for (const [what, model, code, path] of bad) {
    it(`rejects ${what} (${code} at ${path || 'the root'})`, () => {
      expect(() => simulateModel(model)).toThrowError(expect.objectContaining({ code, path }));
    });
  }
});
