import { describe, expect, it } from 'vitest';
import { parseGeneratorConfig } from '../../src/data/generator-config.js';
import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import { legacyLayerBound, legacyLayerDesc } from '../../src/sample/defaults.js';

describe('parseGeneratorConfig', () => {
  it('reads our names', () => {
    const c = parseGeneratorConfig({ numCurves: 12, numLayers: 2, seed: 3, q: { min: 0.01, max: 0.2, points: 50 }, qResolution: 0.03 });
    expect(c.numCurves).toBe(12);
    expect(c.options).toEqual({ numLayers: 2, seed: 3, qMin: 0.01, qMax: 0.2, numQ: 50, qResolution: 0.03 });
  });
  it('reads pyreflect’s names and the web interface’s request body', () => {
    const py = parseGeneratorConfig({ num_curves: 5, num_layers: 5, layer_desc: legacyLayerDesc(), layer_bound: legacyLayerBound() });
    expect(py.numCurves).toBe(5);
    expect(py.options.layerDesc).toHaveLength(8);
    expect(py.options.layerBound).toHaveLength(19);
    const ui = parseGeneratorConfig({ layers: legacyLayerDesc(), generator: { numCurves: 7, numFilmLayers: 5, layerBound: legacyLayerBound() } });
    expect(ui.numCurves).toBe(7);
    expect(ui.options.numLayers).toBe(5);
    // The user's layer values are used, not silently replaced (the interface drops them without bounds).
    expect(new ReflectivityDataGenerator({ ...ui.options, seed: 1 }).model.legacy).toBe(false);
  });
  it('takes an explicit Q array', () => {
    expect(parseGeneratorConfig({ q: [0.01, 0.02, 0.03] }).options.q).toEqual([0.01, 0.02, 0.03]);
  });
  it('defaults to 1000 curves', () => {
    expect(parseGeneratorConfig({}).numCurves).toBe(1000);
  });
  const bad: Array<[string, unknown, string]> = [
    ['a non-object', [1, 2], ''],
    ['an unknown key', { numCurve: 3 }, 'numCurve'],
    ['a repeated option', { layers: [], layer_desc: [] }, 'layer_desc'],
    ['a bad curve count', { numCurves: 0 }, 'numCurves'],
    ['a nested bad curve count', { generator: { numCurves: 'many' } }, 'generator.numCurves'],
    ['an unknown q key', { q: { min: 0.01, steps: 3 } }, 'q.steps'],
    ['a scalar q', { q: 3 }, 'q'],
  ];
  for (const [what, json, path] of bad) {
    it(`rejects ${what} with INVALID_CONFIG at ${path || 'the root'}`, () => {
      expect(() => parseGeneratorConfig(json)).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG', path }));
    });
  }
});
