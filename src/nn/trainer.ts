import { ReflectkitError } from '../errors.js';
import { SeededRandom } from '../sample/random.js';
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
import { LocalEngine, meanBatchLoss, readWeights, writeWeights, type TrainingData, type TrainingEngine } from './engine.js';
import { assertTrainingFits, estimateTrainingMemory } from './memory.js';
import { OPTIMIZER_NAMES, type OptimizerName, type OptimizerSettings } from './optimizer.js';
import { tf } from './tf.js';

export type { TrainingData } from './engine.js';

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
  /** Per-epoch training and validation losses of the whole run (including epochs before a resume). */
  history: TrainingHistory;
  /** Best validation loss and its epoch (1-based), or null before the first epoch ends. */
  best: {
    /** Epoch of the best validation loss, 1-based. */
    epoch: number;
    /** That validation loss (normalised MSE). */
    loss: number;
  } | null;
  /** Where the last checkpoint went, if one was written. */
  checkpoint?: string;
  /** Training steps (batches) taken over the whole run. */
  steps: number;
  /** The tfjs backend that ran it. */
  backend: string;
  /** Where the steps ran (`this thread`, `2 worker threads`). */
  engine: string;
}

/** Callbacks of a training run. */
export interface TrainerCallbacks {
  /** Called after every training batch. */
  onBatchEnd?: (info: BatchEnd) => void;
  /** Called after every epoch's validation pass; training waits for a returned promise. */
  onEpochEnd?: (info: EpochEnd) => void | Promise<void>;
  /** Called once when {@link Trainer.fit} ends (completed, early-stopped or paused). */
  onTrainEnd?: (result: TrainResult) => void;
}

/** Options of a {@link Trainer}. Defaults are the seed's: Adam lr 0.001, weight decay 0.0001, 10 epochs, batch 32. */
export interface TrainerOptions {
  /** Epochs to train in all, integer ≥ 1 (default 10). */
  epochs?: number;
  /** Curves per training batch, integer ≥ 1 (default 32). */
  batchSize?: number;
  /** The optimizer: PyTorch's `adam` (pyreflect's, default), `adamw` or `sgd`. */
  optimizer?: OptimizerName;
  /** The optimizer's learning rate, ≥ 0 (default 0.001). */
  learningRate?: number;
  /** Weight decay, PyTorch's `weight_decay` (default 1e-4): coupled (L2) for Adam and SGD, decoupled for AdamW. */
  weightDecay?: number;
  /** SGD's momentum, in [0, 1) (default 0; only with `optimizer: 'sgd'`). */
  momentum?: number;
  /** Seed of the shuffling and dropout streams (default 0). */
  seed?: number;
  /** Stop when the validation loss stops improving (default: off). */
  earlyStopping?: EarlyStoppingOptions;
  /** Write a checkpoint every this many epochs (0: only when paused). Needs `checkpointStore`. */
  checkpointEvery?: number;
  /** Where checkpoints are written (none by default: nothing is saved). */
  checkpointStore?: CheckpointStore;
  /** Progress callbacks (per batch, per epoch, at the end). */
  callbacks?: TrainerCallbacks;
  /** Pauses after the current batch, writing a checkpoint when a store is set. */
  signal?: AbortSignal;
  /** Kept in every checkpoint (e.g. the scaler statistics and data paths). */
  extra?: Record<string, unknown>;
  /** Memory available to the backend, to refuse a run that cannot fit (wasm's 4 GiB is always checked). */
  availableMemoryBytes?: number;
  /**
   * Where steps run: by default this thread; in Node, `workerEngine(k)` from `reflectkit/node` runs k
   * data-parallel worker threads that average gradients.
   */
  engine?: EngineFactory;
}

/** Makes the engine a trainer drives, for its model and optimizer settings. */
export type EngineFactory = (cnn: Cnn, optimizer: OptimizerSettings & { dropoutSeed: number }) => TrainingEngine;

/** The default engine: this thread. */
export const localEngine: EngineFactory = (cnn, adam) => new LocalEngine(cnn, adam);

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

function optimizerName(value: unknown): OptimizerName {
  if (!(OPTIMIZER_NAMES as readonly unknown[]).includes(value)) {
    throw new ReflectkitError('INVALID_OPTION', `optimizer ${String(value)}`, { path: 'optimizer', expected: OPTIMIZER_NAMES.join(', '), received: value });
  }
  return value as OptimizerName;
}

function momentumOf(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ReflectkitError('INVALID_OPTION', `momentum ${String(value)}`, { path: 'momentum', expected: 'a number in [0, 1)', received: value });
  }
  return value;
}

function resolveSettings(options: TrainerOptions): TrainerSettings {
  const early = options.earlyStopping;
  if (early !== undefined) positiveInteger(early.patience, 'earlyStopping.patience');
  return {
    epochs: positiveInteger(options.epochs ?? 10, 'epochs'),
    batchSize: positiveInteger(options.batchSize ?? 32, 'batchSize'),
    optimizer: optimizerName(options.optimizer ?? 'adam'),
    learningRate: nonNegative(options.learningRate ?? 1e-3, 'learningRate'),
    weightDecay: nonNegative(options.weightDecay ?? 1e-4, 'weightDecay'),
    momentum: momentumOf(options.momentum ?? 0),
    seed: nonNegative(options.seed ?? 0, 'seed'),
    earlyStopping: early === undefined ? null : { patience: early.patience, minDelta: early.minDelta ?? 0, restoreBestWeights: early.restoreBestWeights ?? true },
    checkpointEvery: nonNegative(options.checkpointEvery ?? 0, 'checkpointEvery'),
  };
}

/**
 * Trains a {@link Cnn} on normalised data with PyTorch's Adam (coupled weight decay) and MSE, seeded
 * shuffling, a validation pass per epoch, callbacks, early stopping, checkpoints and pausing. A run
 * continued from a checkpoint (or by calling {@link Trainer.fit} again after a pause) gives the same
 * losses as one that never stopped, on the same backend.
 */
export class Trainer {
  /** The model being trained. */
  readonly cnn: Cnn;
  /** The validated settings, with defaults filled in. */
  readonly settings: TrainerSettings;
  private readonly options: TrainerOptions;
  private readonly engine: TrainingEngine;
  private pendingOptimizerState: Parameters<TrainingEngine['setOptimizerState']>[0] | undefined;
  private engineSynced = false;
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
    const dropoutSeed = (this.settings.seed ^ 0x5bd1e995) >>> 0;
    this.cnn.dropout.seed = dropoutSeed;
    const { optimizer, learningRate, weightDecay, momentum } = this.settings;
    this.engine = (options.engine ?? localEngine)(this.cnn, { optimizer, learningRate, weightDecay, momentum, dropoutSeed });
    this.shuffle = SeededRandom.fromSeed(this.settings.seed);
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
      // checkpoints written before the optimizer choice existed are Adam's
      optimizer: settings.optimizer ?? 'adam',
      learningRate: settings.learningRate,
      weightDecay: settings.weightDecay,
      momentum: settings.momentum ?? 0,
      seed: settings.seed,
      checkpointEvery: options.checkpointEvery ?? settings.checkpointEvery,
      ...(settings.earlyStopping === null ? {} : { earlyStopping: settings.earlyStopping }),
      extra: options.extra ?? meta.extra,
    });
    writeWeights(trainer.cnn, snapshot.weights);
    trainer.pendingOptimizerState = snapshot.optimizer;
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

  /**
   * Mean of per-batch MSE of the trainer's model over `(x, y)` in inference mode, with the training batch
   * size (pyreflect's validation loss). Reflects the engine's latest weights after {@link Trainer.fit}.
   */
  evaluate(x: Float32Array, y: Float32Array): number {
    return meanBatchLoss(this.cnn, x, y, this.settings.batchSize);
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
    return { meta, weights: await this.engine.getWeights(), optimizer: await this.engine.getOptimizerState(), bestWeights: this.bestWeights };
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
      engine: this.engine.description,
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
    assertTrainingFits(estimateTrainingMemory(this.cnn.config, this.settings.batchSize), tf.getBackend() as BackendName, this.options.availableMemoryBytes);
    const engine = this.engine;
    await engine.load(data);
    if (!this.engineSynced) {
      if (!engine.sharesModel) await engine.setWeights(await readWeights(this.cnn));
      if (this.pendingOptimizerState !== undefined) await engine.setOptimizerState(this.pendingOptimizerState);
      this.pendingOptimizerState = undefined;
      this.engineSynced = true;
    }
    const { epochs, batchSize, earlyStopping } = this.settings;
    const callbacks = this.options.callbacks ?? {};
    const signal = this.options.signal;
    const batches = Math.ceil(train / batchSize);
    const finish = async (status: TrainResult['status']): Promise<TrainResult> => {
      if (!engine.sharesModel) writeWeights(this.cnn, await engine.getWeights());
      const result = this.result(status);
      callbacks.onTrainEnd?.(result);
      return result;
    };
    let status: TrainResult['status'] = 'completed';
    while (this.progress.epoch < epochs) {
      const epochNumber = this.progress.epoch + 1;
      const started = performance.now();
      if (this.progress.epochOrder === null) {
        this.progress.epochOrder = Array.from(this.shuffle.permutation(train));
        this.progress.batch = 0;
        this.progress.epochLosses = [];
      }
      const order = this.progress.epochOrder;
      const losses = this.progress.epochLosses;
      for (let b = this.progress.batch; b < batches; b++) {
        const rows = order.slice(b * batchSize, Math.min(train, (b + 1) * batchSize));
        const loss = await engine.step(rows, this.progress.step);
        losses.push(loss);
        this.progress.step += 1;
        this.progress.batch = b + 1;
        callbacks.onBatchEnd?.({ epoch: epochNumber, batch: b, batches, loss });
        if (signal?.aborted && b + 1 < batches) {
          await this.checkpoint();
          return finish('paused');
        }
      }
      const trainingLoss = losses.reduce((a, v) => a + v, 0) / losses.length;
      const validationLoss = await engine.validationLoss(batchSize);
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
          if (earlyStopping.restoreBestWeights !== false) this.bestWeights = await engine.getWeights();
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
      if (paused) return finish('paused');
      if (stop) break;
    }
    if (earlyStopping !== null && earlyStopping.restoreBestWeights !== false && this.bestWeights !== null) await engine.setWeights(this.bestWeights);
    return finish(status);
  }

  /** Frees the engine (worker threads, optimizer state); the model stays usable. */
  async dispose(): Promise<void> {
    await this.engine.dispose();
  }
}
