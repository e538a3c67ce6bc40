import { describe, expect, it } from 'vitest';
import { allocatePreparedStack, prepareStack, reflectivitySquared } from '../../src/physics/abeles.js';
import { LOG_RESLIMIT } from '../../src/physics/constants.js';
import { ForwardModel } from '../../src/physics/forward.js';
import { linspace, logspaceQ } from '../../src/physics/qgrid.js';
import { applyResolution, buildResolutionOperator, sigmaFromRelativeFwhm } from '../../src/physics/resolution.js';
import { maxRelativeError } from '../helpers/compare.js';
import { runPython } from '../helpers/python.js';

const q = logspaceQ(0.0081, 0.1975, 308);
const dq = sigmaFromRelativeFwhm(q, 0.0294855);

describe('sigmaFromRelativeFwhm', () => {
  it('is pyreflect’s dq = 0.0294855·q/2.355, σ/Q = 0.012520382165605096', () => {
    expect(dq[100]! / q[100]!).toBeCloseTo(0.012520382165605096, 15);
  });
});

describe('buildResolutionOperator / applyResolution (refl1d convolve_gaussian)', () => {
  const op = buildResolutionOperator(q, q, dq);

  it('returns a constant unchanged', () => {
    const out = applyResolution(op, new Float64Array(q.length).fill(0.37), new Float64Array(q.length));
    for (const v of out) expect(Math.abs(v - 0.37)).toBeLessThanOrEqual(2.2e-16 * 4);
  });

  it('is linear interpolation for dQ = 0, refl1d’s m·x + b form', () => {
    const zero = buildResolutionOperator(q, q, new Float64Array(q.length));
    const y = Float64Array.from(q, (x) => Math.exp(-40 * x));
    const out = applyResolution(zero, y, new Float64Array(q.length));
    expect(maxRelativeError(out, y)).toBeLessThanOrEqual(1e-13);
    // Off-grid output points interpolate between neighbours.
    const mid = Float64Array.from({ length: 10 }, (_, i) => (q[i]! + q[i + 1]!) / 2);
    const between = buildResolutionOperator(q, mid, new Float64Array(10));
    const got = applyResolution(between, y, new Float64Array(10));
    for (let i = 0; i < 10; i++) expect(got[i]).toBeCloseTo((y[i]! + y[i + 1]!) / 2, 15);
  });

  it('uses windows of ±√(−2σ²·ln 0.001) ≈ ±3.717σ, whole segments, clipped at the ends', () => {
    expect(Math.sqrt(-2 * LOG_RESLIMIT)).toBeCloseTo(3.7169221888498383, 14);
    const widths = Array.from({ length: q.length }, (_, o) => op.rowStart[o + 1]! - op.rowStart[o]!);
    expect(Math.min(...widths.slice(10, 290))).toBeGreaterThanOrEqual(9);
    expect(widths[0]).toBeLessThan(widths[150]!); // one-sided at the low end
    expect(widths[307]).toBeLessThan(widths[150]!);
  });

  it('matches refl1d’s convolve on an arbitrary curve and non-uniform widths', () => {
    const x = Array.from(linspace(0.01, 0.3, 120));
    const y = x.map((v, i) => Math.exp(-30 * v) * (1.2 + Math.sin(i)));
    const sigma = x.map((v, i) => (i % 17 === 0 ? 0 : 0.004 + 0.02 * v));
    const code = [
      'import json, sys, numpy as np',
      'from refl1d.lib.python.convolve import convolve_gaussian',
      'd = json.loads(sys.argv[1]); x = np.array(d["x"]); y = np.array(d["y"]); s = np.array(d["s"]); out = np.zeros_like(x)',
      'convolve_gaussian(x, y, x, s, out)',
      'print(json.dumps(out.tolist()))',
    ].join('\n');
    const reference = JSON.parse(runPython(code, [JSON.stringify({ x, y, s: sigma })])) as number[];
    const got = applyResolution(buildResolutionOperator(x, x, sigma), y, new Float64Array(x.length));
    expect(maxRelativeError(got, reference)).toBeLessThanOrEqual(1e-13);
  });

  it('gives 0.9·(1 + 1e-6) where the whole window is below Q_c (bare substrate, background 1e-6, scale 0.9)', () => {
    const model = new ForwardModel({ q });
    const out = model.simulate({ sld: [2.07, 0], isld: [0, 0], thickness: [0, 0], roughness: [0, 0] }, 0.9, 1e-6);
    // The first 18 points' windows end below Q_c (index 22); refl1d gives 0.9000009 there within 2 ulp.
    // The precomputed weights sum to 1 within a few ulp rather than being renormalised per curve, so
    // ours are within 4 ulp (≤ 4.5e-16).
    const below = Array.from(out.reflectivity.subarray(0, 18));
    expect(out.reflectivity[18]).toBeLessThan(0.89998);
    for (const v of below) expect(Math.abs(v - 0.9000009)).toBeLessThanOrEqual(4 * 1.12e-16);
  });

  it('writes with offsets and allocates nothing per call', () => {
    const prepared = prepareStack({ sld: [2.07, 4, 0], isld: [0, 0, 0], thickness: [0, 90, 0], roughness: [3, 4, 0] }, allocatePreparedStack(3));
    const r = reflectivitySquared(prepared, q, new Float64Array(q.length));
    const out = new Float64Array(3 * q.length);
    applyResolution(op, r, out, 0, q.length);
    expect(out[0]).toBe(0);
    expect(Array.from(out.subarray(q.length, 2 * q.length))).toEqual(Array.from(applyResolution(op, r, new Float64Array(q.length))));
  });
});
