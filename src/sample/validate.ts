import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { parseOrThrow } from '../util/zod-errors.js';
import { LAYER_PARAMETERS, type LayerBound, type LayerDesc } from './layers.js';

const finite = z.number();

/** Schema of one `layer_desc` entry (unknown keys are dropped). */
export const layerDescSchema = z.object({
  sld: finite,
  isld: finite.min(0).optional(),
  thickness: finite.min(0),
  roughness: finite.min(0),
  name: z.string().optional(),
});

/** Schema of a layer list: at least two layers (substrate and incident medium). */
export const layerListSchema = z.array(layerDescSchema).min(2);

/** Schema of one `layer_bound` entry. */
export const layerBoundSchema = z.object({
  i: z.number().int().min(0),
  par: z.enum(LAYER_PARAMETERS),
  bounds: z.tuple([finite, finite]),
});

/** Schema of a bound list. */
export const layerBoundListSchema = z.array(layerBoundSchema);

/**
 * Validates a layer list (pyreflect `layer_desc`). Returns a deep copy with `isld` defaulted to 0; the
 * input is never modified.
 *
 * @throws ReflectkitError `INVALID_LAYERS` with the path of the offending field.
 */
export function validateLayers(layers: unknown, root = 'layers'): LayerDesc[] {
  const parsed = parseOrThrow(layerListSchema, layers, 'INVALID_LAYERS', root);
  return parsed.map((layer) => ({
    ...(layer.name === undefined ? {} : { name: layer.name }),
    sld: layer.sld,
    isld: layer.isld ?? 0,
    thickness: layer.thickness,
    roughness: layer.roughness,
  }));
}

/**
 * Validates bounds (pyreflect `layer_bound`) against a layer list of `layerCount` layers: indices in
 * range, lo ≤ hi, thickness, roughness and isld bounds ≥ 0.
 *
 * @throws ReflectkitError `INVALID_BOUNDS` with the path of the offending field.
 */
export function validateBounds(bounds: unknown, layerCount: number, root = 'layerBound'): LayerBound[] {
  const parsed = parseOrThrow(layerBoundListSchema, bounds, 'INVALID_BOUNDS', root);
  parsed.forEach((bound, k) => {
    if (bound.i >= layerCount) {
      throw new ReflectkitError('INVALID_BOUNDS', `layer index ${bound.i} is outside the layer list`, {
        path: `${root}[${k}].i`,
        expected: `an index from 0 to ${layerCount - 1}`,
        received: bound.i,
      });
    }
    const [lo, hi] = bound.bounds;
    if (lo > hi) {
      throw new ReflectkitError('INVALID_BOUNDS', `lower bound ${lo} is above upper bound ${hi}`, {
        path: `${root}[${k}].bounds`,
        expected: 'lo ≤ hi',
        received: bound.bounds,
      });
    }
    if (bound.par !== 'sld' && lo < 0) {
      throw new ReflectkitError('INVALID_BOUNDS', `${bound.par} cannot be negative`, {
        path: `${root}[${k}].bounds`,
        expected: `bounds ≥ 0 for ${bound.par}`,
        received: bound.bounds,
      });
    }
  });
  return parsed.map((b) => ({ i: b.i, par: b.par, bounds: [b.bounds[0], b.bounds[1]] }));
}
