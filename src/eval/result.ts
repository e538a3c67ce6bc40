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
  normalized: {
    /** Mean squared error, normalised units². */
    mse: number;
    /** Mean absolute error, normalised units. */
    mae: number;
    /** Coefficient of determination (unitless, can be negative). */
    r2: number;
  };
  /** Number of curves measured. */
  curves: number;
}

/**
 * The metrics of an evaluation. `mse`, `mae`, `r2` and `normalized` are those of {@link SldErrorMetrics}
 * over the whole test split, or null for measured data (no true SLD).
 */
export interface EvaluationMetrics {
  /** Mean squared error of the SLD row over the test split, (10⁻⁶ Å⁻²)²; null for measured data. */
  mse: number | null;
  /** Mean absolute error of the SLD row over the test split, 10⁻⁶ Å⁻²; null for measured data. */
  mae: number | null;
  /** R² of the SLD row over the test split (can be negative); null for measured data. */
  r2: number | null;
  /** The same three in the model's normalised (min-max) units; null for measured data. */
  normalized:
    | {
        /** Mean squared error, normalised units². */
        mse: number;
        /** Mean absolute error, normalised units. */
        mae: number;
        /** Coefficient of determination (unitless). */
        r2: number;
      }
    | null;
  /** Number of curves the SLD metrics cover (0 for measured data). */
  curves: number;
  /** Per-curve metrics over the evaluated set, in the set's order (physical units; empty for measured data). */
  perCurve: {
    /** MSE of each curve's SLD row, (10⁻⁶ Å⁻²)²; length N. */
    mse: number[];
    /** MAE of each curve's SLD row, 10⁻⁶ Å⁻²; length N. */
    mae: number[];
    /** R² of each curve's SLD row; length N. */
    r2: number[];
  };
  /**
   * χ² of the example's computed NR against its reference: mean over Q of
   * ((log10 R_computed − log10 R_ref)/σ)², with σ = dR/(R·ln 10) when the reference has dR (measured
   * data), else σ = 1 (a plain mean squared log10 difference). Null when no NR was computed.
   */
  chi2: number | null;
  /** Whether {@link chi2} is weighted by measured dR. */
  chi2Weighted: boolean;
  /** Median and largest relative difference |R_computed − R_ref|/R_ref of the example's NR. */
  nrRelativeError: {
    /** Median relative difference (a fraction). */
    median: number;
    /** Largest relative difference (a fraction). */
    max: number;
  } | null;
}

/** Where the example curve came from. */
export type EvaluationSource =
  | {
      /** The example is a row of the synthetic test split. */
      kind: 'test-split';
      /** Row of the example in the dataset given to `evaluate`. */
      datasetIndex: number;
      /** Number of curves in the test split. */
      testCurves: number;
    }
  | {
      /** The example is a measured curve interpolated onto the model's Q grid. */
      kind: 'measured';
      /** File name or label of the measured data. */
      label: string;
      /** Fraction of the model's Q grid outside the measured Q range (0 … 1). */
      outsideFraction: number;
      /** Model-grid points below the measured range (filled by clamping, not extrapolated). */
      pointsBelow: number;
      /** Model-grid points above the measured range (filled by clamping, not extrapolated). */
      pointsAbove: number;
    };

/** The evaluation result (JSON). */
export interface EvaluationResult {
  /** Reflectivity of the example: Q (Å⁻¹), reference R (ground truth or data), R computed from the predicted SLD. */
  nr: {
    /** Q, Å⁻¹ (the model's grid); length Q. */
    q: number[];
    /** Reference R: the true curve of the test-split row, or the measured data on the model grid; length Q. */
    groundTruth: number[];
    /** R computed from the predicted SLD profile (`computeNrFromSld`); length Q. */
    computed: number[];
    /** 1-σ uncertainty of the reference R, when it is measured data. */
    groundTruthError?: number[];
  };
  /** SLD profile of the example: real z (Å), true SLD (null for measured data), predicted SLD (10⁻⁶ Å⁻²). */
  sld: {
    /** Depth, Å; length P. */
    z: number[];
    /** True SLD at each z, 10⁻⁶ Å⁻²; null for measured data. */
    groundTruth: number[] | null;
    /** Predicted SLD at each z, 10⁻⁶ Å⁻²; length P. */
    predicted: number[];
    /** The depth axis the model predicted for its profile (its z row, made a straight line), Å; for synthetic data `z` is the true axis. */
    predictedZ: number[];
  };
  /** Training history, as the interface: epoch numbers from 1, mean batch loss and validation loss (normalised MSE). */
  training: {
    /** Epoch numbers, from 1. */
    epochs: number[];
    /** Mean training batch loss of each epoch (normalised MSE). */
    trainingLoss: number[];
    /** Validation loss of each epoch (normalised MSE). */
    validationLoss: number[];
  };
  /** 50 SLD points sampled at `floor(linspace(0, P − 1, 50))`, predicted against true (empty for measured data). */
  chi: SldComparisonPoint[];
  /** SLD metrics over the evaluated set and the example's NR χ² and relative error. */
  metrics: EvaluationMetrics;
  /** Seconds per phase (`prediction`, `nrFromSld`, `metrics`, …, `total`). */
  timing: Record<string, number>;
  /** The tfjs backend that ran the model. */
  backend: string;
  /** Model id (bundle name), if known. */
  modelId: string | null;
  /** Where the example curve came from (test split or measured data). */
  source: EvaluationSource;
}
