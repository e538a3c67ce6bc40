import { describe, expect, it } from 'vitest';
import { allocatePreparedStack, prepareStack, reflectionAmplitude, reflectivitySquared, type SlabStack } from '../../src/physics/abeles.js';
import { linspace } from '../../src/physics/qgrid.js';
import { maxRelativeError } from '../helpers/compare.js';
import { runPython } from '../helpers/python.js';

/** Stack from rows [sld, isld, thickness, roughness], substrate first. */
function stack(rows: number[][]): SlabStack {
  return {
    sld: rows.map((r) => r[0]!),
    isld: rows.map((r) => r[1]!),
    thickness: rows.map((r) => r[2]!),
    roughness: rows.map((r) => r[3]!),
  };
}

function R(rows: number[][], q: number[]): Float64Array {
  const prepared = prepareStack(stack(rows), allocatePreparedStack(rows.length));
  return reflectivitySquared(prepared, q, new Float64Array(q.length));
}

const RHO_SI = 2.07;
const QC = Math.sqrt(16 * Math.PI * 1e-6 * RHO_SI); // 0.010200468062147635 Å⁻¹

describe('bare substrate (Fresnel), physics.md §9.1', () => {
  const rows = [
    [RHO_SI, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  it('has the critical edge refl1d has', () => {
    expect(QC).toBeCloseTo(0.010200468062147635, 17);
  });

  it('reflects totally below Q_c', () => {
    const q = Array.from(linspace(0.001, 0.0101, 50));
    for (const r of R(rows, q)) expect(Math.abs(r - 1)).toBeLessThanOrEqual(1e-15);
  });

  it('follows ((Q − Q′)/(Q + Q′))² above Q_c', () => {
    const q = Array.from(linspace(0.0103, 0.3, 200));
    const fresnel = q.map((x) => {
      const qp = Math.sqrt(x * x - QC * QC);
      return ((x - qp) / (x + qp)) ** 2;
    });
    expect(maxRelativeError(R(rows, q), fresnel)).toBeLessThanOrEqual(1e-14);
  });

  it('matches the values refl1d gives', () => {
    const q = [0.011, 0.02, 0.05, 0.1, 0.1975];
    const expected = [0.20730382263312058, 0.0056514348295323416, 1.1293913951930488e-4, 6.837494151062477e-6, 4.459145715437634e-7];
    expect(maxRelativeError(R(rows, q), expected)).toBeLessThanOrEqual(1e-13);
  });
});

describe('single rough interface σ = 5 Å, §9.2', () => {
  const smooth = [
    [RHO_SI, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  const rough = [
    [RHO_SI, 0, 0, 5],
    [0, 0, 0, 0],
  ];
  it('damps by exp(−Q·Q′·σ²) above Q_c (the Névot–Croce factor)', () => {
    const q = Array.from(linspace(0.0105, 0.2, 100));
    const r0 = R(smooth, q);
    const ratio = Array.from(R(rough, q), (r, i) => r / r0[i]!);
    const expected = q.map((x) => Math.exp(-x * Math.sqrt(x * x - QC * QC) * 25));
    expect(maxRelativeError(ratio, expected)).toBeLessThanOrEqual(1e-13);
  });
  it('stays at R = 1 below Q_c and matches refl1d values', () => {
    for (const r of R(rough, [0.005, 0.009])) expect(Math.abs(r - 1)).toBeLessThanOrEqual(1e-15);
    const expected = [0.20706924596883539, 1.0623605229874376e-4, 1.6838830100368612e-7];
    expect(maxRelativeError(R(rough, [0.011, 0.05, 0.1975]), expected)).toBeLessThanOrEqual(1e-13);
  });
});

describe('Airy single film, §9.4', () => {
  it('matches the closed form r = (r01 + r12·e^{−2ik₁d}) / (1 + r01·r12·e^{−2ik₁d})', () => {
    const q = Array.from(linspace(0.011, 0.3, 300));
    const c = 4 * Math.PI * 1e-6;
    const closed = q.map((x) => {
      const kz = x / 2;
      const k0 = kz;
      const k1sq = kz * kz - c * 4; // relative to air
      const k2sq = kz * kz - c * RHO_SI;
      // all real above both critical edges used here? film ρ = 4 has Q_c ≈ 0.01418; handle complex generally
      const sqrtC = (re: number): [number, number] => (re >= 0 ? [Math.sqrt(re), 0] : [0, -Math.sqrt(-re)]);
      const [k1r, k1i] = sqrtC(k1sq);
      const [k2r, k2i] = sqrtC(k2sq);
      const div = (ar: number, ai: number, br: number, bi: number): [number, number] => {
        const d = br * br + bi * bi;
        return [(ar * br + ai * bi) / d, (ai * br - ar * bi) / d];
      };
      const mul = (ar: number, ai: number, br: number, bi: number): [number, number] => [ar * br - ai * bi, ar * bi + ai * br];
      const r01 = div(k0 - k1r, -k1i, k0 + k1r, k1i);
      const r12 = div(k1r - k2r, k1i - k2i, k1r + k2r, k1i + k2i);
      // e^{−2ik₁d} = e^{2 k1i d}·(cos(−2 k1r d) + i sin(−2 k1r d))
      const d = 100;
      const mag = Math.exp(2 * k1i * d);
      const phase: [number, number] = [mag * Math.cos(-2 * k1r * d), mag * Math.sin(-2 * k1r * d)];
      const t = mul(r12[0], r12[1], phase[0], phase[1]);
      const num: [number, number] = [r01[0] + t[0], r01[1] + t[1]];
      const u = mul(r01[0], r01[1], t[0], t[1]);
      const r = div(num[0], num[1], 1 + u[0], u[1]);
      return r[0] * r[0] + r[1] * r[1];
    });
    const rows = [
      [RHO_SI, 0, 0, 0],
      [4, 0, 100, 0],
      [0, 0, 0, 0],
    ];
    expect(maxRelativeError(R(rows, q), closed)).toBeLessThanOrEqual(1e-12);
  });

  it('matches refl1d values, with no clamp at R > 1', () => {
    const rows = [
      [RHO_SI, 0, 0, 0],
      [4, 0, 100, 0],
      [0, 0, 0, 0],
    ];
    const got = R(rows, [0.005, 0.011, 0.05, 0.1975]);
    // Below the critical edge refl1d gives 1.0000000000000004: total reflection to rounding, unclamped.
    expect(Math.abs(got[0]! - 1.0000000000000004)).toBeLessThanOrEqual(2.3e-15);
    expect(maxRelativeError(got.subarray(1), [0.35448472962315392, 5.1039426982472751e-4, 9.9371252351288111e-7])).toBeLessThanOrEqual(1e-13);
    const absorbing = [
      [RHO_SI, 0, 0, 3],
      [4, 0.05, 100, 8],
      [0, 0, 0, 0],
    ];
    expect(maxRelativeError(R(absorbing, [0.005, 0.05]), [0.9910184945207674, 4.5358711405878881e-4])).toBeLessThanOrEqual(1e-13);
  });
});

describe('invariances, §9.3', () => {
  const q = Array.from(linspace(0.005, 0.25, 400));
  const base = [
    [RHO_SI, 0, 0, 3],
    [3.5, 0.01, 120, 6],
    [1.2, 0, 80, 9],
    [0, 0, 0, 0],
  ];
  it('(a) splitting a film into two slabs of the same SLD changes nothing', () => {
    const split = [
      [RHO_SI, 0, 0, 3],
      [3.5, 0.01, 50, 17],
      [3.5, 0.01, 70, 6],
      [1.2, 0, 80, 9],
      [0, 0, 0, 0],
    ];
    expect(maxRelativeError(R(split, q), R(base, q))).toBeLessThanOrEqual(1e-13);
  });
  it('(b) a zero-thickness slab is invisible when all neighbouring σ are 0, and not when they are 5 (Névot–Croce does not compose)', () => {
    const sharp = [
      [RHO_SI, 0, 0, 0],
      [3.5, 0, 120, 0],
      [0, 0, 0, 0],
    ];
    const inserted = [
      [RHO_SI, 0, 0, 0],
      [3.5, 0, 120, 0],
      [6, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    expect(maxRelativeError(R(inserted, q), R(sharp, q))).toBeLessThanOrEqual(1e-13);
    const roughInserted = inserted.map((r, i) => (i < 3 ? [r[0]!, r[1]!, r[2]!, 5] : r));
    const roughSharp = sharp.map((r, i) => (i < 2 ? [r[0]!, r[1]!, r[2]!, 5] : r));
    // refl1d gives 7.14e-7 here too: far above rounding (1e-13), so the slab is visible.
    expect(maxRelativeError(R(roughInserted, q), R(roughSharp, q))).toBeGreaterThan(1e-7);
  });
  it('(c) a film with the incident medium’s SLD is invisible at any thickness and top roughness', () => {
    const bare = [
      [RHO_SI, 0, 0, 4],
      [0, 0, 0, 0],
    ];
    for (const [d, s] of [
      [10, 0],
      [250, 30],
    ]) {
      const film = [
        [RHO_SI, 0, 0, 4],
        [0, 0, d!, s!],
        [0, 0, 0, 0],
      ];
      expect(maxRelativeError(R(film, q), R(bare, q))).toBeLessThanOrEqual(1e-13);
    }
  });
  it('(d) irho sign, incident-medium irho, end thicknesses and the last interface change no bit', () => {
    const reference = R(base, q);
    const variants = [
      base.map((r) => [r[0]!, -r[1]!, r[2]!, r[3]!]),
      base.map((r, i) => (i === 3 ? [r[0]!, 0.3, r[2]!, r[3]!] : r)),
      base.map((r, i) => (i === 0 ? [r[0]!, r[1]!, 77, r[3]!] : i === 3 ? [r[0]!, r[1]!, 55, 9] : r)),
    ];
    for (const v of variants) expect(Array.from(R(v, q))).toEqual(Array.from(reference));
  });
});

describe('beam direction and the cutoff, §2 and §9.5', () => {
  const rows = [
    [RHO_SI, 0.02, 0, 3],
    [4.2, 0.05, 60, 7],
    [-0.5, 0, 140, 11],
    [1.1, 0.1, 33, 2],
    [6.3, 0, 0, 0],
  ];
  it('kernel(−kz, stack) equals kernel(+kz, reversed stack), bit for bit', () => {
    const n = rows.length;
    const reversed = rows.map((_, r) => {
      const src = rows[n - 1 - r]!;
      const roughness = r < n - 1 ? rows[n - 2 - r]![3]! : 0;
      return [src[0]!, src[1]!, src[2]!, roughness];
    });
    const kz = Array.from(linspace(0.002, 0.15, 300));
    const negative = kz.map((k) => -k);
    const a = prepareStack(stack(rows), allocatePreparedStack(n));
    const b = prepareStack(stack(reversed), allocatePreparedStack(n));
    const [re1, im1, re2, im2] = [0, 1, 2, 3].map(() => new Float64Array(kz.length)) as [Float64Array, Float64Array, Float64Array, Float64Array];
    reflectionAmplitude(a, negative, re1, im1);
    reflectionAmplitude(b, kz, re2, im2);
    expect(Array.from(re1)).toEqual(Array.from(re2));
    expect(Array.from(im1)).toEqual(Array.from(im2));
  });
  it('gives r = −1 for |kz| < 1e-10', () => {
    const a = prepareStack(stack(rows), allocatePreparedStack(rows.length));
    const re = new Float64Array(3);
    const im = new Float64Array(3);
    reflectionAmplitude(a, [0, 5e-11, -9e-11], re, im);
    expect(Array.from(re)).toEqual([-1, -1, -1]);
    expect(Array.from(im)).toEqual([0, 0, 0]);
  });
});

describe('the complex amplitude against refl1d’s own kernel (refnx’s check, kz = +Q/2)', () => {
  it('agrees within 1e-11 on depth [0,100,200,0], ρ [2.07,3.45,5,6], irho [0,0.1,0.01,0], σ [3,1,5]', () => {
    const q = Array.from(linspace(0.005, 0.5, 1001));
    const code = [
      'import json, numpy as np',
      'from refl1d.sample.reflectivity import reflectivity_amplitude',
      'q = np.linspace(0.005, 0.5, 1001)',
      'r = reflectivity_amplitude(kz=q/2, depth=[0,100,200,0], rho=[2.07,3.45,5,6], irho=[0,0.1,0.01,0], sigma=[3,1,5])',
      'print(json.dumps({"re": r.real.tolist(), "im": r.imag.tolist()}))',
    ].join('\n');
    const reference = JSON.parse(runPython(code)) as { re: number[]; im: number[] };
    const prepared = prepareStack(
      { sld: [2.07, 3.45, 5, 6], isld: [0, 0.1, 0.01, 0], thickness: [0, 100, 200, 0], roughness: [3, 1, 5, 0] },
      allocatePreparedStack(4),
    );
    const re = new Float64Array(q.length);
    const im = new Float64Array(q.length);
    reflectionAmplitude(prepared, q.map((x) => x / 2), re, im);
    const modulus = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (x, i) => Math.hypot(x, b[i]!));
    const diff = Array.from(re, (x, i) => Math.hypot(x - reference.re[i]!, im[i]! - reference.im[i]!));
    const scale = modulus(reference.re, reference.im);
    expect(Math.max(...diff.map((d, i) => d / scale[i]!))).toBeLessThanOrEqual(1e-11);
  });
});
