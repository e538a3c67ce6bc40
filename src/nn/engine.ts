import { ReflectkitError } from '../errors.js';
import type { AdamState } from './adam.js';
import { createOptimizer, type Optimizer, type OptimizerSettings } from './optimizer.js';
import type { Cnn } from './cnn.js';
import { tf } from './tf.js';

/** Normalised training data, as `NrSldScaler` produces it. */
export interface TrainingData {
  /** Inputs `(n, Q)`: normalised log R. */
  trainX: Float32Array;
  /** Targets `(n, 2, P)`: normalised z and SLD. */
  trainY: Float32Array;
  /** Validation inputs `(m, Q)`. */
  validationX: Float32Array;
  /** Validation targets `(m, 2, P)`. */
  validationY: Float32Array;
}

/**
 * Where the arithmetic of training happens: the model replica(s), the optimizer and the data. The
 * `Trainer` owns the loop (order, epochs, history, checkpoints) and drives an engine: in this thread
 * ({@link LocalEngine}) or, in Node, data-parallel worker threads that average gradients.
 */
export interface TrainingEngine {
  /** What runs the steps, e.g. `this thread` or `2 worker threads`. */
  readonly description: string;
  /** True when the engine trains the trainer's own model object (nothing to copy back and forth). */
  readonly sharesModel: boolean;
  /** Makes the data available (called at the start of each fit). */
  load(data: TrainingData): Promise<void>;
  /** One optimizer step on training rows `rows`; `step` seeds the dropout masks. Returns the batch's MSE. */
  step(rows: ArrayLike<number>, step: number): Promise<number>;
  /** Mean of per-batch MSE over the validation set, inference mode. */
  validationLoss(batchSize: number): Promise<number>;
  /** The model's weights (`model.weights` order). */
  getWeights(): Promise<Float32Array[]>;
  /** Replaces the model's weights (`model.weights` order, each flattened to its variable's size), in every replica. */
  setWeights(values: Float32Array[]): Promise<void>;
  /** Adam's step count and moments, aligned with the trainable weights (for a checkpoint). */
  getOptimizerState(): Promise<AdamState>;
  /** Restores Adam's state saved by {@link TrainingEngine.getOptimizerState}. */
  setOptimizerState(state: AdamState): Promise<void>;
  /** Frees the engine's tensors, optimizer and threads; the engine is unusable afterwards. */
  dispose(): Promise<void>;
}

/**
 * Copies rows `order[from … to)` (or rows `from … to` when `order` is null) of an `(n, width)` array into
 * one tensor of shape `[rows, ...shape]`.
 */
export function gatherRows(source: Float32Array, width: number, order: ArrayLike<number> | null, from: number, to: number, shape: number[]): tf.Tensor {
  const rows = to - from;
  if (order === null) return tf.tensor(source.slice(from * width, to * width), [rows, ...shape]);
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(source.subarray(order[from + r]! * width, (order[from + r]! + 1) * width), r * width);
  return tf.tensor(out, [rows, ...shape]);
}

/** Mean of per-batch MSE of `cnn` over `(x, y)` in inference mode (pyreflect's validation loss). */
export function meanBatchLoss(cnn: Cnn, x: Float32Array, y: Float32Array, batchSize: number): number {
  const { inputPoints: q, outputPoints: p } = cnn.config;
  const n = x.length / q;
  let sum = 0;
  let batches = 0;
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    sum += tf.tidy(() => {
      const xb = gatherRows(x, q, null, from, to, [q, 1]);
      const yb = gatherRows(y, 2 * p, null, from, to, [2, p]);
      return tf.losses.meanSquaredError(yb, cnn.model.apply(xb, { training: false }) as tf.Tensor).dataSync()[0]!;
    });
    batches++;
  }
  return sum / batches;
}

/** Sets a model's weights from arrays in `model.weights` order. @throws ReflectkitError `CHECKPOINT_INVALID` on a mismatch. */
export function writeWeights(cnn: Cnn, values: Float32Array[]): void {
  const weights = cnn.model.weights;
  if (values.length !== weights.length) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${values.length} weight arrays for a model with ${weights.length}`, { path: 'weights', expected: `${weights.length} arrays` });
  }
  tf.tidy(() => {
    weights.forEach((w, i) => {
      const size = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
      if (values[i]!.length !== size) {
        throw new ReflectkitError('CHECKPOINT_INVALID', `weight ${i} (${w.originalName}) has ${values[i]!.length} values, the model ${size}`, {
          path: `weights[${i}]`,
          expected: `${size} values`,
        });
      }
      w.write(tf.tensor(values[i]!, w.shape as number[]));
    });
  });
}

/** A model's weights as arrays, `model.weights` order. */
export async function readWeights(cnn: Cnn): Promise<Float32Array[]> {
  return Promise.all(cnn.model.weights.map(async (w) => (await w.read().data()) as Float32Array));
}

/** Trains the model in the calling thread: forward, backward and the optimizer step on the active tfjs backend. */
export class LocalEngine implements TrainingEngine {
  readonly description = 'this thread';
  readonly sharesModel = true;
  private readonly optimizer: Optimizer;
  private readonly trainable: tf.Variable[];
  private data: TrainingData | undefined;

  constructor(
    private readonly cnn: Cnn,
    optimizer: OptimizerSettings,
  ) {
    this.trainable = cnn.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = createOptimizer(this.trainable, optimizer);
  }

  async load(data: TrainingData): Promise<void> {
    this.data = data;
  }

  async step(rows: ArrayLike<number>, step: number): Promise<number> {
    const data = this.data!;
    const { inputPoints: q, outputPoints: p } = this.cnn.config;
    this.cnn.dropout.step = step;
    return tf.tidy(() => {
      const x = gatherRows(data.trainX, q, rows, 0, rows.length, [q, 1]);
      const y = gatherRows(data.trainY, 2 * p, rows, 0, rows.length, [2, p]);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.meanSquaredError(y, this.cnn.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        this.trainable,
      );
      this.optimizer.apply(this.trainable.map((v) => grads[v.name]!));
      return value.dataSync()[0]!;
    });
  }

  async validationLoss(batchSize: number): Promise<number> {
    return meanBatchLoss(this.cnn, this.data!.validationX, this.data!.validationY, batchSize);
  }

  getWeights(): Promise<Float32Array[]> {
    return readWeights(this.cnn);
  }

  async setWeights(values: Float32Array[]): Promise<void> {
    writeWeights(this.cnn, values);
  }

  getOptimizerState(): Promise<AdamState> {
    return this.optimizer.getState();
  }

  async setOptimizerState(state: AdamState): Promise<void> {
    this.optimizer.setState(state);
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
  }
}
