import { ReflectkitError } from '../errors.js';
import type { GeneratorOptions } from './generator-options.js';

/** A generation job read from JSON (`reflectkit generate --config`). */
export interface GeneratorConfig {
  /** Curves to generate. */
  numCurves: number;
  /** Generator options (layers, bounds, grid, seed, …). */
  options: GeneratorOptions;
}

/** Accepted spellings of each option: ours first, then pyreflect's and the web interface's. */
const ALIASES: Record<string, readonly string[]> = {
  numCurves: ['numCurves', 'num_curves'],
  numLayers: ['numLayers', 'numFilmLayers', 'num_layers'],
  layerDesc: ['layerDesc', 'layers', 'layer_desc'],
  layerBound: ['layerBound', 'layer_bound', 'parameters'],
  seed: ['seed'],
  qResolution: ['qResolution', 'q_resolution'],
  scale: ['scale'],
  background: ['background'],
  profilePoints: ['profilePoints', 'sldOutputPoints'],
  sampling: ['sampling'],
  workers: ['workers'],
  chunkSize: ['chunkSize'],
  qMin: ['qMin'],
  qMax: ['qMax'],
  numQ: ['numQ', 'numQPoints'],
};

/**
 * Reads a generation config. Accepts our option names, pyreflect's (`num_curves`, `num_layers`,
 * `layer_desc`, `layer_bound`) and the web interface's request body (`layers`, and a `generator` object
 * with `numCurves`, `numFilmLayers`, `layerBound`). `q` is an array of values or `{min, max, points}`.
 * Unknown keys are errors, so a typo is not silently ignored.
 *
 * @throws ReflectkitError `INVALID_CONFIG` naming the field.
 */
export function parseGeneratorConfig(json: unknown, defaultCurves = 1000): GeneratorConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ReflectkitError('INVALID_CONFIG', 'a generation config must be a JSON object', { path: '', expected: 'an object' });
  }
  const source: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  const nested = source.generator;
  delete source.generator;
  const sections: Array<[string, Record<string, unknown>]> = [['', source]];
  if (nested !== undefined) {
    if (nested === null || typeof nested !== 'object' || Array.isArray(nested)) {
      throw new ReflectkitError('INVALID_CONFIG', 'generator must be an object', { path: 'generator', expected: 'an object' });
    }
    sections.push(['generator.', nested as Record<string, unknown>]);
  }
  const found: Record<string, { value: unknown; path: string }> = {};
  let q: { value: unknown; path: string } | undefined;
  for (const [prefix, section] of sections) {
    for (const [key, value] of Object.entries(section)) {
      if (value === null || value === undefined) continue;
      const path = prefix + key;
      if (key === 'q') {
        q = { value, path };
        continue;
      }
      const option = Object.keys(ALIASES).find((name) => ALIASES[name]!.includes(key));
      if (option === undefined) {
        throw new ReflectkitError('INVALID_CONFIG', `unknown key ${JSON.stringify(key)}`, {
          path,
          expected: `one of ${Object.values(ALIASES).flat().concat('q', 'generator').join(', ')}`,
        });
      }
      const earlier = found[option];
      if (earlier !== undefined) {
        throw new ReflectkitError('INVALID_CONFIG', `${path} repeats ${earlier.path}`, { path, expected: 'each option once' });
      }
      found[option] = { value, path };
    }
  }
  const options: Record<string, unknown> = {};
  for (const [option, { value }] of Object.entries(found)) {
    if (option !== 'numCurves') options[option] = value;
  }
  if (q !== undefined) {
    if (Array.isArray(q.value)) options.q = q.value;
    else if (typeof q.value === 'object' && q.value !== null) {
      const grid = q.value as Record<string, unknown>;
      for (const key of Object.keys(grid)) {
        if (!['min', 'max', 'points'].includes(key)) {
          throw new ReflectkitError('INVALID_CONFIG', `unknown key ${JSON.stringify(key)}`, { path: `${q.path}.${key}`, expected: 'min, max or points' });
        }
      }
      if (grid.min !== undefined) options.qMin = grid.min;
      if (grid.max !== undefined) options.qMax = grid.max;
      if (grid.points !== undefined) options.numQ = grid.points;
    } else {
      throw new ReflectkitError('INVALID_CONFIG', 'q must be an array or {min, max, points}', { path: q.path, expected: 'an array or an object' });
    }
  }
  const numCurves = found.numCurves?.value ?? defaultCurves;
  if (typeof numCurves !== 'number' || !Number.isSafeInteger(numCurves) || numCurves < 1) {
    throw new ReflectkitError('INVALID_CONFIG', `numCurves ${JSON.stringify(numCurves)} is not usable`, {
      path: found.numCurves?.path ?? 'numCurves',
      expected: 'a positive integer',
    });
  }
  return { numCurves, options: options as GeneratorOptions };
}
