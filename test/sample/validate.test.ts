import { describe, expect, it } from 'vitest';
import { thrown as caught } from '../helpers/errors.js';
import { validateBounds, validateLayers } from '../../src/sample/validate.js';

const good = [
  { sld: 2.07, isld: 0, thickness: 0, roughness: 3, name: 'substrate' },
  { sld: -0.56, thickness: 40, roughness: 5 },
  { sld: 0, isld: 0, thickness: 0, roughness: 0, name: 'air' },
];

describe('validateLayers', () => {
  it('accepts pyreflect layer_desc, defaults isld to 0, and never modifies its input', () => {
    const input = structuredClone(good);
    const out = validateLayers(input);
    expect(out[1]).toEqual({ sld: -0.56, isld: 0, thickness: 40, roughness: 5 });
    expect(input).toEqual(good);
    out[0]!.sld = 99;
    expect(input[0]!.sld).toBe(2.07);
  });

  const cases: Array<[string, unknown, string]> = [
    ['fewer than two layers', [good[0]], 'layers'],
    ['a non-array', { layers: good }, 'layers'],
    ['NaN', [good[0], { ...good[1], sld: Number.NaN }, good[2]], 'layers[1].sld'],
    ['Infinity', [good[0], { ...good[1], thickness: Infinity }, good[2]], 'layers[1].thickness'],
    ['negative thickness', [good[0], { ...good[1], thickness: -1 }, good[2]], 'layers[1].thickness'],
    ['negative roughness', [{ ...good[0], roughness: -0.1 }, good[1], good[2]], 'layers[0].roughness'],
    ['negative isld', [good[0], { ...good[1], isld: -0.1 }, good[2]], 'layers[1].isld'],
    ['a string SLD', [good[0], { ...good[1], sld: '3' }, good[2]], 'layers[1].sld'],
    ['a missing thickness', [good[0], { sld: 1, roughness: 1 }, good[2]], 'layers[1].thickness'],
  ];
  for (const [what, input, path] of cases) {
    it(`rejects ${what} with INVALID_LAYERS at ${path}`, () => {
      const error = caught(() => validateLayers(input));
      expect(error.code).toBe('INVALID_LAYERS');
      expect(error.path).toBe(path);
      expect(error.expected).toBeTruthy();
    });
  }
});

describe('validateBounds', () => {
  it('accepts pyreflect layer_bound and copies it', () => {
    const input = [{ i: 1, par: 'thickness', bounds: [10, 20] }];
    const out = validateBounds(input, 3);
    expect(out).toEqual([{ i: 1, par: 'thickness', bounds: [10, 20] }]);
    expect(out[0]!.bounds).not.toBe(input[0]!.bounds);
  });
  it('accepts negative SLD bounds and fixed values (lo = hi)', () => {
    expect(validateBounds([{ i: 0, par: 'sld', bounds: [-0.56, -0.56] }], 3)).toHaveLength(1);
  });

  const cases: Array<[string, unknown, string, string]> = [
    ['lo > hi', [{ i: 1, par: 'sld', bounds: [4, 3] }], 'layerBound[0].bounds', 'lo ≤ hi'],
    ['an index outside the layers', [{ i: 0, par: 'sld', bounds: [1, 2] }, { i: 3, par: 'sld', bounds: [1, 2] }], 'layerBound[1].i', 'an index from 0 to 2'],
    ['a negative index', [{ i: -1, par: 'sld', bounds: [1, 2] }], 'layerBound[0].i', ''],
    ['a fractional index', [{ i: 1.5, par: 'sld', bounds: [1, 2] }], 'layerBound[0].i', ''],
    ['an unknown par', [{ i: 1, par: 'density', bounds: [1, 2] }], 'layerBound[0].par', ''],
    ['NaN in bounds', [{ i: 1, par: 'sld', bounds: [Number.NaN, 2] }], 'layerBound[0].bounds[0]', ''],
    ['infinite bounds', [{ i: 1, par: 'sld', bounds: [1, Infinity] }], 'layerBound[0].bounds[1]', ''],
    ['negative thickness bounds', [{ i: 1, par: 'thickness', bounds: [-5, 2] }], 'layerBound[0].bounds', 'bounds ≥ 0 for thickness'],
    ['negative roughness bounds', [{ i: 1, par: 'roughness', bounds: [-1, 0] }], 'layerBound[0].bounds', 'bounds ≥ 0 for roughness'],
    ['three bound values', [{ i: 1, par: 'sld', bounds: [1, 2, 3] }], 'layerBound[0].bounds', ''],
  ];
  for (const [what, input, path, expected] of cases) {
    it(`rejects ${what} with INVALID_BOUNDS at ${path}`, () => {
      const error = caught(() => validateBounds(input, 3));
      expect(error.code).toBe('INVALID_BOUNDS');
      expect(error.path).toBe(path);
      if (expected) expect(error.expected).toBe(expected);
      expect(error.message).toContain(path);
    });
  }
});
