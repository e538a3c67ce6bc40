/**
 * Synthetic evaluation results for the report tests: a Fresnel-like reflectivity with film fringes, a
 * two-step SLD profile, a decaying training history and the 50 `chi` points; and a measured-data variant
 * (dR, R ≤ 0 points, no true SLD, no history).
 */
import type { EvaluationResult } from '../../src/eval/result.js';

/** A small deterministic generator (LCG) in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/** Fresnel reflectivity of silicon with the fringes of a 250 Å film, smeared a little. */
function reflectivity(q: number, thickness = 250, qc = 0.0102): number {
  if (q <= qc) return 1;
  const s = Math.sqrt(q * q - qc * qc);
  const fresnel = ((q - s) / (q + s)) ** 2;
  return fresnel * (1 + 0.6 * Math.cos(q * thickness) * Math.exp(-q * 8));
}

/** Two steps (film 1 then 2, substrate 2.07) smoothed with tanh. */
function sld(z: number): number {
  const step = (z0: number, w: number): number => 0.5 * (1 + Math.tanh((z - z0) / w));
  return 3.5 * step(20, 4) + 1.2 * step(150, 6) - 2.63 * step(270, 5);
}

export const Q_POINTS = 308;
export const PROFILE_POINTS = 900;
export const EPOCHS = 20;

/** A synthetic test-split result. */
export function syntheticResult(overrides: Partial<EvaluationResult> = {}): EvaluationResult {
  const rand = lcg(7);
  const q = linspace(0.008, 0.2, Q_POINTS);
  const groundTruth = q.map((qq) => reflectivity(qq));
  const computed = q.map((qq) => reflectivity(qq, 243) * (1 + 0.04 * (rand() - 0.5)));
  const z = linspace(-20, 430, PROFILE_POINTS);
  const trueSld = z.map(sld);
  // The model's own depth axis: a straight line a little off the true one.
  const predictedZ = linspace(-18, 436, PROFILE_POINTS);
  const predicted = predictedZ.map((zz, i) => sld(zz * 1.02 - 3) + 0.06 * Math.sin(i / 40) + 0.03 * (rand() - 0.5));
  const epochs = Array.from({ length: EPOCHS }, (_, i) => i + 1);
  const trainingLoss = epochs.map((e) => 0.05 * Math.exp(-e / 4) + 0.002 + 0.0005 * rand());
  const validationLoss = epochs.map((e) => 0.06 * Math.exp(-e / 4.5) + 0.003 + 0.0008 * rand());
  const chi = linspace(0, PROFILE_POINTS - 1, 50).map((v, x) => {
    const index = Math.floor(v);
    return { x, index, z: z[index]!, predicted: predicted[index]!, actual: trueSld[index]! };
  });
  return {
    nr: { q, groundTruth, computed },
    sld: { z, groundTruth: trueSld, predicted, predictedZ },
    training: { epochs, trainingLoss, validationLoss },
    chi,
    metrics: {
      mse: 0.012345,
      mae: 0.0678,
      r2: 0.98731,
      normalized: { mse: 0.00123, mae: 0.0211, r2: 0.98612 },
      curves: 150,
      perCurve: { mse: [0.01, 0.02, 0.005], mae: [0.05, 0.07, 0.04], r2: [0.99, 0.95, 0.991] },
      chi2: 0.004321,
      chi2Weighted: false,
      nrRelativeError: { median: 0.0312, max: 0.4567 },
    },
    timing: { prediction: 0.0421, nrFromSld: 0.315, metrics: 0.0123, total: 0.4 },
    backend: 'wasm',
    modelId: 'cnn-2layer-seed7',
    source: { kind: 'test-split', datasetIndex: 1234, testCurves: 150 },
    ...overrides,
  };
}

/** A measured-data result: dR error bars, three R ≤ 0 points and a NaN, no true SLD, no history, no chi. */
export function measuredResult(): EvaluationResult {
  const base = syntheticResult();
  const rand = lcg(11);
  const q = linspace(0.01, 0.18, 120);
  const truth = q.map((qq) => reflectivity(qq));
  const groundTruthError = truth.map((r) => 0.03 * r + 1.5e-7 * (1 + rand()));
  const groundTruth = truth.map((r, i) => r + groundTruthError[i]! * (rand() - 0.5) * 1.5);
  groundTruth[115] = -1e-8;
  groundTruth[117] = 0;
  groundTruth[119] = -3e-9;
  groundTruth[40] = Number.NaN;
  return {
    ...base,
    nr: { q, groundTruth, computed: q.map((qq) => reflectivity(qq, 246)), groundTruthError },
    sld: { z: base.sld.z, groundTruth: null, predicted: base.sld.predicted, predictedZ: base.sld.z },
    training: { epochs: [], trainingLoss: [], validationLoss: [] },
    chi: [],
    metrics: {
      mse: null,
      mae: null,
      r2: null,
      normalized: null,
      curves: 0,
      perCurve: { mse: [], mae: [], r2: [] },
      chi2: 1.87,
      chi2Weighted: true,
      nrRelativeError: { median: 0.08, max: 1.3 },
    },
    source: { kind: 'measured', label: 'sample_A.ort', outsideFraction: 0.125, pointsBelow: 12, pointsAbove: 27 },
  };
}
