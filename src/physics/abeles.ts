import { IRHO_OFFSET, KZ_CUTOFF, PI4 } from './constants.js';

/** 2⁻²⁷: below it cos θ rounds to 1 and sin θ to θ. */
const TRIG_EXACT_LIMIT = 7.450580596923828e-9;
/** 2⁻²⁷: when |b| < 2⁻²⁷·|a|, a² + b² rounds to a². */
const MODULUS_EXACT_RATIO = 7.450580596923828e-9;
/** 2⁻⁵⁴: below it exp(x) rounds to 1. */
const EXP_EXACT_LIMIT = 5.551115123125783e-17;

/**
 * A slab stack in refl1d's order: index 0 is the substrate (the far semi-infinite medium for a beam from
 * the top), the last index is the incident medium (air, or another fronting medium). Arrays all have the
 * stack's length N ≥ 2.
 */
export interface SlabStack {
  /** Real scattering length density ρ of each slab, 10⁻⁶ Å⁻². */
  readonly sld: ArrayLike<number>;
  /** Imaginary SLD (absorption) of each slab, 10⁻⁶ Å⁻²; its sign is irrelevant, as in refl1d. */
  readonly isld: ArrayLike<number>;
  /** Thickness of each slab, Å; the first and last (semi-infinite) are ignored. */
  readonly thickness: ArrayLike<number>;
  /** 1-σ Gaussian roughness of the interface above each slab, Å; the last entry is ignored. */
  readonly roughness: ArrayLike<number>;
}

/**
 * Scratch arrays in the form the kernel reads, so a batch of curves needs no allocation per curve.
 * Fill with {@link prepareStack}.
 */
export interface PreparedStack {
  /** Number of slabs N. */
  count: number;
  /** ρ, 10⁻⁶ Å⁻². */
  readonly rho: Float64Array;
  /** |irho| + 1e-30, 10⁻⁶ Å⁻² (refl1d's preprocessing). */
  readonly irho: Float64Array;
  /** Thickness with the end slabs set to 0, Å. */
  readonly depth: Float64Array;
  /** Interface roughness σ, Å (N − 1 used). */
  readonly sigma: Float64Array;
}

/** Allocates a {@link PreparedStack} able to hold up to `capacity` slabs. */
export function allocatePreparedStack(capacity: number): PreparedStack {
  return {
    count: 0,
    rho: new Float64Array(capacity),
    irho: new Float64Array(capacity),
    depth: new Float64Array(capacity),
    sigma: new Float64Array(capacity),
  };
}

/**
 * Copies `stack` into `into` with refl1d's preprocessing: irho → |irho| + 1e-30, end thicknesses → 0.
 * `into` must have capacity ≥ N.
 */
export function prepareStack(stack: SlabStack, into: PreparedStack): PreparedStack {
  const n = stack.sld.length;
  into.count = n;
  for (let j = 0; j < n; j++) {
    into.rho[j] = stack.sld[j]!;
    const im = stack.isld[j]!;
    into.irho[j] = (im < 0 ? -im : im) + IRHO_OFFSET;
    into.depth[j] = j === 0 || j === n - 1 ? 0 : stack.thickness[j]!;
    into.sigma[j] = stack.roughness[j]!;
  }
  return into;
}

/**
 * Complex reflection amplitude r(kz) of a prepared stack: refl1d's Abeles matrix kernel
 * (`reflectivity_amplitude`), line for line, with Névot–Croce roughness
 * F = (k − k′)/(k + k′)·exp(−2·k·k′·σ²).
 *
 * kz ≥ 1e-10 walks the stack from index 0 (beam enters through the substrate side); kz ≤ −1e-10 walks it
 * from the last slab, which is what refl1d's `Experiment` does with kz = −Q/2; |kz| < 1e-10 gives r = −1.
 *
 * @param stack prepared stack ({@link prepareStack}).
 * @param kz wave-vector component, Å⁻¹, `count` values from `kzOffset`.
 * @param outRe real parts of r, written from `outOffset`.
 * @param outIm imaginary parts of r, written from `outOffset`.
 */
export function reflectionAmplitude(
  stack: PreparedStack,
  kz: ArrayLike<number>,
  outRe: Float64Array,
  outIm: Float64Array,
  count: number = kz.length,
  kzOffset = 0,
  outOffset = 0,
): void {
  const layers = stack.count;
  const rho = stack.rho;
  const irho = stack.irho;
  const depth = stack.depth;
  const sigma = stack.sigma;
  for (let p = 0; p < count; p++) {
    const kzp = kz[kzOffset + p]!;
    let n: number;
    let step: number;
    let sigmaOffset: number;
    if (kzp >= KZ_CUTOFF) {
      n = 0;
      step = 1;
      sigmaOffset = 0;
    } else if (kzp <= -KZ_CUTOFF) {
      n = layers - 1;
      step = -1;
      sigmaOffset = -1;
    } else {
      outRe[outOffset + p] = -1;
      outIm[outOffset + p] = 0;
      continue;
    }
    const kzSq = kzp * kzp + PI4 * rho[n]!;
    let kRe = kzp < 0 ? -kzp : kzp;
    let kIm = 0;
    // B = identity, complex entries as (re, im) pairs.
    let b11r = 1, b11i = 0, b12r = 0, b12i = 0, b21r = 0, b21i = 0, b22r = 1, b22i = 0;
    for (let i = 0; i < layers - 1; i++) {
      const next = n + step;
      // k' = sqrt(kz² + 4π·10⁻⁶·(ρ_incident − ρ_next − i·irho_next)), principal branch.
      const ar = kzSq - PI4 * rho[next]!;
      const ai = -(PI4 * irho[next]!);
      let knRe: number, knIm: number;
      // |a| = √(ar² + ai²); when |ai| < 2⁻²⁷·|ar| the sum rounds to ar² and the root is exactly |ar|.
      const absAr = ar < 0 ? -ar : ar;
      const absAi = ai < 0 ? -ai : ai;
      const modulus = absAi < MODULUS_EXACT_RATIO * absAr ? absAr : Math.sqrt(ar * ar + ai * ai);
      if (ar >= 0) {
        const t = Math.sqrt(0.5 * (modulus + ar));
        knRe = t;
        knIm = t === 0 ? 0 : ai / (2 * t);
      } else {
        const t = Math.sqrt(0.5 * (modulus - ar));
        knRe = (ai < 0 ? -ai : ai) / (2 * t);
        knIm = ai < 0 ? -t : t;
      }
      // F = (k − k')/(k + k')
      const numRe = kRe - knRe, numIm = kIm - knIm;
      const denRe = kRe + knRe, denIm = kIm + knIm;
      const denScale = 1 / (denRe * denRe + denIm * denIm);
      let fRe = (numRe * denRe + numIm * denIm) * denScale;
      let fIm = (numIm * denRe - numRe * denIm) * denScale;
      // · exp(−2·k·k'·σ²)
      const s = sigma[sigmaOffset + n]!;
      if (s !== 0) {
        const s2 = s * s;
        const gRe = -2 * (kRe * knRe - kIm * knIm) * s2;
        const gIm = -2 * (kRe * knIm + kIm * knRe) * s2;
        const mag = Math.exp(gRe);
        // For |θ| < 2⁻²⁷, double-precision cos θ is exactly 1 and sin θ exactly θ (fdlibm and glibc
        // agree), which is the common case above the critical edge of a non-absorbing film.
        const tiny = gIm < TRIG_EXACT_LIMIT && gIm > -TRIG_EXACT_LIMIT;
        const cRe = tiny ? mag : mag * Math.cos(gIm);
        const cIm = tiny ? mag * gIm : mag * Math.sin(gIm);
        const tRe = fRe * cRe - fIm * cIm;
        fIm = fRe * cIm + fIm * cRe;
        fRe = tRe;
      }
      let m11r: number, m11i: number, m22r: number, m22i: number;
      if (i > 0) {
        // M11 = exp(i·k·d), M22 = exp(−i·k·d)
        const d = depth[n]!;
        const phase = kRe * d;
        const decay = -kIm * d;
        // exp(x) is exactly 1 in double precision for |x| < 2⁻⁵⁴.
        const grow = decay < EXP_EXACT_LIMIT && decay > -EXP_EXACT_LIMIT ? 1 : Math.exp(decay);
        const c = Math.cos(phase), sn = Math.sin(phase);
        m11r = grow * c;
        m11i = grow * sn;
        const shrink = grow === 1 ? 1 : 1 / grow;
        m22r = shrink * c;
        m22i = -shrink * sn;
      } else {
        m11r = 1; m11i = 0; m22r = 1; m22i = 0;
      }
      // M21 = F·M11, M12 = F·M22
      const m21r = fRe * m11r - fIm * m11i, m21i = fRe * m11i + fIm * m11r;
      const m12r = fRe * m22r - fIm * m22i, m12i = fRe * m22i + fIm * m22r;
      // B ← B·M, refl1d's unrolled row update.
      let c1r = b11r * m11r - b11i * m11i + (b21r * m12r - b21i * m12i);
      let c1i = b11r * m11i + b11i * m11r + (b21r * m12i + b21i * m12r);
      let c2r = b11r * m21r - b11i * m21i + (b21r * m22r - b21i * m22i);
      let c2i = b11r * m21i + b11i * m21r + (b21r * m22i + b21i * m22r);
      b11r = c1r; b11i = c1i; b21r = c2r; b21i = c2i;
      c1r = b12r * m11r - b12i * m11i + (b22r * m12r - b22i * m12i);
      c1i = b12r * m11i + b12i * m11r + (b22r * m12i + b22i * m12r);
      c2r = b12r * m21r - b12i * m21i + (b22r * m22r - b22i * m22i);
      c2i = b12r * m21i + b12i * m21r + (b22r * m22i + b22i * m22r);
      b12r = c1r; b12i = c1i; b22r = c2r; b22i = c2i;
      n = next;
      kRe = knRe;
      kIm = knIm;
    }
    // r = B12 / B11
    const scale = 1 / (b11r * b11r + b11i * b11i);
    outRe[outOffset + p] = (b12r * b11r + b12i * b11i) * scale;
    outIm[outOffset + p] = (b12i * b11r - b12r * b11i) * scale;
  }
}

/**
 * |r|² on a Q grid with the beam entering from the last slab (kz = −Q/2), as refl1d's `Experiment`
 * computes it before resolution: the "R" of the fixtures. Allocation-free when `scratchRe`/`scratchIm`
 * (length ≥ count) are given.
 *
 * @param q momentum transfer, Å⁻¹.
 * @param out |r|², written from `outOffset`.
 */
export function reflectivitySquared(
  stack: PreparedStack,
  q: ArrayLike<number>,
  out: Float64Array,
  outOffset = 0,
  scratchKz: Float64Array = new Float64Array(q.length),
  scratchRe: Float64Array = new Float64Array(q.length),
  scratchIm: Float64Array = new Float64Array(q.length),
): Float64Array {
  const count = q.length;
  for (let p = 0; p < count; p++) scratchKz[p] = -q[p]! / 2;
  reflectionAmplitude(stack, scratchKz, scratchRe, scratchIm, count);
  for (let p = 0; p < count; p++) {
    const re = scratchRe[p]!, im = scratchIm[p]!;
    const sq = re * re + im * im;
    if (sq > 1e-290) {
      out[outOffset + p] = sq;
    } else {
      // Near underflow, square the modulus as refl1d does (abs(r)**2) so subnormal results agree.
      const modulus = Math.hypot(re, im);
      out[outOffset + p] = modulus * modulus;
    }
  }
  return out;
}
