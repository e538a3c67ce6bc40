import { ReflectkitError } from '../errors.js';
import { SeededRandom } from '../sample/random.js';
import { TorchAdam } from './adam.js';
import { currentBackend, type BackendName } from './backend.js';
import type {
  CheckpointMeta,
  CheckpointStore,
  EarlyStoppingOptions,
  TrainerSettings,
  TrainingHistory,
  TrainingProgress,
  TrainingSnapshot,
} from './checkpoint.js';
import { createCnn, resolveCnnConfig, type Cnn, type CnnConfig } from './cnn.js';
import { assertTrainingFits, estimateTrainingMemory } from './memory.js';
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

/** One finished batch. */
export interface BatchEnd {
  /** Epoch, 1-based. */
  epoch: number;
  /** Batch within the epoch, 0-based. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Mean squared error of this batch (normalised units). */
  loss: number;
}

/** One finished epoch. */
export interface EpochEnd {
  /** Epoch, 1-based. */
  epoch: number;
  /** Mean of the epoch's batch losses (pyreflect's training loss). */
  trainingLoss: number;
  /** Mean of the validation batch losses, inference mode. */
  validationLoss: number;
  /** Wall time of the epoch, s. */
  seconds: number;
}

/** How a {@link Trainer.fit} call ended. */
export interface TrainResult {
  /** `completed` (all epochs), `early-stopped`, or `paused` (signal; continue with fit or a checkpoint). */
  status: 'completed' | 'early-stopped' | 'paused';
  history: TrainingHistory;
  /** Best validation loss and its epoch (1-based), or null before the first epoch ends. */
  best: { epoch: number; loss: number } | null;
  /** Where the last checkpoint went, if one was written. */
  checkpoint?: string;
  /** Training steps (batches) taken over the whole run. */
  steps: number;
  /** The tfjs backend that ran it. */
  backend: string;
}

/** Callbacks of a training run. */
export interface TrainerCallbacks {
  onBatchEnd?: (info: BatchEnd) => void;
  onEpochEnd?: (info: EpochEnd) => void | Promise<void>;
  onTrainEnd?: (result: TrainResult) => void;
}

/** Options of a {@link Trainer}. Defaults are the seed's: Adam lr 0.001, weight decay 0.0001, 10 epochs, batch 32. */
export interface TrainerOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Coupled L2 weight decay, PyTorch's `weight_decay` (default 1e-4). */
  weightDecay?: number;
  /** Seed of the shuffling and dropout streams (default 0). */
  seed?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Write a checkpoint every this many epochs (0: only when paused). Needs `checkpointStore`. */
  checkpointEvery?: number;
  checkpointStore?: CheckpointStore;
  callbacks?: TrainerCallbacks;
  /** Pauses after the current batch, writing a checkpoint when a store is set. */
  signal?: AbortSignal;
  /** Kept in every checkpoint (e.g. the scaler statistics and data paths). */
  extra?: Record<string, unknown>;
  /** Memory available to the backend, to refuse a run that cannot fit (wasm's 4 GiB is always checked). */
  availableMemoryBytes?: number;
}

function positiveInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ReflectkitError('INVALID_OPTION', `${path} ${String(value)}`, { path, expected: 'a positive integer' });
  }
  return value;
}

function nonNegative(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ReflectkitError('INVALID_OPTION', `${path} ${String(value)}`, { path, expected: 'a finite number ≥ 0' });
  }
  return value;
}

function resolveSettings(options: TrainerOptions): TrainerSettings {
  const early = options.earlyStopping;
  if (early !== undefined) positiveInteger(early.patience, 'earlyStopping.patience');
  return {
    epochs: positiveInteger(options.epochs ?? 10, 'epochs'),
    batchSize: positiveInteger(options.batchSize ?? 32, 'batchSize'),
    learningRate: nonNegative(options.learningRate ?? 1e-3, 'learningRate'),
    weightDecay: nonNegative(options.weightDecay ?? 1e-4, 'weightDecay'),
    seed: nonNegative(options.seed ?? 0, 'seed'),
    earlyStopping: early === undefined ? null : { patience: early.patience, minDelta: early.minDelta ?? 0, restoreBestWeights: early.restoreBestWeights ?? true },
    checkpointEvery: nonNegative(options.checkpointEvery ?? 0, 'checkpointEvery'),
  };
}

/**
 * Copies rows `order[from … to)` (or rows `from … to` when `order` is null) of an `(n, width)` array into
 * one tensor of shape `[rows, ...shape]`.
 */
function gatherRows(source: Float32Array, width: number, order: ArrayLike<number> | null, from: number, to: number, shape: number[]): tf.Tensor {
  const rows = to - from;
  if (order === null) return tf.tensor(source.slice(from * width, to * width), [rows, ...shape]);
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) out.set(source.subarray(order[from + r]! * width, (order[from + r]! + 1) * width), r * width);
  return tf.tensor(out, [rows, ...shape]);
}

/**
 * Trains a {@link Cnn} on normalised data with PyTorch's Adam (coupled weight decay) and MSE, seeded
 * shuffling, a validation pass per epoch, callbacks, early stopping, checkpoints and pausing. A run
 * continued from a checkpoint (or by calling {@link Trainer.fit} again after a pause) gives the same
 * losses as one that never stopped, on the same backend.
 */
export class Trainer {
  readonly cnn: Cnn;
  readonly settings: TrainerSettings;
  private readonly options: TrainerOptions;
  private readonly optimizer: TorchAdam;
  private readonly trainable: tf.Variable[];
  private shuffle: SeededRandom;
  private progress: TrainingProgress;
  private history: TrainingHistory = { epochs: [], trainingLoss: [], validationLoss: [] };
  private bestWeights: Float32Array[] | null = null;
  private lastCheckpoint: string | undefined;

  /**
   * @param model a built CNN, or a configuration to build one with.
   * @throws ReflectkitError `INVALID_OPTION` for bad settings.
   */
  constructor(model: Cnn | Partial<CnnConfig>, options: TrainerOptions = {}) {
    this.options = options;
    this.settings = resolveSettings(options);
    if ('model' in model && 'dropout' in model) {
      this.cnn = model as Cnn;
    } else {
      // Check before building: the full pyreflect head alone is 568 MB of weights.
      const config = resolveCnnConfig(model as Partial<CnnConfig>);
      assertTrainingFits(estimateTrainingMemory(config, this.settings.batchSize), tf.getBackend() as BackendName, options.availableMemoryBytes);
      this.cnn = createCnn(config);
    }
    this.trainable = this.cnn.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = new TorchAdam(this.trainable, { learningRate: this.settings.learningRate, weightDecay: this.settings.weightDecay });
    this.shuffle = SeededRandom.fromSeed(this.settings.seed);
    this.cnn.dropout.seed = (this.settings.seed ^ 0x5bd1e995) >>> 0;
    this.progress = {
      epoch: 0,
      batch: 0,
      epochOrder: null,
      epochLosses: [],
      shuffleState: this.shuffle.state(),
      step: 0,
      best: null,
      epochsWithoutImprovement: 0,
    };
  }

  /**
   * Rebuilds the model, optimizer and run state from a checkpoint. Settings can be overridden (for example
   * `epochs` to train longer); callbacks, store and signal come from `options`.
   *
   * @throws ReflectkitError `CHECKPOINT_INVALID` when the snapshot does not fit its own model.
   */
  static fromSnapshot(snapshot: TrainingSnapshot, options: TrainerOptions = {}): Trainer {
    const meta = snapshot.meta;
    if (meta?.format !== 'reflectkit-checkpoint' || meta.version !== 1) {
      throw new ReflectkitError('CHECKPOINT_INVALID', 'not a reflectkit checkpoint', { path: 'format', expected: 'reflectkit-checkpoint version 1' });
    }
    const settings = meta.settings;
    const trainer = new Trainer(resolveCnnConfig(meta.model), {
      ...options,
      epochs: options.epochs ?? settings.epochs,
      batchSize: settings.batchSize,
      learningRate: settings.learningRate,
      weightDecay: settings.weightDecay,
      seed: settings.seed,
      checkpointEvery: options.checkpointEvery ?? settings.checkpointEvery,
      ...(settings.earlyStopping === null ? {} : { earlyStopping: settings.earlyStopping }),
      extra: options.extra ?? meta.extra,
    });
    trainer.setWeights(snapshot.weights);
    trainer.optimizer.setState(snapshot.optimizer);
    trainer.bestWeights = snapshot.bestWeights;
    trainer.progress = structuredClone(meta.progress);
    trainer.shuffle = SeededRandom.fromState(meta.progress.shuffleState);
    trainer.history = structuredClone(meta.history);
    return trainer;
  }

  /** The run's history so far. */
  get trainingHistory(): TrainingHistory {
    return structuredClone(this.history);
  }

  /** Where the run stands. */
  get state(): TrainingProgress {
    return structuredClone(this.progress);
  }

  private setWeights(values: Float32Array[]): void {
    const weights = this.cnn.model.weights;
    if (values.length !== weights.length) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `${values.length} weight arrays for a model with ${weights.length}`, {
        path: 'weights',
        expected: `${weights.length} arrays`,
      });
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

  private async getWeights(): Promise<Float32Array[]> {
    return Promise.all(this.cnn.model.weights.map(async (w) => (await w.read().data()) as Float32Array));
  }

  private checkData(data: TrainingData): { train: number; validation: number } {
    const { inputPoints: q, outputPoints: p } = this.cnn.config;
    const rows = (values: Float32Array, width: number, path: string): number => {
      if (!(values instanceof Float32Array) || values.length === 0 || values.length % width !== 0) {
        throw new ReflectkitError('BAD_SHAPE', `${path} has ${values?.length} values`, { path, expected: `a non-empty Float32Array of rows of ${width}` });
      }
      return values.length / width;
    };
    const train = rows(data.trainX, q, 'trainX');
    const validation = rows(data.validationX, q, 'validationX');
    if (rows(data.trainY, 2 * p, 'trainY') !== train) {
      throw new ReflectkitError('BAD_SHAPE', 'trainY has a different number of rows than trainX', { path: 'trainY', expected: `${train} rows of 2·${p}` });
    }
    if (rows(data.validationY, 2 * p, 'validationY') !== validation) {
      throw new ReflectkitError('BAD_SHAPE', 'validationY has a different number of rows than validationX', { path: 'validationY', expected: `${validation} rows of 2·${p}` });
    }
    return { train, validation };
  }

  private trainStep(x: tf.Tensor, y: tf.Tensor): number {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(y, this.cnn.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      this.trainable,
    );
    this.optimizer.apply(this.trainable.map((v) => grads[v.name]!));
    const loss = value.dataSync()[0]!;
    value.dispose();
    return loss;
  }

  /** Mean of per-batch MSE over a dataset in inference mode (pyreflect's validation loss). */
  evaluate(x: Float32Array, y: Float32Array): number {
    const { inputPoints: q, outputPoints: p } = this.cnn.config;
    const n = x.length / q;
    const batch = this.settings.batchSize;
    let sum = 0;
    let batches = 0;
    for (let from = 0; from < n; from += batch) {
      const to = Math.min(n, from + batch);
      sum += tf.tidy(() => {
        const xb = gatherRows(x, q, null, from, to, [q, 1]);
        const yb = gatherRows(y, 2 * p, null, from, to, [2, p]);
        return tf.losses.meanSquaredError(yb, this.cnn.model.apply(xb, { training: false }) as tf.Tensor).dataSync()[0]!;
      });
      batches++;
    }
    return sum / batches;
  }

  private async snapshot(): Promise<TrainingSnapshot> {
    const meta: CheckpointMeta = {
      format: 'reflectkit-checkpoint',
      version: 1,
      savedAt: new Date().toISOString(),
      model: this.cnn.config,
      settings: this.settings,
      progress: { ...structuredClone(this.progress), shuffleState: this.shuffle.state() },
      history: structuredClone(this.history),
      weightShapes: this.cnn.model.weights.map((w) => w.shape as number[]),
      trainableIndices: this.cnn.model.weights.flatMap((w, i) => (w.trainable ? [i] : [])),
      backend: tf.getBackend(),
      extra: this.options.extra ?? {},
    };
    return { meta, weights: await this.getWeights(), optimizer: await this.optimizer.getState(), bestWeights: this.bestWeights };
  }

  private async checkpoint(): Promise<void> {
    if (this.options.checkpointStore === undefined) return;
    this.lastCheckpoint = await this.options.checkpointStore.save(await this.snapshot());
  }

  private result(status: TrainResult['status']): TrainResult {
    return {
      status,
      history: structuredClone(this.history),
      best: this.progress.best,
      ...(this.lastCheckpoint === undefined ? {} : { checkpoint: this.lastCheckpoint }),
      steps: this.progress.step,
      backend: currentBackend()?.description ?? tf.getBackend(),
    };
  }

  /**
   * Trains until the configured number of epochs, early stopping, or the signal. Can be called again after
   * a pause to continue.
   *
   * @throws ReflectkitError `BAD_SHAPE` for inconsistent data, `MEMORY_LIMIT` when the model cannot fit
   *   the backend.
   */
  async fit(data: TrainingData): Promise<TrainResult> {
    const { train } = this.checkData(data);
    const { inputPoints: q, outputPoints: p } = this.cnn.config;
    assertTrainingFits(estimateTrainingMemory(this.cnn.config, this.settings.batchSize), tf.getBackend() as BackendName, this.options.availableMemoryBytes);
    const { epochs, batchSize, earlyStopping } = this.settings;
    const callbacks = this.options.callbacks ?? {};
    const signal = this.options.signal;
    const batches = Math.ceil(train / batchSize);
    let status: TrainResult['status'] = 'completed';
    while (this.progress.epoch < epochs) {
      const epochNumber = this.progress.epoch + 1;
      const started = performance.now();
      let order: ArrayLike<number>;
      if (this.progress.epochOrder !== null) {
        order = this.progress.epochOrder;
      } else {
        order = this.shuffle.permutation(train);
        this.progress.epochOrder = Array.from(order);
        this.progress.batch = 0;
        this.progress.epochLosses = [];
      }
      const losses = this.progress.epochLosses;
      for (let b = this.progress.batch; b < batches; b++) {
        const from = b * batchSize;
        const to = Math.min(train, from + batchSize);
        this.cnn.dropout.step = this.progress.step;
        const loss = tf.tidy(() => this.trainStep(gatherRows(data.trainX, q, order, from, to, [q, 1]), gatherRows(data.trainY, 2 * p, order, from, to, [2, p])));
        losses.push(loss);
        this.progress.step += 1;
        this.progress.batch = b + 1;
        this.progress.epochLosses = losses;
        callbacks.onBatchEnd?.({ epoch: epochNumber, batch: b, batches, loss });
        if (signal?.aborted && b + 1 < batches) {
          await this.checkpoint();
          const result = this.result('paused');
          callbacks.onTrainEnd?.(result);
          return result;
        }
      }
      const trainingLoss = losses.reduce((a, v) => a + v, 0) / losses.length;
      const validationLoss = this.evaluate(data.validationX, data.validationY);
      this.history.epochs.push(epochNumber);
      this.history.trainingLoss.push(trainingLoss);
      this.history.validationLoss.push(validationLoss);
      this.progress.epoch = epochNumber;
      this.progress.epochOrder = null;
      this.progress.batch = 0;
      this.progress.epochLosses = [];
      let stop = false;
      if (earlyStopping !== null) {
        const best = this.progress.best;
        if (best === null || validationLoss < best.loss - (earlyStopping.minDelta ?? 0)) {
          this.progress.best = { epoch: epochNumber, loss: validationLoss };
          this.progress.epochsWithoutImprovement = 0;
          if (earlyStopping.restoreBestWeights !== false) this.bestWeights = await this.getWeights();
        } else {
          this.progress.epochsWithoutImprovement += 1;
          stop = this.progress.epochsWithoutImprovement >= earlyStopping.patience;
        }
      } else if (this.progress.best === null || validationLoss < this.progress.best.loss) {
        this.progress.best = { epoch: epochNumber, loss: validationLoss };
      }
      await callbacks.onEpochEnd?.({ epoch: epochNumber, trainingLoss, validationLoss, seconds: (performance.now() - started) / 1000 });
      const every = this.settings.checkpointEvery;
      if (stop) status = 'early-stopped';
      const paused = signal?.aborted === true && this.progress.epoch < epochs && !stop;
      if ((every > 0 && epochNumber % every === 0) || paused) await this.checkpoint();
      if (paused) {
        const result = this.result('paused');
        callbacks.onTrainEnd?.(result);
        return result;
      }
      if (stop) break;
    }
    if (earlyStopping !== null && earlyStopping.restoreBestWeights !== false && this.bestWeights !== null) this.setWeights(this.bestWeights);
    const result = this.result(status);
    callbacks.onTrainEnd?.(result);
    return result;
  }

  /** Frees the optimizer state (the model stays usable). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
