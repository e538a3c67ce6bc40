/**
 * Worker-thread entry of the data-parallel training engine: one model replica with its own optimizer. Per
 * step it computes the gradient of its shard of the batch, publishes it (with its BatchNorm statistics)
 * in shared memory, then applies the shard-size-weighted average of every replica's gradient, so all
 * replicas stay identical. Messages: see `worker-engine.node.ts`.
 */
import { parentPort } from 'node:worker_threads';
import type { AdamState } from './adam.js';
import { createOptimizer, type Optimizer, type OptimizerName } from './optimizer.js';
import type { BackendName } from './backend.js';
import { useNodeBackend } from './backend-node.node.js';
import { createCnn, type Cnn, type CnnConfig } from './cnn.js';
import { gatherRows, meanBatchLoss, readWeights, writeWeights } from './engine.js';
import { tf, tfl } from './tf.js';

interface Init {
  cmd: 'init';
  backend: BackendName;
  config: CnnConfig;
  optimizer: OptimizerName;
  learningRate: number;
  weightDecay: number;
  momentum: number;
  dropoutSeed: number;
  index: number;
  workers: number;
  weights: Float32Array[];
  exchange: SharedArrayBuffer;
}

interface Replica {
  cnn: Cnn;
  optimizer: Optimizer;
  trainable: tf.Variable[];
  /** Non-trainable weights (BatchNorm moving statistics), averaged across replicas after each step. */
  statistics: tfl.LayerVariable[];
  index: number;
  workers: number;
  slotSize: number;
  exchange: Float32Array;
  data?: { trainX: Float32Array; trainY: Float32Array; validationX: Float32Array; validationY: Float32Array };
}

let replica: Replica | undefined;

function sizeOf(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((a, b) => a * (b ?? 1), 1);
}

async function init(message: Init): Promise<void> {
  await useNodeBackend(message.backend);
  const cnn = createCnn(message.config);
  writeWeights(cnn, message.weights);
  cnn.dropout.seed = (message.dropoutSeed ^ Math.imul(message.index + 1, 0x27d4eb2d)) >>> 0;
  const trainable = cnn.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const statistics = cnn.model.nonTrainableWeights;
  const slotSize = trainable.reduce((n, v) => n + v.size, 0) + statistics.reduce((n, w) => n + sizeOf(w.shape), 0);
  replica = {
    cnn,
    optimizer: createOptimizer(trainable, { optimizer: message.optimizer, learningRate: message.learningRate, weightDecay: message.weightDecay, momentum: message.momentum }),
    trainable,
    statistics,
    index: message.index,
    workers: message.workers,
    slotSize,
    exchange: new Float32Array(message.exchange),
  };
}

/** Gradient of the mean loss on `rows`, written with the BatchNorm statistics into this replica's slot. */
function gradient(rows: number[], step: number): number {
  const r = replica!;
  const { inputPoints: q, outputPoints: p } = r.cnn.config;
  r.cnn.dropout.step = step;
  const slot = r.exchange.subarray(r.index * r.slotSize, (r.index + 1) * r.slotSize);
  return tf.tidy(() => {
    const x = gatherRows(r.data!.trainX, q, rows, 0, rows.length, [q, 1]);
    const y = gatherRows(r.data!.trainY, 2 * p, rows, 0, rows.length, [2, p]);
    const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, r.cnn.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, r.trainable);
    let offset = 0;
    for (const v of r.trainable) {
      slot.set(grads[v.name]!.dataSync() as Float32Array, offset);
      offset += v.size;
    }
    for (const w of r.statistics) {
      const values = w.read().dataSync() as Float32Array;
      slot.set(values, offset);
      offset += values.length;
    }
    return value.dataSync()[0]!;
  });
}

/** Applies the weighted average of all slots: the optimizer on the trainable part, BatchNorm statistics set directly. */
function apply(weights: number[]): void {
  const r = replica!;
  const average = new Float32Array(r.slotSize);
  weights.forEach((w, k) => {
    if (w === 0) return;
    const slot = r.exchange.subarray(k * r.slotSize, (k + 1) * r.slotSize);
    for (let i = 0; i < r.slotSize; i++) average[i] = average[i]! + w * slot[i]!;
  });
  let offset = 0;
  const grads = r.trainable.map((v) => {
    const g = tf.tensor(average.subarray(offset, offset + v.size), v.shape);
    offset += v.size;
    return g;
  });
  r.optimizer.apply(grads);
  tf.tidy(() => {
    for (const w of r.statistics) {
      const size = sizeOf(w.shape);
      w.write(tf.tensor(average.slice(offset, offset + size), w.shape as number[]));
      offset += size;
    }
  });
}

type Message =
  | Init
  | { cmd: 'load'; trainX: SharedArrayBuffer; trainY: SharedArrayBuffer; validationX: SharedArrayBuffer; validationY: SharedArrayBuffer }
  | { cmd: 'gradient'; rows: number[]; step: number }
  | { cmd: 'apply'; weights: number[] }
  | { cmd: 'validation'; batchSize: number; batches: number[] }
  | { cmd: 'getWeights' }
  | { cmd: 'setWeights'; weights: Float32Array[] }
  | { cmd: 'getOptimizerState' }
  | { cmd: 'setOptimizerState'; state: AdamState };

async function handle(message: Message): Promise<unknown> {
  switch (message.cmd) {
    case 'init':
      await init(message);
      return null;
    case 'load':
      replica!.data = {
        trainX: new Float32Array(message.trainX),
        trainY: new Float32Array(message.trainY),
        validationX: new Float32Array(message.validationX),
        validationY: new Float32Array(message.validationY),
      };
      return null;
    case 'gradient':
      return gradient(message.rows, message.step);
    case 'apply':
      apply(message.weights);
      return null;
    case 'validation': {
      const r = replica!;
      const { inputPoints: q, outputPoints: p } = r.cnn.config;
      const n = r.data!.validationX.length / q;
      return message.batches.map((b) => {
        const from = b * message.batchSize;
        const to = Math.min(n, from + message.batchSize);
        return meanBatchLoss(r.cnn, r.data!.validationX.subarray(from * q, to * q), r.data!.validationY.subarray(from * 2 * p, to * 2 * p), to - from);
      });
    }
    case 'getWeights':
      return readWeights(replica!.cnn);
    case 'setWeights':
      writeWeights(replica!.cnn, message.weights);
      return null;
    case 'getOptimizerState':
      return replica!.optimizer.getState();
    case 'setOptimizerState':
      replica!.optimizer.setState(message.state);
      return null;
  }
}

parentPort!.on('message', (envelope: { id: number; message: Message }) => {
  handle(envelope.message).then(
    (result) => parentPort!.postMessage({ id: envelope.id, result }),
    (error: unknown) =>
      parentPort!.postMessage({ id: envelope.id, error: { message: (error as Error)?.message ?? String(error), code: (error as { code?: string })?.code } }),
  );
});
