import { z } from 'zod';
import { parseOrThrow } from '../util/zod-errors.js';
import { DropoutSchedule, SeededDropout } from './dropout.js';
import { tfl } from './tf.js';

/**
 * The CNN's configuration. With `head: 'dense'` and the defaults this is pyreflect's `CNN(layers, dropout)`
 * exactly; `'bottleneck'` is reflectkit's lighter head.
 */
export interface CnnConfig {
  /** Convolution blocks (pyreflect's `layers`, default 12). */
  layers: number;
  /** Dropout probability (default 0): SpatialDropout1D on odd blocks, element dropout on even ones and the last. */
  dropout: number;
  /** Convolution kernel length, odd (default 51; padding keeps the length). */
  kernelSize: number;
  /** Points of the input curve Q (default 308). */
  inputPoints: number;
  /** Points of each predicted profile row P (default 900). */
  outputPoints: number;
  /**
   * `dense`: pyreflect's Linear(256·Q → 2·P) on the flattened features (142 M weights at Q = 308, P = 900).
   * `bottleneck`: a 1×1 convolution to `bottleneckChannels` channels and ReLU first, then the dense layer
   * (256/`bottleneckChannels` times fewer weights in the head).
   */
  head: 'dense' | 'bottleneck';
  /** Channels of the bottleneck head (default 32: head 8× lighter than pyreflect's; measured in benchmarks/RESULTS.md). */
  bottleneckChannels: number;
  /** Seed of the weight initialisation (default 0). */
  seed: number;
}

/**
 * The zod schema of {@link CnnConfig}: a strict object (unknown keys are errors) in which every field is
 * optional, range-checked and defaulted: `layers` 1 … 64 (12), `dropout` 0 … 0.95 (0), `kernelSize` odd
 * 1 … 1001 (51), `inputPoints` Q and `outputPoints` P 2 … 100 000 (308, 900), `head` `dense` | `bottleneck`
 * (`dense`), `bottleneckChannels` 1 … 256 (32), `seed` 0 … 2³² − 1 (0). {@link resolveCnnConfig} parses with it.
 */
export const cnnConfigSchema = z.strictObject({
  /** Convolution blocks, integer 1 … 64 (default 12). */
  layers: z.number().int().min(1).max(64).default(12),
  /** Dropout probability, 0 … 0.95 (default 0). */
  dropout: z.number().min(0).max(0.95).default(0),
  /** Convolution kernel length, odd integer 1 … 1001 (default 51). */
  kernelSize: z.number().int().min(1).max(1001).refine((k) => k % 2 === 1, 'kernel size must be odd').default(51),
  /** Points of the input curve Q, integer 2 … 100 000 (default 308). */
  inputPoints: z.number().int().min(2).max(100_000).default(308),
  /** Points of each predicted profile row P, integer 2 … 100 000 (default 900). */
  outputPoints: z.number().int().min(2).max(100_000).default(900),
  /** `dense` (pyreflect's head, default) or `bottleneck`. */
  head: z.enum(['dense', 'bottleneck']).default('dense'),
  /** Channels of the bottleneck head, integer 1 … 256 (default 32). */
  bottleneckChannels: z.number().int().min(1).max(256).default(32),
  /** Seed of the weight initialisation, integer 0 … 2³² − 1 (default 0). */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
});

/** Validates a partial configuration and fills in the defaults. @throws ReflectkitError `INVALID_OPTION`. */
export function resolveCnnConfig(config: Partial<CnnConfig> = {}): CnnConfig {
  return parseOrThrow(cnnConfigSchema, config, 'INVALID_OPTION', 'model') as CnnConfig;
}

/**
 * pyreflect's channel schedule: block i maps `int(curr + 0.5)` to `int(curr + 255/layers + 0.5)` channels,
 * `curr` starting at 1 and growing by 255/layers; the last block ends at 256.
 *
 * @returns [in, out] channels per block.
 */
export function channelSchedule(layers: number): Array<[number, number]> {
  const addition = 255 / layers;
  let curr = 1;
  const blocks: Array<[number, number]> = [];
  for (let i = 0; i < layers - 1; i++) {
    blocks.push([Math.trunc(curr + 0.5), Math.trunc(curr + addition + 0.5)]);
    curr += addition;
  }
  blocks.push([Math.trunc(curr + 0.5), 256]);
  return blocks;
}

/** Trainable parameters, counted as PyTorch's `model.parameters()` (BatchNorm running stats excluded). */
export function countParameters(config: CnnConfig): {
  /** All trainable parameters: `convolution + head`. */
  total: number;
  /** Those of the convolution blocks (weights, biases, BatchNorm γ and β). */
  convolution: number;
  /** Those of the head (the optional bottleneck and the dense layer to 2·P outputs). */
  head: number;
} {
  const k = config.kernelSize;
  let convolution = 0;
  for (const [cin, cout] of channelSchedule(config.layers)) convolution += cin * cout * k + cout + 2 * cout;
  let features = 256;
  let head = 0;
  if (config.head === 'bottleneck') {
    head += 256 * config.bottleneckChannels + config.bottleneckChannels;
    features = config.bottleneckChannels;
  }
  head += features * config.inputPoints * 2 * config.outputPoints + 2 * config.outputPoints;
  return { total: convolution + head, convolution, head };
}

/** A built CNN with what training needs beside the tfjs model. */
export interface Cnn {
  /** The tfjs model: input `(batch, Q, 1)` (normalised log R), output `(batch, 2, P)` (normalised z and SLD). */
  model: tfl.LayersModel;
  /** The validated configuration (store it to rebuild the model). */
  config: CnnConfig;
  /** The dropout seed schedule the model's dropout layers read. */
  dropout: DropoutSchedule;
}

/** PyTorch's default init for Conv1d/Linear weights and biases: U(−1/√fan_in, 1/√fan_in). */
function torchUniform(fanIn: number, seed: number): ReturnType<typeof tfl.initializers.randomUniform> {
  const bound = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
}

/**
 * Builds pyreflect's CNN: `layers` blocks of Conv1d(k, 'same') → BatchNorm (ε 1e-5, PyTorch momentum 0.1)
 * → ReLU → dropout (spatial on odd blocks), then the head, reshaped to `(2, P)`. Features are flattened in
 * PyTorch's channel-major order (c·Q + t), so a pyreflect Linear weight maps onto the dense layer by a plain
 * transpose. Initialisation is PyTorch's default, seeded.
 *
 * @throws ReflectkitError `INVALID_OPTION` for an invalid configuration.
 */
export function createCnn(config: Partial<CnnConfig> = {}): Cnn {
  const resolved = resolveCnnConfig(config);
  const { layers, dropout, kernelSize: k, inputPoints: q, outputPoints: p, seed } = resolved;
  const schedule = new DropoutSchedule(seed);
  let layerSeed = seed * 1000;
  const nextSeed = () => ++layerSeed;
  const input = tfl.input({ shape: [q, 1], name: 'reflectivity' });
  let x = input as tfl.SymbolicTensor;
  channelSchedule(layers).forEach(([cin, cout], i) => {
    x = tfl.layers
      .conv1d({
        filters: cout,
        kernelSize: k,
        padding: 'same',
        kernelInitializer: torchUniform(cin * k, nextSeed()),
        biasInitializer: torchUniform(cin * k, nextSeed()),
        name: `block${i}_conv`,
      })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name: `block${i}_bn` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ name: `block${i}_relu` }).apply(x) as tfl.SymbolicTensor;
    const spatial = i % 2 === 1 && i < layers - 1;
    x = new SeededDropout({ rate: dropout, spatial, schedule, index: i, name: `block${i}_dropout` }).apply(x) as tfl.SymbolicTensor;
  });
  let channels = 256;
  if (resolved.head === 'bottleneck') {
    channels = resolved.bottleneckChannels;
    x = tfl.layers
      .conv1d({
        filters: channels,
        kernelSize: 1,
        activation: 'relu',
        kernelInitializer: torchUniform(256, nextSeed()),
        biasInitializer: torchUniform(256, nextSeed()),
        name: 'bottleneck',
      })
      .apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.permute({ dims: [2, 1], name: 'channels_first' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .dense({
      units: 2 * p,
      kernelInitializer: torchUniform(channels * q, nextSeed()),
      biasInitializer: torchUniform(channels * q, nextSeed()),
      name: 'linear1',
    })
    .apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.reshape({ targetShape: [2, p], name: 'profile' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: output, name: `reflectkit_cnn_${layers}` });
  return { model, config: resolved, dropout: schedule };
}

/** The number of trainable values in a built model (equals {@link countParameters}). */
export function trainableParameterCount(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}
