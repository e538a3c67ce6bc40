import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { DEFAULT_Q_RESOLUTION } from '../physics/constants.js';
import { ForwardModel } from '../physics/forward.js';
import { DEFAULT_Q_GRID, logspaceQ } from '../physics/qgrid.js';
import { layersToArrays, type LayerDesc } from '../sample/layers.js';
import { validateLayers } from '../sample/validate.js';
import { parseOrThrow } from '../util/zod-errors.js';
import { validateQArray } from './generator-options.js';

/**
 * One layer model to simulate (the JSON of `reflectkit simulate --model`). Every field but `layers` is
 * optional, with pyreflect's defaults.
 */
export interface SimulationModel {
  /** pyreflect `layer_desc`: substrate first, incident medium last. */
  layers: readonly LayerDesc[];
  /** Q grid: log-spaced `{min, max, points}` (Å⁻¹; default 0.0081, 0.1975, 308) or explicit values. */
  q?:
    | {
        /** Lowest Q, Å⁻¹ (default 0.0081). */
        min?: number;
        /** Highest Q, Å⁻¹ (default 0.1975). */
        max?: number;
        /** Number of log-spaced points (default 308). */
        points?: number;
      }
    | readonly number[];
  /** Relative resolution dQ/Q, FWHM (default 0.0294855); 0 disables smearing. */
  qResolution?: number;
  /** Background added after smearing (default 0). */
  background?: number;
  /** pyreflect's scale, applied after the background (default 1). */
  scale?: number;
  /** Points of the resampled profile (default 900). */
  profilePoints?: number;
}

/** The result of {@link simulateModel}. */
export interface SimulationOutput {
  /** Q, Å⁻¹. */
  q: number[];
  /** Final curve: scale·(resolution(|r|²) + background). */
  R: number[];
  /** Resampled depth, Å, refl1d's frame (z = 0 at the substrate interface; not shifted). */
  z: number[];
  /** Resampled SLD, 10⁻⁶ Å⁻². */
  sld: number[];
}

const modelSchema = z.strictObject({
  layers: z.unknown().optional(),
  q: z
    .union([
      z.strictObject({
        min: z.number().positive().optional(),
        max: z.number().positive().optional(),
        points: z.number().int().min(2).max(1_000_000).optional(),
      }),
      z.array(z.unknown()),
    ])
    .optional(),
  qResolution: z.number().min(0).max(1).optional(),
  background: z.number().min(0).optional(),
  scale: z.number().positive().optional(),
  profilePoints: z.number().int().min(2).max(1_000_000).optional(),
});

/**
 * Computes one curve and profile as pyreflect's `calculate_reflectivity` (refl1d physics), from the
 * JSON-shaped model that `reflectkit simulate` reads.
 *
 * @throws ReflectkitError `INVALID_CONFIG`, `INVALID_LAYERS` or `INVALID_Q` with the field's path.
 */
export function simulateModel(model: SimulationModel | unknown): SimulationOutput {
  if (model === null || typeof model !== 'object' || Array.isArray(model)) {
    throw new ReflectkitError('INVALID_CONFIG', 'the model must be a JSON object', { path: '', expected: '{"layers": [...], ...}' });
  }
  const parsed = parseOrThrow(modelSchema, model, 'INVALID_CONFIG');
  const layers = validateLayers(parsed.layers, 'layers');
  let q: Float64Array;
  if (Array.isArray(parsed.q)) {
    q = validateQArray(parsed.q as number[], 'q');
  } else {
    const grid = parsed.q ?? {};
    const min = grid.min ?? DEFAULT_Q_GRID.qMin;
    const max = grid.max ?? DEFAULT_Q_GRID.qMax;
    if (!(max > min)) {
      throw new ReflectkitError('INVALID_Q', `q.max ${max} is not above q.min ${min}`, { path: 'q.max', expected: 'max > min' });
    }
    q = logspaceQ(min, max, grid.points ?? DEFAULT_Q_GRID.numQ);
  }
  const forward = new ForwardModel({
    q,
    qResolution: parsed.qResolution ?? DEFAULT_Q_RESOLUTION,
    profilePoints: parsed.profilePoints ?? 900,
    maxLayers: layers.length,
  });
  const result = forward.simulate(layersToArrays(layers), parsed.scale ?? 1, parsed.background ?? 0);
  return {
    q: Array.from(result.q),
    R: Array.from(result.reflectivity),
    z: Array.from(result.z),
    sld: Array.from(result.sld),
  };
}
