import cliProgress from 'cli-progress';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedQGrid } from '../data/dataset.js';
import { readGenerationModel, readTrainingFiles } from '../data/training-files.node.js';
import { ReflectkitError } from '../errors.js';
import { availableMemory, useNodeBackend } from '../nn/backend-node.node.js';
import type { BackendName } from '../nn/backend.js';
import { FolderCheckpointStore, loadCheckpoint } from '../nn/checkpoint-store.node.js';
import { saveBundle } from '../nn/model-folder.node.js';
import { parseTrainConfig, type TrainConfig } from '../nn/train-config.js';
import { Trainer, type EngineFactory, type TrainerCallbacks, type TrainResult, type TrainingData } from '../nn/trainer.js';
import { workerEngine } from '../nn/worker-engine.node.js';
import { NrSldScaler, type ScalerStats } from '../preprocess/scaler.js';
import { splitIndices } from '../preprocess/split.js';
import { readJsonFile } from './io.js';

/** Options of `reflectkit train`. */
export interface TrainFlags {
  data?: string;
  config?: string;
  out: string;
  backend?: string;
  workers?: number;
  resume?: boolean;
  /** Copy nr_train.npy / sld_train.npy into the model folder (a self-contained bundle). */
  includeData?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** What a fresh run keeps in its checkpoints so that `--resume` can rebuild the same data. */
interface RunExtra {
  dataDir: string;
  curves: number;
  split: TrainConfig['split'];
  scaler: ScalerStats;
  clipMin: number;
}

function progressCallbacks(quiet: boolean, epochs: () => number): { callbacks: TrainerCallbacks; stop: () => void } {
  if (quiet) return { callbacks: {}, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | loss {loss} | val {val}', stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let open = false;
    let lastVal = '–';
    return {
      callbacks: {
        onBatchEnd: (b) => {
          if (!open) {
            bar.start(b.batches, 0, { epoch: b.epoch, epochs: epochs(), loss: '–', val: lastVal });
            open = true;
          }
          bar.update(b.batch + 1, { epoch: b.epoch, loss: b.loss.toExponential(3) });
        },
        onEpochEnd: (e) => {
          lastVal = e.validationLoss.toExponential(3);
          bar.update({ val: lastVal });
          bar.stop();
          open = false;
        },
      },
      stop: () => open && bar.stop(),
    };
  }
  return {
    callbacks: {
      onEpochEnd: (e) =>
        void process.stderr.write(
          `epoch ${e.epoch}/${epochs()}: training loss ${e.trainingLoss.toExponential(4)}, validation loss ${e.validationLoss.toExponential(4)} (${e.seconds.toFixed(1)} s)\n`,
        ),
    },
    stop: () => undefined,
  };
}

function trainingData(scaler: NrSldScaler, files: Awaited<ReturnType<typeof readTrainingFiles>>, split: ReturnType<typeof splitIndices>): TrainingData {
  return {
    trainX: scaler.modelInput(files.nr, split.train),
    trainY: scaler.modelTarget(files.sld, split.train),
    validationX: scaler.modelInput(files.nr, split.validation),
    validationY: scaler.modelTarget(files.sld, split.validation),
  };
}

/**
 * `reflectkit train --data DIR [--config train.json] --out MODEL_DIR [--backend NAME] [--resume]`.
 * Trains on DIR's nr_train.npy / sld_train.npy, checkpoints under MODEL_DIR/checkpoints, pauses with a
 * checkpoint on Ctrl-C, and writes the model folder (weights, config, scaler) at the end.
 *
 * @returns the exit code: 0 trained, 130 paused.
 */
export async function trainCommand(flags: TrainFlags, output: { print?: boolean } = {}): Promise<number> {
  const print = output.print ?? true;
  const out = resolve(flags.out);
  const checkpoints = join(out, 'checkpoints');
  const backend = await useNodeBackend((flags.backend ?? 'auto') as BackendName | 'auto');
  const controller = new AbortController();
  const onSignal = (): void => {
    process.stderr.write('\npausing after this batch (a checkpoint will be written)…\n');
    controller.abort();
  };
  let epochs = 0;
  const progress = progressCallbacks(flags.quiet === true || flags.json === true, () => epochs);
  // wasm and cpu run one thread each: data-parallel workers use the other cores. Native TensorFlow and
  // WebGPU parallelise by themselves.
  const cores = availableParallelism();
  const workers = flags.workers ?? (backend.name === 'wasm' || backend.name === 'cpu' ? cores : 0);
  const engine: EngineFactory | undefined = workers > 0 ? workerEngine(workers) : undefined;
  const common = {
    ...(engine === undefined ? {} : { engine }),
    checkpointStore: new FolderCheckpointStore(checkpoints),
    signal: controller.signal,
    callbacks: progress.callbacks,
    availableMemoryBytes: availableMemory(),
  };
  let trainer: Trainer;
  let extra: RunExtra;
  let files: Awaited<ReturnType<typeof readTrainingFiles>>;
  if (flags.resume) {
    const snapshot = await loadCheckpoint(checkpoints);
    extra = snapshot.meta.extra as unknown as RunExtra;
    if (typeof extra?.dataDir !== 'string') {
      throw new ReflectkitError('CHECKPOINT_INVALID', 'the checkpoint does not say which data it was trained on', { path: checkpoints, expected: 'a checkpoint written by reflectkit train' });
    }
    files = await readTrainingFiles(flags.data === undefined ? extra.dataDir : resolve(flags.data));
    if (files.nr.shape[0] !== extra.curves) {
      throw new ReflectkitError('BAD_SHAPE', `the data now has ${files.nr.shape[0]} curves, the run started with ${extra.curves}`, { path: files.nrPath, expected: `${extra.curves} curves` });
    }
    trainer = Trainer.fromSnapshot(snapshot, common);
  } else {
    if (flags.data === undefined) throw new ReflectkitError('INVALID_OPTION', '--data is required (or --resume)', { path: 'data', expected: 'a folder with nr_train.npy and sld_train.npy' });
    const config = parseTrainConfig(flags.config === undefined ? {} : await readJsonFile(flags.config));
    files = await readTrainingFiles(resolve(flags.data));
    const n = files.nr.shape[0]!;
    const split = splitIndices(n, config.split);
    const scaler = NrSldScaler.fit(files.nr, files.sld, { rows: split.train, clipMin: config.clipMin, normalization: config.normalization });
    extra = { dataDir: resolve(flags.data), curves: n, split: config.split, scaler: scaler.toJSON(), clipMin: config.clipMin };
    trainer = new Trainer(
      { ...config.model, inputPoints: files.nr.shape[2]!, outputPoints: files.sld.shape[2]! },
      { ...config.training, ...common, extra: extra as unknown as Record<string, unknown> },
    );
  }
  epochs = trainer.settings.epochs;
  const scaler = NrSldScaler.fromJSON(extra.scaler);
  const split = splitIndices(extra.curves, extra.split);
  process.once('SIGINT', onSignal);
  let result: TrainResult;
  try {
    result = await trainer.fit(trainingData(scaler, files, split));
  } finally {
    process.off('SIGINT', onSignal);
    progress.stop();
    await trainer.dispose();
  }
  if (result.status === 'paused') {
    const line = `paused after ${result.steps} steps; checkpoint ${result.checkpoint}; continue with: reflectkit train --resume --out ${flags.out}`;
    if (print) process.stdout.write(flags.json ? `${JSON.stringify({ status: 'paused', checkpoint: result.checkpoint, steps: result.steps })}\n` : `${line}\n`);
    else process.stderr.write(`${line}\n`);
    return 130;
  }
  // What predict and evaluate need later: the Q grid the model takes and the physics of its data.
  const q = sharedQGrid(files.nr);
  const generation = await readGenerationModel(extra.dataDir);
  const saved = await saveBundle(out, trainer.cnn, scaler, {
    ...(flags.includeData === true ? { trainingData: { nr: files.nrPath, sld: files.sldPath } } : {}),
    history: result.history,
    info: {
      backend: backend.description,
      status: result.status,
      steps: result.steps,
      best: result.best,
      data: extra.dataDir,
      split: extra.split,
      trainer: trainer.settings,
      ...(q === null ? {} : { q }),
      ...(generation === null
        ? {}
        : { generator: { layers: generation.layers, bounds: generation.bounds, qResolution: generation.qResolution, scale: generation.scale, background: generation.background, legacy: generation.legacy } }),
    },
  });
  const last = result.history.epochs.length - 1;
  const summary = {
    status: result.status,
    modelDir: out,
    modelId: saved.modelId,
    epochs: result.history.epochs.length,
    trainingLoss: result.history.trainingLoss[last],
    validationLoss: result.history.validationLoss[last],
    best: result.best,
    backend: backend.description,
    engine: result.engine,
  };
  if (!print) return 0;
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(summary)}\n`
      : `${result.status} after ${summary.epochs} epochs on ${backend.description}, ${result.engine}: training loss ${summary.trainingLoss?.toExponential(4)}, validation loss ${summary.validationLoss?.toExponential(4)}\nmodel: ${out} (${saved.weightsFile}, config.json, scaler.json, normalization_stat.npy)\n`,
  );
  return 0;
}
