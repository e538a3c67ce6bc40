/**
 * One layer of a pyreflect layer model (`layer_desc` entry). Order in a model: index 0 is the substrate,
 * the last entry is the incident medium (air); neutrons come from the last entry.
 */
export interface LayerDesc {
  /** Real SLD, 10⁻⁶ Å⁻². May be negative (H₂O: −0.56). */
  sld: number;
  /** Imaginary SLD (absorption), 10⁻⁶ Å⁻² (default 0). */
  isld?: number;
  /** Thickness, Å; ignored for the substrate and the incident medium. */
  thickness: number;
  /** 1-σ roughness of the interface above this layer, Å; ignored for the incident medium. */
  roughness: number;
  /** Cosmetic name. */
  name?: string;
}

/** Layer fields a bound may vary. */
export const LAYER_PARAMETERS = ['sld', 'isld', 'thickness', 'roughness'] as const;

/** A field of {@link LayerDesc} that a bound may vary. */
export type LayerParameter = (typeof LAYER_PARAMETERS)[number];

/**
 * One sampled parameter (`layer_bound` entry), as pyreflect writes it: layer `i` (0 = substrate), field
 * `par`, range `bounds = [lo, hi]` in the field's units; `lo = hi` fixes the value. When two entries name
 * the same field, the later one wins.
 */
export interface LayerBound {
  /** Index into the layer list. */
  i: number;
  /** Field to vary. */
  par: LayerParameter;
  /** [lo, hi] in the field's units (SLD 10⁻⁶ Å⁻², thickness and roughness Å). */
  bounds: [number, number];
}

/** A layer model as arrays (refl1d order), the form the physics reads. */
export interface LayerArrays {
  /** 10⁻⁶ Å⁻². */
  sld: Float64Array;
  /** 10⁻⁶ Å⁻². */
  isld: Float64Array;
  /** Å. */
  thickness: Float64Array;
  /** Å. */
  roughness: Float64Array;
}

/** Converts a layer list to arrays (a copy; the input is never modified). */
export function layersToArrays(layers: readonly LayerDesc[]): LayerArrays {
  const n = layers.length;
  const out: LayerArrays = {
    sld: new Float64Array(n),
    isld: new Float64Array(n),
    thickness: new Float64Array(n),
    roughness: new Float64Array(n),
  };
  for (let j = 0; j < n; j++) {
    const layer = layers[j]!;
    out.sld[j] = layer.sld;
    out.isld[j] = layer.isld ?? 0;
    out.thickness[j] = layer.thickness;
    out.roughness[j] = layer.roughness;
  }
  return out;
}

/** Deep copy of a layer list. */
export function cloneLayers(layers: readonly LayerDesc[]): LayerDesc[] {
  return layers.map((layer) => ({ ...layer }));
}
