import { z } from 'zod';
import type { NrArray, SldArray } from '../data/dataset.js';
import { ReflectkitError } from '../errors.js';
import { parseOrThrow } from '../util/zod-errors.js';
import { compose, identity, log10Clip, minMax, zScore, type AxisMoments, type AxisRange, type Transform } from './transforms.js';

/** Min and max of the two rows of a curve array: x (Q or z) and y (R after the log, or SLD). */
export interface CurveStats {
  /** Range of row 0: Q (Å⁻¹) for NR, z (Å) for SLD. */
  x: AxisRange;
  /** Range of row 1: log10 R (after clipping; R itself when `logNr` is false) for NR, SLD (10⁻⁶ Å⁻²) for SLD. */
  y: AxisRange;
}

/** pyreflect's normalisation stats layout (its `normalization_stat.npy` dict). */
export interface PyreflectStats {
  /** Ranges of the reflectivity curves `(N, 2, Q)`: Q and (log10) R. */
  nr: CurveStats;
  /** Ranges of the SLD profiles `(N, 2, P)`: z and SLD. */
  sld: CurveStats;
}

/** Mean and standard deviation of the two rows of a curve array (z-score normalisation). */
export interface CurveMoments {
  /** Moments of row 0: Q (Å⁻¹) for NR, z (Å) for SLD. */
  x: AxisMoments;
  /** Moments of row 1: log10 R (after clipping; R itself when `logNr` is false) for NR, SLD (10⁻⁶ Å⁻²) for SLD. */
  y: AxisMoments;
}

/** How each axis is scaled: `minmax` to [0, 1] (pyreflect's) or `zscore` to mean 0 and standard deviation 1. */
export type NormalizationMethod = 'minmax' | 'zscore';

/** Everything needed to reproduce a scaler, as JSON. */
export interface ScalerStats extends PyreflectStats {
  /** Format tag. */
  format: 'reflectkit-scaler';
  /** Format version. */
  version: 1;
  /** Whether R goes through log10(clip(R, clipMin)) before scaling (pyreflect: yes). */
  logNr: boolean;
  /** The clip floor of the log transform. */
  clipMin: number;
  /** How the axes are scaled (absent in files of reflectkit ≤ 0.1: `minmax`). */
  normalization?: NormalizationMethod;
  /** Means and standard deviations of the axes (after the log), present with `normalization: 'zscore'`. */
  moments?: {
    /** Moments of the reflectivity curves: Q and (log10) R. */
    nr: CurveMoments;
    /** Moments of the SLD profiles: z and SLD. */
    sld: CurveMoments;
  };
}

const range = z.strictObject({ min: z.number(), max: z.number() }).refine((r) => r.max >= r.min, 'max must be ≥ min');
const curveStats = z.strictObject({ x: range, y: range });
const pyreflectSchema = z.object({ nr: curveStats, sld: curveStats });
const moments = z.strictObject({ mean: z.number(), std: z.number().min(0) });
const curveMoments = z.strictObject({ x: moments, y: moments });
const statsSchema = z
  .strictObject({
    format: z.literal('reflectkit-scaler'),
    version: z.literal(1),
    logNr: z.boolean(),
    clipMin: z.number().positive(),
    normalization: z.enum(['minmax', 'zscore']).optional(),
    moments: z.strictObject({ nr: curveMoments, sld: curveMoments }).optional(),
    nr: curveStats,
    sld: curveStats,
  })
  .refine((s) => s.normalization !== 'zscore' || s.moments !== undefined, { message: 'z-score statistics need their moments', path: ['moments'] });

/** Min/max of row `channel` of the selected curves of a `(N, 2, L)` array, after `transform`. */
function channelRange(array: NrArray | SldArray, rows: ArrayLike<number>, channel: 0 | 1, transform: Transform): AxisRange {
  const [, , length] = array.shape as [number, number, number];
  const data = array.data;
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < rows.length; r++) {
    const base = (rows[r]! * 2 + channel) * length;
    for (let k = 0; k < length; k++) {
      const v = transform.forward(data[base + k]!);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new ReflectkitError('BAD_SHAPE', 'cannot fit a scaler on empty or non-finite data', {
      path: channel === 0 ? 'x' : 'y',
      expected: 'at least one curve of finite values',
    });
  }
  return { min, max };
}

/** Mean and population standard deviation of row `channel` of the selected curves, after `transform` (two passes, float64). */
function channelMoments(array: NrArray | SldArray, rows: ArrayLike<number>, channel: 0 | 1, transform: Transform): AxisMoments {
  const [, , length] = array.shape as [number, number, number];
  const data = array.data;
  const pass = (f: (v: number) => number): number => {
    let sum = 0;
    for (let r = 0; r < rows.length; r++) {
      const base = (rows[r]! * 2 + channel) * length;
      for (let k = 0; k < length; k++) sum += f(transform.forward(data[base + k]!));
    }
    return sum / (rows.length * length);
  };
  const mean = pass((v) => v);
  return { mean, std: Math.sqrt(pass((v) => (v - mean) * (v - mean))) };
}

function allRows(array: NrArray | SldArray): Uint32Array {
  return Uint32Array.from({ length: array.shape[0]! }, (_, i) => i);
}

function checkCurves(array: NrArray | SldArray, name: string): [number, number] {
  const [n, two, length] = array.shape as [number, number, number];
  if (array.shape.length !== 3 || two !== 2 || !(length > 0)) {
    throw new ReflectkitError('BAD_SHAPE', `${name} has shape (${array.shape.join(', ')})`, { path: name, expected: '(N, 2, L)' });
  }
  return [n, length];
}

/**
 * pyreflect's preprocessing as an invertible object: NR y → log10(clip(R, 1e-8)) → min-max, NR x and
 * both SLD rows → min-max, with one global min and max per axis (not per point); or, with
 * `normalization: 'zscore'`, one global mean and standard deviation per axis instead. The CNN input is the
 * normalised log-R row `(N, 1, Q)`; the target is the normalised `(N, 2, P)` SLD, z row included.
 *
 * Unlike pyreflect, which fits on the whole dataset before splitting, {@link NrSldScaler.fit} takes the
 * rows to fit on, so the statistics can come from the training split alone.
 */
export class NrSldScaler {
  private readonly nrX: Transform;
  private readonly nrY: Transform;
  private readonly sldX: Transform;
  private readonly sldY: Transform;

  /** @param stats - The fitted statistics, as saved in a model folder's scaler JSON. */
  private constructor(readonly stats: ScalerStats) {
    const log = stats.logNr ? log10Clip(stats.clipMin) : identity;
    const m = stats.normalization === 'zscore' ? stats.moments : undefined;
    this.nrX = m ? zScore(m.nr.x) : minMax(stats.nr.x);
    this.nrY = compose(log, m ? zScore(m.nr.y) : minMax(stats.nr.y));
    this.sldX = m ? zScore(m.sld.x) : minMax(stats.sld.x);
    this.sldY = m ? zScore(m.sld.y) : minMax(stats.sld.y);
  }

  /**
   * Fits the statistics on `rows` of a dataset (default: all rows).
   *
   * @param nr reflectivity curves `(N, 2, Q)`: Q (Å⁻¹) and R.
   * @param sld SLD profiles `(N, 2, P)`: z (Å) and SLD (10⁻⁶ Å⁻²).
   * @param options.rows row indices to fit on, e.g. the training split (default all N).
   * @param options.clipMin floor of R before log10 (default 1e-8, pyreflect's).
   * @param options.logNr whether R goes through log10(clip(R)) before scaling (default true).
   * @param options.normalization `minmax` (default, pyreflect's) or `zscore`: each axis to mean 0 and standard
   *   deviation 1 over the fitted rows, one mean and one deviation per axis (min and max are kept too).
   * @throws ReflectkitError `BAD_SHAPE` for arrays that are not `(N, 2, L)` or hold non-finite values.
   */
  static fit(
    nr: NrArray,
    sld: SldArray,
    options: { rows?: ArrayLike<number>; clipMin?: number; logNr?: boolean; normalization?: NormalizationMethod } = {},
  ): NrSldScaler {
    checkCurves(nr, 'nr');
    checkCurves(sld, 'sld');
    const clipMin = options.clipMin ?? 1e-8;
    const logNr = options.logNr ?? true;
    const rows = options.rows ?? allRows(nr);
    const normalization = options.normalization ?? 'minmax';
    if (normalization !== 'minmax' && normalization !== 'zscore') {
      throw new ReflectkitError('INVALID_OPTION', `normalization ${String(normalization)}`, { path: 'normalization', expected: 'minmax or zscore', received: normalization });
    }
    const log = logNr ? log10Clip(clipMin) : identity;
    const stats: ScalerStats = {
      format: 'reflectkit-scaler',
      version: 1,
      logNr,
      clipMin,
      normalization,
      nr: { x: channelRange(nr, rows, 0, identity), y: channelRange(nr, rows, 1, log) },
      sld: { x: channelRange(sld, rows, 0, identity), y: channelRange(sld, rows, 1, identity) },
    };
    if (normalization === 'zscore') {
      stats.moments = {
        nr: { x: channelMoments(nr, rows, 0, identity), y: channelMoments(nr, rows, 1, log) },
        sld: { x: channelMoments(sld, rows, 0, identity), y: channelMoments(sld, rows, 1, identity) },
      };
    }
    return new NrSldScaler(stats);
  }

  /** A scaler from {@link ScalerStats} JSON. @throws ReflectkitError `INVALID_CONFIG`. */
  static fromJSON(json: unknown): NrSldScaler {
    return new NrSldScaler(parseOrThrow(statsSchema, json, 'INVALID_CONFIG', 'stats') as ScalerStats);
  }

  /** A scaler from pyreflect's `{nr: {x, y}, sld: {x, y}}` stats (log10 with clip 1e-8, as pyreflect). */
  static fromPyreflect(json: unknown, clipMin = 1e-8): NrSldScaler {
    const stats = parseOrThrow(pyreflectSchema, json, 'INVALID_CONFIG', 'stats');
    return new NrSldScaler({ format: 'reflectkit-scaler', version: 1, logNr: true, clipMin, normalization: 'minmax', nr: stats.nr, sld: stats.sld });
  }

  /** The JSON form (round-trips through {@link NrSldScaler.fromJSON}). */
  toJSON(): ScalerStats {
    return structuredClone(this.stats);
  }

  /** How the axes are scaled. */
  get normalization(): NormalizationMethod {
    return this.stats.normalization ?? 'minmax';
  }

  /**
   * pyreflect's layout, for `normalization_stat.npy` exports: the min and max of each axis. pyreflect scales
   * by min-max only, so for a z-score scaler these stats do not reproduce the model's normalisation.
   */
  toPyreflect(): PyreflectStats {
    return { nr: structuredClone(this.stats.nr), sld: structuredClone(this.stats.sld) };
  }

  /**
   * The CNN input: normalised log R of the selected curves, `(rows, 1, Q)` flattened, float32.
   *
   * @throws ReflectkitError `BAD_SHAPE` for an array that is not `(N, 2, Q)`.
   */
  modelInput(nr: NrArray, rows: ArrayLike<number> = allRows(nr)): Float32Array {
    const [, length] = checkCurves(nr, 'nr');
    const out = new Float32Array(rows.length * length);
    const data = nr.data;
    for (let r = 0; r < rows.length; r++) {
      const base = (rows[r]! * 2 + 1) * length;
      for (let k = 0; k < length; k++) out[r * length + k] = this.nrY.forward(data[base + k]!);
    }
    return out;
  }

  /** The CNN target: normalised z and SLD of the selected profiles, `(rows, 2, P)` flattened, float32. */
  modelTarget(sld: SldArray, rows: ArrayLike<number> = allRows(sld)): Float32Array {
    const [, length] = checkCurves(sld, 'sld');
    const out = new Float32Array(rows.length * 2 * length);
    const data = sld.data;
    for (let r = 0; r < rows.length; r++) {
      const base = rows[r]! * 2 * length;
      for (let k = 0; k < length; k++) {
        out[(2 * r) * length + k] = this.sldX.forward(data[base + k]!);
        out[(2 * r + 1) * length + k] = this.sldY.forward(data[base + length + k]!);
      }
    }
    return out;
  }

  /** Inverts {@link NrSldScaler.modelTarget}: model output `(count, 2, P)` → z (Å) and SLD (10⁻⁶ Å⁻²). */
  sldFromModel(output: Float32Array, count: number): Float32Array {
    const length = output.length / (2 * count);
    if (!Number.isInteger(length) || length < 1) {
      throw new ReflectkitError('BAD_SHAPE', `${output.length} values are not (${count}, 2, P)`, { path: 'output', expected: `a multiple of ${2 * count}` });
    }
    const out = new Float32Array(output.length);
    for (let r = 0; r < count; r++) {
      for (let k = 0; k < length; k++) {
        out[2 * r * length + k] = this.sldX.inverse(output[2 * r * length + k]!);
        out[(2 * r + 1) * length + k] = this.sldY.inverse(output[(2 * r + 1) * length + k]!);
      }
    }
    return out;
  }

  /** One SLD value (10⁻⁶ Å⁻²) in the model's normalised units (the map of the target's SLD row). */
  normalizeSld(value: number): number {
    return this.sldY.forward(value);
  }

  /** Inverts {@link NrSldScaler.modelInput}: normalised log R `(count, Q)` → R (clipped values come back as the clip floor). */
  reflectivityFromModelInput(input: Float32Array): Float64Array {
    return Float64Array.from(input, (u) => this.nrY.inverse(u));
  }
}
