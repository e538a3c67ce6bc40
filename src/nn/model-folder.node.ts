import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { ioError, writeFileAtomic } from '../io/atomic-file.node.js';
import { NrSldScaler, type ScalerStats } from '../preprocess/scaler.js';
import { VERSION } from '../version.js';
import type { TrainingHistory } from './checkpoint.js';
import { cnnConfigSchema, createCnn, type Cnn, type CnnConfig } from './cnn.js';
import { tf } from './tf.js';

/** `config.json` of a saved model folder. */
export interface ModelFolderConfig {
  format: 'reflectkit-model';
  version: 1;
  /** reflectkit version that wrote it. */
  library: string;
  /** The architecture (rebuilds the model). */
  model: CnnConfig;
  /** Names and shapes of the weights in `weights.bin`, in order. */
  weights: Array<{ name: string; shape: number[] }>;
  /** Training history, if trained here. */
  history?: TrainingHistory;
  /** Anything else worth keeping (training settings, data paths, backend). */
  info?: Record<string, unknown>;
}

const configSchema = z.object({
  format: z.literal('reflectkit-model'),
  version: z.literal(1),
  library: z.string(),
  model: cnnConfigSchema,
  weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) })),
  history: z.unknown().optional(),
  info: z.record(z.string(), z.unknown()).optional(),
});

const CONFIG = 'config.json';
const WEIGHTS = 'weights.bin';
const SCALER = 'scaler.json';

/**
 * Saves a trained model as a folder: `weights.bin` (float32, the model's weights in order, BatchNorm
 * statistics included), `scaler.json` (the normalisation), and `config.json` (architecture, weight
 * shapes, history). The files are written into a staging folder that replaces `dir` only when complete.
 */
export async function saveModelFolder(
  dir: string,
  cnn: Cnn,
  scaler: NrSldScaler,
  extra: { history?: TrainingHistory; info?: Record<string, unknown> } = {},
): Promise<void> {
  const staging = `${dir}.partial`;
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
  } catch (error) {
    throw ioError('create', staging, error);
  }
  const values = await Promise.all(cnn.model.weights.map(async (w) => (await w.read().data()) as Float32Array));
  const total = values.reduce((n, v) => n + v.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const v of values) {
    all.set(v, offset);
    offset += v.length;
  }
  const config: ModelFolderConfig = {
    format: 'reflectkit-model',
    version: 1,
    library: VERSION,
    model: cnn.config,
    weights: cnn.model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] })),
    ...(extra.history === undefined ? {} : { history: extra.history }),
    ...(extra.info === undefined ? {} : { info: extra.info }),
  };
  await writeFileAtomic(join(staging, WEIGHTS), new Uint8Array(all.buffer));
  await writeFileAtomic(join(staging, SCALER), `${JSON.stringify(scaler.toJSON(), null, 2)}\n`);
  await writeFileAtomic(join(staging, CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  // Keep anything else already in dir (checkpoints): move the new files in one by one, config.json last.
  try {
    await mkdir(dir, { recursive: true });
    for (const name of [WEIGHTS, SCALER, CONFIG]) await rename(join(staging, name), join(dir, name));
    await rm(staging, { recursive: true, force: true });
  } catch (error) {
    throw ioError('publish model to', dir, error);
  }
}

/** A model folder loaded back. */
export interface LoadedModel {
  cnn: Cnn;
  scaler: NrSldScaler;
  config: ModelFolderConfig;
}

/**
 * Loads a folder written by {@link saveModelFolder}: rebuilds the architecture, checks every weight's
 * shape and the file size, and sets the weights.
 *
 * @throws ReflectkitError `CHECKPOINT_INVALID` for a missing, incomplete or mismatched folder.
 */
export async function loadModelFolder(dir: string): Promise<LoadedModel> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name));
    } catch (error) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `${join(dir, name)} is missing`, { path: join(dir, name), expected: 'a model folder (config.json, weights.bin, scaler.json)', cause: error });
    }
  };
  let json: unknown;
  try {
    json = JSON.parse((await read(CONFIG)).toString('utf8'));
  } catch (error) {
    if (error instanceof ReflectkitError) throw error;
    throw new ReflectkitError('CHECKPOINT_INVALID', `${CONFIG} is not JSON`, { path: join(dir, CONFIG), expected: 'JSON', cause: error });
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${CONFIG}: ${parsed.error.issues[0]!.message} at ${parsed.error.issues[0]!.path.join('.')}`, {
      path: join(dir, CONFIG),
      expected: 'a reflectkit-model config, version 1',
    });
  }
  const config = json as ModelFolderConfig;
  const cnn = createCnn(config.model);
  const weights = cnn.model.weights;
  if (weights.length !== config.weights.length) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${config.weights.length} weights saved for a model with ${weights.length}`, { path: join(dir, CONFIG), expected: `${weights.length} weights` });
  }
  const bytes = await read(WEIGHTS);
  const sizes = config.weights.map((w) => w.shape.reduce((a, b) => a * b, 1));
  const expected = sizes.reduce((a, b) => a + b, 0) * 4;
  if (bytes.byteLength !== expected) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${WEIGHTS} holds ${bytes.byteLength} bytes`, { path: join(dir, WEIGHTS), expected: `${expected} bytes` });
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let offset = 0;
  tf.tidy(() => {
    weights.forEach((w, i) => {
      const shape = config.weights[i]!.shape;
      if (shape.join() !== (w.shape as number[]).join()) {
        throw new ReflectkitError('CHECKPOINT_INVALID', `weight ${i} has shape (${shape.join(', ')}), the model (${w.shape.join(', ')})`, {
          path: `weights[${i}]`,
          expected: `shape (${w.shape.join(', ')})`,
        });
      }
      w.write(tf.tensor(all.subarray(offset, offset + sizes[i]!), shape));
      offset += sizes[i]!;
    });
  });
  const scaler = NrSldScaler.fromJSON(JSON.parse((await read(SCALER)).toString('utf8')) as ScalerStats);
  return { cnn, scaler, config };
}
