import { describe, expect, it } from 'vitest';
import { autoLayerBound, autoLayerDesc, legacyLayerBound, legacyLayerDesc } from '../../src/sample/defaults.js';
import { SeededRandom } from '../../src/sample/random.js';
import { validateBounds, validateLayers } from '../../src/sample/validate.js';

describe('pyreflect default models', () => {
  it('legacy: 8 layers and 19 bounds, all valid', () => {
    const layers = legacyLayerDesc();
    expect(layers).toHaveLength(8);
    expect(layers[0]).toMatchObject({ sld: 2.07, roughness: 1.8272 });
    expect(layers[7]).toMatchObject({ name: 'air', sld: 0 });
    const bounds = legacyLayerBound();
    expect(bounds).toHaveLength(19);
    expect(bounds[18]).toEqual({ i: 6, par: 'roughness', bounds: [43.155, 110.11] });
    expect(() => validateLayers(layers)).not.toThrow();
    expect(() => validateBounds(bounds, 8)).not.toThrow();
  });
  it('returns fresh copies, so callers cannot corrupt the defaults', () => {
    legacyLayerDesc()[1]!.sld = 42;
    expect(legacyLayerDesc()[1]!.sld).toBe(3.47);
  });
  it('auto bounds: 4 + 3n entries with pyreflect’s ranges', () => {
    const b = autoLayerBound(3);
    expect(b).toHaveLength(13);
    expect(b[0]).toEqual({ i: 0, par: 'roughness', bounds: [0, 5] });
    expect(b.slice(4, 7)).toEqual([
      { i: 2, par: 'sld', bounds: [0, 6.4] },
      { i: 2, par: 'thickness', bounds: [10, 300] },
      { i: 2, par: 'roughness', bounds: [0, 150] },
    ]);
    expect(b.at(-1)!.i).toBe(4);
  });
  it('auto description: substrate, SiOx, n random films within pyreflect’s ranges, air', () => {
    const r = SeededRandom.fromSeed(2);
    const layers = autoLayerDesc(12, () => r.uniform(), (lo, hi) => r.integer(lo, hi));
    expect(layers).toHaveLength(15);
    expect(layers[1]).toMatchObject({ sld: 3.3, thickness: 16.2139, roughness: 7 });
    for (const l of layers.slice(2, -1)) {
      expect(l.sld >= 0 && l.sld < 6.4).toBe(true);
      expect(Number.isInteger(l.thickness) && l.thickness >= 10 && l.thickness <= 299).toBe(true);
      expect(Number.isInteger(l.roughness) && l.roughness >= 0 && l.roughness <= 149).toBe(true);
    }
  });
});
