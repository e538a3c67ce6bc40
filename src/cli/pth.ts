import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sharedQGrid } from '../data/dataset.js';
import { readGenerationModel, readTrainingFiles } from '../data/training-files.node.js';
import { ReflectkitError, isReflectkitError } from '../errors.js';
import { ioError, writeFileAtomic } from '../io/atomic-file.node.js';
import { decodePickledNpy, encodePickledStatsNpy } from '../io/pickled-npy.js';
import { readPth, writePth } from '../io/pth-file.node.js';
import { useNodeBackend } from '../nn/backend-node.node.js';
import type { BackendName } from '../nn/backend.js';
import { createCnn } from '../nn/cnn.js';
import { loadBundle, saveBundle } from '../nn/model-folder.node.js';
import { cnnConfigFromStateDict, loadStateDictIntoCnn, pyreflectStateDictMetadata, stateDictFromCnn } from '../nn/torch-state.js';
import { NrSldScaler } from '../preprocess/scaler.js';
import { EXIT, readJsonFile, reportError } from './io.js';

/** Options of `reflectkit export-pth`. */
export interface ExportPthFlags {
  model: string;
  out: string;
  statsOut?: string;
  numBatchesTracked?: number;
  backend?: string;
  json?: boolean;
}

/** Options of `reflectkit import-pth`. */
export interface ImportPthFlags {
  out: string;
  stats: string;
  data?: string;
  backend?: string;
  json?: boolean;
}

/** A `.pth` that is malformed or unsafe is invalid input (exit code 2), like a bad `.npy`. */
async function asInvalidInput(run: () => Promise<number>, json: boolean): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (isReflectkitError(error) && (error.code === 'PTH_FORMAT' || error.code === 'PTH_UNSAFE')) {
      reportError(error, json);
      return EXIT.invalidInput;
    }
    throw error;
  }
}

/**
 * `reflectkit export-pth --model DIR --out model.pth [--stats-out normalization_stat.npy]`: pyreflect's
 * state_dict of a model folder (dense head), which `CNN(layers).load_state_dict(torch.load(path,
 * weights_only=True))` loads. A `.npy` stats name gets pyreflect's `normalization_stat.npy` (its `{nr, sld}`
 * dict pickled in a 0-d object array, for `np.load(path, allow_pickle=True).item()`); any other name our
 * scaler JSON.
 */
export async function exportPthCommand(flags: ExportPthFlags): Promise<number> {
  return asInvalidInput(async () => {
    const started = performance.now();
    const backend = await useNodeBackend((flags.backend ?? 'auto') as BackendName | 'auto');
    const loaded = await loadBundle(resolve(flags.model));
    const steps = (loaded.config.info as { steps?: unknown } | undefined)?.steps;
    const numBatchesTracked = flags.numBatchesTracked ?? (typeof steps === 'number' && Number.isSafeInteger(steps) && steps >= 0 ? steps : 0);
    if (flags.statsOut !== undefined && /\.npy$/i.test(flags.statsOut) && loaded.scaler.normalization !== 'minmax') {
      loaded.cnn.model.dispose();
      throw new ReflectkitError('INVALID_OPTION', `the model is normalised by ${loaded.scaler.normalization}; pyreflect's normalization_stat.npy holds min-max stats only`, {
        path: '--stats-out',
        expected: 'a .json name (our scaler JSON) for a z-score model',
      });
    }
    const tensors = await stateDictFromCnn(loaded.cnn, { numBatchesTracked });
    const out = resolve(flags.out);
    await writePth(out, tensors, { metadata: pyreflectStateDictMetadata(loaded.cnn.config.layers) });
    loaded.cnn.model.dispose();
    let statsOut: string | undefined;
    if (flags.statsOut !== undefined) {
      statsOut = resolve(flags.statsOut);
      await writeFileAtomic(
        statsOut,
        /\.npy$/i.test(statsOut) ? encodePickledStatsNpy(loaded.scaler.toPyreflect()) : `${JSON.stringify(loaded.scaler.toJSON(), null, 2)}\n`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = { out, tensors: tensors.length, layers: loaded.cnn.config.layers, numBatchesTracked, ...(statsOut === undefined ? {} : { statsOut }), backend: backend.description, seconds };
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`wrote ${out} (pyreflect CNN(${summary.layers}) state_dict, ${tensors.length} tensors) in ${seconds.toFixed(1)} s${statsOut === undefined ? '' : `; stats: ${statsOut}`}\n`);
    return EXIT.ok;
  }, flags.json === true);
}

/** The scaler from our JSON, pyreflect's stats dict as JSON, or pyreflect's `normalization_stat.npy` (read without unpickling). */
async function readScaler(path: string): Promise<NrSldScaler> {
  if (/\.npy$/i.test(path)) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw ioError('read', path, error);
    }
    return NrSldScaler.fromPyreflect(decodePickledNpy(bytes, path));
  }
  const json = await readJsonFile(path);
  return (json as { format?: unknown } | null)?.format === 'reflectkit-scaler' ? NrSldScaler.fromJSON(json) : NrSldScaler.fromPyreflect(json);
}

/**
 * `reflectkit import-pth model.pth --out DIR --stats stats.json|normalization_stat.npy [--data DIR]`: a model
 * folder from pyreflect's state_dict (architecture read from its keys and shapes) and its normalisation.
 * `--data` records the training data's Q grid and physics, as `reflectkit train` does, for `predict`.
 */
export async function importPthCommand(file: string, flags: ImportPthFlags): Promise<number> {
  return asInvalidInput(async () => {
    const started = performance.now();
    const path = resolve(file);
    const scaler = await readScaler(resolve(flags.stats));
    const tensors = await readPth(path);
    const config = cnnConfigFromStateDict(tensors);
    const info: Record<string, unknown> = {};
    if (flags.data !== undefined) {
      const dataDir = resolve(flags.data);
      const files = await readTrainingFiles(dataDir);
      if (files.nr.shape[2] !== config.inputPoints) {
        throw new ReflectkitError('BAD_SHAPE', `${files.nrPath} has ${files.nr.shape[2]} Q points, the model takes ${config.inputPoints}`, { path: files.nrPath, expected: `${config.inputPoints} Q points` });
      }
      const q = sharedQGrid(files.nr);
      const generation = await readGenerationModel(dataDir);
      Object.assign(info, {
        data: dataDir,
        ...(q === null ? {} : { q }),
        ...(generation === null
          ? {}
          : { generator: { layers: generation.layers, bounds: generation.bounds, qResolution: generation.qResolution, scale: generation.scale, background: generation.background, legacy: generation.legacy } }),
      });
    }
    const backend = await useNodeBackend((flags.backend ?? 'auto') as BackendName | 'auto');
    const cnn = createCnn(config);
    const { numBatchesTracked } = loadStateDictIntoCnn(cnn, tensors);
    tensors.length = 0;
    Object.assign(info, { source: { format: 'pth', path, numBatchesTracked }, backend: backend.description });
    const out = resolve(flags.out);
    const saved = await saveBundle(out, cnn, scaler, { info: { ...info, steps: numBatchesTracked } });
    cnn.model.dispose();
    const seconds = (performance.now() - started) / 1000;
    if (flags.json) process.stdout.write(`${JSON.stringify({ modelDir: out, modelId: saved.modelId, model: config, numBatchesTracked, backend: backend.description, seconds })}\n`);
    else process.stdout.write(`wrote ${out} (${saved.weightsFile}, config.json, scaler.json, normalization_stat.npy): pyreflect CNN(${config.layers}), kernel ${config.kernelSize}, Q ${config.inputPoints}, P ${config.outputPoints}, in ${seconds.toFixed(1)} s\n`);
    return EXIT.ok;
  }, flags.json === true);
}
