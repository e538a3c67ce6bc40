import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { readNpy } from '../io/npy-file.node.js';
import { readMeasuredFile } from '../io/measured-file.node.js';
import { readTrainingFiles } from '../data/training-files.node.js';
import { ReflectkitError } from '../errors.js';
import { evaluateMeasured } from '../eval/evaluate-measured.js';
import { evaluateTestSplit, physicsFromGenerator, type EvaluationPhysics, type GeneratorPhysicsSource } from '../eval/evaluate.js';
import type { EvaluationResult } from '../eval/result.js';
import { useNodeBackend } from '../nn/backend-node.node.js';
import type { BackendName } from '../nn/backend.js';
import type { TrainingHistory } from '../nn/checkpoint.js';
import { loadBundle, type LoadedModel } from '../nn/model-folder.node.js';
import { splitIndices } from '../preprocess/split.js';
import { writeReport } from '../report/png.node.js';

/** Options of `reflectkit predict`. */
export interface PredictFlags {
  model: string;
  data: string;
  out: string;
  backend?: string;
  format?: 'auto' | 'text' | 'orso';
  dqIs?: 'fwhm' | 'sigma';
  dataset?: string;
  backing?: number;
  fronting?: number;
  example?: number;
  json?: boolean;
  quiet?: boolean;
}

interface ModelInfo {
  q?: number[];
  data?: string;
  split?: { seed: number; trainFraction: number };
  generator?: GeneratorPhysicsSource;
}

/** The Q grid the model takes: recorded in its folder, else the first curve of the data it was trained on. */
async function modelGrid(loaded: LoadedModel, modelDir: string): Promise<number[]> {
  const info = (loaded.config.info ?? {}) as ModelInfo;
  if (Array.isArray(info.q) && info.q.length === loaded.cnn.config.inputPoints) return info.q;
  if (typeof info.data === 'string') {
    try {
      const { data, shape } = await readNpy(join(info.data, 'nr_train.npy'));
      if (shape.length === 3 && shape[2] === loaded.cnn.config.inputPoints) return Array.from(data.subarray(0, shape[2]));
    } catch {
      // fall through to the error below
    }
  }
  throw new ReflectkitError('CHECKPOINT_INVALID', `${modelDir} does not record the Q grid its model takes`, {
    path: join(modelDir, 'config.json'),
    expected: 'info.q in config.json (written by reflectkit train), or its training data folder in place',
  });
}

/**
 * `reflectkit predict --model DIR --data FILE|DIR --out DIR`: with a measured curve (4-column text or ORSO
 * `.ort`), predicts its SLD profile, computes the NR back at the measured points and χ² against the data;
 * with a data folder (nr_train.npy / sld_train.npy), evaluates the model on that data's test split. Writes
 * `result.json`, charts (SVG, PNG) and `report.html` into --out, prints a summary (unless `print` is false) and returns the result.
 */
export async function predictCommand(flags: PredictFlags, output: { print?: boolean; title?: string } = {}): Promise<EvaluationResult> {
  const started = performance.now();
  const backend = await useNodeBackend((flags.backend ?? 'auto') as BackendName | 'auto');
  const modelDir = resolve(flags.model);
  const loaded = await loadBundle(modelDir);
  const info = (loaded.config.info ?? {}) as ModelInfo;
  const physics: EvaluationPhysics = info.generator === undefined ? {} : physicsFromGenerator(info.generator);
  if (flags.backing !== undefined) physics.backing = flags.backing;
  if (flags.fronting !== undefined) physics.fronting = flags.fronting;
  const history = loaded.config.history as TrainingHistory | undefined;
  const common = { backend: backend.description, modelId: loaded.config.modelId ?? basename(modelDir), physics, ...(history === undefined ? {} : { history }) };
  const model = { cnn: loaded.cnn, scaler: loaded.scaler };
  const dataPath = resolve(flags.data);
  let isDir: boolean;
  try {
    isDir = (await stat(dataPath)).isDirectory();
  } catch (error) {
    throw new ReflectkitError('IO_ERROR', `cannot read ${dataPath}`, { path: dataPath, cause: error });
  }
  let result: EvaluationResult;
  if (isDir) {
    const files = await readTrainingFiles(dataPath);
    const split = splitIndices(files.nr.shape[0]!, info.split ?? { seed: 0 });
    result = evaluateTestSplit(model, files, split.test, { ...common, ...(flags.example === undefined ? {} : { example: flags.example }) });
  } else {
    const measured = await readMeasuredFile(dataPath, {
      ...(flags.format === undefined ? {} : { format: flags.format }),
      ...(flags.dqIs === undefined ? {} : { dqIs: flags.dqIs }),
      ...(flags.dataset === undefined ? {} : { dataset: /^\d+$/.test(flags.dataset) ? Number(flags.dataset) : flags.dataset }),
    });
    result = evaluateMeasured(model, measured, { ...common, modelQ: await modelGrid(loaded, modelDir) });
  }
  result.timing.loadAndPredict = (performance.now() - started) / 1000;
  const out = resolve(flags.out);
  const paths = await writeReport(out, result, { title: output.title ?? `reflectkit: ${basename(modelDir)} on ${basename(dataPath)}` });
  if (output.print === false) return result;
  const m = result.metrics;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ outDir: out, files: paths, metrics: { mse: m.mse, mae: m.mae, r2: m.r2, chi2: m.chi2, chi2Weighted: m.chi2Weighted }, source: result.source, backend: result.backend })}\n`);
  } else {
    const lines = [`wrote ${out} (result.json, report.html, charts)`];
    if (result.source.kind === 'measured') {
      const s = result.source;
      lines.push(`χ² = ${m.chi2?.toPrecision(4)} (${m.chi2Weighted ? 'weighted by dR' : 'log R, no dR in the data'}) over the measured points inside the model's Q range`);
      if (s.pointsBelow + s.pointsAbove > 0) lines.push(`note: ${s.pointsBelow} model-grid points below and ${s.pointsAbove} above the measured Q range were clamped, not extrapolated`);
    } else {
      lines.push(`test split: ${m.curves} curves, SLD MSE ${m.mse?.toExponential(3)} (10⁻⁶ Å⁻²)², MAE ${m.mae?.toExponential(3)}, R² ${m.r2?.toFixed(4)}; example χ²(log R) ${m.chi2?.toExponential(3)}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return result;
}
