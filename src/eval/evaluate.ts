import { curveArray, type NrArray, type SldArray } from '../data/dataset.js';
import { ReflectkitError } from '../errors.js';
import type { TrainingHistory } from '../nn/checkpoint.js';
import type { Medium } from '../physics/microslab.js';
import { straightenDepth } from './depth.js';
import { chiSquaredLog, comparisonIndices, relativeError, sldErrorMetrics } from './metrics.js';
import { computeNrFromSld, type NrFromSldOptions } from './nr-from-sld.js';
import { predictSld, type SldPredictor } from './predict.js';
import type { EvaluationResult } from './result.js';

/** The physics the curves were generated with, so the NR computed back from a predicted SLD is comparable. */
export interface EvaluationPhysics {
  /** dQ/Q FWHM (default 0.0294855, the generator's). */
  qResolution?: number;
  /** The generator's scale, multiplying R + background (default 1). */
  scale?: number;
  /** The generator's background, added to the smeared R before scaling (default 0). */
  background?: number;
  /** Backing (substrate, layer 0) medium of the layer model when fixed: SLD in 10⁻⁶ Å⁻² or a {@link Medium}; else estimated from each profile's substrate end. */
  backing?: number | Medium;
  /** Fronting (incident, last layer) medium when fixed: SLD in 10⁻⁶ Å⁻² or a {@link Medium}; else estimated from each profile's fronting end. */
  fronting?: number | Medium;
}

/** Options of {@link evaluateTestSplit}. */
export interface EvaluateOptions {
  /** Training history to include (the interface's `training`). */
  history?: TrainingHistory;
  /** The backend that runs the model (recorded in the result). */
  backend: string;
  /** Model id or name (recorded). */
  modelId?: string | null;
  /** Generator physics (resolution, scale, background, media). */
  physics?: EvaluationPhysics;
  /** Which test curve is the example, as a position in `testRows` (default 0, the first test curve). */
  example?: number;
  /** Curves per forward pass. */
  batchSize?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

function rowOf(array: NrArray | SldArray, index: number, row: number): number[] {
  const length = array.shape[2]!;
  const out = new Array<number>(length);
  for (let k = 0; k < length; k++) out[k] = array.get(index, row, k);
  return out;
}

function gatherCurves(array: NrArray | SldArray, rows: ArrayLike<number>): Float32Array {
  const length = array.shape[2]!;
  const out = new Float32Array(rows.length * 2 * length);
  for (let r = 0; r < rows.length; r++) {
    for (let row = 0; row < 2; row++) for (let k = 0; k < length; k++) out[(2 * r + row) * length + k] = array.get(rows[r]!, row, k);
  }
  return out;
}

function emptyHistory(): EvaluationResult['training'] {
  return { epochs: [], trainingLoss: [], validationLoss: [] };
}

/**
 * The {@link computeNrFromSld} options a generator's physics implies (all but the Q grid); `withResolution:
 * false` leaves `qResolution` out, for curves that carry their own dQ.
 */
export function nrOptionsOf(physics: EvaluationPhysics, withResolution = true): Omit<NrFromSldOptions, 'q'> {
  return {
    ...(physics.qResolution === undefined || !withResolution ? {} : { qResolution: physics.qResolution }),
    ...(physics.scale === undefined ? {} : { scale: physics.scale }),
    ...(physics.background === undefined ? {} : { background: physics.background }),
    ...(physics.backing === undefined ? {} : { backing: physics.backing }),
    ...(physics.fronting === undefined ? {} : { fronting: physics.fronting }),
  };
}

/** The history in the interface's form (the trainer numbers epochs from 1). */
export function trainingSummary(history: TrainingHistory | undefined): EvaluationResult['training'] {
  if (history === undefined) return emptyHistory();
  return {
    epochs: [...history.epochs],
    trainingLoss: [...history.trainingLoss],
    validationLoss: [...history.validationLoss],
  };
}

/**
 * Evaluates a trained model on the test split of a dataset, the corrected form of what pyreflect's
 * interface returns: predicts every test curve's SLD, measures MSE, MAE and R² of the SLD over the whole
 * split (physical and normalised units, and per curve), and for one example curve **from the test split**
 * computes R(Q) back from the predicted profile ({@link computeNrFromSld}, with the generator's resolution)
 * and compares it with the curve (χ² in log R, relative error). The example's SLD is reported on its
 * real z axis.
 *
 * @param data the whole dataset, `(N, 2, Q)` curves and `(N, 2, P)` profiles, physical units.
 * @param testRows indices of the test split (from `splitIndices(...).test`).
 * @throws ReflectkitError `INVALID_OPTION` for an empty split or an example outside it, `BAD_SHAPE` for mismatched arrays.
 */
export function evaluateTestSplit(
  model: SldPredictor,
  data: { nr: NrArray; sld: SldArray },
  testRows: ArrayLike<number>,
  options: EvaluateOptions,
): EvaluationResult {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const n = data.nr.shape[0]!;
  if (testRows.length === 0) throw new ReflectkitError('INVALID_OPTION', 'the test split is empty', { path: 'testRows', expected: 'at least one test curve' });
  for (let i = 0; i < testRows.length; i++) {
    const r = testRows[i]!;
    if (!Number.isSafeInteger(r) || r < 0 || r >= n) {
      throw new ReflectkitError('INVALID_OPTION', `test row ${r} is outside the dataset`, { path: `testRows[${i}]`, expected: `an index in [0, ${n})`, received: r });
    }
  }
  if (data.sld.shape[0] !== n) throw new ReflectkitError('BAD_SHAPE', `${n} curves and ${data.sld.shape[0]} profiles`, { path: 'sld', expected: `${n} profiles` });
  const example = options.example ?? 0;
  if (!Number.isSafeInteger(example) || example < 0 || example >= testRows.length) {
    throw new ReflectkitError('INVALID_OPTION', `example ${example} is not a test curve`, { path: 'example', expected: `an integer in [0, ${testRows.length})`, received: example });
  }
  const timing: Record<string, number> = {};
  const points = data.sld.shape[2]!;

  let t = now();
  const curves = curveArray(gatherCurves(data.nr, testRows), testRows.length, data.nr.shape[2]!);
  const predicted = predictSld(model, curves, options.batchSize === undefined ? {} : { batchSize: options.batchSize });
  timing.prediction = (now() - t) / 1000;

  t = now();
  const truth = gatherCurves(data.sld, testRows);
  const sldMetrics = sldErrorMetrics(predicted.data, truth, testRows.length, (v) => model.scaler.normalizeSld(v));
  timing.metrics = (now() - t) / 1000;

  t = now();
  const datasetIndex = testRows[example]!;
  const q = rowOf(data.nr, datasetIndex, 0);
  const groundTruthR = rowOf(data.nr, datasetIndex, 1);
  const predictedZ = straightenDepth(rowOf(predicted, example, 0));
  const predictedSld = rowOf(predicted, example, 1);
  const physics = options.physics ?? {};
  const nr = computeNrFromSld(
    { z: predictedZ, sld: predictedSld, order: 'substrate-to-air' },
    { q, ...nrOptionsOf(physics) },
  );
  timing.nrFromSld = (now() - t) / 1000;

  const computed = Array.from(nr.reflectivity);
  const trueSld = rowOf(data.sld, datasetIndex, 1);
  const chi = comparisonIndices(points).map((index, x) => ({
    x,
    index,
    z: data.sld.get(datasetIndex, 0, index),
    predicted: predictedSld[index]!,
    actual: trueSld[index]!,
  }));
  timing.total = (now() - start) / 1000;
  return {
    nr: { q, groundTruth: groundTruthR, computed },
    sld: { z: rowOf(data.sld, datasetIndex, 0), groundTruth: trueSld, predicted: predictedSld, predictedZ: Array.from(predictedZ) },
    training: trainingSummary(options.history),
    chi,
    metrics: {
      mse: sldMetrics.mse,
      mae: sldMetrics.mae,
      r2: sldMetrics.r2,
      normalized: sldMetrics.normalized,
      curves: sldMetrics.curves,
      perCurve: sldMetrics.perCurve,
      chi2: chiSquaredLog(computed, groundTruthR),
      chi2Weighted: false,
      nrRelativeError: relativeError(computed, groundTruthR),
    },
    timing,
    backend: options.backend,
    modelId: options.modelId ?? null,
    source: { kind: 'test-split', datasetIndex, testCurves: testRows.length },
  };
}

/** What {@link physicsFromGenerator} reads of a generator model (`generation.json`'s `model`). */
export interface GeneratorPhysicsSource {
  /** The layer model (`layer_desc`), substrate first, incident medium last; only the SLDs are read. */
  layers: ReadonlyArray<{
    /** Real SLD, 10⁻⁶ Å⁻². */
    sld: number;
    /** Imaginary SLD, 10⁻⁶ Å⁻² (default 0). */
    isld?: number;
  }>;
  /** The sampled parameters (`layer_bound`); a medium whose SLD is sampled over a non-zero range is not fixed. */
  bounds: ReadonlyArray<{
    /** Layer index (0 = substrate). */
    i: number;
    /** Parameter name (`sld`, `isld`, `thickness`, `roughness`). */
    par: string;
    /** `[lo, hi]`, in the parameter's units (SLD 10⁻⁶ Å⁻², thickness and roughness Å). */
    bounds: readonly [number, number] | number[];
  }>;
  /** dQ/Q FWHM the curves were smeared with (default 0.0294855). */
  qResolution?: number;
  /** The generator's scale (default 1). */
  scale?: number;
  /** The generator's background (default 0). */
  background?: number;
}

/**
 * The physics of a generator model, for computing NR back from predicted profiles: its resolution, scale
 * and background, and its backing (layer 0) and fronting (last layer) media when their SLD is fixed (not
 * sampled, or sampled from a zero-width bound). Sampled media are left out, to be estimated per profile.
 */
export function physicsFromGenerator(model: GeneratorPhysicsSource): EvaluationPhysics {
  const fixed = (i: number): Medium | undefined => {
    const layer = model.layers[i];
    if (layer === undefined) return undefined;
    let sld = layer.sld;
    for (const b of model.bounds) {
      if (b.i !== i || b.par !== 'sld') continue;
      if (b.bounds[0] !== b.bounds[1]) return undefined;
      sld = b.bounds[0]!;
    }
    return { sld, isld: layer.isld ?? 0 };
  };
  const backing = fixed(0);
  const fronting = fixed(model.layers.length - 1);
  return {
    ...(model.qResolution === undefined ? {} : { qResolution: model.qResolution }),
    ...(model.scale === undefined ? {} : { scale: model.scale }),
    ...(model.background === undefined ? {} : { background: model.background }),
    ...(backing === undefined ? {} : { backing }),
    ...(fronting === undefined ? {} : { fronting }),
  };
}
