import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import type { OptimizerName } from '../nn/optimizer.js';
import type { NormalizationMethod } from '../preprocess/scaler.js';
import type { LayerBound, LayerDesc } from '../sample/layers.js';
import { USER_ID_PATTERN } from '../store/history.js';
import { HUB_REPO_ID } from '../store/hub-validate.js';
import { parseOrThrow } from '../util/zod-errors.js';

/**
 * The pipeline's configuration as JSON. The web interface's request body (`layers`, `generator
 * {numCurves, numFilmLayers, layerBound}`, `training {batchSize, epochs, layers, dropout}`, `name`,
 * `saveTrainingData`, and its `dataSource`, `workflow`, `mode`, `gpu`, `latentDim`, `aeEpochs`,
 * `mlpEpochs`) is accepted as it is; so is everything its roadmap asked to expose. A roadmap key may be
 * given at the top level (as the roadmap lists them) or in its section (`generator` for the physics,
 * `training` for training and architecture, `preprocessing` for the transforms), not in both.
 */
export interface PipelineConfigInput {
  /** The run's name (≤ 80 characters; `""` or null: none). */
  name?: string | null;
  /** Layer model, substrate first, air last: the interface's FilmLayer list (`name`, `sld` in 10⁻⁶ Å⁻², `isld`, `thickness` and `roughness` in Å). */
  layers?: Array<Partial<LayerDesc> & {
    /** Scattering length density, 10⁻⁶ Å⁻² (required). */
    sld: number;
  }>;
  /** `numCurves`, `numFilmLayers`, `layerBound`, and the physics keys (`qMin`, `qMax`, `numQPoints`, `qResolution`, `scale`, `background`, `sldOutputPoints`, `sampling`, `workers`). */
  generator?: Record<string, unknown>;
  /** `batchSize`, `epochs`, `layers`, `dropout`, and the training and architecture keys (see {@link PipelineConfig}). */
  training?: Record<string, unknown>;
  /** `applyLogTransform`, `normalizationMethod`, `clipMin`. */
  preprocessing?: Record<string, unknown>;
  /** Copy the training data into the bundle. */
  saveTrainingData?: boolean;
  /** One seed for generation, split, initialisation and shuffling, an integer in [0, 2³²). */
  seed?: number;
  /** `auto`, `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  backend?: string;
  /** `{hub, history}` targets. */
  storage?: Record<string, unknown>;
  /** The roadmap keys at the top level (`qMin`, `learningRate`, `clipMin`, …) and the interface's other fields. */
  [roadmapKey: string]: unknown;
}

/** A validated configuration with every default filled in: what a run actually uses (stored in the run folder). */
export interface PipelineConfig {
  /** The run's name (≤ 80 characters), or null. */
  name: string | null;
  /** Layer model, substrate first, air last (the interface's `layers`); null: pyreflect's default model. */
  layers: LayerDesc[] | null;
  /** Generation: how many curves of which model, on which Q grid, with which physics. */
  generator: {
    /** Curves to generate (≥ 10: the split needs curves in all three parts). */
    numCurves: number;
    /** Film layers (pyreflect's `num_layers`); with neither `layers` nor `layerBound`, 5 selects the legacy model. */
    numFilmLayers: number | null;
    /** Sampled parameters; null with `layers`: bounds around the user's values ({@link boundsAroundLayers}). */
    layerBound: LayerBound[] | null;
    /** First Q of the log-spaced grid, Å⁻¹ (null: the model's default, 0.0081). */
    qMin: number | null;
    /** Last Q, Å⁻¹ (null: 0.1975). */
    qMax: number | null;
    /** Q points (null: 308). */
    numQPoints: number | null;
    /** dQ/Q as FWHM (null: 0.0294855). */
    qResolution: number | null;
    /** pyreflect's scale: R = scale·(R_smeared + background) (null: 1). */
    scale: number | null;
    /** Background added before scaling (null: 0). */
    background: number | null;
    /** Profile points P (the interface's `sldOutputPoints`, null: 900). */
    sldOutputPoints: number | null;
    /** Parameter sampling, `lhs` or `uniform` (null: the model's, as pyreflect). */
    sampling: 'lhs' | 'uniform' | null;
    /** Worker threads for generation (null: one per core). */
    workers: number | null;
  };
  /** Training and architecture. */
  training: {
    /** Curves per batch (default 32). */
    batchSize: number;
    /** Epochs (default 10). */
    epochs: number;
    /** Convolution blocks (pyreflect's CNN `layers`, default 12). */
    layers: number;
    /** Dropout after odd blocks (default 0). */
    dropout: number;
    /** Convolution length, odd (default 51, pyreflect's). */
    kernelSize: number;
    /** `dense`: pyreflect's CNN exactly; `bottleneck`: reflectkit's lighter head. */
    head: 'dense' | 'bottleneck';
    /** Channels of the bottleneck head (default 32). */
    bottleneckChannels: number;
    /** The optimizer's learning rate (default 1e-3). */
    learningRate: number;
    /** PyTorch's `weight_decay` (default 1e-4): coupled (L2) for Adam and SGD, decoupled for AdamW. */
    weightDecay: number;
    /** SGD's momentum in [0, 1) (default 0, PyTorch's; only with `optimizer: 'sgd'`). */
    momentum: number;
    /** Fraction for validation; the test split is the same size (0.1 gives pyreflect's 80/10/10). */
    validationSplit: number;
    /** The optimizer: `adam` (pyreflect's, default), `adamw` or `sgd`, PyTorch's update rules. */
    optimizer: OptimizerName;
    /** Stop when the validation loss has not improved for this many epochs (null: never). */
    earlyStoppingPatience: number | null;
    /** Checkpoint every this many epochs (default 1; 0: only when cancelled). */
    checkpointEvery: number;
    /** The interface's AE/MLP settings: recorded, unused by the NR → SLD CNN. */
    latentDim: number | null;
    /** The interface's autoencoder epochs: recorded, unused. */
    aeEpochs: number | null;
    /** The interface's MLP epochs: recorded, unused. */
    mlpEpochs: number | null;
  };
  /** The transforms before training. */
  preprocessing: {
    /** log10(clip(R, clipMin)) before scaling (pyreflect: yes). */
    applyLogTransform: boolean;
    /** `minmax`: global min-max per axis to [0, 1] (pyreflect's); `zscore`: global mean 0, standard deviation 1 per axis. */
    normalizationMethod: NormalizationMethod;
    /** Floor of R before the log (default 1e-8). */
    clipMin: number;
  };
  /** Copy `nr_train.npy` / `sld_train.npy` into the model bundle. */
  saveTrainingData: boolean;
  /** Seed of generation, split, initialisation and shuffling (null: drawn and recorded). */
  seed: number | null;
  /** tfjs backend (`auto`: the fastest present). */
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /** Where the bundle and the record go besides the run folder. */
  storage: {
    /** Hugging Face Hub target (the token comes from `HF_TOKEN`, never from this file), or null. */
    hub: {
      /** `owner/name`. */
      repo: string;
      /** `dataset` (default, as pyreflect) or `model`. */
      repoType: 'dataset' | 'model';
      /** Create the repository private (default true). */
      private: boolean;
      /** Delete the local bundle once the Hub's copy is verified (default false). */
      removeLocal: boolean;
      /** Retries of a failed request, with backoff (default 4). */
      retries: number;
      /** Per request, ms: the longest wait for the response headers and the longest pause within a body, before it is abandoned and retried (default 120000). */
      timeoutMs: number;
    } | null;
    /** The run history. */
    history: {
      /** Record the run (default true). */
      enabled: boolean;
      /** Whose history (default `local`). */
      userId: string;
      /** MongoDB connection string (null: `REFLECTKIT_MONGODB_URI`, else the embedded store alone). */
      mongodbUri: string | null;
      /** MongoDB database (default `PyReflect`). */
      database: string;
      /** MongoDB collection (default `generations`). */
      collection: string;
      /** The embedded store's folder (null: `REFLECTKIT_HISTORY_DIR`, else `~/.reflectkit/history`). */
      dir: string | null;
    };
  };
  /** The interface's GPU choice: recorded, not used (the backend decides). */
  gpu: string | null;
}

const nullableNumber = (schema: z.ZodNumber) => schema.nullable().default(null);

const layerSchema = z.strictObject({
  name: z.string().max(200).optional(),
  // Negative SLDs are real materials (H₂O −0.56, Ti −1.95): the interface's sld ≥ 0 rule is not copied.
  sld: z.number().min(-20).max(50),
  isld: z.number().min(0).max(50).default(0),
  thickness: z.number().min(0).max(100_000).default(100),
  roughness: z.number().min(0).max(10_000).default(10),
});

const boundSchema = z.strictObject({
  i: z.number().int().min(0),
  par: z.enum(['sld', 'isld', 'thickness', 'roughness']),
  bounds: z.tuple([z.number(), z.number()]),
});

const generatorSchema = z.strictObject({
  numCurves: z.number().int().min(10).max(100_000_000).default(1000),
  numFilmLayers: nullableNumber(z.number().int().min(1).max(50)),
  layerBound: z.array(boundSchema).nullable().default(null),
  qMin: nullableNumber(z.number().positive()),
  qMax: nullableNumber(z.number().positive()),
  numQPoints: nullableNumber(z.number().int().min(8).max(100_000)),
  qResolution: nullableNumber(z.number().min(0).max(1)),
  scale: nullableNumber(z.number().positive()),
  background: nullableNumber(z.number().min(0)),
  sldOutputPoints: nullableNumber(z.number().int().min(8).max(100_000)),
  sampling: z.enum(['lhs', 'uniform']).nullable().default(null),
  workers: nullableNumber(z.number().int().min(0).max(1024)),
});

const trainingSchema = z.strictObject({
  batchSize: z.number().int().min(1).max(4096).default(32),
  epochs: z.number().int().min(1).max(100_000).default(10),
  layers: z.number().int().min(1).max(20).default(12),
  dropout: z.number().min(0).max(0.9).default(0),
  kernelSize: z.number().int().min(1).max(501).refine((k) => k % 2 === 1, 'kernelSize must be odd (same-length convolutions)').default(51),
  head: z.enum(['dense', 'bottleneck']).default('dense'),
  bottleneckChannels: z.number().int().min(1).max(256).default(32),
  learningRate: z.number().positive().max(10).default(1e-3),
  weightDecay: z.number().min(0).max(1).default(1e-4),
  validationSplit: z.number().gt(0).lt(0.5).default(0.1),
  optimizer: z
    .enum(['adam', 'Adam', 'adamw', 'AdamW', 'sgd', 'SGD'])
    .transform((name) => name.toLowerCase() as OptimizerName)
    .default('adam'),
  momentum: z.number().min(0).lt(1).default(0),
  earlyStoppingPatience: nullableNumber(z.number().int().min(1)),
  checkpointEvery: z.number().int().min(0).default(1),
  latentDim: nullableNumber(z.number().int().min(2).max(128)),
  aeEpochs: nullableNumber(z.number().int().min(1).max(500)),
  mlpEpochs: nullableNumber(z.number().int().min(1).max(500)),
});

const preprocessingSchema = z.strictObject({
  applyLogTransform: z.boolean().default(true),
  normalizationMethod: z
    .enum(['minmax', 'min-max', 'zscore', 'z-score'])
    .transform((name): NormalizationMethod => (name.startsWith('z') ? 'zscore' : 'minmax'))
    .default('minmax'),
  clipMin: z.number().positive().max(1).default(1e-8),
});

const hubSchema = z.strictObject({
  repo: z.string().regex(HUB_REPO_ID, 'owner/name, no ".."'),
  repoType: z.enum(['dataset', 'model']).default('dataset'),
  private: z.boolean().default(true),
  removeLocal: z.boolean().default(false),
  retries: z.number().int().min(0).max(10).default(4),
  timeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
});

const historySchema = z.strictObject({
  enabled: z.boolean().default(true),
  userId: z.string().regex(USER_ID_PATTERN, 'letters, digits, ".", "_", "@", "-"').default('local'),
  mongodbUri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URI').nullable().default(null),
  database: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('PyReflect'),
  collection: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,120}$/)
    .refine((name) => !name.startsWith('system.'), 'not a system.* collection')
    .default('generations'),
  dir: z.string().min(1).nullable().default(null),
});

const topSchema = z.strictObject({
  name: z.string().trim().max(80).nullable().default(null).transform((n) => (n === '' ? null : n)),
  layers: z.array(layerSchema).min(3).max(200).nullable().default(null),
  generator: generatorSchema.default(generatorSchema.parse({})),
  training: trainingSchema.default(trainingSchema.parse({})),
  preprocessing: preprocessingSchema.default(preprocessingSchema.parse({})),
  saveTrainingData: z.boolean().default(false),
  seed: nullableNumber(z.number().int().min(0).max(0xffffffff)),
  backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']).default('auto'),
  storage: z
    .strictObject({ hub: hubSchema.nullable().default(null), history: historySchema.default(historySchema.parse({})) })
    .default({ hub: null, history: historySchema.parse({}) }),
  // The interface's fields for workflows reflectkit's pipeline does not run are accepted only with the value it runs.
  dataSource: z.literal('synthetic').optional(),
  workflow: z.literal('nr_sld').optional(),
  mode: z.literal('train').optional(),
  autoGenerateModelStats: z.boolean().optional(),
  gpu: z.string().max(40).nullable().default(null),
});

/** Roadmap keys and the section they belong to. */
const ROADMAP: Record<string, 'generator' | 'training' | 'preprocessing'> = {
  qMin: 'generator',
  qMax: 'generator',
  numQPoints: 'generator',
  qResolution: 'generator',
  scale: 'generator',
  background: 'generator',
  sldOutputPoints: 'generator',
  learningRate: 'training',
  weightDecay: 'training',
  validationSplit: 'training',
  optimizer: 'training',
  momentum: 'training',
  kernelSize: 'training',
  applyLogTransform: 'preprocessing',
  normalizationMethod: 'preprocessing',
  clipMin: 'preprocessing',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Moves top-level roadmap keys into their sections; a key given in both places is an error. */
function normaliseSections(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...json };
  for (const [key, section] of Object.entries(ROADMAP)) {
    if (!(key in out)) continue;
    const value = out[key];
    delete out[key];
    if (value === undefined) continue;
    const target = out[section] === undefined || out[section] === null ? {} : out[section];
    if (!isObject(target)) continue; // the schema reports the section's type
    if (key in target && target[key] !== undefined) {
      throw new ReflectkitError('INVALID_CONFIG', `${key} is given twice`, { path: key, expected: `${key} either at the top level or in ${section}, not both` });
    }
    out[section] = { ...target, [key]: value };
  }
  return out;
}

/**
 * Validates a pipeline configuration (the interface's request body, the roadmap keys, reflectkit's own) and
 * fills in the defaults. Unknown keys are errors: a misspelt option is never silently ignored.
 *
 * @throws ReflectkitError `INVALID_CONFIG` with the JSON path of the offending field and what was expected.
 */
export function parsePipelineConfig(json: unknown): PipelineConfig {
  if (!isObject(json)) throw new ReflectkitError('INVALID_CONFIG', 'a pipeline config must be a JSON object', { path: '', expected: 'an object' });
  const parsed = parseOrThrow(topSchema, normaliseSections(json), 'INVALID_CONFIG');
  const { dataSource: _d, workflow: _w, mode: _m, autoGenerateModelStats: _a, ...rest } = parsed;
  const layers = rest.layers === null ? null : rest.layers.map((l) => ({ ...l }) as LayerDesc);
  const generator = { ...rest.generator, layerBound: rest.generator.layerBound === null ? null : rest.generator.layerBound.map((b) => ({ ...b, bounds: [b.bounds[0], b.bounds[1]] as [number, number] })) };
  if (layers === null && generator.layerBound !== null) {
    throw new ReflectkitError('INVALID_CONFIG', 'layerBound needs the layers it refers to', { path: 'generator.layerBound', expected: 'a layers list beside it' });
  }
  if (layers !== null && generator.numFilmLayers !== null && generator.layerBound !== null && generator.numFilmLayers !== layers.length - 3) {
    throw new ReflectkitError('INVALID_CONFIG', `numFilmLayers ${generator.numFilmLayers} with ${layers.length} layers`, {
      path: 'generator.numFilmLayers',
      expected: `layers.length − 3 = ${layers.length - 3} (substrate, SiOx and air around the film layers), as the interface checks`,
    });
  }
  if (generator.qMin !== null && generator.qMax !== null && !(generator.qMax > generator.qMin)) {
    throw new ReflectkitError('INVALID_CONFIG', `qMax ${generator.qMax} is not above qMin ${generator.qMin}`, { path: 'generator.qMax', expected: 'qMax > qMin' });
  }
  const training = rest.training;
  if (training.momentum !== 0 && training.optimizer !== 'sgd') {
    throw new ReflectkitError('INVALID_CONFIG', `momentum ${training.momentum} with optimizer ${training.optimizer}`, {
      path: 'training.momentum',
      expected: "optimizer 'sgd' (Adam and AdamW have no momentum setting), or momentum 0",
    });
  }
  if (training.head === 'bottleneck' && training.bottleneckChannels > 256) {
    throw new ReflectkitError('INVALID_CONFIG', 'bottleneckChannels above 256', { path: 'training.bottleneckChannels', expected: '≤ 256' });
  }
  return { ...rest, layers, generator, training };
}

/**
 * Bounds around a user's layer values, used when `layers` come without `layerBound` (the interface then
 * ignored the user's layers). Every film layer (between the SiOx layer above the substrate and the air at
 * the top, i.e. indices 1 … n−2) varies: SLD by ±max(20 %, 0.5 × 10⁻⁶ Å⁻²), thickness by ±20 % (Å),
 * roughness from half to one and a half times its value (Å; 0 to 5 Å when it is 0). Substrate and air stay.
 */
export function boundsAroundLayers(layers: readonly LayerDesc[]): LayerBound[] {
  const bounds: LayerBound[] = [];
  for (let i = 1; i < layers.length - 1; i++) {
    const layer = layers[i]!;
    const ds = Math.max(0.2 * Math.abs(layer.sld), 0.5);
    bounds.push({ i, par: 'sld', bounds: [layer.sld - ds, layer.sld + ds] });
    if (layer.thickness > 0) bounds.push({ i, par: 'thickness', bounds: [0.8 * layer.thickness, 1.2 * layer.thickness] });
    bounds.push({ i, par: 'roughness', bounds: layer.roughness > 0 ? [0.5 * layer.roughness, 1.5 * layer.roughness] : [0, 5] });
  }
  return bounds;
}
