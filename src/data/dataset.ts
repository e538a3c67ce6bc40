import ndarray, { type NdArray } from 'ndarray';

/**
 * NR curves, shape `(N, 2, Q)`, float32: `[i, 0, :]` is Q (Å⁻¹), `[i, 1, :]` is R. The layout of
 * pyreflect's `nr_train.npy`.
 */
export type NrArray = NdArray<Float32Array>;

/**
 * SLD profiles, shape `(N, 2, P)`, float32: `[i, 0, :]` is z (Å, from 0 on the substrate side),
 * `[i, 1, :]` is the SLD (10⁻⁶ Å⁻²). The layout of pyreflect's `sld_train.npy`.
 */
export type SldArray = NdArray<Float32Array>;

/** A generated dataset: curves and profiles of the same N samples, plus the physical parameters. */
export interface NrSldDataset {
  /** `(N, 2, Q)`. */
  nr: NrArray;
  /** `(N, 2, P)`. */
  sld: SldArray;
  /** Sampled parameter values, `(N, d)` row-major float64, in the bounds' column order and units. */
  parameters: NdArray<Float64Array>;
}

/** Wraps a flat `(n, 2, length)` buffer as an ndarray. */
export function curveArray(data: Float32Array, n: number, length: number): NdArray<Float32Array> {
  return ndarray(data, [n, 2, length]);
}

/**
 * The Q grid every curve of `(N, 2, Q)` curves shares (row 0 of each), or null when the curves have
 * different grids. pyreflect's and reflectkit's datasets use one grid; a model trained on them takes that grid.
 */
export function sharedQGrid(nr: NdArray<Float32Array>): number[] | null {
  const [n, , length] = nr.shape as [number, number, number];
  const first = Array.from({ length }, (_, k) => nr.get(0, 0, k));
  for (let i = 1; i < n; i++) for (let k = 0; k < length; k++) if (nr.get(i, 0, k) !== first[k]) return null;
  return first;
}
