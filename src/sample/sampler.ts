import type { LayerBound } from './layers.js';
import type { SeededRandom } from './random.js';

/**
 * How parameters are drawn in [−1, 1) before they are mapped to their bounds:
 * - `lhs`: Latin hypercube over the whole run (pyreflect's `ReflectivityModel`, scipy's scrambled LHS):
 *   for each parameter j a random permutation π_j of the N curves, and x = (π_j(i) + U)/N;
 * - `uniform`: independent uniform draws (pyreflect's legacy model, `np.random.uniform(−1, 1)`).
 */
export type SamplingMethod = 'lhs' | 'uniform';

/**
 * Draws the parameter matrix of a run, in order, a chunk at a time, so that a run of any size streams
 * with the same numbers whatever the chunking. Values are physical (`p·(hi − lo)/2 + (hi + lo)/2`, as
 * pyreflect maps them), row-major `(curves, parameters)`.
 */
export class ParameterSampler {
  /** Number of parameters d. */
  readonly dimensions: number;
  private readonly halfWidth: Float64Array;
  private readonly center: Float64Array;
  private readonly permutations: Uint32Array[];
  private position = 0;

  /**
   * @param bounds parameter bounds, in column order.
   * @param total number of curves N in the run (the Latin hypercube is stratified over all of them).
   * @param strata stream for the permutations.
   * @param jitter stream for the uniform draws.
   */
  constructor(
    bounds: readonly LayerBound[],
    readonly total: number,
    /** `lhs` (Latin hypercube) or `uniform`; see {@link SamplingMethod}. */
    readonly method: SamplingMethod,
    strata: SeededRandom,
    private readonly jitter: SeededRandom,
  ) {
    this.dimensions = bounds.length;
    this.halfWidth = Float64Array.from(bounds, (b) => (b.bounds[1] - b.bounds[0]) / 2);
    this.center = Float64Array.from(bounds, (b) => (b.bounds[1] + b.bounds[0]) / 2);
    this.permutations = method === 'lhs' ? bounds.map(() => strata.permutation(total)) : [];
  }

  /** Number of curves drawn so far. */
  get produced(): number {
    return this.position;
  }

  /**
   * Draws the next `count` rows into `out` (length ≥ count·d).
   *
   * @returns the index of the first row drawn.
   */
  next(count: number, out: Float64Array): number {
    const start = this.position;
    if (start + count > this.total) throw new RangeError(`only ${this.total - start} rows are left`);
    const d = this.dimensions;
    const n = this.total;
    for (let r = 0; r < count; r++) {
      const row = start + r;
      for (let j = 0; j < d; j++) {
        const u = this.jitter.uniform();
        const unit = this.method === 'lhs' ? (this.permutations[j]![row]! + u) / n : u;
        const p = unit * 2 - 1;
        out[r * d + j] = p * this.halfWidth[j]! + this.center[j]!;
      }
    }
    this.position += count;
    return start;
  }
}
