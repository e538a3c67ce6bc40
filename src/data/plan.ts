import { ForwardModel } from '../physics/forward.js';
import type { LayerArrays, LayerParameter } from '../sample/layers.js';

const FIELD_INDEX: Record<LayerParameter, number> = { sld: 0, isld: 1, thickness: 2, roughness: 3 };

/**
 * Everything a worker needs to turn parameter rows into curves: plain data, cheap to post to a worker
 * thread. Built by the generator from a validated model.
 */
export interface GenerationPlan {
  /** Q grid, Å⁻¹. */
  q: Float64Array;
  /** Relative FWHM resolution (pyreflect's `q_resolution`). */
  qResolution: number;
  /** Resampled profile length P. */
  profilePoints: number;
  /** pyreflect's `scale` (applied after the background). */
  scale: number;
  /** Background added after smearing. */
  background: number;
  /** The base layer model the parameters overwrite, refl1d order. */
  base: LayerArrays;
  /** For each parameter column: `layerIndex·4 + field` (0 sld, 1 isld, 2 thickness, 3 roughness). */
  targets: Int32Array;
}

/** Encodes a bound's target for {@link GenerationPlan.targets}. */
export function encodeTarget(layerIndex: number, par: LayerParameter): number {
  return layerIndex * 4 + FIELD_INDEX[par];
}

/** A reusable evaluator of one plan: its forward model and scratch layer arrays. */
export interface PlanEvaluator {
  readonly plan: GenerationPlan;
  readonly forward: ForwardModel;
  readonly layers: LayerArrays;
  readonly reflectivity: Float64Array;
  readonly z: Float64Array;
  readonly sld: Float64Array;
}

/** Sets up the forward model and buffers for a plan (builds the resolution weights once). */
export function createPlanEvaluator(plan: GenerationPlan): PlanEvaluator {
  const n = plan.base.sld.length;
  return {
    plan,
    forward: new ForwardModel({
      q: plan.q,
      qResolution: plan.qResolution,
      profilePoints: plan.profilePoints,
      maxLayers: n,
    }),
    layers: {
      sld: new Float64Array(n),
      isld: new Float64Array(n),
      thickness: new Float64Array(n),
      roughness: new Float64Array(n),
    },
    reflectivity: new Float64Array(plan.q.length),
    z: new Float64Array(plan.profilePoints),
    sld: new Float64Array(plan.profilePoints),
  };
}

/**
 * Computes `count` curves from parameter rows (`count × d`, physical units) into float32 outputs laid
 * out as pyreflect's arrays: `nrOut` `(count, 2, Q)` with rows Q and R, `sldOut` `(count, 2, P)` with rows
 * z − z[0] (Å) and SLD (10⁻⁶ Å⁻²). Parameters are applied in column order, so a later column naming the
 * same field wins, as in pyreflect.
 */
export function computeChunk(
  evaluator: PlanEvaluator,
  parameters: Float64Array,
  count: number,
  nrOut: Float32Array,
  sldOut: Float32Array,
): void {
  const { plan, forward, layers, reflectivity, z, sld } = evaluator;
  const { base, targets } = plan;
  const d = targets.length;
  const qLength = plan.q.length;
  const p = plan.profilePoints;
  const fields = [layers.sld, layers.isld, layers.thickness, layers.roughness] as const;
  for (let c = 0; c < count; c++) {
    layers.sld.set(base.sld);
    layers.isld.set(base.isld);
    layers.thickness.set(base.thickness);
    layers.roughness.set(base.roughness);
    for (let j = 0; j < d; j++) {
      const target = targets[j]!;
      fields[target & 3]![target >> 2] = parameters[c * d + j]!;
    }
    const prepared = forward.prepare(layers);
    forward.computeInto(prepared, plan.scale, plan.background, reflectivity, 0, z, sld, 0);
    const nrBase = c * 2 * qLength;
    nrOut.set(plan.q, nrBase);
    nrOut.set(reflectivity, nrBase + qLength);
    const sldBase = c * 2 * p;
    const z0 = z[0]!;
    for (let k = 0; k < p; k++) sldOut[sldBase + k] = z[k]! - z0;
    sldOut.set(sld, sldBase + p);
  }
}
