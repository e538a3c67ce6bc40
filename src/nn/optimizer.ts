import { ReflectkitError } from '../errors.js';
import { TorchAdam, type AdamState } from './adam.js';
import { TorchSgd } from './sgd.js';
import type { tf } from './tf.js';

/** The optimizers a trainer can use: PyTorch's `Adam` (pyreflect's), `AdamW` and `SGD`. */
export const OPTIMIZER_NAMES = ['adam', 'adamw', 'sgd'] as const;

/** One of {@link OPTIMIZER_NAMES}. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** An optimizer's state: the step count and its per-variable arrays (Adam: moments m and v; SGD: momentum buffers in m). */
export type OptimizerState = AdamState;

/** What a trainer asks of an optimizer. */
export interface Optimizer {
  /** Steps taken. */
  readonly step: number;
  /** Applies one update with `gradients` (aligned with the variables; disposed by the optimizer). */
  apply(gradients: readonly tf.Tensor[]): void;
  /** A copy of the state, for a checkpoint. */
  getState(): Promise<OptimizerState>;
  /** Restores a state from {@link Optimizer.getState}. */
  setState(state: OptimizerState): void;
  /** Frees the state's tensors. */
  dispose(): void;
}

/** The optimizer part of the trainer settings. */
export interface OptimizerSettings {
  /** Which optimizer (default `adam`). */
  optimizer?: OptimizerName;
  /** Learning rate (default 0.001). */
  learningRate: number;
  /** Weight decay λ: coupled for `adam` and `sgd`, decoupled for `adamw`. */
  weightDecay: number;
  /** SGD's momentum (default 0; ignored by Adam and AdamW). */
  momentum?: number;
}

/** Arrays per trainable variable in an optimizer's state: 2 for Adam and AdamW (m, v), 1 for SGD. */
export function stateArraysPerVariable(name: OptimizerName = 'adam'): 1 | 2 {
  return name === 'sgd' ? 1 : 2;
}

/**
 * Makes the optimizer `settings.optimizer` for `variables`.
 *
 * @throws ReflectkitError `INVALID_OPTION` for an unknown optimizer name.
 */
export function createOptimizer(variables: readonly tf.Variable[], settings: OptimizerSettings): Optimizer {
  const { learningRate, weightDecay } = settings;
  switch (settings.optimizer ?? 'adam') {
    case 'adam':
      return new TorchAdam(variables, { learningRate, weightDecay });
    case 'adamw':
      return new TorchAdam(variables, { learningRate, weightDecay, decoupled: true });
    case 'sgd':
      return new TorchSgd(variables, { learningRate, weightDecay, momentum: settings.momentum ?? 0 });
    default:
      throw new ReflectkitError('INVALID_OPTION', `unknown optimizer ${JSON.stringify(settings.optimizer)}`, {
        path: 'optimizer',
        expected: OPTIMIZER_NAMES.join(', '),
        received: settings.optimizer,
      });
  }
}
