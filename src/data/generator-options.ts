import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { DEFAULT_Q_RESOLUTION } from '../physics/constants.js';
import { DEFAULT_Q_GRID, LEGACY_Q_GRID, logspaceQ } from '../physics/qgrid.js';
import { autoLayerBound, autoLayerDesc, legacyLayerBound, legacyLayerDesc } from '../sample/defaults.js';
import type { LayerBound, LayerDesc } from '../sample/layers.js';
import type { SeededRandom } from '../sample/random.js';
import type { SamplingMethod } from '../sample/sampler.js';
import { validateBounds, validateLayers } from '../sample/validate.js';
import { parseOrThrow } from '../util/zod-errors.js';

/** Progress of a generation run. */
export interface GenerationProgress {
  /** Curves finished. */
  done: number;
  /** Curves requested. */
  total: number;
}

/**
 * Options of `ReflectivityDataGenerator`. pyreflect's constructor arguments (`num_layers`, `layer_desc`,
 * `layer_bound`) keep their meaning; everything else is optional with pyreflect's defaults.
 */
export interface GeneratorOptions {
  /**
   * Number of film layers (pyreflect's `num_layers`; default 5). With 5 and neither `layerDesc` nor
   * `layerBound`, pyreflect's legacy 8-layer model is used (its description, 19 bounds and Q grid).
   * Otherwise a missing `layerDesc` or `layerBound` is generated as pyreflect's `ReflectivityModel`
   * does for this many film layers.
   */
  numLayers?: number;
  /** Layer model (pyreflect's `layer_desc`): substrate first, incident medium last. Never modified. */
  layerDesc?: readonly LayerDesc[];
  /** Sampled parameters (pyreflect's `layer_bound`). An empty list gives N copies of `layerDesc`. */
  layerBound?: readonly LayerBound[];
  /** Seed, an integer in [0, 2³²). Default: drawn at random and reported in {@link ResolvedGeneratorModel.seed}. */
  seed?: number;
  /** Explicit Q grid, Å⁻¹, strictly increasing, > 0 (excludes `qMin`/`qMax`/`numQ`). */
  q?: ArrayLike<number>;
  /** First Q of a log-spaced grid, Å⁻¹ (default 0.0081, legacy model 0.008101436…). */
  qMin?: number;
  /** Last Q, Å⁻¹ (default 0.1975, legacy model 0.19757…). */
  qMax?: number;
  /** Number of Q points (default 308). */
  numQ?: number;
  /** Relative resolution dQ/Q, FWHM, as pyreflect (default 0.0294855); 0 turns smearing off. */
  qResolution?: number;
  /** pyreflect's `scale`: multiplies the smeared curve and the background (default 1). */
  scale?: number;
  /** Background added to the smeared curve before scaling (default 0). */
  background?: number;
  /** Resampled profile length P (default 900). */
  profilePoints?: number;
  /** Parameter sampling (default `lhs`; `uniform` for the legacy model, as pyreflect). */
  sampling?: SamplingMethod;
  /** Worker threads (Node entry point only; 0 computes in the calling thread). */
  workers?: number;
  /** Curves per task handed to a worker or computed between progress reports (default: N/(8·threads), within 32…1024). */
  chunkSize?: number;
  /** Called after each finished chunk. */
  onProgress?: (progress: GenerationProgress) => void;
  /** Cancels a run: it stops after the chunks in flight and rejects with code `ABORTED`. */
  signal?: AbortSignal;
}

/** A validated, fully resolved model: what a run actually uses (serialisable as JSON). */
export interface ResolvedGeneratorModel {
  /** True when pyreflect's legacy 5-film-layer model was selected. */
  legacy: boolean;
  /** Film layers (pyreflect's `num_layers`). */
  numLayers: number;
  /** Layer model, substrate first. */
  layers: LayerDesc[];
  /** Sampled parameters in column order. */
  bounds: LayerBound[];
  /** Q grid, Å⁻¹. */
  q: number[];
  /** Relative FWHM resolution. */
  qResolution: number;
  /** pyreflect's scale. */
  scale: number;
  /** Background. */
  background: number;
  /** Profile points P. */
  profilePoints: number;
  /** Sampling method. */
  sampling: SamplingMethod;
  /** The seed in use. */
  seed: number;
}

const optionsSchema = z.strictObject({
  numLayers: z.number().int().min(0).max(1000).optional(),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  qMin: z.number().positive().optional(),
  qMax: z.number().positive().optional(),
  numQ: z.number().int().min(2).max(1_000_000).optional(),
  qResolution: z.number().min(0).max(1).optional(),
  scale: z.number().positive().optional(),
  background: z.number().min(0).optional(),
  profilePoints: z.number().int().min(2).max(1_000_000).optional(),
  sampling: z.enum(['lhs', 'uniform']).optional(),
  workers: z.number().int().min(0).max(1024).optional(),
  chunkSize: z.number().int().min(1).max(1_000_000).optional(),
});

/** What {@link validateQArray} accepts beyond its defaults. */
export interface QArrayRules {
  /** Fewest points (default 2, a grid to simulate on). */
  minPoints?: number;
  /** Whether a Q may repeat its predecessor (default false: strictly increasing). Measured data stitched from several angles repeat Q. */
  allowRepeats?: boolean;
}

/**
 * Validates Q values: at least `minPoints` finite values, all > 0, strictly increasing (non-decreasing with
 * `allowRepeats`).
 *
 * @param path JSON path of the array, used in errors (`q[3]`).
 * @returns a Float64Array copy.
 * @throws ReflectkitError `INVALID_Q`.
 */
export function validateQArray(q: ArrayLike<number>, path = 'q', rules: QArrayRules = {}): Float64Array {
  const minPoints = rules.minPoints ?? 2;
  const allowRepeats = rules.allowRepeats ?? false;
  if (q === null || typeof q !== 'object' || typeof q.length !== 'number') {
    throw new ReflectkitError('INVALID_Q', 'Q must be an array of numbers', { path, expected: 'an array of Q values in Å⁻¹' });
  }
  if (q.length < minPoints) {
    throw new ReflectkitError('INVALID_Q', `Q has ${q.length} point(s)`, { path, expected: `at least ${minPoints} point${minPoints === 1 ? '' : 's'}` });
  }
  const out = new Float64Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const v = q[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ReflectkitError('INVALID_Q', `Q[${i}] is ${v !== null && typeof v === 'object' ? 'an object' : String(v)}`, { path: `${path}[${i}]`, expected: 'a finite number > 0 (Å⁻¹)', received: v });
    }
    if (i > 0 && (allowRepeats ? v < out[i - 1]! : v <= out[i - 1]!)) {
      throw new ReflectkitError('INVALID_Q', `Q[${i}] = ${v} ${allowRepeats ? 'is below' : 'does not exceed'} Q[${i - 1}] = ${out[i - 1]}`, {
        path: `${path}[${i}]`,
        expected: allowRepeats ? 'non-decreasing Q' : 'strictly increasing Q',
        received: v,
      });
    }
    out[i] = v;
  }
  return out;
}

function resolveQ(options: GeneratorOptions, legacy: boolean): Float64Array {
  const defaults = legacy ? LEGACY_Q_GRID : DEFAULT_Q_GRID;
  if (options.q !== undefined) {
    for (const key of ['qMin', 'qMax', 'numQ'] as const) {
      if (options[key] !== undefined) {
        throw new ReflectkitError('INVALID_Q', `give either q or ${key}, not both`, { path: key, expected: 'no qMin/qMax/numQ with an explicit q' });
      }
    }
    return validateQArray(options.q);
  }
  const qMin = options.qMin ?? defaults.qMin;
  const qMax = options.qMax ?? defaults.qMax;
  const numQ = options.numQ ?? defaults.numQ;
  if (!(qMax > qMin)) {
    throw new ReflectkitError('INVALID_Q', `qMax ${qMax} is not above qMin ${qMin}`, { path: 'qMax', expected: 'qMax > qMin', received: qMax });
  }
  return logspaceQ(qMin, qMax, numQ);
}

/**
 * Validates generator options and resolves pyreflect's model selection and defaults.
 *
 * @param random stream used only for pyreflect's random auto description (film values that bounds then
 *   overwrite), and only when no `layerDesc` is given.
 * @throws ReflectkitError with code `INVALID_OPTION`, `INVALID_LAYERS`, `INVALID_BOUNDS` or `INVALID_Q`.
 */
export function resolveGeneratorModel(options: GeneratorOptions, seed: number, random: SeededRandom): ResolvedGeneratorModel {
  if (options === null || typeof options !== 'object') {
    throw new ReflectkitError('INVALID_OPTION', 'options must be an object', { path: '', expected: 'an options object' });
  }
  const { layerDesc, layerBound, q: _q, onProgress, signal, ...numeric } = options;
  void _q;
  parseOrThrow(optionsSchema, numeric, 'INVALID_OPTION');
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new ReflectkitError('INVALID_OPTION', 'onProgress is not a function', { path: 'onProgress', expected: 'a function' });
  }
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal)) {
    throw new ReflectkitError('INVALID_OPTION', 'signal is not an AbortSignal', { path: 'signal', expected: 'an AbortSignal' });
  }
  const numLayers = options.numLayers ?? 5;
  const legacy = numLayers === 5 && layerDesc === undefined && layerBound === undefined;
  let layers: LayerDesc[];
  let bounds: LayerBound[];
  if (legacy) {
    layers = legacyLayerDesc();
    bounds = legacyLayerBound();
  } else {
    layers =
      layerDesc !== undefined
        ? validateLayers(layerDesc, 'layerDesc')
        : autoLayerDesc(numLayers, () => random.uniform(), (lo, hi) => random.integer(lo, hi));
    if (layerBound !== undefined) {
      bounds = validateBounds(layerBound, layers.length, 'layerBound');
    } else {
      if (layers.length < numLayers + 3) {
        throw new ReflectkitError('INVALID_LAYERS', `automatic bounds for ${numLayers} film layers vary layers 0 to ${numLayers + 1}, but layerDesc has ${layers.length} layers`, {
          path: 'layerDesc',
          expected: `at least ${numLayers + 3} layers (substrate, SiOx, ${numLayers} film layers, air), or explicit layerBound`,
        });
      }
      bounds = autoLayerBound(numLayers);
    }
  }
  const q = resolveQ(options, legacy);
  return {
    legacy,
    numLayers,
    layers,
    bounds,
    q: Array.from(q),
    qResolution: options.qResolution ?? DEFAULT_Q_RESOLUTION,
    scale: options.scale ?? 1,
    background: options.background ?? 0,
    profilePoints: options.profilePoints ?? 900,
    sampling: options.sampling ?? (legacy ? 'uniform' : 'lhs'),
    seed,
  };
}
