import { ReflectkitError } from '../errors.js';
import type { PthChunkedData, PthMetadata, PthTensor, PthTensorInput } from '../io/pth.js';
import { channelSchedule, resolveCnnConfig, type Cnn, type CnnConfig } from './cnn.js';
import { tf, type tfl } from './tf.js';

/**
 * pyreflect's CNN as a PyTorch state_dict and back. pyreflect's `CNN(layers)` registers, per block, four
 * modules in one `nn.ModuleList` (Conv1d, BatchNorm1d, ReLU, dropout), so block i's convolution is
 * `layers.{4i}` and its BatchNorm `layers.{4i+1}`; the head is `linear1`. The layouts differ from tfjs's:
 *
 * | state_dict key | torch shape | tfjs weight | tfjs shape |
 * | --- | --- | --- | --- |
 * | `layers.{4i}.weight` | (out, in, k) | `block{i}_conv/kernel` | (k, in, out) |
 * | `layers.{4i}.bias` | (out) | `block{i}_conv/bias` | (out) |
 * | `layers.{4i+1}.weight` / `.bias` | (out) | `block{i}_bn/gamma` / `beta` | (out) |
 * | `layers.{4i+1}.running_mean` / `running_var` | (out) | `block{i}_bn/moving_mean` / `moving_variance` | (out) |
 * | `layers.{4i+1}.num_batches_tracked` | () int64 | – | – |
 * | `linear1.weight` | (2P, 256·Q) | `linear1/kernel` | (256·Q, 2P): a plain transpose (features are flattened channel-major in both) |
 * | `linear1.bias` | (2P) | `linear1/bias` | (2P) |
 */

/** A state_dict entry as pyreflect's CNN has it. */
export interface StateDictEntry {
  /** The state_dict key, e.g. `layers.0.weight` (Conv1d), `layers.1.running_mean` (BatchNorm), `linear1.weight`. */
  name: string;
  /** Torch shape: Conv1d weight `[out, in, kernel]`, per-channel vectors `[channels]`, `linear1.weight` `[2·P, 256·Q]`, `[]` for a scalar. */
  shape: number[];
  /** `int64` for BatchNorm's `num_batches_tracked`, `float32` for everything else. */
  dtype: 'float32' | 'int64';
}

/** The keys, shapes and types of pyreflect's `CNN(layers)` state_dict for a configuration (dense head), in torch's order. */
export function pyreflectStateDictLayout(config: Pick<CnnConfig, 'layers' | 'kernelSize' | 'inputPoints' | 'outputPoints'>): StateDictEntry[] {
  const out: StateDictEntry[] = [];
  channelSchedule(config.layers).forEach(([cin, cout], i) => {
    const conv = `layers.${4 * i}`;
    const bn = `layers.${4 * i + 1}`;
    out.push({ name: `${conv}.weight`, shape: [cout, cin, config.kernelSize], dtype: 'float32' });
    out.push({ name: `${conv}.bias`, shape: [cout], dtype: 'float32' });
    for (const field of ['weight', 'bias', 'running_mean', 'running_var']) out.push({ name: `${bn}.${field}`, shape: [cout], dtype: 'float32' });
    out.push({ name: `${bn}.num_batches_tracked`, shape: [], dtype: 'int64' });
  });
  out.push({ name: 'linear1.weight', shape: [2 * config.outputPoints, 256 * config.inputPoints], dtype: 'float32' });
  out.push({ name: 'linear1.bias', shape: [2 * config.outputPoints], dtype: 'float32' });
  return out;
}

/**
 * The `_metadata` `nn.Module.state_dict()` attaches for pyreflect's CNN: version 1 for every module,
 * 2 for BatchNorm1d. Written with the tensors so the file matches what torch itself saves.
 */
export function pyreflectStateDictMetadata(layers: number): PthMetadata {
  const out: Array<[string, Record<string, number>]> = [['', { version: 1 }], ['layers', { version: 1 }]];
  for (let m = 0; m < 4 * layers; m++) out.push([`layers.${m}`, { version: m % 4 === 1 ? 2 : 1 }]);
  out.push(['linear1', { version: 1 }]);
  return out;
}

function mismatch(message: string, expected: string, path = ''): ReflectkitError {
  return new ReflectkitError('CHECKPOINT_INVALID', message, { path, expected });
}

/** Refuses what has no pyreflect counterpart. */
function checkDense(config: CnnConfig): void {
  if (config.head !== 'dense') {
    throw mismatch(`a model with the ${config.head} head has no pyreflect state_dict`, "head 'dense' (pyreflect's CNN)", 'model.head');
  }
}

/** `(rows, cols)` C-order `src` → rows `from…to` of its transpose (`(cols, rows)`), as a new array. Tiled for the cache. */
function transposeRows(src: Float32Array, rows: number, cols: number, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * rows);
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile);
    for (let c = from; c < to; c++) {
      const o = (c - from) * rows;
      for (let r = r0; r < r1; r++) out[o + r] = src[r * cols + c]!;
    }
  }
  return out;
}

/** The transpose of a `(rows, cols)` matrix, handed out `block` output rows at a time. */
function chunkedTranspose(src: Float32Array, rows: number, cols: number, block = 64): PthChunkedData {
  return {
    length: rows * cols,
    *chunks() {
      for (let c = 0; c < cols; c += block) yield transposeRows(src, rows, cols, c, Math.min(cols, c + block));
    },
  };
}

/** tfjs conv1d kernel (k, in, out) ↔ torch Conv1d weight (out, in, k). */
function convToTorch(kernel: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let t = 0; t < k; t++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[(o * cin + i) * k + t] = kernel[(t * cin + i) * cout + o]!;
  return out;
}

function convFromTorch(weight: Float32Array, k: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(weight.length);
  for (let t = 0; t < k; t++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[(t * cin + i) * cout + o] = weight[(o * cin + i) * k + t]!;
  return out;
}

function weightsByName(cnn: Cnn): Map<string, tfl.LayerVariable> {
  return new Map(cnn.model.weights.map((w) => [w.originalName, w]));
}

function weight(weights: Map<string, tfl.LayerVariable>, name: string): tfl.LayerVariable {
  const w = weights.get(name);
  if (w === undefined) throw mismatch(`the model has no weight ${name}`, 'a model built by createCnn', name);
  return w;
}

/**
 * pyreflect's state_dict of a CNN built by `createCnn` with the dense head: the keys, shapes and order
 * `torch.save(CNN(layers).state_dict())` has, values transposed to torch's layouts. The 142 M-value
 * `linear1.weight` is handed to the writer in transposed blocks, not built whole. BatchNorm's
 * `num_batches_tracked` (which tfjs does not keep; PyTorch uses it only when momentum is None, which
 * pyreflect's is not) is `numBatchesTracked`, default 0.
 *
 * @param options.numBatchesTracked value written for every BatchNorm's `num_batches_tracked`, integer ≥ 0 (default 0).
 * @returns the tensors in torch's order, ready for `encodePth` / `pthChunks`.
 * @throws ReflectkitError `CHECKPOINT_INVALID` for the bottleneck head or a model not built by createCnn.
 */
export async function stateDictFromCnn(cnn: Cnn, options: { numBatchesTracked?: number } = {}): Promise<PthTensorInput[]> {
  const config = cnn.config;
  checkDense(config);
  const tracked = options.numBatchesTracked ?? 0;
  if (!Number.isSafeInteger(tracked) || tracked < 0) throw new ReflectkitError('INVALID_OPTION', `numBatchesTracked ${tracked}`, { path: 'numBatchesTracked', expected: 'an integer ≥ 0' });
  const weights = weightsByName(cnn);
  const read = async (name: string) => (await weight(weights, name).read().data()) as Float32Array;
  const out: PthTensorInput[] = [];
  const schedule = channelSchedule(config.layers);
  for (let i = 0; i < schedule.length; i++) {
    const [cin, cout] = schedule[i]!;
    const conv = `layers.${4 * i}`;
    const bn = `layers.${4 * i + 1}`;
    out.push({ name: `${conv}.weight`, shape: [cout, cin, config.kernelSize], data: convToTorch(await read(`block${i}_conv/kernel`), config.kernelSize, cin, cout) });
    out.push({ name: `${conv}.bias`, shape: [cout], data: await read(`block${i}_conv/bias`) });
    out.push({ name: `${bn}.weight`, shape: [cout], data: await read(`block${i}_bn/gamma`) });
    out.push({ name: `${bn}.bias`, shape: [cout], data: await read(`block${i}_bn/beta`) });
    out.push({ name: `${bn}.running_mean`, shape: [cout], data: await read(`block${i}_bn/moving_mean`) });
    out.push({ name: `${bn}.running_var`, shape: [cout], data: await read(`block${i}_bn/moving_variance`) });
    out.push({ name: `${bn}.num_batches_tracked`, dtype: 'int64', shape: [], data: Float32Array.of(tracked) });
  }
  const features = 256 * config.inputPoints;
  const outputs = 2 * config.outputPoints;
  out.push({ name: 'linear1.weight', shape: [outputs, features], data: chunkedTranspose(await read('linear1/kernel'), features, outputs) });
  out.push({ name: 'linear1.bias', shape: [outputs], data: await read('linear1/bias') });
  return out;
}

/**
 * The architecture of a pyreflect CNN state_dict, from its keys and shapes: the number of blocks from the
 * convolutions, the kernel length from their weights, Q and P from `linear1.weight`. Every key and shape
 * must be exactly those of pyreflect's `CNN(layers)` (BatchNorm's `num_batches_tracked` may be absent, as
 * in files from torch < 0.4.1); dropout is not in a state_dict and comes back as 0.
 *
 * @throws ReflectkitError `CHECKPOINT_INVALID` naming the first missing, unexpected or misshapen keys.
 */
export function cnnConfigFromStateDict(tensors: ReadonlyArray<{ name: string; shape: readonly number[] }>): CnnConfig {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  if (tensors.some((t) => t.name.startsWith('module.'))) {
    throw mismatch('keys start with "module." (a model saved inside nn.DataParallel)', "pyreflect's keys (layers.0.weight, …, linear1.weight); save model.module.state_dict()", 'module.');
  }
  const convs = tensors.filter((t) => /^layers\.\d+\.weight$/.test(t.name) && t.shape.length === 3);
  const linear = byName.get('linear1.weight');
  const first = byName.get('layers.0.weight');
  if (convs.length === 0 || linear === undefined || linear.shape.length !== 2 || first === undefined || first.shape.length !== 3) {
    throw mismatch(
      `not pyreflect's CNN: ${convs.length} convolution weights, ${linear === undefined ? 'no' : 'a'} linear1.weight (keys: ${tensors.slice(0, 5).map((t) => t.name).join(', ')}${tensors.length > 5 ? ', …' : ''})`,
      "pyreflect's CNN state_dict: layers.{4i}.weight (Conv1d), layers.{4i+1}.* (BatchNorm1d), linear1.weight and linear1.bias",
    );
  }
  const kernelSize = first.shape[2]!;
  const [outputs, features] = linear.shape as [number, number];
  if (features % 256 !== 0 || outputs % 2 !== 0) {
    throw mismatch(`linear1.weight has shape (${outputs}, ${features})`, '(2·P, 256·Q)', 'linear1.weight');
  }
  let config: CnnConfig;
  try {
    config = resolveCnnConfig({ layers: convs.length, kernelSize, inputPoints: features / 256, outputPoints: outputs / 2, head: 'dense', dropout: 0 });
  } catch (error) {
    throw mismatch(`the state_dict's architecture is out of range: ${(error as Error).message}`, "pyreflect's CNN", '');
  }
  const expected = pyreflectStateDictLayout(config);
  const wanted = new Set(expected.map((e) => e.name));
  const missing = expected.filter((e) => !byName.has(e.name) && !e.name.endsWith('.num_batches_tracked')).map((e) => e.name);
  const unexpected = tensors.filter((t) => !wanted.has(t.name)).map((t) => t.name);
  const misshapen = expected
    .filter((e) => byName.has(e.name) && byName.get(e.name)!.shape.join() !== e.shape.join())
    .map((e) => `${e.name} is (${byName.get(e.name)!.shape.join(', ')}), expected (${e.shape.join(', ')})`);
  const problems = [
    ...(missing.length > 0 ? [`missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}`] : []),
    ...(unexpected.length > 0 ? [`unexpected ${unexpected.slice(0, 4).join(', ')}${unexpected.length > 4 ? ` and ${unexpected.length - 4} more` : ''}`] : []),
    ...misshapen.slice(0, 3),
  ];
  if (problems.length > 0) {
    throw mismatch(
      `not pyreflect's CNN(${config.layers}) with kernel ${kernelSize}, Q ${config.inputPoints}, P ${config.outputPoints}: ${problems.join('; ')}`,
      "exactly the keys and shapes of pyreflect's CNN(layers).state_dict()",
    );
  }
  return config;
}

/**
 * Sets a CNN's weights from pyreflect's state_dict (strict: the same keys and shapes as the model's
 * configuration, `num_batches_tracked` optional). BatchNorm running statistics included.
 *
 * @returns the largest `num_batches_tracked` in the file (0 when absent).
 * @throws ReflectkitError `CHECKPOINT_INVALID` when the state_dict does not match the model.
 */
export function loadStateDictIntoCnn(
  cnn: Cnn,
  tensors: readonly PthTensor[],
): {
  /** The largest BatchNorm `num_batches_tracked` in the file (0 when absent). */
  numBatchesTracked: number;
} {
  const config = cnn.config;
  checkDense(config);
  const found = cnnConfigFromStateDict(tensors);
  for (const key of ['layers', 'kernelSize', 'inputPoints', 'outputPoints'] as const) {
    if (found[key] !== config[key]) throw mismatch(`the state_dict has ${key} ${found[key]}, the model ${config[key]}`, `${key} ${config[key]}`, key);
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const data = (name: string) => byName.get(name)!.data;
  const values = new Map<string, Float32Array>();
  let numBatchesTracked = 0;
  channelSchedule(config.layers).forEach(([cin, cout], i) => {
    const conv = `layers.${4 * i}`;
    const bn = `layers.${4 * i + 1}`;
    values.set(`block${i}_conv/kernel`, convFromTorch(data(`${conv}.weight`), config.kernelSize, cin, cout));
    values.set(`block${i}_conv/bias`, data(`${conv}.bias`));
    values.set(`block${i}_bn/gamma`, data(`${bn}.weight`));
    values.set(`block${i}_bn/beta`, data(`${bn}.bias`));
    values.set(`block${i}_bn/moving_mean`, data(`${bn}.running_mean`));
    values.set(`block${i}_bn/moving_variance`, data(`${bn}.running_var`));
    const tracked = byName.get(`${bn}.num_batches_tracked`)?.data[0];
    if (tracked !== undefined) numBatchesTracked = Math.max(numBatchesTracked, tracked);
  });
  const features = 256 * config.inputPoints;
  const outputs = 2 * config.outputPoints;
  values.set('linear1/kernel', transposeRows(data('linear1.weight'), outputs, features, 0, features));
  values.set('linear1/bias', data('linear1.bias'));
  const weights = weightsByName(cnn);
  for (const name of values.keys()) weight(weights, name);
  for (const [name, value] of values) {
    const w = weights.get(name)!;
    tf.tidy(() => {
      w.write(tf.tensor(value, w.shape as number[], 'float32'));
    });
  }
  return { numBatchesTracked };
}
