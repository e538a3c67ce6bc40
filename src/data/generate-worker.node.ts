/**
 * Worker-thread entry of the Node generator: computes one chunk task and transfers the float32 results
 * back without copying. Loaded by piscina; holds the last plan's forward model between tasks.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { runChunkTask, type ChunkResult, type ChunkTask } from './executor.js';
import type { PlanEvaluator } from './plan.js';

const cache: { key?: string; evaluator?: PlanEvaluator } = {};

export default function computeTask(task: ChunkTask): unknown {
  const result: ChunkResult = runChunkTask(task, cache);
  return move({
    get [transferableSymbol]() {
      return [result.nr.buffer, result.sld.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  } as never);
}
