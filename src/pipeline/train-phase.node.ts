import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { TrainingFiles } from '../data/training-files.node.js';
import { pathExists } from '../io/atomic-file.node.js';
import { availableMemory } from '../nn/backend-node.node.js';
import type { BackendInfo } from '../nn/backend.js';
import { FolderCheckpointStore, loadCheckpoint } from '../nn/checkpoint-store.node.js';
import { Trainer, type EngineFactory, type TrainResult } from '../nn/trainer.js';
import { workerEngine } from '../nn/worker-engine.node.js';
import { NrSldScaler, type ScalerStats } from '../preprocess/scaler.js';
import type { SplitIndices } from '../preprocess/split.js';
import type { PipelineConfig } from './config.js';
import type { PipelineEvent } from './events.js';

/** What the training phase hands on: the trained model (still alive) and how the run ended. */
export interface TrainedModel {
  trainer: Trainer;
  scaler: NrSldScaler;
  result: TrainResult;
  /** True when training continued from a checkpoint of an earlier attempt. */
  resumed: boolean;
}

/**
 * Trains the CNN on the train rows of `files` (normalised by a scaler fitted on those rows), checkpointing
 * into `checkpointDir` every `checkpointEvery` epochs. When `checkpointDir` holds a checkpoint of an earlier
 * attempt, training continues from it with the scaler stored in it (the same statistics, the same data
 * order), so a cancelled or killed run resumes to the same result. The caller disposes the trainer.
 */
export async function trainPhase(
  config: PipelineConfig,
  seed: number,
  files: TrainingFiles,
  split: SplitIndices,
  checkpointDir: string,
  backend: BackendInfo,
  options: { signal?: AbortSignal; emit: (event: PipelineEvent) => void; workers?: number },
): Promise<TrainedModel> {
  const t = config.training;
  // wasm and cpu run one thread each: data-parallel workers use the other cores. Native TensorFlow and WebGPU parallelise by themselves.
  const workers = options.workers ?? (backend.name === 'wasm' || backend.name === 'cpu' ? availableParallelism() : 0);
  const engine: EngineFactory | undefined = workers > 0 ? workerEngine(workers) : undefined;
  const common = {
    ...(engine === undefined ? {} : { engine }),
    checkpointStore: new FolderCheckpointStore(checkpointDir),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    availableMemoryBytes: availableMemory(),
    callbacks: {
      onBatchEnd: (b: { epoch: number; batch: number; batches: number; loss: number }) => {
        options.emit({ type: 'progress', phase: 'train', done: b.batch + 1, total: b.batches, epoch: b.epoch, epochs: t.epochs, loss: b.loss });
      },
      onEpochEnd: (e: { epoch: number; trainingLoss: number; validationLoss: number; seconds: number }) => {
        options.emit({ type: 'progress', phase: 'train', done: e.epoch, total: t.epochs, epoch: e.epoch, epochs: t.epochs, trainingLoss: e.trainingLoss, validationLoss: e.validationLoss });
        options.emit({ type: 'log', level: 'info', message: `epoch ${e.epoch}/${t.epochs}: training loss ${e.trainingLoss.toExponential(4)}, validation loss ${e.validationLoss.toExponential(4)} (${e.seconds.toFixed(1)} s)` });
      },
    },
  };
  let trainer: Trainer;
  let scaler: NrSldScaler;
  const resumed = await pathExists(join(checkpointDir, 'latest.json'));
  if (resumed) {
    const snapshot = await loadCheckpoint(checkpointDir);
    scaler = NrSldScaler.fromJSON((snapshot.meta.extra as { scaler: ScalerStats }).scaler);
    trainer = Trainer.fromSnapshot(snapshot, common);
    options.emit({ type: 'log', level: 'info', message: `continuing training from the checkpoint in ${checkpointDir}` });
  } else {
    scaler = NrSldScaler.fit(files.nr, files.sld, {
      rows: split.train,
      clipMin: config.preprocessing.clipMin,
      logNr: config.preprocessing.applyLogTransform,
      normalization: config.preprocessing.normalizationMethod,
    });
    trainer = new Trainer(
      {
        layers: t.layers,
        dropout: t.dropout,
        kernelSize: t.kernelSize,
        head: t.head,
        bottleneckChannels: t.bottleneckChannels,
        seed,
        inputPoints: files.nr.shape[2]!,
        outputPoints: files.sld.shape[2]!,
      },
      {
        epochs: t.epochs,
        batchSize: t.batchSize,
        optimizer: t.optimizer,
        learningRate: t.learningRate,
        weightDecay: t.weightDecay,
        momentum: t.momentum,
        seed,
        checkpointEvery: t.checkpointEvery,
        ...(t.earlyStoppingPatience === null ? {} : { earlyStopping: { patience: t.earlyStoppingPatience, restoreBestWeights: true } }),
        ...common,
        extra: { scaler: scaler.toJSON() },
      },
    );
  }
  try {
    const result = await trainer.fit({
      trainX: scaler.modelInput(files.nr, split.train),
      trainY: scaler.modelTarget(files.sld, split.train),
      validationX: scaler.modelInput(files.nr, split.validation),
      validationY: scaler.modelTarget(files.sld, split.validation),
    });
    return { trainer, scaler, result, resumed };
  } catch (error) {
    await trainer.dispose();
    throw error;
  }
}
