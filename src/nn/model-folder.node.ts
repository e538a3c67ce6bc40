import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { freshFolder, ioError, writeFileAtomic } from '../io/atomic-file.node.js';
import { encodePickledStatsNpy } from '../io/pickled-npy.js';
import { readPth, writePth } from '../io/pth-file.node.js';
import { NrSldScaler, type ScalerStats } from '../preprocess/scaler.js';
import { VERSION } from '../version.js';
import type { TrainingHistory } from './checkpoint.js';
import { cnnConfigSchema, countParameters, createCnn, type Cnn, type CnnConfig } from './cnn.js';
import { tf } from './tf.js';
import { loadStateDictIntoCnn, pyreflectStateDictMetadata, stateDictFromCnn } from './torch-state.js';

/** `config.json` of a saved model folder. */
export interface ModelFolderConfig {
  /** Always `reflectkit-model`. */
  format: 'reflectkit-model';
  /** Layout version, 1. */
  version: 1;
  /** reflectkit version that wrote it. */
  library: string;
  /**
   * The model's id (a UUID unless the caller chose one): the name of its `.pth` and of its folder on the
   * Hub (`models/{modelId}/`), as pyreflect's `model_id`. Absent in folders written before 0.2.
   */
  modelId?: string;
  /**
   * The file holding the weights: `{modelId}.pth` (pyreflect's state_dict, which its `CNN(layers)` loads)
   * for the dense head, `weights.bin` (float32 in `weights` order) for the bottleneck head. Absent means
   * `weights.bin`.
   */
  weightsFile?: string;
  /** The architecture (rebuilds the model). */
  model: CnnConfig;
  /** Names and shapes of the weights in `weights.bin`, in order. */
  weights: Array<{
    /** tfjs weight name (`block0_conv/kernel`, …). */
    name: string;
    /** Its shape. */
    shape: number[];
  }>;
  /** Training history, if trained here. */
  history?: TrainingHistory;
  /** Anything else worth keeping (training settings, data paths, backend). */
  info?: Record<string, unknown>;
  /**
   * Size and SHA-256 of every other file of the folder, written last with this config: a folder whose files
   * do not match (a save interrupted between renames, a truncated copy) is refused on load.
   */
  files?: Record<string, {
    /** Size, bytes. */
    bytes: number;
    /** SHA-256, lowercase hex. */
    sha256: string;
  }>;
}

/** A model id: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 128 characters (a file and Hub folder name). */
export const MODEL_ID = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const configSchema = z.object({
  format: z.literal('reflectkit-model'),
  version: z.literal(1),
  library: z.string(),
  modelId: z.string().regex(MODEL_ID).optional(),
  weightsFile: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.(pth|bin)$/).optional(),
  model: cnnConfigSchema,
  weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) })),
  history: z.unknown().optional(),
  info: z.record(z.string(), z.unknown()).optional(),
  files: z.record(z.string(), z.object({ bytes: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).optional(),
});

const CONFIG = 'config.json';
const WEIGHTS = 'weights.bin';
const SCALER = 'scaler.json';
/** pyreflect's stats file name, in its pickled `{nr: {x, y}, sld: {x, y}}` layout. */
const PYREFLECT_STATS = 'normalization_stat.npy';

const TRAINING_FILES = ['nr_train.npy', 'sld_train.npy'] as const;

function digest(bytes: Uint8Array): { bytes: number; sha256: string } {
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Size and SHA-256 of a file, read as a stream (a 592 MiB `.pth` is never held twice). */
async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).byteLength;
    }
  } catch (error) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${path} is missing or unreadable`, { path, expected: 'a file of the model folder', cause: error });
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Options of {@link saveBundle}. */
export interface SaveBundleOptions {
  /** Training history, stored in `config.json`. */
  history?: TrainingHistory;
  /** Anything else worth keeping (training settings, Q grid, generator physics, backend). `info.steps` sets BatchNorm's `num_batches_tracked` in the `.pth`. */
  info?: Record<string, unknown>;
  /** Training data copied in as `nr_train.npy` / `sld_train.npy`. */
  trainingData?: {
    /** Path of the NR curves `.npy` file, copied as `nr_train.npy`. */
    nr: string;
    /** Path of the SLD profiles `.npy` file, copied as `sld_train.npy`. */
    sld: string;
  };
  /** The model id (default: the folder's current id when it has one, else a new UUID). */
  modelId?: string;
}

/**
 * Saves a trained model as a folder (a bundle). Files:
 * - the weights: `{modelId}.pth` for the dense head (pyreflect's state_dict: `CNN(layers).load_state_dict`
 *   loads it as it is, and it is the file the Hub bundle names), else `weights.bin` (float32, the weights in
 *   order, BatchNorm statistics included);
 * - `scaler.json` (the normalisation) and, for min-max scalers, `normalization_stat.npy` (the same in
 *   pyreflect's pickled layout; pyreflect has no z-score);
 * - optionally the training data (`nr_train.npy`, `sld_train.npy`, copied from `trainingData`);
 * - `config.json`: model id, architecture, weight shapes, history, `info`, and the size and SHA-256 of every
 *   other file.
 *
 * Everything is written into a staging folder first, then moved into `dir` with `config.json` last, so
 * `dir` never holds a config that describes files it does not have; {@link loadBundle} checks the sizes
 * and hashes.
 */
export async function saveBundle(dir: string, cnn: Cnn, scaler: NrSldScaler, extra: SaveBundleOptions = {}): Promise<ModelFolderConfig> {
  const modelId = extra.modelId ?? (await existingModelId(dir)) ?? randomUUID();
  if (!MODEL_ID.test(modelId)) {
    throw new ReflectkitError('INVALID_ID', `model id ${JSON.stringify(modelId.slice(0, 64))}`, { path: 'modelId', expected: 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 128 characters, no ".."' });
  }
  const staging = `${dir}.partial`;
  await freshFolder(staging);
  try {
    return await writeBundle(dir, staging, modelId, cnn, scaler, extra);
  } catch (error) {
    // A full disk or a refused write: drop the staging folder (it holds space); dir is as it was.
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** {@link saveBundle}'s work: every file into `staging`, then moved into `dir`, `config.json` last. */
async function writeBundle(dir: string, staging: string, modelId: string, cnn: Cnn, scaler: NrSldScaler, extra: SaveBundleOptions): Promise<ModelFolderConfig> {
  const files: Record<string, { bytes: number; sha256: string }> = {};
  const weightsFile = cnn.config.head === 'dense' ? `${modelId}.pth` : WEIGHTS;
  if (weightsFile === WEIGHTS) {
    const values = await Promise.all(cnn.model.weights.map(async (w) => (await w.read().data()) as Float32Array));
    const all = new Float32Array(values.reduce((n, v) => n + v.length, 0));
    let offset = 0;
    for (const v of values) {
      all.set(v, offset);
      offset += v.length;
    }
    const weightBytes = new Uint8Array(all.buffer);
    files[WEIGHTS] = digest(weightBytes);
    await writeFileAtomic(join(staging, WEIGHTS), weightBytes);
  } else {
    const steps = extra.info?.steps;
    const numBatchesTracked = typeof steps === 'number' && Number.isSafeInteger(steps) && steps >= 0 ? steps : 0;
    await writePth(join(staging, weightsFile), await stateDictFromCnn(cnn, { numBatchesTracked }), { metadata: pyreflectStateDictMetadata(cnn.config.layers) });
    files[weightsFile] = await fileDigest(join(staging, weightsFile));
  }
  const scalerBytes = new TextEncoder().encode(`${JSON.stringify(scaler.toJSON(), null, 2)}\n`);
  files[SCALER] = digest(scalerBytes);
  await writeFileAtomic(join(staging, SCALER), scalerBytes);
  // pyreflect knows min-max only: a z-score model has no pyreflect stats file that would mislead it.
  if (scaler.normalization === 'minmax') {
    const statsBytes = encodePickledStatsNpy(scaler.toPyreflect());
    files[PYREFLECT_STATS] = digest(statsBytes);
    await writeFileAtomic(join(staging, PYREFLECT_STATS), statsBytes);
  }
  if (extra.trainingData !== undefined) {
    const sources = { 'nr_train.npy': extra.trainingData.nr, 'sld_train.npy': extra.trainingData.sld };
    for (const name of TRAINING_FILES) {
      try {
        await copyFile(sources[name], join(staging, name));
      } catch (error) {
        throw ioError('copy training data into', join(staging, name), error);
      }
      files[name] = await fileDigest(join(staging, name));
    }
  }
  const config: ModelFolderConfig = {
    format: 'reflectkit-model',
    version: 1,
    library: VERSION,
    modelId,
    weightsFile,
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
  return config;
}

/** The id recorded in `dir/config.json`, if there is a readable one (a re-save keeps its id). */
async function existingModelId(dir: string): Promise<string | undefined> {
  try {
    const id = (JSON.parse(await readFile(join(dir, CONFIG), 'utf8')) as { modelId?: unknown }).modelId;
    return typeof id === 'string' && MODEL_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Checks every file the config lists against its recorded size and SHA-256 (streamed, nothing kept). */
async function verifyFiles(dir: string, files: NonNullable<ModelFolderConfig['files']>): Promise<void> {
  for (const [name, expected] of Object.entries(files)) {
    if (name.includes('/') || name.includes('\\') || name === '..' || name === '.') {
      throw new ReflectkitError('CHECKPOINT_INVALID', `config.json lists a file outside the folder: ${name}`, { path: join(dir, CONFIG), expected: 'plain file names' });
    }
    const actual = await fileDigest(join(dir, name));
    if (actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `${name} does not match config.json (${actual.bytes} bytes, sha256 ${actual.sha256.slice(0, 12)}…): an interrupted save or a damaged copy`, {
        path: join(dir, name),
        expected: `${expected.bytes} bytes with sha256 ${expected.sha256.slice(0, 12)}…`,
      });
    }
  }
}

/** A model folder loaded back. */
export interface LoadedModel {
  /** The model, weights set. */
  cnn: Cnn;
  /** The normalisation it was trained with. */
  scaler: NrSldScaler;
  /** The folder's `config.json`. */
  config: ModelFolderConfig;
}

/**
 * Loads a folder written by {@link saveBundle}: checks the weights, `scaler.json` and the stats against the
 * sizes and SHA-256 recorded in `config.json` (and the training data too with `verifyTrainingData`),
 * rebuilds the architecture, checks every weight's shape, and sets the weights (from `{modelId}.pth`
 * through the safe state_dict reader, or from `weights.bin`).
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
  await verifyFiles(dir, Object.fromEntries(listed));
  let scaler: NrSldScaler;
  try {
    scaler = NrSldScaler.fromJSON(JSON.parse((await read(SCALER)).toString('utf8')) as ScalerStats);
  } catch (error) {
    if (error instanceof ReflectkitError && error.code === 'CHECKPOINT_INVALID') throw error;
    throw new ReflectkitError('CHECKPOINT_INVALID', `${SCALER} is not a reflectkit scaler: ${(error as Error).message}`, { path: join(dir, SCALER), expected: 'the scaler JSON saveBundle writes', cause: error });
  }
  const weightsFile = config.weightsFile ?? WEIGHTS;
  // The architecture is checked against the weights on disk before it is built: a config.json declaring a
  // huge model next to a small weights file must not allocate that model.
  const weightsBytes = await fileSize(join(dir, weightsFile));
  const parameters = countParameters(config.model).total;
  if (parameters * 4 > weightsBytes) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${CONFIG} describes ${parameters} trainable parameters, ${weightsFile} holds ${weightsBytes} bytes`, {
      path: join(dir, CONFIG),
      expected: `a weights file of at least ${parameters * 4} bytes`,
    });
  }
  const cnn = createCnn(config.model);
  try {
    if (weightsFile.endsWith('.pth')) loadStateDictIntoCnn(cnn, await readPth(join(dir, weightsFile)));
    else loadWeightsBin(dir, cnn, config, await read(weightsFile));
  } catch (error) {
    cnn.model.dispose();
    throw error;
  }
  return { cnn, scaler, config };
}

/** Size of a file in bytes; a missing one is `CHECKPOINT_INVALID`. */
async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${path} is missing`, { path, expected: 'a model folder (config.json, weights, scaler.json)', cause: error });
  }
}

/** Sets the weights from `weights.bin` (float32, in the order and shapes `config.weights` lists). */
function loadWeightsBin(dir: string, cnn: Cnn, config: ModelFolderConfig, bytes: Buffer): void {
  const weights = cnn.model.weights;
  if (weights.length !== config.weights.length) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${config.weights.length} weights saved for a model with ${weights.length}`, { path: join(dir, CONFIG), expected: `${weights.length} weights` });
  }
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
}
