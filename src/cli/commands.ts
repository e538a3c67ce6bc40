import { join, resolve } from 'node:path';
import { parseGeneratorConfig } from '../data/generator-config.js';
import type { GeneratorOptions } from '../data/generator-options.js';
import { ReflectivityDataGenerator, type GeneratedFiles } from '../data/node-generator.node.js';
import { simulateModel } from '../data/simulate.js';
import { ReflectkitError } from '../errors.js';
import { createProgress } from './progress.js';
import { readJsonFile } from './io.js';

/** Options shared by the generating commands. */
export interface GenerateFlags {
  workers?: number;
  seed?: number;
  curves?: number;
  quiet?: boolean;
  json?: boolean;
}

/** `reflectkit simulate --model FILE`: one curve and profile as JSON on stdout. */
export async function simulateCommand(modelPath: string): Promise<void> {
  const model = await readJsonFile(modelPath);
  const output = simulateModel(model);
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

/** Runs a generation to files with a progress bar and Ctrl-C cancellation. */
export async function generateWithProgress(
  numCurves: number,
  options: GeneratorOptions,
  out: string,
  flags: GenerateFlags,
): Promise<GeneratedFiles> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  const progress = createProgress('generate', flags.quiet === true || flags.json === true);
  try {
    const generator = new ReflectivityDataGenerator({
      ...options,
      ...(flags.workers === undefined ? {} : { workers: flags.workers }),
      ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      signal: controller.signal,
      onProgress: (p) => progress.update(p),
    });
    return await generator.generateToFiles(numCurves, out);
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
  }
}

function summaryLines(files: GeneratedFiles): string {
  const rate = files.numCurves / Math.max(files.seconds, 1e-9);
  return [
    `${files.numCurves} curves in ${files.seconds.toFixed(2)} s (${rate.toFixed(0)} curves/s), seed ${files.model.seed}`,
    `  ${files.nrPath}  (${files.nrShape.join(' × ')}, float32: Q, R)`,
    `  ${files.sldPath}  (${files.sldShape.join(' × ')}, float32: z, SLD)`,
    `  ${files.parametersPath}  (sampled parameters)`,
    `  ${files.metadataPath}  (model, seed, shapes)`,
  ].join('\n');
}

/** `reflectkit generate --config FILE --out DIR`. */
export async function generateCommand(configPath: string | undefined, out: string, flags: GenerateFlags): Promise<void> {
  const config = configPath === undefined ? { numCurves: 1000, options: {} } : parseGeneratorConfig(await readJsonFile(configPath));
  const numCurves = flags.curves ?? config.numCurves;
  const files = await generateWithProgress(numCurves, config.options, resolve(out), flags);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...files, model: undefined, seed: files.model.seed })}\n`);
  } else {
    process.stdout.write(`${summaryLines(files)}\n`);
  }
}
