/**
 * Elementwise transforms that compose and invert. Each maps one axis of a curve array (Q, R, z or SLD).
 */
export interface Transform {
  /** A short description, e.g. `log10(clip(v, 1e-8))` or `minmax[0.1, 2.5]`. */
  readonly name: string;
  /** The transform. */
  forward(value: number): number;
  /** Its inverse (on the transform's range). */
  inverse(value: number): number;
}

/** `log10(max(v, min))`, pyreflect's transform of R; inverse `10^v`. */
export function log10Clip(min = 1e-8): Transform {
  if (!(min > 0) || !Number.isFinite(min)) throw new RangeError(`clip minimum must be a finite number > 0, got ${min}`);
  return {
    name: `log10(clip(v, ${min}))`,
    forward: (v) => Math.log10(v > min ? v : min),
    inverse: (v) => 10 ** v,
  };
}

/** A closed range of one axis, in that axis's units (after any earlier transform). */
export interface AxisRange {
  /** Lower end (maps to 0 under {@link minMax}). */
  min: number;
  /** Upper end (maps to 1 under {@link minMax}); ≥ `min`. */
  max: number;
}

/**
 * Min-max scaling to [0, 1]: `(v − min)/(max − min)`; inverse `u·(max − min) + min`. A constant axis
 * (max = min) maps to 0 and back to min, instead of dividing by zero.
 */
export function minMax(range: AxisRange): Transform {
  const span = range.max - range.min;
  const scale = span > 0 ? span : 0;
  return {
    name: `minmax[${range.min}, ${range.max}]`,
    forward: (v) => (scale > 0 ? (v - range.min) / scale : 0),
    inverse: (u) => u * scale + range.min,
  };
}

/** Mean and standard deviation of one axis, in that axis's units (after any earlier transform). */
export interface AxisMoments {
  /** Mean (maps to 0 under {@link zScore}). */
  mean: number;
  /** Population standard deviation (ddof 0, as scikit-learn's StandardScaler), ≥ 0. */
  std: number;
}

/**
 * Z-score standardisation: `(v − mean)/std`; inverse `u·std + mean`. A constant axis (std = 0) maps to 0 and
 * back to the mean, instead of dividing by zero.
 */
export function zScore(moments: AxisMoments): Transform {
  const scale = moments.std > 0 ? moments.std : 0;
  return {
    name: `zscore[${moments.mean}, ${moments.std}]`,
    forward: (v) => (scale > 0 ? (v - moments.mean) / scale : 0),
    inverse: (u) => u * scale + moments.mean,
  };
}

/** The identity. */
export const identity: Transform = { name: 'identity', forward: (v) => v, inverse: (v) => v };

/** `second ∘ first`: forward applies `first` then `second`; inverse undoes them in reverse order. */
export function compose(first: Transform, second: Transform): Transform {
  return {
    name: `${second.name} ∘ ${first.name}`,
    forward: (v) => second.forward(first.forward(v)),
    inverse: (v) => first.inverse(second.inverse(v)),
  };
}
