import ndarray from 'ndarray';
import { ReflectkitError } from '../errors.js';
import { layersToArrays } from '../sample/layers.js';
import { SeededRandom } from '../sample/random.js';
import { ParameterSampler } from '../sample/sampler.js';
import { curveArray, type NrSldDataset } from './dataset.js';
import { abortedError, InThreadExecutor, type ChunkExecutor, type ChunkResult } from './executor.js';
import {
  resolveGeneratorModel,
  type GenerationProgress,
  type GeneratorOptions,
  type ResolvedGeneratorModel,
} from './generator-options.js';
import { encodeTarget, type GenerationPlan } from './plan.js';

/** One block of a streamed run, in order: curves `start … start + count − 1`. */
export interface GeneratedChunk extends ChunkResult {
  /** Parameter rows of these curves, `count × d`, physical units. */
  parameters: Float64Array;
}

/** Per-call overrides of a run. */
export interface RunOptions {
  /** Overrides the generator's `onProgress` for this run. */
  onProgress?: (progress: GenerationProgress) => void;
  /** Overrides the generator's `signal` for this run. */
  signal?: AbortSignal;
}

let planCounter = 0;

/**
 * Curves per task: about eight tasks per thread (smooth progress, balanced load), at least 32 (task
 * overhead) and at most 1024 (memory in flight: four tasks of 1024 legacy curves are about 40 MB).
 */
function defaultChunkSize(total: number, concurrency: number): number {
  return Math.min(1024, Math.max(32, Math.ceil(total / (8 * concurrency))));
}

/**
 * Validates a curve count.
 *
 * @throws ReflectkitError `INVALID_OPTION` unless a positive safe integer.
 */
export function validateCurveCount(numCurves: unknown, path = 'numCurves'): number {
  if (typeof numCurves !== 'number' || !Number.isSafeInteger(numCurves) || numCurves < 1) {
    throw new ReflectkitError('INVALID_OPTION', `curve count ${String(numCurves)} is not usable`, {
      path,
      expected: 'a positive integer',
      received: numCurves,
    });
  }
  return numCurves;
}

/**
 * Generates synthetic (NR, SLD) pairs as pyreflect's `ReflectivityDataGenerator`, with refl1d's physics
 * reproduced in double precision: for each curve the sampled parameters overwrite a copy of the layer
 * model, R(Q) is computed (Abeles + Névot–Croce, refl1d's Gaussian resolution, `scale·(R + background)`)
 * and the smooth SLD profile is resampled to P points and shifted to start at z = 0.
 *
 * This class computes in the calling thread, so it runs in browsers and Deno; the `reflectkit/node`
 * entry point exports a subclass that spreads the work over worker threads and streams to `.npy` files.
 * A generator with a given seed produces the same sequence of runs everywhere; successive runs of one
 * generator continue its random streams (they do not repeat, and unlike pyreflect they do not
 * accumulate earlier curves).
 *
 * @example
 * ```ts
 * const generator = new ReflectivityDataGenerator({ seed: 7 }); // pyreflect's legacy 8-layer model
 * const { nr, sld } = await generator.generate(100);          // nr: (100, 2, 308), sld: (100, 2, 900)
 * ```
 */
export class ReflectivityDataGenerator {
  /** The validated model this generator samples (layers, bounds, grid, seed). */
  readonly model: ResolvedGeneratorModel;
  /** The options it was built with (callbacks included). */
  protected readonly options: GeneratorOptions;
  private readonly strata: SeededRandom;
  private readonly jitter: SeededRandom;
  private readonly plan: GenerationPlan;
  private readonly planKey: string;

  /**
   * @throws ReflectkitError for invalid options (codes `INVALID_OPTION`, `INVALID_LAYERS`,
   *   `INVALID_BOUNDS`, `INVALID_Q`), with the path of the offending field.
   */
  constructor(options: GeneratorOptions = {}) {
    this.options = options;
    const seed = options.seed ?? Math.floor(Math.random() * 0x100000000);
    const [descStream, strata, jitter] = SeededRandom.fromSeed(seed >>> 0).split(3) as [SeededRandom, SeededRandom, SeededRandom];
    this.model = resolveGeneratorModel(options, seed, descStream);
    this.strata = strata;
    this.jitter = jitter;
    const base = layersToArrays(this.model.layers);
    this.plan = {
      q: Float64Array.from(this.model.q),
      qResolution: this.model.qResolution,
      profilePoints: this.model.profilePoints,
      scale: this.model.scale,
      background: this.model.background,
      base,
      targets: Int32Array.from(this.model.bounds, (b) => encodeTarget(b.i, b.par)),
    };
    this.planKey = `plan-${++planCounter}-${seed}`;
  }

  /** The seed in use. */
  get seed(): number {
    return this.model.seed;
  }

  /** Number of sampled parameters d. */
  get parameterCount(): number {
    return this.model.bounds.length;
  }

  /** The executor a run uses; the Node subclass returns a worker pool. */
  protected createExecutor(): ChunkExecutor {
    return new InThreadExecutor();
  }

  /**
   * Streams a run of `numCurves` curves in order, a chunk at a time, with bounded memory (at most a few
   * chunks in flight).
   *
   * @throws ReflectkitError `INVALID_OPTION` for a bad count, `ABORTED` when cancelled.
   */
  async *stream(numCurves: number, run: RunOptions = {}): AsyncGenerator<GeneratedChunk, void, undefined> {
    const total = validateCurveCount(numCurves);
    const onProgress = run.onProgress ?? this.options.onProgress;
    const signal = run.signal ?? this.options.signal;
    if (signal?.aborted) throw abortedError(signal);
    const d = this.parameterCount;
    const sampler = new ParameterSampler(this.model.bounds, total, this.model.sampling, this.strata, this.jitter);
    const executor = this.createExecutor();
    const chunkSize = this.options.chunkSize ?? defaultChunkSize(total, executor.concurrency);
    const pending: Array<{ parameters: Float64Array; result: Promise<ChunkResult> }> = [];
    const maxInFlight = Math.max(2, executor.concurrency * 2);
    let submitted = 0;
    let done = 0;
    const submit = (): void => {
      const count = Math.min(chunkSize, total - submitted);
      const parameters = new Float64Array(count * d);
      sampler.next(count, parameters);
      const result = executor.run(
        { planKey: this.planKey, plan: this.plan, parameters: parameters.slice(), count, start: submitted },
        signal,
      );
      result.catch(() => undefined); // observed below; avoid unhandled rejections while queued
      pending.push({ parameters, result });
      submitted += count;
    };
    try {
      while (submitted < total && pending.length < maxInFlight) submit();
      while (pending.length > 0) {
        const head = pending.shift()!;
        const chunk = await head.result;
        if (signal?.aborted) throw abortedError(signal);
        while (submitted < total && pending.length < maxInFlight) submit();
        done += chunk.count;
        onProgress?.({ done, total });
        yield { ...chunk, parameters: head.parameters };
      }
    } finally {
      await Promise.allSettled(pending.map((p) => p.result));
      await executor.close();
    }
  }

  /**
   * Generates `numCurves` curves into memory.
   *
   * @returns NR `(N, 2, Q)`, SLD `(N, 2, P)` (float32) and the parameter matrix `(N, d)`.
   * @throws ReflectkitError `INVALID_OPTION` for a bad count, `ABORTED` when cancelled.
   */
  async generate(numCurves: number, run: RunOptions = {}): Promise<NrSldDataset> {
    const total = validateCurveCount(numCurves);
    const qLength = this.plan.q.length;
    const p = this.plan.profilePoints;
    const d = this.parameterCount;
    const nr = new Float32Array(total * 2 * qLength);
    const sld = new Float32Array(total * 2 * p);
    const parameters = new Float64Array(total * d);
    for await (const chunk of this.stream(total, run)) {
      nr.set(chunk.nr, chunk.start * 2 * qLength);
      sld.set(chunk.sld, chunk.start * 2 * p);
      parameters.set(chunk.parameters, chunk.start * d);
    }
    return {
      nr: curveArray(nr, total, qLength),
      sld: curveArray(sld, total, p),
      parameters: ndarray(parameters, [total, d]),
    };
  }
}
