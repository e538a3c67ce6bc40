import { ReflectkitError } from '../errors.js';
import { computeChunk, createPlanEvaluator, type GenerationPlan, type PlanEvaluator } from './plan.js';

/** One unit of work: `count` parameter rows of a plan. */
export interface ChunkTask {
  /** Identifies the plan, so a worker can keep its forward model between tasks. */
  planKey: string;
  /** The plan itself (small: grids and the base model). */
  plan: GenerationPlan;
  /** Parameter rows, `count × d`, physical units. */
  parameters: Float64Array;
  /** Number of curves. */
  count: number;
  /** Index of the first curve in the run. */
  start: number;
}

/** The curves of a {@link ChunkTask}. */
export interface ChunkResult {
  /** Index of the first curve in the run. */
  start: number;
  /** Number of curves. */
  count: number;
  /** `(count, 2, Q)` float32. */
  nr: Float32Array;
  /** `(count, 2, P)` float32. */
  sld: Float32Array;
}

/** Runs chunk tasks somewhere: in this thread, or in worker threads (Node entry point). */
export interface ChunkExecutor {
  /** How many tasks it can run at once. */
  readonly concurrency: number;
  /** Human-readable description, e.g. `in-thread` or `2 worker threads`. */
  readonly description: string;
  /** Runs one task. Rejects with `ABORTED` when `signal` fires first. */
  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult>;
  /** Releases threads. */
  close(): Promise<void>;
}

/** Computes a task with a cached evaluator (shared by the in-thread executor and the worker entry). */
export function runChunkTask(task: ChunkTask, cache: { key?: string; evaluator?: PlanEvaluator }): ChunkResult {
  if (cache.key !== task.planKey || cache.evaluator === undefined) {
    cache.evaluator = createPlanEvaluator(task.plan);
    cache.key = task.planKey;
  }
  const qLength = task.plan.q.length;
  const p = task.plan.profilePoints;
  const nr = new Float32Array(task.count * 2 * qLength);
  const sld = new Float32Array(task.count * 2 * p);
  computeChunk(cache.evaluator, task.parameters, task.count, nr, sld);
  return { start: task.start, count: task.count, nr, sld };
}

/** The error a cancelled run rejects with. */
export function abortedError(signal?: AbortSignal): ReflectkitError {
  const reason = signal?.reason;
  return new ReflectkitError('ABORTED', 'generation was cancelled', {
    ...(reason === undefined ? {} : { cause: reason }),
  });
}

/** Lets pending events run: `setImmediate` where it exists (Node, Deno), else a zero timeout. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise<void>((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * Runs tasks in the calling thread, yielding to the event loop before each one so that progress
 * callbacks and abort signals get through. Works in browsers, Deno and Node.
 */
export class InThreadExecutor implements ChunkExecutor {
  readonly concurrency = 1;
  readonly description = 'in-thread';
  private readonly cache: { key?: string; evaluator?: PlanEvaluator } = {};

  async run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult> {
    await yieldToEventLoop();
    if (signal?.aborted) throw abortedError(signal);
    return runChunkTask(task, this.cache);
  }

  async close(): Promise<void> {
    this.cache.evaluator = undefined;
  }
}
