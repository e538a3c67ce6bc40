import { z as zod } from 'zod';
import { validateQArray } from '../data/generator-options.js';
import { ReflectkitError } from '../errors.js';
import { GAUSSIAN_FWHM_PER_SIGMA } from '../io/measured.js';
import { DEFAULT_Q_RESOLUTION } from '../physics/constants.js';
import { allocatePreparedStack, prepareStack, reflectivitySquared } from '../physics/abeles.js';
import { microslabStack, type Medium } from '../physics/microslab.js';
import { applyResolution, buildResolutionOperator, sigmaFromRelativeFwhm } from '../physics/resolution.js';
import { parseOrThrow } from '../util/zod-errors.js';

/** Which end of the arrays is the substrate: pyreflect's profiles run substrate → air (z = 0 at the substrate). */
export type ProfileOrder = 'substrate-to-air' | 'air-to-substrate';

/** An SLD depth profile: samples of SLD against depth. */
export interface SldProfile {
  /** Depth, Å, non-decreasing along the arrays (a repeated z is a step). */
  z: ArrayLike<number>;
  /** Real SLD, 10⁻⁶ Å⁻². */
  sld: ArrayLike<number>;
  /** Imaginary SLD (absorption), 10⁻⁶ Å⁻² (default none). */
  isld?: ArrayLike<number>;
  /** Default `substrate-to-air`: index 0 is on the substrate side, as pyreflect's and the generator's profiles. */
  order?: ProfileOrder;
}

/** Options of {@link computeNrFromSld}. */
export interface NrFromSldOptions {
  /** Q points, Å⁻¹, > 0, non-decreasing (any grid, need not be the training grid; a Q may repeat, each point with its own dq). */
  q: ArrayLike<number>;
  /** Relative resolution dQ/Q as FWHM, pyreflect's convention σ = qResolution·Q/2.355 (default 0.0294855, the generator's); 0 disables smearing. Ignored when `dq` is given. */
  qResolution?: number;
  /** Resolution per Q point, Å⁻¹, instead of `qResolution`. */
  dq?: ArrayLike<number>;
  /** Whether `dq` holds FWHM or 1-σ widths (default `sigma`, refl1d's convention); FWHM is divided by 2√(2 ln 2). */
  dqIs?: 'fwhm' | 'sigma';
  /** Fronting medium (the one the beam comes from, air by default): SLD in 10⁻⁶ Å⁻² or a {@link Medium}; estimated from the profile when absent. */
  fronting?: number | Medium;
  /** Backing medium (the substrate): SLD in 10⁻⁶ Å⁻² or a {@link Medium}; estimated from the profile when absent. */
  backing?: number | Medium;
  /**
   * Width, Å, of the end region whose median SLD estimates a medium that is not given (default 2: wide
   * enough to outvote one bad end sample of a 900-point profile, narrow enough that the tail of the last
   * interface biases it little; 0 takes the end sample).
   */
  mediumWindow?: number;
  /** Multiplies the smeared curve and the background, as the generator (default 1). */
  scale?: number;
  /** Added to the smeared curve before scaling (default 0). */
  background?: number;
}

/** What {@link computeNrFromSld} returns. */
export interface NrFromSld {
  /** Q, Å⁻¹. */
  q: Float64Array;
  /** R(Q) with resolution, scale and background applied. */
  reflectivity: Float64Array;
  /** The fronting medium used (the one the beam comes from): SLD and isld in 10⁻⁶ Å⁻². */
  fronting: Required<Medium> & {
    /** True when it was estimated from the profile's fronting end (not given in the options). */
    estimated: boolean;
  };
  /** The backing medium used (the substrate): SLD and isld in 10⁻⁶ Å⁻². */
  backing: Required<Medium> & {
    /** True when it was estimated from the profile's substrate end (not given in the options). */
    estimated: boolean;
  };
  /** Number of microslabs the profile was cut into. */
  slabs: number;
}

function finiteArray(values: ArrayLike<number> | undefined, path: string, length?: number): Float64Array {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new ReflectkitError('INVALID_PROFILE', `${path} is not an array`, { path, expected: 'an array of numbers' });
  }
  if (length !== undefined && values.length !== length) {
    throw new ReflectkitError('INVALID_PROFILE', `${path} has ${values.length} values`, { path, expected: `${length} values, one per z`, received: values.length });
  }
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ReflectkitError('INVALID_PROFILE', `${path}[${i}] is ${String(v)}`, { path: `${path}[${i}]`, expected: 'a finite number', received: v });
    }
    out[i] = v;
  }
  return out;
}

/** The profile reoriented to run from the substrate (index 0) to the fronting medium, z ascending. */
function orient(profile: SldProfile): { z: Float64Array; sld: Float64Array; isld: Float64Array | null } {
  if (profile === null || typeof profile !== 'object') {
    throw new ReflectkitError('INVALID_PROFILE', 'the profile is not an object', { path: '', expected: '{ z, sld, isld?, order? }' });
  }
  const order = profile.order ?? 'substrate-to-air';
  if (order !== 'substrate-to-air' && order !== 'air-to-substrate') {
    throw new ReflectkitError('INVALID_PROFILE', `unknown order ${String(order)}`, { path: 'order', expected: '"substrate-to-air" or "air-to-substrate"', received: order });
  }
  const z = finiteArray(profile.z, 'z');
  if (z.length < 2) throw new ReflectkitError('INVALID_PROFILE', `the profile has ${z.length} point(s)`, { path: 'z', expected: 'at least 2 points' });
  const sld = finiteArray(profile.sld, 'sld', z.length);
  const isld = profile.isld === undefined ? null : finiteArray(profile.isld, 'isld', z.length);
  for (let i = 1; i < z.length; i++) {
    if (z[i]! < z[i - 1]!) {
      throw new ReflectkitError('INVALID_PROFILE', `z[${i}] = ${z[i]} is below z[${i - 1}] = ${z[i - 1]}`, {
        path: `z[${i}]`,
        expected: `z non-decreasing along the arrays (set "order" to say which end is the substrate; repeated z values make steps)`,
        received: z[i],
      });
    }
  }
  if (z[z.length - 1]! === z[0]!) throw new ReflectkitError('INVALID_PROFILE', 'every z is the same', { path: 'z', expected: 'a profile of non-zero depth' });
  if (order === 'substrate-to-air') return { z, sld, isld };
  // air → substrate: reverse, and mirror z so it still ascends from the substrate.
  const n = z.length;
  const last = z[n - 1]!;
  const rz = new Float64Array(n);
  const rs = new Float64Array(n);
  const ri = isld === null ? null : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    rz[i] = last - z[n - 1 - i]!;
    rs[i] = sld[n - 1 - i]!;
    if (ri !== null) ri[i] = isld![n - 1 - i]!;
  }
  return { z: rz, sld: rs, isld: ri };
}

/** The distinct values of a non-decreasing array. */
function distinct(q: Float64Array): Float64Array {
  const out: number[] = [];
  for (const v of q) if (out.length === 0 || v !== out[out.length - 1]) out.push(v);
  return Float64Array.from(out);
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : 0.5 * (sorted[mid - 1]! + sorted[mid]!);
}

/**
 * A medium's SLD estimated from one end of a profile: the median of the samples within `window` Å of that
 * end (at least the end sample). Unlike a fixed number of points, the window has a physical size, so a
 * dense profile does not reach into the film; the median ignores isolated outliers of a predicted profile.
 *
 * @param z depth, Å, ascending.
 * @param values SLD samples at each z, 10⁻⁶ Å⁻² (same length as `z`).
 * @param end which end: `start` (index 0, the substrate side) or `end` (the last index).
 * @param window width of the end region, Å (default 2; 0 takes the end sample alone).
 * @returns the median SLD of that region, 10⁻⁶ Å⁻².
 */
export function estimateMedium(z: ArrayLike<number>, values: ArrayLike<number>, end: 'start' | 'end', window = 2): number {
  const n = z.length;
  const picked: number[] = [];
  if (end === 'start') {
    for (let i = 0; i < n && z[i]! - z[0]! <= window; i++) picked.push(values[i]!);
  } else {
    for (let i = n - 1; i >= 0 && z[n - 1]! - z[i]! <= window; i--) picked.push(values[i]!);
  }
  return median(picked);
}

function medium(given: number | Medium | undefined, path: string): Medium | undefined {
  if (given === undefined) return undefined;
  const m = typeof given === 'number' ? { sld: given } : given;
  if (m === null || typeof m !== 'object' || typeof m.sld !== 'number' || !Number.isFinite(m.sld)) {
    throw new ReflectkitError('INVALID_OPTION', `${path} is not a medium`, { path, expected: 'an SLD (10⁻⁶ Å⁻²) or { sld, isld? }', received: given });
  }
  if (m.isld !== undefined && !Number.isFinite(m.isld)) {
    throw new ReflectkitError('INVALID_OPTION', `${path}.isld is ${String(m.isld)}`, { path: `${path}.isld`, expected: 'a finite number' });
  }
  return m;
}

function resolutionSigma(q: Float64Array, options: NrFromSldOptions): Float64Array {
  if (options.dq !== undefined) {
    const dq = validatePositiveOrZero(options.dq, 'dq', q.length);
    const dqIs = options.dqIs ?? 'sigma';
    if (dqIs !== 'sigma' && dqIs !== 'fwhm') {
      throw new ReflectkitError('INVALID_OPTION', `dqIs is ${String(dqIs)}`, { path: 'dqIs', expected: '"fwhm" or "sigma"', received: dqIs });
    }
    if (dqIs === 'fwhm') for (let i = 0; i < dq.length; i++) dq[i] = dq[i]! / GAUSSIAN_FWHM_PER_SIGMA;
    return dq;
  }
  const res = options.qResolution ?? DEFAULT_Q_RESOLUTION;
  if (typeof res !== 'number' || !Number.isFinite(res) || res < 0) {
    throw new ReflectkitError('INVALID_Q', `qResolution is ${String(res)}`, { path: 'qResolution', expected: 'a finite dQ/Q FWHM ≥ 0', received: res });
  }
  return sigmaFromRelativeFwhm(q, res);
}

function validatePositiveOrZero(values: ArrayLike<number>, path: string, length: number): Float64Array {
  if (values === null || typeof values !== 'object' || values.length !== length) {
    throw new ReflectkitError('INVALID_Q', `${path} must have one value per Q point`, { path, expected: `${length} values`, received: values?.length });
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ReflectkitError('INVALID_Q', `${path}[${i}] is ${String(v)}`, { path: `${path}[${i}]`, expected: 'a finite width ≥ 0, Å⁻¹', received: v });
    }
    out[i] = v;
  }
  return out;
}

function finiteOption(value: number | undefined, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ReflectkitError('INVALID_OPTION', `${path} is ${String(value)}`, { path, expected: 'a finite number', received: value });
  }
  return value;
}

/**
 * R(Q) of an SLD profile: the profile is cut into microslabs ({@link microslabStack}: one slab between
 * consecutive samples, at their mean SLD, no roughness), between a backing medium (the substrate) and a
 * fronting medium, and run through the generator's Abeles kernel (beam from the fronting side) and
 * refl1d's Gaussian resolution on the given Q grid, then `scale·(R + background)`.
 *
 * Corrects pyreflect's `compute_nr_from_sld`: resolution is on by default (the generator's 0.0294855 FWHM),
 * the media come from the caller (the layer model) or from a fixed-width median of the profile's ends
 * instead of a 30-point mean that reaches into the film, z order is explicit and a decreasing z is an
 * error (not silently re-sorted), and any Q grid is accepted.
 *
 * @example
 * ```ts
 * const { reflectivity } = computeNrFromSld({ z, sld }, { q, backing: 2.07, fronting: 0 });
 * ```
 * @throws ReflectkitError `INVALID_PROFILE` (z, sld), `INVALID_Q` (q, dq, qResolution), `INVALID_OPTION` (media, scale).
 */
export function computeNrFromSld(profile: SldProfile, options: NrFromSldOptions): NrFromSld {
  if (options === null || typeof options !== 'object') {
    throw new ReflectkitError('INVALID_OPTION', 'options are required', { path: '', expected: '{ q, … }' });
  }
  const { z, sld, isld } = orient(profile);
  const q = validateQArray(options.q, 'q', { minPoints: 1, allowRepeats: true });
  const dq = resolutionSigma(q, options);
  const window = finiteOption(options.mediumWindow, 2, 'mediumWindow');
  if (window < 0) throw new ReflectkitError('INVALID_OPTION', 'mediumWindow is negative', { path: 'mediumWindow', expected: 'a width ≥ 0, Å', received: window });
  const scale = finiteOption(options.scale, 1, 'scale');
  const background = finiteOption(options.background, 0, 'background');
  const givenBacking = medium(options.backing, 'backing');
  const givenFronting = medium(options.fronting, 'fronting');
  const backing = {
    sld: givenBacking?.sld ?? estimateMedium(z, sld, 'start', window),
    isld: givenBacking?.isld ?? (isld === null ? 0 : estimateMedium(z, isld, 'start', window)),
    estimated: givenBacking === undefined,
  };
  const fronting = {
    sld: givenFronting?.sld ?? estimateMedium(z, sld, 'end', window),
    isld: givenFronting?.isld ?? (isld === null ? 0 : estimateMedium(z, isld, 'end', window)),
    estimated: givenFronting === undefined,
  };
  const stack = prepareStack(microslabStack(z, sld, isld, backing, fronting), allocatePreparedStack(z.length + 1));
  // |r|² on the distinct Q values (refl1d's calc_Q), then each output point's own resolution: measured
  // data stitched from several angles repeat a Q with different dQ.
  const calcQ = distinct(q);
  const unsmeared = reflectivitySquared(stack, calcQ, new Float64Array(calcQ.length));
  const reflectivity = applyResolution(buildResolutionOperator(calcQ, q, dq), unsmeared, new Float64Array(q.length));
  for (let i = 0; i < q.length; i++) reflectivity[i] = scale * (reflectivity[i]! + background);
  return { q, reflectivity, fronting, backing, slabs: z.length - 1 };
}

const numberArray = zod.array(zod.number());
const mediumSchema = zod.union([zod.number(), zod.strictObject({ sld: zod.number(), isld: zod.number().optional() })]);
const requestSchema = zod.strictObject({
  z: numberArray,
  sld: numberArray,
  isld: numberArray.optional(),
  order: zod.enum(['substrate-to-air', 'air-to-substrate']).optional(),
  q: numberArray,
  qResolution: zod.number().min(0).optional(),
  dq: numberArray.optional(),
  dqIs: zod.enum(['fwhm', 'sigma']).optional(),
  fronting: mediumSchema.optional(),
  backing: mediumSchema.optional(),
  mediumWindow: zod.number().min(0).optional(),
  scale: zod.number().optional(),
  background: zod.number().optional(),
});

/**
 * The JSON request of `reflectkit nr-from-sld`: a profile and the options of {@link computeNrFromSld} in one
 * object (z in Å, SLD in 10⁻⁶ Å⁻², Q and dq in Å⁻¹). Exactly the input `requestSchema` accepts.
 */
export interface NrFromSldRequest {
  /** Depth, Å, non-decreasing along the array; length n ≥ 2. */
  z: number[];
  /** Real SLD at each z, 10⁻⁶ Å⁻²; length n. */
  sld: number[];
  /** Imaginary SLD (absorption) at each z, 10⁻⁶ Å⁻²; length n (default none). */
  isld?: number[] | undefined;
  /** Which end of the arrays is the substrate (default `substrate-to-air`). */
  order?: ProfileOrder | undefined;
  /** Q points, Å⁻¹, > 0, non-decreasing. */
  q: number[];
  /** Relative resolution dQ/Q as FWHM (default 0.0294855); 0 disables smearing. Ignored when `dq` is given. */
  qResolution?: number | undefined;
  /** Resolution per Q point, Å⁻¹; same length as `q`. */
  dq?: number[] | undefined;
  /** Whether `dq` holds FWHM or 1-σ widths (default `sigma`); only with `dq`. */
  dqIs?: 'fwhm' | 'sigma' | undefined;
  /** Fronting medium: SLD in 10⁻⁶ Å⁻² or `{ sld, isld? }`; estimated from the profile when absent. */
  fronting?: number | Medium | undefined;
  /** Backing medium (substrate): SLD in 10⁻⁶ Å⁻² or `{ sld, isld? }`; estimated from the profile when absent. */
  backing?: number | Medium | undefined;
  /** Width, Å, of the end region whose median estimates a medium that is not given (default 2). */
  mediumWindow?: number | undefined;
  /** Multiplies the smeared curve and the background (default 1). */
  scale?: number | undefined;
  /** Added to the smeared curve before scaling (default 0). */
  background?: number | undefined;
}

/**
 * Validates a `reflectkit nr-from-sld` request: `{"z", "sld", "q", "isld"?, "order"?, "qResolution"?,
 * "dq"?, "dqIs"?, "fronting"?, "backing"?, "mediumWindow"?, "scale"?, "background"?}` (z in Å, SLD in
 * 10⁻⁶ Å⁻², Q in Å⁻¹). Unknown keys are errors, so a misspelt option is never silently ignored.
 *
 * @throws ReflectkitError `INVALID_CONFIG` naming the offending field.
 */
export function parseNrFromSldRequest(json: unknown): {
  /** The profile part: `z`, `sld`, `isld`, `order`. */
  profile: SldProfile;
  /** Everything else, the options of {@link computeNrFromSld}. */
  options: NrFromSldOptions;
} {
  const r = parseOrThrow(requestSchema, json, 'INVALID_CONFIG');
  if (r.dqIs !== undefined && r.dq === undefined) {
    throw new ReflectkitError('INVALID_CONFIG', 'dqIs is given without dq', { path: 'dqIs', expected: 'dq together with dqIs' });
  }
  const profile: SldProfile = { z: r.z, sld: r.sld, ...(r.isld === undefined ? {} : { isld: r.isld }), ...(r.order === undefined ? {} : { order: r.order }) };
  const { z: _z, sld: _sld, isld: _isld, order: _order, ...rest } = r;
  return { profile, options: rest as NrFromSldOptions };
}
