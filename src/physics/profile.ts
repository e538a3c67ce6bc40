import { PROFILE_DZ, SQRT1_2_NUMPY } from './constants.js';
import { ERF_SATURATION, erfFromTable, erfTable } from './erf.js';
import type { PreparedStack } from './abeles.js';

/**
 * The z grid of refl1d's `smooth_profile(dz = 0.1)` for a slab stack, described without materialising
 * it: `z[0] = left`, `z[1] = left + dz`, `z[i] = left + i·delta` for i ≥ 2 with
 * `delta = (left + dz) − left`, exactly as `numpy.arange` fills it.
 */
export interface ProfileGrid {
  /** First grid point, Å (≤ −10; z = 0 is the substrate interface). */
  readonly left: number;
  /** Last grid point, Å. */
  readonly right: number;
  /** Number of grid points. */
  readonly length: number;
  /** The step numpy actually uses for i ≥ 2, Å. */
  readonly delta: number;
  /** Step requested, Å. */
  readonly dz: number;
}

/**
 * Interface positions of a prepared stack: offset_j = Σ_{i ≤ j} w_i with the substrate width 0, so
 * offset_0 = 0 is the substrate interface and z grows toward the incident medium. Writes N − 1 values.
 *
 * @returns the number of interfaces (N − 1).
 */
export function interfaceOffsets(stack: PreparedStack, out: Float64Array): number {
  const interfaces = stack.count - 1;
  let sum = 0;
  for (let j = 0; j < interfaces; j++) {
    sum += stack.depth[j]!;
    out[j] = sum;
  }
  return interfaces;
}

/** The numpy `arange` value of grid point `i`, Å. */
export function gridPoint(grid: ProfileGrid, i: number): number {
  if (i === 0) return grid.left;
  if (i === 1) return grid.left + grid.dz;
  return grid.left + i * grid.delta;
}

/**
 * refl1d's profile range: from min(−10, min_j(offset_j − 3σ_j)) to
 * max(offset_last + 10, max_j(offset_j + 3σ_j)), in steps of `dz` (Å).
 */
export function profileGrid(
  offsets: Float64Array,
  sigma: Float64Array,
  interfaces: number,
  dz: number = PROFILE_DZ,
): ProfileGrid {
  let lowest = Infinity;
  let highest = -Infinity;
  for (let j = 0; j < interfaces; j++) {
    const lo = offsets[j]! - 3 * sigma[j]!;
    const hi = offsets[j]! + 3 * sigma[j]!;
    if (lo < lowest) lowest = lo;
    if (hi > highest) highest = hi;
  }
  const left = Math.min(-10, lowest);
  const zRight = Math.max(offsets[interfaces - 1]! + 10, highest);
  const stop = zRight + 0.5 * dz;
  const length = Math.ceil((stop - left) / dz);
  const delta = left + dz - left;
  const lastIndex = length - 1;
  const right = lastIndex === 0 ? left : lastIndex === 1 ? left + dz : left + lastIndex * delta;
  return { left, right, length, delta, dz };
}

/** Scratch buffers for {@link resampledProfile}; reuse across curves. */
export interface ProfileScratch {
  /** Interface offsets, Å (capacity ≥ slabs). */
  readonly offsets: Float64Array;
  /** Grid indices the interpolation reads, increasing (capacity ≥ 2·points). */
  readonly gridIndex: Int32Array;
  /** ρ at those grid points, 10⁻⁶ Å⁻². */
  readonly values: Float64Array;
  /** z at those grid points, Å. */
  readonly depths: Float64Array;
  /** For each output point, the position in `gridIndex` of its lower bracket. */
  readonly lower: Int32Array;
}

/** Allocates {@link ProfileScratch} for stacks of up to `capacity` slabs and `points` output points. */
export function allocateProfileScratch(capacity: number, points = 900): ProfileScratch {
  return {
    offsets: new Float64Array(capacity),
    gridIndex: new Int32Array(2 * points),
    values: new Float64Array(2 * points),
    depths: new Float64Array(2 * points),
    lower: new Int32Array(points),
  };
}

/**
 * Adds interface j's contribution (ρ_{j+1} − ρ_j)·β_j(z) to `acc` at each of `count` depths, with
 * β_j = ½·erf((1/√2)·(z − offset_j)/σ_j) + ½, or a step at offset_j when σ_j ≤ 0. Interfaces must be
 * added in order, starting from acc = ρ_0, to repeat refl1d's summation order.
 */
function addInterface(
  acc: Float64Array,
  depths: Float64Array,
  count: number,
  offset: number,
  sigma: number,
  contrast: number,
): void {
  if (!(sigma > 0)) {
    for (let m = 0; m < count; m++) if (depths[m]! >= offset) acc[m] = acc[m]! + contrast;
    return;
  }
  // Depths are increasing. Below the window the blend is exactly 0 (nothing to add), above it exactly 1:
  // erf is ±1 in double precision once |u| ≥ 6, i.e. |z − offset| ≥ 6·√2·σ.
  const reach = (ERF_SATURATION * sigma) / SQRT1_2_NUMPY;
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (depths[mid]! - offset <= -reach) lo = mid + 1;
    else hi = mid;
  }
  const table = erfTable();
  const scale = SQRT1_2_NUMPY / sigma;
  let m = lo;
  for (; m < count; m++) {
    const d = depths[m]! - offset;
    if (d >= reach) break;
    const u = d * scale;
    acc[m] = acc[m]! + contrast * (u < ERF_SATURATION && u > -ERF_SATURATION ? 0.5 * erfFromTable(table, u) + 0.5 : u > 0 ? 1 : 0);
  }
  for (; m < count; m++) acc[m] = acc[m]! + contrast;
}

/**
 * pyreflect's profile: refl1d's `smooth_profile(dz)` resampled by `np.interp` onto
 * `np.linspace(z[0], z[-1], points)`. Only the grid points that the interpolation reads are evaluated
 * (at most 2·points), which gives the same numbers as evaluating the whole grid.
 *
 * @param zOut resampled depth, Å, refl1d's frame (z = 0 at the substrate interface), written from `offset`.
 * @param rhoOut resampled SLD, 10⁻⁶ Å⁻², written from `offset`.
 * @returns the raw grid (its `length` is refl1d's profile length).
 */
export function resampledProfile(
  stack: PreparedStack,
  points: number,
  zOut: Float64Array,
  rhoOut: Float64Array,
  offset = 0,
  scratch: ProfileScratch = allocateProfileScratch(stack.count, points),
  dz: number = PROFILE_DZ,
): ProfileGrid {
  const { offsets, gridIndex, values, depths, lower } = scratch;
  const interfaces = interfaceOffsets(stack, offsets);
  const grid = profileGrid(offsets, stack.sigma, interfaces, dz);
  const last = grid.length - 1;
  const first = grid.left;
  const end = grid.right;
  const step = (end - first) / (points - 1);
  // 1. Which grid points does np.interp read? For x: j with z_j ≤ x < z_{j+1} (both), or the last
  //    point when x is the end. x increases with i, so j never decreases and the list stays sorted.
  let count = 0;
  let previousJ = -2;
  for (let i = 0; i < points; i++) {
    const x = i === points - 1 && points > 1 ? end : i * step + first;
    zOut[offset + i] = x;
    let j: number;
    if (!(x < end)) {
      j = last;
    } else {
      j = Math.floor((x - first) / grid.delta);
      if (j < 0) j = 0;
      if (j > last - 1) j = last - 1;
      while (j > 0 && gridPoint(grid, j) > x) j--;
      while (j < last - 1 && gridPoint(grid, j + 1) <= x) j++;
    }
    if (j !== previousJ) {
      // j is already listed when it was the previous upper bracket.
      if (count === 0 || gridIndex[count - 1]! !== j) gridIndex[count++] = j;
      if (j < last) gridIndex[count++] = j + 1;
      previousJ = j;
    }
    lower[i] = j < last ? count - 2 : count - 1;
  }
  // 2. Evaluate ρ at those depths, interface by interface in refl1d's order.
  const rho = stack.rho;
  for (let m = 0; m < count; m++) {
    depths[m] = gridPoint(grid, gridIndex[m]!);
    values[m] = rho[0]!;
  }
  for (let j = 0; j < interfaces; j++) {
    addInterface(values, depths, count, offsets[j]!, stack.sigma[j]!, rho[j + 1]! - rho[j]!);
  }
  // 3. Interpolate.
  for (let i = 0; i < points; i++) {
    const m = lower[i]!;
    const x = zOut[offset + i]!;
    const zj = depths[m]!;
    if (gridIndex[m] === last || x === zj) {
      rhoOut[offset + i] = values[m]!;
    } else {
      const slope = (values[m + 1]! - values[m]!) / (depths[m + 1]! - zj);
      rhoOut[offset + i] = slope * (x - zj) + values[m]!;
    }
  }
  return grid;
}

/**
 * The whole smooth profile on refl1d's grid (every point), for inspection and tests.
 *
 * @param stack - A prepared slab stack ({@link prepareStack}): index 0 substrate, last the incident medium.
 * @param dz - Grid step, Å (default {@link PROFILE_DZ}, refl1d's 0.1 Å).
 * @returns z (Å), ρ and irho (10⁻⁶ Å⁻²), each of the grid's length.
 */
export function smoothProfile(
  stack: PreparedStack,
  dz: number = PROFILE_DZ,
): {
  /** Grid positions, Å, increasing from below the substrate interface (z = 0) toward the incident medium; length = the grid's. */
  z: Float64Array;
  /** Real SLD ρ at each z, 10⁻⁶ Å⁻²; same length as `z`. */
  rho: Float64Array;
  /** Imaginary (absorption) SLD at each z, 10⁻⁶ Å⁻² (built from |irho| + 1e-30); same length as `z`. */
  irho: Float64Array;
} {
  const offsets = new Float64Array(stack.count);
  const interfaces = interfaceOffsets(stack, offsets);
  const grid = profileGrid(offsets, stack.sigma, interfaces, dz);
  const z = new Float64Array(grid.length);
  for (let i = 0; i < grid.length; i++) z[i] = gridPoint(grid, i);
  const rho = new Float64Array(grid.length).fill(stack.rho[0]!);
  const irho = new Float64Array(grid.length).fill(stack.irho[0]!);
  for (let j = 0; j < interfaces; j++) {
    addInterface(rho, z, grid.length, offsets[j]!, stack.sigma[j]!, stack.rho[j + 1]! - stack.rho[j]!);
    addInterface(irho, z, grid.length, offsets[j]!, stack.sigma[j]!, stack.irho[j + 1]! - stack.irho[j]!);
  }
  return { z, rho, irho };
}
