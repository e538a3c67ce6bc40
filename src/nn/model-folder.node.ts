import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
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
  /**
   * Size and SHA-256 of every other file of the folder, written last with this config: a folder whose files
   * do not match (a save interrupted between renames, a truncated copy) is refused on load.
   */
  files?: Record<string, { bytes: number; sha256: string }>;
}

const configSchema = z.object({
  format: z.literal('reflectkit-model'),
  version: z.literal(1),
  library: z.string(),
  model: cnnConfigSchema,
  weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) })),
  history: z.unknown().optional(),
  info: z.record(z.string(), z.unknown()).optional(),
  files: z.record(z.string(), z.object({ bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).optional(),
});

const CONFIG = 'config.json';
const WEIGHTS = 'weights.bin';
const SCALER = 'scaler.json';

const TRAINING_FILES = ['nr_train.npy', 'sld_train.npy'] as const;

function digest(bytes: Uint8Array): { bytes: number; sha256: string } {
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Saves a trained model as a folder (a bundle): `weights.bin` (float32, the model's weights in order,
 * BatchNorm statistics included), `scaler.json` (the normalisation), optionally the training data
 * (`nr_train.npy`, `sld_train.npy`, copied from `trainingData`), and `config.json` (architecture, weight
 * shapes, history, `info`, and the size and SHA-256 of every other file). Everything is written into a
 * staging folder first, then moved into `dir` with `config.json` last, so `dir` never holds a config that
 * describes files it does not have; {@link loadBundle} checks the sizes and hashes.
 */
export async function saveBundle(
  dir: string,
  cnn: Cnn,
  scaler: NrSldScaler,
  extra: { history?: TrainingHistory; info?: Record<string, unknown>; trainingData?: { nr: string; sld: string } } = {},
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
  const weightBytes = new Uint8Array(all.buffer);
  const scalerBytes = new TextEncoder().encode(`${JSON.stringify(scaler.toJSON(), null, 2)}\n`);
  const files: Record<string, { bytes: number; sha256: string }> = { [WEIGHTS]: digest(weightBytes), [SCALER]: digest(scalerBytes) };
  await writeFileAtomic(join(staging, WEIGHTS), weightBytes);
  await writeFileAtomic(join(staging, SCALER), scalerBytes);
  if (extra.trainingData !== undefined) {
    const sources = { 'nr_train.npy': extra.trainingData.nr, 'sld_train.npy': extra.trainingData.sld };
    for (const name of TRAINING_FILES) {
      try {
        await copyFile(sources[name], join(staging, name));
        files[name] = digest(await readFile(join(staging, name)));
      } catch (error) {
        throw ioError('copy training data into', join(staging, name), error);
      }
    }
  }
  const config: ModelFolderConfig = {
    format: 'reflectkit-model',
    version: 1,
    library: VERSION,
    model: cnn.config,
    weights: cnn.model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] })),
    ...(extra.history === undefined ? {} : { history: extra.history }),
    ...(extra.info === undefined ? {} : { info: extra.info }),
    files,
  };
  await writeFileAtomic(join(staging, CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  // Keep anything else already in dir (checkpoints): move the new files in one by one, config.json last.
  try {
    await mkdir(dir, { recursive: true });
    for (const name of [...Object.keys(files), CONFIG]) await rename(join(staging, name), join(dir, name));
    await rm(staging, { recursive: true, force: true });
  } catch (error) {
    throw ioError('publish model to', dir, error);
  }
}

/** Checks every file the config lists against its recorded size and SHA-256. */
async function verifyFiles(dir: string, files: NonNullable<ModelFolderConfig['files']>, read: (name: string) => Promise<Buffer>): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  for (const [name, expected] of Object.entries(files)) {
    if (name.includes('/') || name.includes('\\') || name === '..' || name === '.') {
      throw new ReflectkitError('CHECKPOINT_INVALID', `config.json lists a file outside the folder: ${name}`, { path: join(dir, CONFIG), expected: 'plain file names' });
    }
    const bytes = await read(name);
    const actual = digest(bytes);
    if (actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `${name} does not match config.json (${actual.bytes} bytes, sha256 ${actual.sha256.slice(0, 12)}…): an interrupted save or a damaged copy`, {
        path: join(dir, name),
        expected: `${expected.bytes} bytes with sha256 ${expected.sha256.slice(0, 12)}…`,
      });
    }
    contents.set(name, bytes);
  }
  return contents;
}

/** A model folder loaded back. */
export interface LoadedModel {
  cnn: Cnn;
  scaler: NrSldScaler;
  config: ModelFolderConfig;
}

/**
 * Loads a folder written by {@link saveBundle}: checks `weights.bin` and `scaler.json` against the
 * sizes and SHA-256 recorded in `config.json` (and the training data too with `verifyTrainingData`),
 * rebuilds the architecture, checks every weight's shape, and sets the weights.
 *
 * @throws ReflectkitError `CHECKPOINT_INVALID` for a missing, incomplete, damaged or mismatched folder.
 */
export async function loadBundle(dir: string, options: { verifyTrainingData?: boolean } = {}): Promise<LoadedModel> {
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
  const listed = Object.entries(config.files ?? {}).filter(([name]) => options.verifyTrainingData === true || !(TRAINING_FILES as readonly string[]).includes(name));
  const verified = await verifyFiles(dir, Object.fromEntries(listed), read);
  const cnn = createCnn(config.model);
  const weights = cnn.model.weights;
  if (weights.length !== config.weights.length) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${config.weights.length} weights saved for a model with ${weights.length}`, { path: join(dir, CONFIG), expected: `${weights.length} weights` });
  }
  const bytes = verified.get(WEIGHTS) ?? (await read(WEIGHTS));
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
  const scaler = NrSldScaler.fromJSON(JSON.parse((verified.get(SCALER) ?? (await read(SCALER))).toString('utf8')) as ScalerStats);
  return { cnn, scaler, config };
}
