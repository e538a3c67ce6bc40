/**
 * The result object of an evaluation: what pyreflect's web interface returned (`GenerateResponse`),
 * corrected (real z axis, an example curve from the test split, metrics that mean what they say), plus
 * timing, backend and model id. Plain JSON: every array is a `number[]`.
 */

/** One sampled SLD comparison point (the interface's misnamed `chi` list). */
export interface SldComparisonPoint {
  /** Index of the point in the sample, 0 … 49. */
  x: number;
  /** Index of the point in the profile, 0 … P − 1. */
  index: number;
  /** Depth z of the point, Å. */
  z: number;
  /** Predicted SLD, 10⁻⁶ Å⁻². */
  predicted: number;
  /** Ground-truth SLD, 10⁻⁶ Å⁻². */
  actual: number;
}

/** Error metrics of predicted against true SLD over some set of curves. */
export interface SldErrorMetrics {
  /** Mean squared error of the SLD channel, (10⁻⁶ Å⁻²)². */
  mse: number;
  /** Mean absolute error of the SLD channel, 10⁻⁶ Å⁻². */
  mae: number;
  /** Coefficient of determination 1 − SS_res/SS_tot of the SLD channel (can be negative). */
  r2: number;
  /** The same three in the model's normalised (min-max) units, SLD channel. */
  normalized: { mse: number; mae: number; r2: number };
  /** Number of curves measured. */
  curves: number;
}

/**
 * The metrics of an evaluation. `mse`, `mae`, `r2` and `normalized` are those of {@link SldErrorMetrics}
 * over the whole test split, or null for measured data (no true SLD).
 */
export interface EvaluationMetrics {
  mse: number | null;
  mae: number | null;
  r2: number | null;
  normalized: { mse: number; mae: number; r2: number } | null;
  /** Number of curves the SLD metrics cover (0 for measured data). */
  curves: number;
  /** Per-curve metrics over the evaluated set, in the set's order (physical units; empty for measured data). */
  perCurve: { mse: number[]; mae: number[]; r2: number[] };
  /**
   * χ² of the example's computed NR against its reference: mean over Q of
   * ((log10 R_computed − log10 R_ref)/σ)², with σ = dR/(R·ln 10) when the reference has dR (measured
   * data), else σ = 1 (a plain mean squared log10 difference). Null when no NR was computed.
   */
  chi2: number | null;
  /** Whether {@link chi2} is weighted by measured dR. */
  chi2Weighted: boolean;
  /** Median and largest relative difference |R_computed − R_ref|/R_ref of the example's NR. */
  nrRelativeError: { median: number; max: number } | null;
}

/** Where the example curve came from. */
export type EvaluationSource =
  | {
      kind: 'test-split';
      /** Row of the example in the dataset given to `evaluate`. */
      datasetIndex: number;
      /** Number of curves in the test split. */
      testCurves: number;
    }
  | {
      kind: 'measured';
      /** File name or label of the measured data. */
      label: string;
      /** Fraction of the model's Q grid outside the measured Q range (0 … 1). */
      outsideFraction: number;
      /** Model-grid points below and above the measured range (filled by clamping, not extrapolated). */
      pointsBelow: number;
      pointsAbove: number;
    };

/** The evaluation result (JSON). */
export interface EvaluationResult {
  /** Reflectivity of the example: Q (Å⁻¹), reference R (ground truth or data), R computed from the predicted SLD. */
  nr: {
    q: number[];
    groundTruth: number[];
    computed: number[];
    /** 1-σ uncertainty of the reference R, when it is measured data. */
    groundTruthError?: number[];
  };
  /** SLD profile of the example: real z (Å), true SLD (null for measured data), predicted SLD (10⁻⁶ Å⁻²). */
  sld: {
    z: number[];
    groundTruth: number[] | null;
    predicted: number[];
    /** The depth axis the model predicted for its profile (its z row, made a straight line), Å; for synthetic data `z` is the true axis. */
    predictedZ: number[];
  };
  /** Training history, as the interface: epoch numbers from 1, mean batch loss and validation loss (normalised MSE). */
  training: { epochs: number[]; trainingLoss: number[]; validationLoss: number[] };
  /** 50 SLD points sampled at `floor(linspace(0, P − 1, 50))`, predicted against true (empty for measured data). */
  chi: SldComparisonPoint[];
  metrics: EvaluationMetrics;
  /** Seconds per phase (`prediction`, `nrFromSld`, `metrics`, …, `total`). */
  timing: Record<string, number>;
  /** The tfjs backend that ran the model. */
  backend: string;
  /** Model id (bundle name), if known. */
  modelId: string | null;
  source: EvaluationSource;
}
