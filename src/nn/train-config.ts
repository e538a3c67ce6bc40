import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { parseOrThrow } from '../util/zod-errors.js';
import type { CnnConfig } from './cnn.js';
import type { NormalizationMethod } from '../preprocess/scaler.js';
import type { EarlyStoppingOptions } from './checkpoint.js';
import type { OptimizerName } from './optimizer.js';

/** A training job as JSON (`reflectkit train --config`). Every field is optional. */
export interface TrainConfig {
  /** Architecture (input and output points come from the data). */
  model: Partial<Omit<CnnConfig, 'inputPoints' | 'outputPoints'>>;
  /** Optimisation. */
  training: {
    /** Epochs to train (trainer default 10). */
    epochs?: number;
    /** Curves per batch (trainer default 32). */
    batchSize?: number;
    /** The optimizer: `adam` (trainer default, pyreflect's), `adamw` or `sgd`. */
    optimizer?: OptimizerName;
    /** SGD's momentum (trainer default 0). */
    momentum?: number;
    /** The optimizer's learning rate (trainer default 0.001). */
    learningRate?: number;
    /** Coupled L2 weight decay (trainer default 1e-4). */
    weightDecay?: number;
    /** Seed of the shuffling and dropout streams (trainer default 0). */
    seed?: number;
    /** Early stopping on the validation loss (default off). */
    earlyStopping?: EarlyStoppingOptions;
    /** Write a checkpoint every this many epochs (trainer default 0: only when paused). */
    checkpointEvery?: number;
  };
  /** Train/validation/test split. */
  split: {
    /** Seed of the split's permutation, integer ≥ 0 (default 0). */
    seed: number;
    /** Fraction of the curves used for training, in (0, 1) (default 0.8; the rest split between validation and test). */
    trainFraction: number;
  };
  /** Floor of log10(clip(R)) (default 1e-8). */
  clipMin: number;
  /** How the scaler scales each axis: `minmax` (default, pyreflect's) or `zscore`. */
  normalization: NormalizationMethod;
}

const schema = z.strictObject({
  model: z
    .strictObject({
      layers: z.number().optional(),
      dropout: z.number().optional(),
      kernelSize: z.number().optional(),
      head: z.enum(['dense', 'bottleneck']).optional(),
      bottleneckChannels: z.number().optional(),
      seed: z.number().optional(),
    })
    .default({}),
  training: z
    .strictObject({
      epochs: z.number().optional(),
      batchSize: z.number().optional(),
      optimizer: z.enum(['adam', 'adamw', 'sgd']).optional(),
      momentum: z.number().optional(),
      learningRate: z.number().optional(),
      weightDecay: z.number().optional(),
      seed: z.number().optional(),
      earlyStopping: z.strictObject({ patience: z.number(), minDelta: z.number().optional(), restoreBestWeights: z.boolean().optional() }).optional(),
      checkpointEvery: z.number().optional(),
      // the web interface puts the architecture here
      layers: z.number().optional(),
      dropout: z.number().optional(),
    })
    .default({}),
  split: z.strictObject({ seed: z.number().int().min(0).default(0), trainFraction: z.number().gt(0).lt(1).default(0.8) }).default({ seed: 0, trainFraction: 0.8 }),
  clipMin: z.number().positive().default(1e-8),
  normalization: z.enum(['minmax', 'zscore']).default('minmax'),
});

/**
 * Reads a training config. Accepts the web interface's `training {batchSize, epochs, layers, dropout}` by
 * moving `layers` and `dropout` into `model`. Values are range-checked where they are used (the model
 * factory and the trainer), each error naming its field.
 *
 * @throws ReflectkitError `INVALID_CONFIG`.
 */
export function parseTrainConfig(json: unknown): TrainConfig {
  const parsed = parseOrThrow(schema, json ?? {}, 'INVALID_CONFIG');
  const { layers, dropout, ...training } = parsed.training;
  const model = { ...parsed.model };
  for (const [key, value] of [['layers', layers], ['dropout', dropout]] as const) {
    if (value === undefined) continue;
    if (model[key] !== undefined) {
      throw new ReflectkitError('INVALID_CONFIG', `training.${key} repeats model.${key}`, { path: `training.${key}`, expected: 'each option once' });
    }
    model[key] = value;
  }
  return { model, training, split: parsed.split, clipMin: parsed.clipMin, normalization: parsed.normalization };
}
