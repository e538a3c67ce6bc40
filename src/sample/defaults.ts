import type { LayerBound, LayerDesc } from './layers.js';

/**
 * pyreflect's legacy model (`ReflectivityFiveLayerModel`): substrate, SiOx, five film layers, air.
 * SLD 10⁻⁶ Å⁻², thickness and roughness Å.
 */
export function legacyLayerDesc(): LayerDesc[] {
  return [
    { name: 'substrate', sld: 2.07, isld: 0, thickness: 0, roughness: 1.8272 },
    { name: 'siox', sld: 3.47, isld: 0, thickness: 10.085, roughness: 1.108 },
    { name: 'bottom', sld: 3.734, isld: 0, thickness: 8.717, roughness: 2.2571 },
    { name: 'bottom', sld: 3.1033, isld: 0, thickness: 239.91, roughness: 37.707 },
    { name: 'bulk', sld: 3.0246, isld: 0, thickness: 91.232, roughness: 20.147 },
    { name: 'bulk', sld: 3.0246, isld: 0, thickness: 51.655, roughness: 20.147 },
    { name: 'bottom', sld: 0.85516, isld: 0, thickness: 62.189, roughness: 43.155 },
    { name: 'air', sld: 0, isld: 0, thickness: 0, roughness: 0 },
  ];
}

/** The 19 bounds of pyreflect's legacy model (also the web interface's default `layerBound`). */
export function legacyLayerBound(): LayerBound[] {
  return [
    { i: 0, par: 'roughness', bounds: [1.177, 1.5215] },
    { i: 1, par: 'sld', bounds: [3.47, 3.47] },
    { i: 1, par: 'thickness', bounds: [9.7216, 14.624] },
    { i: 1, par: 'roughness', bounds: [1.108, 2.998] },
    { i: 2, par: 'sld', bounds: [3.7235, 4.197] },
    { i: 2, par: 'thickness', bounds: [8.717, 98.867] },
    { i: 2, par: 'roughness', bounds: [2.2571, 38.969] },
    { i: 3, par: 'sld', bounds: [1.6417, 3.1033] },
    { i: 3, par: 'thickness', bounds: [117.4, 239.91] },
    { i: 3, par: 'roughness', bounds: [19.32, 95.202] },
    { i: 4, par: 'sld', bounds: [3.0246, 4.6755] },
    { i: 4, par: 'thickness', bounds: [64.482, 94.768] },
    { i: 4, par: 'roughness', bounds: [15.713, 28.007] },
    { i: 5, par: 'sld', bounds: [1.501, 4.9837] },
    { i: 5, par: 'thickness', bounds: [51.655, 83.334] },
    { i: 5, par: 'roughness', bounds: [9.7741, 25.373] },
    { i: 6, par: 'sld', bounds: [0.85516, 4.4906] },
    { i: 6, par: 'thickness', bounds: [58.479, 86.738] },
    { i: 6, par: 'roughness', bounds: [43.155, 110.11] },
  ];
}

/**
 * pyreflect's auto bounds for `numFilmLayers` film layers (`ReflectivityModel._auto_generate_layer_bounds`):
 * substrate roughness [0, 5]; SiOx SLD [3, 3.9], thickness [10, 25], roughness [1, 10]; each film layer
 * SLD [0, 6.4], thickness [10, 300], roughness [0, 150]. 4 + 3·n entries.
 */
export function autoLayerBound(numFilmLayers: number): LayerBound[] {
  const bounds: LayerBound[] = [
    { i: 0, par: 'roughness', bounds: [0, 5] },
    { i: 1, par: 'sld', bounds: [3, 3.9] },
    { i: 1, par: 'thickness', bounds: [10, 25] },
    { i: 1, par: 'roughness', bounds: [1, 10] },
  ];
  for (let k = 0; k < numFilmLayers; k++) {
    const i = k + 2;
    bounds.push(
      { i, par: 'sld', bounds: [0, 6.4] },
      { i, par: 'thickness', bounds: [10, 300] },
      { i, par: 'roughness', bounds: [0, 150] },
    );
  }
  return bounds;
}

/**
 * pyreflect's auto description for `numFilmLayers` film layers
 * (`ReflectivityModel._auto_generate_layer_description`): substrate (2.07, 0, 0, 3), SiOx
 * (3.3, 0, 16.2139, 7), film layers with SLD U(0, 6.4), integer thickness in [10, 299] and integer
 * roughness in [0, 149], air. pyreflect draws the film values from numpy's unseeded global generator;
 * here they come from `random` (seeded by the caller), in the same order (sld, thickness, roughness per layer).
 *
 * @param uniform returns a float in [0, 1). @param integer returns an integer in [lo, hi] inclusive.
 */
export function autoLayerDesc(
  numFilmLayers: number,
  uniform: () => number,
  integer: (lo: number, hi: number) => number,
): LayerDesc[] {
  const layers: LayerDesc[] = [
    { name: 'substrate', sld: 2.07, isld: 0, thickness: 0, roughness: 3 },
    { name: 'siox', sld: 3.3, isld: 0, thickness: 16.2139, roughness: 7 },
  ];
  for (let k = 0; k < numFilmLayers; k++) {
    const sld = uniform() * 6.4;
    const thickness = integer(10, 299);
    const roughness = integer(0, 149);
    layers.push({ name: `layer${k}`, sld, isld: 0, thickness, roughness });
  }
  layers.push({ name: 'air', sld: 0, isld: 0, thickness: 0, roughness: 0 });
  return layers;
}
