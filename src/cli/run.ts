import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.node.js';
import { generateWithProgress, runFolderName, type GenerateFlags } from './commands.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';

/** Options of `reflectkit run`. */
export interface RunFlags extends GenerateFlags {
  out: string;
  epochs?: number;
  backend?: string;
}

/**
 * The demo's CNN: pyreflect's design (convolution blocks, BatchNorm, ReLU, a dense head) made light enough to
 * train in a few minutes on two CPU cores without native TensorFlow: 3 blocks, kernel 15, a 16-channel
 * bottleneck before the dense layer. See docs/training.md for what the lighter head costs.
 */
export const DEMO_TRAINING = {
  model: { layers: 3, kernelSize: 15, head: 'bottleneck', bottleneckChannels: 16, dropout: 0, seed: 0 },
  training: { epochs: 6, batchSize: 32, learningRate: 1e-3, weightDecay: 1e-4, seed: 0, checkpointEvery: 1 },
  split: { seed: 0, trainFraction: 0.8 },
} as const;

/**
 * `reflectkit run`: the main job on built-in defaults. Generates curves of pyreflect's default model, trains
 * the demo CNN on them (checkpoints in the run folder), evaluates it on the test split, and writes
 * `result.json`, the charts and `report.html` into a new run folder `OUT/run-YYYYMMDD-HHMMSS/`
 * (`data/` and `model/` inside). Prints the folder and the key metrics; with `--json` the last stdout line is
 * `{"runDir", "metrics", "backend", "timing"}`.
 */
export async function runCommand(flags: RunFlags): Promise<number> {
  const numCurves = flags.curves ?? 1000;
  if (!Number.isSafeInteger(numCurves) || numCurves < 20) {
    throw new ReflectkitError('INVALID_OPTION', `--curves ${numCurves}`, { path: 'curves', expected: 'an integer ≥ 20 (the test split needs curves)' });
  }
  const epochs = flags.epochs ?? DEMO_TRAINING.training.epochs;
  const seed = flags.seed ?? 42;
  const runDir = resolve(flags.out, runFolderName());
  const dataDir = join(runDir, 'data');
  const modelDir = join(runDir, 'model');
  const quiet = flags.quiet === true || flags.json === true;
  const say = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const timing: Record<string, number> = {};
  const started = performance.now();

  say(`run folder ${runDir}\n[1/3] generating ${numCurves} curves of pyreflect's default model (seed ${seed})`);
  let t = performance.now();
  await generateWithProgress(numCurves, { seed }, dataDir, { ...flags, seed });
  timing.generation = (performance.now() - t) / 1000;

  const config = { ...DEMO_TRAINING, training: { ...DEMO_TRAINING.training, epochs } };
  await writeFileAtomic(join(runDir, 'train.json'), `${JSON.stringify(config, null, 2)}\n`);
  say(`[2/3] training the demo CNN for ${epochs} epochs (${availableParallelism()} cores)`);
  t = performance.now();
  const trained = await trainCommand(
    { data: dataDir, config: join(runDir, 'train.json'), out: modelDir, ...(flags.backend === undefined ? {} : { backend: flags.backend }), quiet },
    { print: false },
  );
  timing.training = (performance.now() - t) / 1000;
  if (trained !== 0) {
    process.stdout.write(`${flags.json ? JSON.stringify({ runDir, status: 'paused', resume: `reflectkit train --resume --out ${modelDir}` }) : `paused; resume with: reflectkit train --resume --out ${modelDir}`}\n`);
    return trained;
  }

  say('[3/3] evaluating on the test split and writing the report');
  t = performance.now();
  const result = await predictCommand(
    { model: modelDir, data: dataDir, out: runDir, ...(flags.backend === undefined ? {} : { backend: flags.backend }) },
    { print: false, title: `reflectkit demo run: ${numCurves} curves of pyreflect's default model, ${epochs} epochs` },
  );
  timing.evaluation = (performance.now() - t) / 1000;
  timing.total = (performance.now() - started) / 1000;

  const m = result.metrics;
  const metrics = { mse: m.mse, mae: m.mae, r2: m.r2, chi2: m.chi2, testCurves: m.curves };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ runDir, metrics, backend: result.backend, timing })}\n`);
  } else {
    const last = result.training.validationLoss.length - 1;
    process.stdout.write(
      [
        `Run folder: ${runDir}`,
        `  report.html, result.json, nr/sld/loss/parity charts (SVG, PNG); data/ (nr_train.npy, sld_train.npy); model/`,
        `Test split (${m.curves} curves): SLD R² ${m.r2?.toFixed(3)}, MAE ${m.mae?.toFixed(3)} ×10⁻⁶ Å⁻², MSE ${m.mse?.toExponential(2)}; validation loss ${result.training.validationLoss[last]?.toExponential(2)} after ${last + 1} epochs`,
        `Backend: ${result.backend}. Time: ${timing.total.toFixed(0)} s (generation ${timing.generation.toFixed(1)} s, training ${timing.training.toFixed(0)} s, evaluation ${timing.evaluation.toFixed(1)} s)`,
      ].join('\n') + '\n',
    );
  }
  return 0;
}
