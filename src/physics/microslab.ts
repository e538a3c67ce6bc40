import type { SlabStack } from './abeles.js';

/** A semi-infinite medium at one end of a profile. */
export interface Medium {
  /** Real SLD, 10⁻⁶ Å⁻². */
  sld: number;
  /** Imaginary SLD, 10⁻⁶ Å⁻² (default 0). */
  isld?: number;
}

/**
 * Cuts a sampled SLD profile into microslabs, in refl1d's stack order (index 0 the backing medium, the last
 * index the fronting medium the beam comes from). The profile runs from the backing side (index 0) to the
 * fronting side: z ascending, Å. Between consecutive samples i and i + 1 lies one slab of thickness
 * z[i+1] − z[i] whose SLD is the mean of the two samples (the exact average of the piecewise-linear
 * profile over the slab), with zero roughness everywhere. A repeated z makes a slab of zero thickness, so
 * a step profile given as two points per edge is reproduced exactly.
 *
 * @param z depth, Å, non-decreasing, length n ≥ 2.
 * @param sld real SLD at each z, 10⁻⁶ Å⁻².
 * @param isld imaginary SLD at each z, 10⁻⁶ Å⁻², or null for none.
 * @returns a stack of n + 1 slabs: backing, n − 1 microslabs, fronting.
 */
export function microslabStack(
  z: ArrayLike<number>,
  sld: ArrayLike<number>,
  isld: ArrayLike<number> | null,
  backing: Medium,
  fronting: Medium,
): SlabStack {
  const n = z.length;
  const count = n + 1;
  const rho = new Float64Array(count);
  const irho = new Float64Array(count);
  const thickness = new Float64Array(count);
  const roughness = new Float64Array(count);
  rho[0] = backing.sld;
  irho[0] = backing.isld ?? 0;
  for (let i = 0; i + 1 < n; i++) {
    rho[i + 1] = 0.5 * (sld[i]! + sld[i + 1]!);
    irho[i + 1] = isld === null ? 0 : 0.5 * (isld[i]! + isld[i + 1]!);
    thickness[i + 1] = z[i + 1]! - z[i]!;
  }
  rho[count - 1] = fronting.sld;
  irho[count - 1] = fronting.isld ?? 0;
  return { sld: rho, isld: irho, thickness, roughness };
}
