import cliProgress from 'cli-progress';
import { ReflectkitError } from '../errors.js';
import type { PipelineEvent, PipelineResult } from '../pipeline/events.js';
import { resumePipeline, runPipeline } from '../pipeline/run.node.js';
import { EXIT, readJsonFile } from './io.js';

/** Options of `reflectkit run`. */
export interface RunFlags {
  out: string;
  resume?: string;
  curves?: number;
  epochs?: number;
  seed?: number;
  workers?: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * The built-in demo: 1000 curves of pyreflect's default model and pyreflect's CNN design (convolution blocks,
 * BatchNorm, ReLU, a dense head) made light enough to train in a few minutes on two CPU cores without native
 * TensorFlow: 3 blocks, kernel 15, a 16-channel bottleneck before the dense layer, 6 epochs. See
 * docs/training.md for what the lighter head costs.
 */
export const DEMO_CONFIG = {
  name: 'reflectkit demo',
  generator: { numCurves: 1000 },
  training: { epochs: 6, batchSize: 32, layers: 3, kernelSize: 15, head: 'bottleneck', bottleneckChannels: 16, dropout: 0, learningRate: 1e-3, weightDecay: 1e-4, checkpointEvery: 1 },
  seed: 42,
} as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Applies the command-line overrides (`--curves`, `--epochs`, `--seed`, `--backend`, `--workers`) to a config. */
function withFlags(config: unknown, flags: RunFlags): unknown {
  if (!isObject(config)) return config; // the parser reports it
  const out: Record<string, unknown> = { ...config };
  const section = (key: string): Record<string, unknown> => {
    const value = out[key];
    const copy = isObject(value) ? { ...value } : {};
    out[key] = copy;
    return copy;
  };
  if (flags.curves !== undefined) section('generator').numCurves = flags.curves;
  if (flags.workers !== undefined) section('generator').workers = flags.workers;
  if (flags.epochs !== undefined) section('training').epochs = flags.epochs;
  if (flags.seed !== undefined) out.seed = flags.seed;
  if (flags.backend !== undefined) out.backend = flags.backend;
  return out;
}

/** Progress on stderr: a bar per phase on a terminal, a line per phase and epoch otherwise. */
function progressReporter(quiet: boolean): { onEvent: (event: PipelineEvent) => void; stop: () => void } {
  if (quiet) return { onEvent: () => undefined, stop: () => undefined };
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let barPhase = '';
  const stopBar = (): void => {
    bar?.stop();
    bar = null;
  };
  const onEvent = (event: PipelineEvent): void => {
    if (event.type === 'phase') {
      if (event.status === 'start') process.stderr.write(`▶ ${event.phase}\n`);
      else if (event.status === 'end') {
        stopBar();
        process.stderr.write(`✓ ${event.phase} (${event.seconds?.toFixed(1)} s)\n`);
      } else if (event.reason !== 'no Hub target') process.stderr.write(`· ${event.phase}: ${event.reason}\n`);
    } else if (event.type === 'log') {
      if (event.level === 'warn' || !tty || !event.message.startsWith('epoch ')) {
        stopBar();
        process.stderr.write(`${event.level === 'warn' ? 'warning: ' : ''}${event.message}\n`);
      }
    } else if (event.type === 'progress' && tty) {
      const key = event.phase === 'train' ? `train-${event.epoch}` : event.phase;
      const isBatch = event.phase !== 'train' || event.loss !== undefined;
      if (!isBatch) return;
      if (bar === null || barPhase !== key) {
        stopBar();
        const format = event.phase === 'train' ? `epoch ${event.epoch}/${event.epochs} [{bar}] {value}/{total} batches | loss {loss}` : `${event.phase} [{bar}] {percentage}% | {value}/{total} curves | ETA {eta_formatted}`;
        bar = new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(event.total, 0, { loss: '–' });
        barPhase = key;
      }
      bar.update(event.done, { loss: event.loss === undefined ? '–' : event.loss.toExponential(3) });
    }
  };
  return { onEvent, stop: stopBar };
}

function summary(result: PipelineResult): string {
  const m = result.metrics;
  const last = result.result.training.validationLoss.length - 1;
  const lines = [
    `Run folder: ${result.runDir}`,
    `  report.html, result.json, nr/sld/loss/parity charts (SVG, PNG); data/ (nr_train.npy, sld_train.npy); model/ (bundle ${result.modelId})`,
    `Test split (${m.testCurves} curves): SLD R² ${m.r2?.toFixed(3)}, MAE ${m.mae?.toFixed(3)} ×10⁻⁶ Å⁻², MSE ${m.mse?.toExponential(2)}; validation loss ${result.result.training.validationLoss[last]?.toExponential(2)} after ${last + 1} epochs`,
    `Backend: ${result.backend}. Time: ${result.timing.wall?.toFixed(0)} s (generation ${result.timing.generate?.toFixed(1) ?? '–'} s, training ${result.timing.train?.toFixed(0) ?? '–'} s, evaluation ${result.timing.evaluate?.toFixed(1) ?? '–'} s)`,
  ];
  if (result.history !== null) lines.push(`History: record ${result.history.id} (${result.history.store})`);
  if (result.hub !== null) lines.push(`Hub: ${result.hub.browse}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `reflectkit run [config.json] [--out DIR] [--json]`: the whole pipeline ({@link runPipeline}) on a config
 * (the web interface's request body is accepted as is), or on the built-in demo ({@link DEMO_CONFIG}).
 * Writes a run folder under `--out` and prints its path and the key metrics; with `--json` the last stdout
 * line is `{"runDir", "metrics", "backend", "timing"}`. Ctrl-C stops after the current batch with a
 * checkpoint; `--resume RUN_DIR` continues.
 *
 * @returns the exit code: 0 done, 130 interrupted (resumable).
 */
export async function runCommand(configPath: string | undefined, flags: RunFlags): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => {
    process.stderr.write('\nstopping after the current step (the run folder stays resumable)…\n');
    controller.abort(new Error('interrupted'));
  };
  const progress = progressReporter(flags.quiet === true || flags.json === true);
  process.once('SIGINT', onSignal);
  let result: PipelineResult;
  try {
    const options = { signal: controller.signal, onEvent: progress.onEvent };
    if (flags.resume !== undefined) {
      if (configPath !== undefined) throw new ReflectkitError('INVALID_OPTION', 'a config file with --resume', { path: 'config', expected: 'either a config (a new run) or --resume RUN_DIR' });
      result = await resumePipeline(flags.resume, options);
    } else {
      const config = withFlags(configPath === undefined ? DEMO_CONFIG : await readJsonFile(configPath), flags);
      result = await runPipeline(config, { ...options, outDir: flags.out });
    }
  } catch (error) {
    if (error instanceof ReflectkitError && error.code === 'ABORTED') {
      progress.stop();
      const runDir = error.path;
      process.stdout.write(flags.json ? `${JSON.stringify({ runDir, status: 'interrupted', resume: `reflectkit run --resume ${runDir}` })}\n` : `interrupted; continue with: reflectkit run --resume ${runDir}\n`);
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    progress.stop();
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ runDir: result.runDir, modelId: result.modelId, metrics: result.metrics, backend: result.backend, timing: result.timing, history: result.history, hub: result.hub })}\n`);
  } else {
    process.stdout.write(summary(result));
  }
  return EXIT.ok;
}
