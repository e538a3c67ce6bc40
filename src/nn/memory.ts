import { ReflectkitError } from '../errors.js';
import type { BackendName } from './backend.js';
import { channelSchedule, countParameters, type CnnConfig } from './cnn.js';

/** What training a configuration needs, in bytes, before the first step. */
export interface MemoryEstimate {
  /** Weights, including BatchNorm running statistics. */
  weights: number;
  /** Gradients of every trainable variable (they exist together after the backward pass). */
  gradients: number;
  /** Adam's two moments. */
  optimizer: number;
  /** Temporaries of one variable's update (the largest variable). */
  updateTemporaries: number;
  /** Activations kept for the backward pass and their gradients, for one batch. */
  activations: number;
  /** Sum of the above. */
  total: number;
}

/** wasm32's addressable heap: 4 GiB. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

/**
 * Estimates training memory for `config` at `batchSize` (float32): weights + gradients + Adam moments +
 * temporaries of the largest variable's update + activations. The activation factor (10 tensors of each
 * block's output size per sample) is an upper bound measured on the wasm backend.
 */
export function estimateTrainingMemory(config: CnnConfig, batchSize: number): MemoryEstimate {
  const { total, head } = countParameters(config);
  const schedule = channelSchedule(config.layers);
  const runningStats = schedule.reduce((sum, [, cout]) => sum + 2 * cout, 0);
  const largestConv = Math.max(...schedule.map(([cin, cout]) => cin * cout * config.kernelSize));
  const denseWeights = config.head === 'dense' ? head : head - (256 * config.bottleneckChannels + config.bottleneckChannels);
  const largest = Math.max(largestConv, denseWeights);
  const activationValues = schedule.reduce((sum, [, cout]) => sum + cout * config.inputPoints, 0);
  const bytes = 4;
  const estimate = {
    weights: (total + runningStats) * bytes,
    gradients: total * bytes,
    optimizer: 2 * total * bytes,
    updateTemporaries: 5 * largest * bytes,
    activations: 10 * batchSize * activationValues * bytes,
    total: 0,
  };
  estimate.total = estimate.weights + estimate.gradients + estimate.optimizer + estimate.updateTemporaries + estimate.activations;
  return estimate;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * Refuses to start training when the estimate cannot fit: on wasm the 4 GiB heap (which also never
 * shrinks), elsewhere `availableBytes` when given (e.g. the machine's memory).
 *
 * @throws ReflectkitError `MEMORY_LIMIT` saying what to do instead.
 */
export function assertTrainingFits(estimate: MemoryEstimate, backend: BackendName, availableBytes?: number): void {
  const limit = backend === 'wasm' ? WASM_HEAP_LIMIT : availableBytes;
  if (limit === undefined || estimate.total <= limit) return;
  const where = backend === 'wasm' ? "the wasm backend's 4 GiB heap" : `the ${gib(limit)} available`;
  throw new ReflectkitError(
    'MEMORY_LIMIT',
    `training needs about ${gib(estimate.total)} (weights ${gib(estimate.weights)}, gradients ${gib(estimate.gradients)}, ` +
      `Adam ${gib(estimate.optimizer)}, activations ${gib(estimate.activations)}), more than ${where}`,
    {
      path: 'model',
      expected:
        "a model that fits: install @tensorflow/tfjs-node (or tfjs-node-gpu, or use a WebGPU GPU) for the full pyreflect head, or use head: 'bottleneck', fewer layers or a smaller batch",
    },
  );
}
