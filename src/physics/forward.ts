import { allocatePreparedStack, prepareStack, reflectivitySquared, type PreparedStack, type SlabStack } from './abeles.js';
import { DEFAULT_Q_RESOLUTION } from './constants.js';
import { allocateProfileScratch, resampledProfile, type ProfileGrid, type ProfileScratch } from './profile.js';
import { applyResolution, buildResolutionOperator, sigmaFromRelativeFwhm, type ResolutionOperator } from './resolution.js';

/** Options of a {@link ForwardModel}. */
export interface ForwardModelOptions {
  /** Q grid, Å⁻¹, strictly increasing and > 0 (validated by callers; see `validateQGrid`). */
  q: ArrayLike<number>;
  /** Relative resolution dQ/Q as FWHM, pyreflect's convention (default 0.0294855); 0 disables smearing. Ignored when `dq` is given. */
  qResolution?: number;
  /** Explicit 1-σ resolution per Q point, Å⁻¹. */
  dq?: ArrayLike<number>;
  /** Number of points of the resampled profile (default 900). */
  profilePoints?: number;
  /** Largest stack (number of slabs) the scratch buffers must hold (default 64; grows on demand). */
  maxLayers?: number;
}

/** One simulated curve and profile, as {@link ForwardModel.simulate} returns it. */
export interface Simulation {
  /** Q, Å⁻¹ (length Q). */
  q: Float64Array;
  /** Final curve scale·(resolution(|r|²) + background) (length Q). */
  reflectivity: Float64Array;
  /** |r|² before resolution, background and scale (length Q). */
  reflectivityUnsmeared: Float64Array;
  /** Resampled depth, Å, refl1d's frame: z = 0 at the substrate interface (length P). */
  z: Float64Array;
  /** Resampled SLD, 10⁻⁶ Å⁻² (length P). */
  sld: Float64Array;
  /** The raw refl1d profile grid the resampling read from. */
  grid: ProfileGrid;
}

/**
 * The forward model pyreflect runs per curve (refl1d's `Experiment.reflectivity` and `smooth_profile`
 * plus pyreflect's scale and resampling), set up once for a Q grid so that a batch of stacks costs no
 * allocation: the resolution weights and scratch buffers are shared.
 */
export class ForwardModel {
  /** Q grid, Å⁻¹. */
  readonly q: Float64Array;
  /** 1-σ resolution per Q point, Å⁻¹. */
  readonly dq: Float64Array;
  /** Resampled profile length P. */
  readonly profilePoints: number;
  /** The resolution operator for this grid. */
  readonly resolution: ResolutionOperator;
  private prepared: PreparedStack;
  private profileScratch: ProfileScratch;
  private readonly unsmeared: Float64Array;
  private readonly kz: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(options: ForwardModelOptions) {
    this.q = Float64Array.from(options.q);
    this.dq = options.dq
      ? Float64Array.from(options.dq)
      : sigmaFromRelativeFwhm(this.q, options.qResolution ?? DEFAULT_Q_RESOLUTION);
    this.profilePoints = options.profilePoints ?? 900;
    this.resolution = buildResolutionOperator(this.q, this.q, this.dq);
    const capacity = options.maxLayers ?? 64;
    this.prepared = allocatePreparedStack(capacity);
    this.profileScratch = allocateProfileScratch(capacity, this.profilePoints);
    const n = this.q.length;
    this.unsmeared = new Float64Array(n);
    this.kz = new Float64Array(n);
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
  }

  /** Copies `stack` into the scratch stack (growing it if needed) with refl1d's preprocessing. */
  prepare(stack: SlabStack): PreparedStack {
    if (stack.sld.length > this.prepared.rho.length) {
      this.prepared = allocatePreparedStack(stack.sld.length);
      this.profileScratch = allocateProfileScratch(stack.sld.length, this.profilePoints);
    }
    return prepareStack(stack, this.prepared);
  }

  /**
   * Computes one curve and profile into caller-owned arrays.
   *
   * @param reflectivityOut final R, length Q, written from `rOffset`.
   * @param zOut resampled z (Å, refl1d frame), length P, written from `pOffset`.
   * @param sldOut resampled SLD (10⁻⁶ Å⁻²), written from `pOffset`.
   * @param scale pyreflect's `scale` (multiplies the background too). @param background added after smearing.
   */
  computeInto(
    stack: PreparedStack,
    scale: number,
    background: number,
    reflectivityOut: Float64Array,
    rOffset: number,
    zOut: Float64Array,
    sldOut: Float64Array,
    pOffset: number,
  ): ProfileGrid {
    this.reflectivityInto(stack, scale, background, reflectivityOut, rOffset);
    return resampledProfile(stack, this.profilePoints, zOut, sldOut, pOffset, this.profileScratch);
  }

  /**
   * Computes only the curve, scale·(resolution(|r|²) + background), into `reflectivityOut` from `rOffset`
   * (length Q). The profile is not computed.
   */
  reflectivityInto(stack: PreparedStack, scale: number, background: number, reflectivityOut: Float64Array, rOffset = 0): Float64Array {
    reflectivitySquared(stack, this.q, this.unsmeared, 0, this.kz, this.re, this.im);
    applyResolution(this.resolution, this.unsmeared, reflectivityOut, 0, rOffset);
    const n = this.q.length;
    for (let i = 0; i < n; i++) {
      reflectivityOut[rOffset + i] = scale * (reflectivityOut[rOffset + i]! + background);
    }
    return reflectivityOut;
  }

  /** |r|² of the last {@link computeInto} call, before resolution (a view; copy it to keep it). */
  get lastUnsmeared(): Float64Array {
    return this.unsmeared;
  }

  /** Simulates one stack into fresh arrays. */
  simulate(stack: SlabStack, scale = 1, background = 0): Simulation {
    const prepared = this.prepare(stack);
    const reflectivity = new Float64Array(this.q.length);
    const z = new Float64Array(this.profilePoints);
    const sld = new Float64Array(this.profilePoints);
    const grid = this.computeInto(prepared, scale, background, reflectivity, 0, z, sld, 0);
    return { q: this.q.slice(), reflectivity, reflectivityUnsmeared: this.unsmeared.slice(), z, sld, grid };
  }
}
