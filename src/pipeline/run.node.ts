import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { GeneratorOptions } from '../data/generator-options.js';
import { ReflectivityDataGenerator } from '../data/node-generator.node.js';
import { readGenerationModel, readTrainingFiles } from '../data/training-files.node.js';
import { ReflectkitError, isReflectkitError } from '../errors.js';
import { evaluateTestSplit, physicsFromGenerator } from '../eval/evaluate.js';
import { ioError, pathExists, removeStalePartials, writeFileAtomic } from '../io/atomic-file.node.js';
import { useNodeBackend } from '../nn/backend-node.node.js';
import type { BackendInfo, BackendName } from '../nn/backend.js';
import { loadBundle, saveBundle } from '../nn/model-folder.node.js';
import { splitIndices } from '../preprocess/split.js';
import { REPORT_FILE_NAMES, writeReport } from '../report/png.node.js';
import { isDuplicateRecordError, newRecordId } from '../store/history.js';
import { VERSION } from '../version.js';
import { boundsAroundLayers, parsePipelineConfig, type PipelineConfig } from './config.js';
import type { PipelineEvent, PipelinePhase, PipelineResult } from './events.js';
import { historyParams, historyResult, openPipelineHistory, openPipelineHub, type PipelineHistory, type PipelineHub } from './stores.node.js';
import { configWithSecrets, configWithoutSecrets } from './secrets.node.js';
import { lockRunFolder } from './run-lock.node.js';
import { trainPhase } from './train-phase.node.js';

/** Options of {@link runPipeline} and {@link resumePipeline}. */
export interface RunPipelineOptions {
  /** The run folder (default: a new `runs/run-YYYYMMDD-HHMMSS-xxxx` under `outDir`). */
  runDir?: string;
  /** Parent of new run folders (default `runs`). */
  outDir?: string;
  /** Cancels the run: generation stops after the chunks in flight, training after the current batch (with a checkpoint). The run folder stays resumable. */
  signal?: AbortSignal;
  /** Receives log, phase, progress and result events. */
  onEvent?: (event: PipelineEvent) => void;
  /** The history store to record the run in (default: opened from `config.storage.history`; null: none). */
  history?: PipelineHistory | null;
  /** The Hub target (default: from `config.storage.hub` with `HF_TOKEN`; null: none). */
  hub?: PipelineHub | null;
  /** Data-parallel training threads (default: one per core on wasm/cpu, none on native backends). */
  trainingWorkers?: number;
}

/** `pipeline.json` in a run folder: the resolved config and what is done. */
interface RunState {
  format: 'reflectkit-pipeline';
  version: 1;
  library: string;
  config: PipelineConfig;
  seed: number;
  modelId: string;
  done: Partial<Record<PipelinePhase, { seconds: number }>>;
  backend?: string;
  /** The tfjs backend the run started on: a resume with `backend: "auto"` stays on it (the result depends on it). */
  backendName?: BackendName;
  /** Training threads, fixed when training first starts: the result depends on it (per-shard BatchNorm statistics, dropout streams). */
  trainingWorkers?: number;
  /** The history record's id and time, chosen before it is added, so that a resume after a crash recognises it. */
  historyRecord?: { id: string; createdAt: string };
  history?: { id: string; store: string } | null;
}

const STATE = 'pipeline.json';

/**
 * The backend of a run: the config's choice, except that a resumed `auto` run asks for the backend it started
 * on, since another one (tfjs-node installed in between, say) would not continue to the same result. When that
 * backend is gone the run goes on with the fastest one present, with a warning.
 */
async function runBackend(preference: PipelineConfig['backend'], state: RunState, emit: (event: PipelineEvent) => void): Promise<BackendInfo> {
  if (preference !== 'auto' || state.backendName === undefined) return useNodeBackend(preference);
  try {
    return await useNodeBackend(state.backendName);
  } catch (error) {
    if (!isReflectkitError(error) || error.code !== 'BACKEND_UNAVAILABLE') throw error;
    const backend = await useNodeBackend('auto');
    emit({ type: 'log', level: 'warn', message: `the run started on ${state.backendName}, which is not available now (${error.message}); it continues on ${backend.name}, so its result will differ from an uninterrupted run` });
    return backend;
  }
}

function runFolderName(date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  return `run-${stamp}-${randomUUID().slice(0, 4)}`;
}

/**
 * The generator options a pipeline config implies (the user's layers are used, never silently replaced),
 * with the number of curves as `numCurves`.
 */
export function generatorOptionsOf(config: PipelineConfig, seed: number): GeneratorOptions & {
  /** Curves to generate. */
  numCurves: number;
} {
  const g = config.generator;
  const options: GeneratorOptions & { numCurves: number } = { numCurves: g.numCurves, seed };
  if (config.layers !== null) {
    options.layerDesc = config.layers;
    options.layerBound = g.layerBound ?? boundsAroundLayers(config.layers);
    options.numLayers = Math.max(0, config.layers.length - 3);
  } else if (g.numFilmLayers !== null) {
    options.numLayers = g.numFilmLayers;
  }
  if (g.qMin !== null) options.qMin = g.qMin;
  if (g.qMax !== null) options.qMax = g.qMax;
  if (g.numQPoints !== null) options.numQ = g.numQPoints;
  if (g.qResolution !== null) options.qResolution = g.qResolution;
  if (g.scale !== null) options.scale = g.scale;
  if (g.background !== null) options.background = g.background;
  if (g.sldOutputPoints !== null) options.profilePoints = g.sldOutputPoints;
  if (g.sampling !== null) options.sampling = g.sampling;
  if (g.workers !== null) options.workers = g.workers;
  return options;
}

async function saveState(runDir: string, state: RunState): Promise<void> {
  // The MongoDB password never reaches the run folder (resumePipeline takes it back from the environment).
  await writeFileAtomic(join(runDir, STATE), `${JSON.stringify({ ...state, config: configWithoutSecrets(state.config) }, null, 2)}\n`);
}

function aborted(phase: PipelinePhase, runDir: string, cause?: unknown): ReflectkitError {
  return new ReflectkitError('ABORTED', `the run was cancelled during ${phase}; continue it with resumePipeline(${JSON.stringify(runDir)}) or reflectkit run --resume ${runDir}`, {
    path: runDir,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Runs the whole job: generate → (upload the training data early to a Hub target) → preprocess and train
 * (checkpoints) → save the bundle → evaluate on the test split → report → push the bundle to the Hub →
 * record the run in the history. Everything goes into one run folder: `pipeline.json` (the resolved config,
 * seed, model id and finished phases), `data/`, `model/` (the bundle and its checkpoints), `result.json`,
 * `report.html` and the charts.
 *
 * `config` is validated first ({@link parsePipelineConfig}); every error names its field. Cancelling through
 * `signal` (or a crash) leaves the folder consistent: {@link resumePipeline} skips finished phases, continues
 * training from the last checkpoint with the same scaler and data, and ends with the same result.
 *
 * @throws ReflectkitError `INVALID_CONFIG` for a bad config, `ABORTED` when cancelled, and the codes of the
 *   phases (I/O, memory, backend). Failures of the Hub or of the history database do not fail the run: they
 *   are reported as warnings (the bundle stays local; the record goes to the embedded store).
 */
export async function runPipeline(config: unknown, options: RunPipelineOptions = {}): Promise<PipelineResult> {
  const resolved = parsePipelineConfig(config);
  const runDir = resolve(options.runDir ?? join(options.outDir ?? 'runs', runFolderName()));
  if (await pathExists(join(runDir, STATE))) {
    throw new ReflectkitError('INVALID_OPTION', `${runDir} already holds a run`, { path: 'runDir', expected: 'a new folder (use resumePipeline to continue that run)' });
  }
  try {
    await mkdir(runDir, { recursive: true });
  } catch (error) {
    throw ioError('create', runDir, error);
  }
  const lock = await lockRunFolder(runDir);
  try {
    // Another process may have started a run here between the check above and the lock.
    if (await pathExists(join(runDir, STATE))) {
      throw new ReflectkitError('INVALID_OPTION', `${runDir} already holds a run`, { path: 'runDir', expected: 'a new folder (use resumePipeline to continue that run)' });
    }
    const seed = resolved.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
    const state: RunState = { format: 'reflectkit-pipeline', version: 1, library: VERSION, config: resolved, seed, modelId: randomUUID(), done: {} };
    await saveState(runDir, state);
    return await continueRun(runDir, state, options);
  } finally {
    await lock.release();
  }
}

/**
 * Continues a run folder left by a cancelled, failed or killed {@link runPipeline}: finished phases are
 * skipped, generation restarts if it had not finished (same seed, same curves), and training continues from
 * its last checkpoint.
 *
 * @throws ReflectkitError `INVALID_OPTION` when `runDir` holds no run, or when another live process is running it
 *   (`run.lock`; a lock left by a process that is gone is taken over).
 */
export async function resumePipeline(runDir: string, options: Omit<RunPipelineOptions, 'runDir' | 'outDir'> = {}): Promise<PipelineResult> {
  const dir = resolve(runDir);
  if (!(await pathExists(join(dir, STATE)))) {
    throw new ReflectkitError('INVALID_OPTION', `${dir} holds no pipeline run (${STATE} is missing)`, { path: 'runDir', expected: 'a folder written by runPipeline' });
  }
  const lock = await lockRunFolder(dir);
  try {
    return await resumeLocked(dir, options);
  } finally {
    await lock.release();
  }
}

async function resumeLocked(dir: string, options: Omit<RunPipelineOptions, 'runDir' | 'outDir'>): Promise<PipelineResult> {
  let state: RunState;
  try {
    state = JSON.parse(await readFile(join(dir, STATE), 'utf8')) as RunState;
  } catch (error) {
    throw new ReflectkitError('INVALID_OPTION', `${dir} holds no pipeline run (${STATE} is missing or unreadable)`, { path: 'runDir', expected: 'a folder written by runPipeline', cause: error });
  }
  if (state?.format !== 'reflectkit-pipeline' || state.version !== 1) {
    throw new ReflectkitError('INVALID_OPTION', `${join(dir, STATE)} is not a reflectkit pipeline state`, { path: 'runDir', expected: 'format reflectkit-pipeline, version 1' });
  }
  // The stored config passed validation once; validating again catches a hand-edited file.
  state.config = parsePipelineConfig(state.config);
  const secrets = configWithSecrets(state.config);
  state.config = secrets.config;
  if (secrets.warning !== undefined) options.onEvent?.({ type: 'log', level: 'warn', message: secrets.warning });
  // A killed attempt never ran its cleanup: drop the temporary files of its unfinished atomic writes.
  await removeStalePartials(dir, [STATE, ...REPORT_FILE_NAMES]);
  await removeStalePartials(join(dir, 'model', 'checkpoints'), ['latest.json']);
  return continueRun(dir, state, options, { mongoPasswordMissing: secrets.warning !== undefined });
}

async function continueRun(runDir: string, state: RunState, options: RunPipelineOptions, stores: { mongoPasswordMissing?: boolean } = {}): Promise<PipelineResult> {
  const emit = (event: PipelineEvent): void => options.onEvent?.(event);
  const config = state.config;
  const dataDir = join(runDir, 'data');
  const modelDir = join(runDir, 'model');
  const { signal } = options;
  const timing: Record<string, number> = {};
  for (const [phase, done] of Object.entries(state.done)) timing[phase] = done.seconds;
  const started = performance.now();

  const phase = async <T>(name: PipelinePhase, work: () => Promise<T>): Promise<T> => {
    if (signal?.aborted) throw aborted(name, runDir, signal.reason);
    emit({ type: 'phase', phase: name, status: 'start' });
    const t = performance.now();
    let value: T;
    try {
      value = await work();
    } catch (error) {
      if (isReflectkitError(error) && error.code === 'ABORTED') throw aborted(name, runDir, error);
      throw error;
    }
    const seconds = (performance.now() - t) / 1000;
    timing[name] = seconds;
    state.done[name] = { seconds };
    await saveState(runDir, state);
    emit({ type: 'phase', phase: name, status: 'end', seconds });
    return value;
  };
  const skip = (name: PipelinePhase, reason: string): void => emit({ type: 'phase', phase: name, status: 'skip', reason });

  const backend = await runBackend(config.backend, state, emit);
  state.backend = backend.description;
  state.backendName = backend.name;
  emit({ type: 'log', level: 'info', message: `run folder ${runDir}; backend ${backend.description}; seed ${state.seed}; model ${state.modelId}` });
  const { history, hub } = await openStores(config, options, emit, stores);

  try {
    // 1. Generate (deterministic from the seed: an interrupted generation is simply done again).
    if (state.done.generate !== undefined && (await pathExists(join(dataDir, 'generation.json')))) skip('generate', 'done');
    else {
      const { numCurves, ...generatorOptions } = generatorOptionsOf(config, state.seed);
      await phase('generate', async () => {
        const generator = new ReflectivityDataGenerator({
          ...generatorOptions,
          ...(signal === undefined ? {} : { signal }),
          onProgress: (p) => emit({ type: 'progress', phase: 'generate', done: p.done, total: p.total }),
        });
        return generator.generateToFiles(numCurves, dataDir);
      });
    }
    const files = await readTrainingFiles(dataDir);
    const generation = await readGenerationModel(dataDir);

    // 2. The training data to the Hub before training, as pyreflect does, so it survives a failed training (a
    //    failure is a warning: the data stay in the run folder and the bundle push can carry them).
    if (hub === null) skip('upload-data', 'no Hub target');
    else if (state.done['upload-data'] !== undefined) skip('upload-data', 'done');
    else {
      try {
        await phase('upload-data', () => hub.uploadTrainingData(state.modelId, { nr: files.nrPath, sld: files.sldPath }, signal === undefined ? {} : { signal }));
      } catch (error) {
        if (isReflectkitError(error) && error.code === 'ABORTED') throw error;
        emit({ type: 'log', level: 'warn', message: `the training data could not be uploaded before training (${(error as Error).message}); the bundle upload will try again` });
      }
    }

    // 3–4. Train (resuming from a checkpoint) and save the bundle.
    const n = files.nr.shape[0]!;
    const split = splitIndices(n, { seed: state.seed, trainFraction: 1 - 2 * config.training.validationSplit });
    if (state.done.save !== undefined && (await pathExists(join(modelDir, 'config.json')))) {
      skip('train', 'done');
      skip('save', 'done');
    } else {
      // wasm and cpu train on one thread per core by default. The count is kept with the run: a resume
      // (on another machine, or with another option) continues on as many threads as the first attempt.
      if (state.trainingWorkers === undefined) {
        state.trainingWorkers = options.trainingWorkers ?? (backend.name === 'wasm' || backend.name === 'cpu' ? availableParallelism() : 0);
        await saveState(runDir, state);
      } else if (options.trainingWorkers !== undefined && options.trainingWorkers !== state.trainingWorkers) {
        emit({ type: 'log', level: 'warn', message: `training continues on ${state.trainingWorkers} worker threads, as it started (trainingWorkers ${options.trainingWorkers} is ignored: it would change the result)` });
      }
      const workers = state.trainingWorkers;
      const trained = await phase('train', async () => {
        const out = await trainPhase(config, state.seed, files, split, join(modelDir, 'checkpoints'), backend, {
          emit,
          ...(signal === undefined ? {} : { signal }),
          workers,
        });
        if (out.result.status === 'paused') {
          await out.trainer.dispose();
          throw aborted('train', runDir);
        }
        return out;
      });
      try {
        await phase('save', () =>
          saveBundle(modelDir, trained.trainer.cnn, trained.scaler, {
            modelId: state.modelId,
            history: trained.result.history,
            ...(config.saveTrainingData ? { trainingData: { nr: files.nrPath, sld: files.sldPath } } : {}),
            info: {
              backend: backend.description,
              engine: trained.result.engine,
              status: trained.result.status,
              steps: trained.result.steps,
              best: trained.result.best,
              data: dataDir,
              split: { seed: state.seed, trainFraction: 1 - 2 * config.training.validationSplit },
              trainer: trained.trainer.settings,
              q: Array.from(files.nr.data.subarray(0, files.nr.shape[2]!) as Float32Array),
              ...(generation === null
                ? {}
                : { generator: { layers: generation.layers, bounds: generation.bounds, qResolution: generation.qResolution, scale: generation.scale, background: generation.background, legacy: generation.legacy } }),
              pipeline: { runDir, name: config.name },
            },
          }),
        );
      } finally {
        await trained.trainer.dispose();
      }
    }

    // 5. Evaluate the saved bundle on the test split (loading it proves it is whole).
    const result = await phase('evaluate', async () => {
      const loaded = await loadBundle(modelDir);
      try {
        return evaluateTestSplit({ cnn: loaded.cnn, scaler: loaded.scaler }, files, split.test, {
          backend: backend.description,
          modelId: state.modelId,
          physics: generation === null ? {} : physicsFromGenerator(generation),
          ...(loaded.config.history === undefined ? {} : { history: loaded.config.history }),
        });
      } finally {
        loaded.cnn.model.dispose();
      }
    });

    // 6. Report.
    const title = `reflectkit: ${config.name ?? `${config.generator.numCurves} curves, ${config.training.epochs} epochs`}`;
    await phase('report', () => writeReport(runDir, result, { title }));

    // 7. Hub (a failure keeps the local bundle and is reported; it does not lose the run).
    let hubInfo: PipelineResult['hub'] = null;
    if (hub === null) skip('hub', 'no Hub target');
    else {
      try {
        await phase('hub', () => hub.pushBundle(modelDir, { modelId: state.modelId, removeLocal: config.storage.hub?.removeLocal === true, ...(signal === undefined ? {} : { signal }) }));
        hubInfo = { browse: hub.urls(state.modelId).browse };
      } catch (error) {
        if (isReflectkitError(error) && error.code === 'ABORTED') throw error;
        emit({ type: 'log', level: 'warn', message: `the bundle was not uploaded to the Hub (${(error as Error).message}); it is kept in ${modelDir}` });
      }
    }

    // 8. History (MongoDB, or the embedded store when it is unreachable).
    timing.total = Object.entries(timing).reduce((sum, [key, value]) => (key === 'total' ? sum : sum + value), 0);
    if (history === null) skip('history', 'history is off');
    else if (state.history) skip('history', 'done');
    else {
      // The record's id is saved before the record is added: a resume after a crash between the two finds its
      // own record (a duplicate id) instead of adding a second one or failing on the duplicate model id.
      if (state.historyRecord === undefined) {
        state.historyRecord = { id: newRecordId(), createdAt: new Date().toISOString() };
        await saveState(runDir, state);
      }
      const planned = state.historyRecord;
      state.history = await phase('history', async () => {
        try {
          return await history.add(config.storage.history.userId, { ...planned, name: config.name, params: historyParams(configWithoutSecrets(config), state.seed), result: historyResult(result, state.modelId, config.name, timing) });
        } catch (error) {
          if (isDuplicateRecordError(error) && (error as ReflectkitError).path === 'id') return { id: planned.id, store: 'recorded before the interruption' };
          throw error;
        }
      });
      await saveState(runDir, state);
    }

    const m = result.metrics;
    const pipelineResult: PipelineResult = {
      runDir,
      name: config.name,
      modelId: state.modelId,
      result,
      metrics: { mse: m.mse, mae: m.mae, r2: m.r2, chi2: m.chi2, testCurves: m.curves },
      backend: backend.description,
      timing: { ...timing, wall: (performance.now() - started) / 1000 },
      files: { data: dataDir, model: modelDir, report: join(runDir, 'report.html'), resultJson: join(runDir, 'result.json') },
      history: state.history ?? null,
      hub: hubInfo,
    };
    emit({ type: 'result', result: pipelineResult });
    return pipelineResult;
  } finally {
    await history?.close();
  }
}

async function openStores(
  config: PipelineConfig,
  options: RunPipelineOptions,
  emit: (event: PipelineEvent) => void,
  stores: { mongoPasswordMissing?: boolean },
): Promise<{ history: PipelineHistory | null; hub: PipelineHub | null }> {
  const history = options.history !== undefined ? options.history : config.storage.history.enabled ? await openPipelineHistory(config, emit, stores) : null;
  const hub = options.hub !== undefined ? options.hub : openPipelineHub(config, emit);
  return { history, hub };
}
