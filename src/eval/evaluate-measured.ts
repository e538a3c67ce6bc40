import { ReflectkitError } from '../errors.js';
import type { TrainingHistory } from '../nn/checkpoint.js';
import { interpolateOntoGrid } from '../preprocess/interpolate.js';
import { straightenDepth } from './depth.js';
import type { EvaluationPhysics } from './evaluate.js';
import { nrOptionsOf, trainingSummary } from './evaluate.js';
import { chiSquaredData, chiSquaredLog, relativeError } from './metrics.js';
import { computeNrFromSld } from './nr-from-sld.js';
import { predictSld, type SldPredictor } from './predict.js';
import type { EvaluationResult } from './result.js';

/** A measured curve: Q (Å⁻¹), R, and optionally dR (1 σ) and the resolution dQ (1 σ, Å⁻¹). */
export interface MeasuredInput {
  /** Q of each point, Å⁻¹, > 0, non-decreasing; length M. */
  q: ArrayLike<number>;
  /** Measured reflectivity R at each Q (unitless); length M. */
  r: ArrayLike<number>;
  /** 1-σ uncertainty of R; length M (null or absent: none, χ² falls back to log10 differences). */
  dr?: ArrayLike<number> | null;
  /** 1-σ Q resolution of each point, Å⁻¹; length M (null or absent: the physics' `qResolution`). */
  dqSigma?: ArrayLike<number> | null;
  /** File name or label, recorded in the result's `source`. */
  label?: string;
}

/** Options of {@link evaluateMeasured}. */
export interface EvaluateMeasuredOptions {
  /** The model's Q grid, Å⁻¹ (the grid of its training curves), length = the model's input points. */
  modelQ: ArrayLike<number>;
  /** The backend that runs the model (recorded in the result). */
  backend: string;
  /** Model id or name (recorded; default null). */
  modelId?: string | null;
  /** Training history to include (the result's `training`). */
  history?: TrainingHistory;
  /**
   * Physics of the NR computed back: media (default: estimated from the predicted profile's ends), scale,
   * background; `qResolution` is used only when the data carry no dQ.
   */
  physics?: EvaluationPhysics;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/**
 * Predicts the SLD profile behind a measured curve and checks it against the data: the curve is
 * interpolated onto the model's Q grid in log Q / log R (grid points outside the measured range are
 * clamped to the nearest measured value and reported, never extrapolated), the model predicts the
 * profile, and R(Q) is computed back from it **at the measured Q points with the measured resolution**
 * (dQ from the file when present). χ² is the mean of ((R_c − R)/dR)² over the measured points inside the
 * model's Q range with dR > 0 (or, without dR, the mean squared log10 difference).
 *
 * @throws ReflectkitError `INVALID_Q` for a bad model grid, `BAD_SHAPE` when it does not match the model.
 */
export function evaluateMeasured(model: SldPredictor, measured: MeasuredInput, options: EvaluateMeasuredOptions): EvaluationResult {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const timing: Record<string, number> = {};
  const points = model.cnn.config.inputPoints;
  if (options.modelQ.length !== points) {
    throw new ReflectkitError('BAD_SHAPE', `the model grid has ${options.modelQ.length} points, the model takes ${points}`, { path: 'modelQ', expected: `${points} Q values` });
  }
  let t = now();
  const onGrid = interpolateOntoGrid({ q: measured.q, r: measured.r, dr: measured.dr ?? null }, options.modelQ);
  timing.interpolation = (now() - t) / 1000;

  t = now();
  const predicted = predictSld(model, { q: options.modelQ, r: onGrid.r });
  const p = model.cnn.config.outputPoints;
  const z = straightenDepth(predicted.data.subarray(0, p));
  const sld = Array.from(predicted.data.subarray(p, 2 * p));
  timing.prediction = (now() - t) / 1000;

  t = now();
  const physics = options.physics ?? {};
  const dq = measured.dqSigma ?? null;
  const nr = computeNrFromSld(
    { z, sld, order: 'substrate-to-air' },
    { q: measured.q, ...nrOptionsOf(physics, dq === null), ...(dq === null ? {} : { dq, dqIs: 'sigma' as const }) },
  );
  timing.nrFromSld = (now() - t) / 1000;

  const computed = Array.from(nr.reflectivity);
  const reference = Array.from(measured.r);
  const qMin = options.modelQ[0]!;
  const qMax = options.modelQ[options.modelQ.length - 1]!;
  const use = Array.from(measured.q, (q) => (q >= qMin && q <= qMax ? 1 : 0));
  const dr = measured.dr ?? null;
  const inRange = (values: number[]) => values.filter((_, i) => use[i] === 1);
  const chi2 = dr === null ? chiSquaredLog(inRange(computed), inRange(reference)) : chiSquaredData(computed, reference, dr, use);
  timing.total = (now() - start) / 1000;
  return {
    nr: { q: Array.from(measured.q), groundTruth: reference, computed, ...(dr === null ? {} : { groundTruthError: Array.from(dr) }) },
    sld: { z: Array.from(z), groundTruth: null, predicted: sld, predictedZ: Array.from(z) },
    training: trainingSummary(options.history),
    chi: [],
    metrics: {
      mse: null,
      mae: null,
      r2: null,
      normalized: null,
      curves: 0,
      perCurve: { mse: [], mae: [], r2: [] },
      chi2,
      chi2Weighted: dr !== null,
      nrRelativeError: relativeError(inRange(computed), inRange(reference)),
    },
    timing,
    backend: options.backend,
    modelId: options.modelId ?? null,
    source: {
      kind: 'measured',
      label: measured.label ?? 'measured data',
      outsideFraction: onGrid.outsideFraction,
      pointsBelow: onGrid.pointsBelow,
      pointsAbove: onGrid.pointsAbove,
    },
  };
}
