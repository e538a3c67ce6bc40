import type { AdamState } from './adam.js';
import type { CnnConfig } from './cnn.js';
import type { OptimizerName } from './optimizer.js';

/** Per-epoch losses, as pyreflect's interface reports them (epochs 1-based). */
export interface TrainingHistory {
  /** Epoch numbers, from 1; one entry per finished epoch. */
  epochs: number[];
  /** Mean training batch loss of each epoch (MSE in normalised units). */
  trainingLoss: number[];
  /** Validation loss of each epoch (MSE in normalised units, inference mode). */
  validationLoss: number[];
}

/** Early stopping on the validation loss. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. */
  patience: number;
  /** Smallest decrease that counts as an improvement (default 0). */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping or finishing (default true). */
  restoreBestWeights?: boolean;
}

/** The trainer settings a checkpoint carries (to continue with the same ones). */
export interface TrainerSettings {
  /** Epochs to train in all (default 10). */
  epochs: number;
  /** Curves per training batch (default 32). */
  batchSize: number;
  /** The optimizer (default `adam`; checkpoints of reflectkit ≤ 0.1 omit it and are Adam's). */
  optimizer: OptimizerName;
  /** The optimizer's learning rate (default 0.001). */
  learningRate: number;
  /** Weight decay, PyTorch's `weight_decay` (default 1e-4): coupled for Adam and SGD, decoupled for AdamW. */
  weightDecay: number;
  /** SGD's momentum (default 0; checkpoints of reflectkit ≤ 0.1 omit it). */
  momentum: number;
  /** Seed of the shuffling and dropout streams (default 0). */
  seed: number;
  /** Early stopping, with its defaults filled in, or null when off. */
  earlyStopping: EarlyStoppingOptions | null;
  /** Write a checkpoint every this many epochs (0: only when paused). */
  checkpointEvery: number;
}

/** Where a run stands: enough to continue it exactly. */
export interface TrainingProgress {
  /** Epochs completed. */
  epoch: number;
  /** Next batch of the current epoch (0 at an epoch boundary). */
  batch: number;
  /** The current epoch's sample order when paused inside an epoch, else null. */
  epochOrder: number[] | null;
  /** Losses of the current epoch's finished batches (the epoch's training loss is their mean). */
  epochLosses: number[];
  /** State of the shuffling stream. */
  shuffleState: number[];
  /** Training steps taken (the dropout schedule's step). */
  step: number;
  /** Best validation loss so far and its epoch (1-based), for early stopping. */
  best: {
    /** Epoch of the best validation loss, 1-based. */
    epoch: number;
    /** That validation loss (normalised MSE). */
    loss: number;
  } | null;
  /** Epochs since the best one. */
  epochsWithoutImprovement: number;
}

/** The JSON part of a checkpoint. */
export interface CheckpointMeta {
  /** Format tag. */
  format: 'reflectkit-checkpoint';
  /** Format version. */
  version: 1;
  /** ISO time of saving. */
  savedAt: string;
  /** The model's configuration (to rebuild it). */
  model: CnnConfig;
  /** The trainer's settings. */
  settings: TrainerSettings;
  /** Where the run stands (epoch, batch, streams, early-stopping state). */
  progress: TrainingProgress;
  /** Per-epoch losses so far. */
  history: TrainingHistory;
  /** Shapes of the model's weights in `model.weights` order (trainable and BatchNorm statistics). */
  weightShapes: number[][];
  /** Positions of the trainable weights in that order (the optimizer's moments follow them). */
  trainableIndices: number[];
  /** The backend that produced it. */
  backend: string;
  /** Caller data kept with the run (scaler statistics, data paths). */
  extra: Record<string, unknown>;
}

/** A complete checkpoint: metadata, weights, optimizer state and, with early stopping, the best weights. */
export interface TrainingSnapshot {
  /** The JSON part: format, model configuration, settings, progress, history. */
  meta: CheckpointMeta;
  /** Values of `model.weights`, in order. */
  weights: Float32Array[];
  /** The optimizer's step and state arrays (Adam: m and v; SGD: momentum buffers in m), aligned with the trainable weights. */
  optimizer: AdamState;
  /** Weights of the best epoch so far (early stopping with restore). */
  bestWeights: Float32Array[] | null;
}

/** Where checkpoints go: a folder in Node (`FolderCheckpointStore`), anything else elsewhere. */
export interface CheckpointStore {
  /** Saves a snapshot; returns where it went. */
  save(snapshot: TrainingSnapshot): Promise<string>;
}
