import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPth, writePth } from '../../src/io/pth-file.node.js';
import { decodePth, encodePth, type PthTensor, type PthTensorInput } from '../../src/io/pth.js';
import { useNodeBackend } from '../../src/nn/backend-node.node.js';
import { createCnn, type Cnn } from '../../src/nn/cnn.js';
import { tf } from '../../src/nn/tf.js';
import {
  cnnConfigFromStateDict,
  loadStateDictIntoCnn,
  pyreflectStateDictLayout,
  pyreflectStateDictMetadata,
  stateDictFromCnn,
} from '../../src/nn/torch-state.js';
import { thrown } from '../helpers/errors.js';
import { torchPth, torchPthJson } from '../helpers/torch.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-torch-state-'));
  // pyreflect's dense head is 142 M weights: native TensorFlow (set up by the test setup) runs it quickly.
  expect((await useNodeBackend('tensorflow')).name).toBe('tensorflow');
});

/** A seeded stream in [0, 1). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** BatchNorm weights and running statistics away from their defaults, so a swap of any two would show. */
function randomiseBatchNorm(cnn: Cnn, seed: number): void {
  const next = stream(seed);
  const ranges: Record<string, [number, number]> = { gamma: [0.5, 1.5], beta: [-0.2, 0.2], moving_mean: [-0.1, 0.1], moving_variance: [0.5, 2] };
  for (const w of cnn.model.weights) {
    const field = w.originalName.split('/')[1]!;
    if (!w.originalName.includes('_bn/') || ranges[field] === undefined) continue;
    const [lo, hi] = ranges[field]!;
    const n = w.shape[0]!;
    tf.tidy(() => {
      w.write(tf.tensor1d(Float32Array.from({ length: n }, () => lo + (hi - lo) * next())));
    });
  }
}

/** `n` normalised log-R curves `(n, Q)` in [0, 1]. */
function curves(n: number, q: number): Float32Array {
  return Float32Array.from({ length: n * q }, (_, i) => 0.5 + 0.45 * Math.sin(0.03 * (i % q) * (1 + Math.floor(i / q))));
}

function predict(cnn: Cnn, x: Float32Array): Float32Array {
  const q = cnn.config.inputPoints;
  return tf.tidy(() => (cnn.model.predict(tf.tensor(x, [x.length / q, q, 1])) as tf.Tensor).dataSync() as Float32Array);
}

/** max |a − b| / max |b|. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

function asTensors(inputs: PthTensorInput[]): PthTensor[] {
  return decodePth(encodePth(inputs));
}

describe('pyreflect state_dict layout', () => {
  it("has pyreflect's keys, shapes, types and _metadata, in torch's order", () => {
    const torch = torchPthJson<Record<string, { layout: unknown; metadata: unknown }>>('layouts', 1, 2, 12);
    for (const layers of [1, 2, 12]) {
      const ours = pyreflectStateDictLayout({ layers, kernelSize: 51, inputPoints: 308, outputPoints: 900 }).map((e) => [e.name, e.shape, e.dtype]);
      expect(ours, `layers ${layers}`).toEqual(torch[layers]!.layout);
      expect(pyreflectStateDictMetadata(layers), `layers ${layers}`).toEqual(torch[layers]!.metadata);
    }
    expect(pyreflectStateDictLayout({ layers: 12, kernelSize: 51, inputPoints: 308, outputPoints: 900 })).toHaveLength(86);
  });

  it('reads the architecture back from keys and shapes', () => {
    const layout = pyreflectStateDictLayout({ layers: 12, kernelSize: 51, inputPoints: 308, outputPoints: 900 });
    expect(cnnConfigFromStateDict(layout)).toMatchObject({ layers: 12, kernelSize: 51, inputPoints: 308, outputPoints: 900, head: 'dense', dropout: 0 });
    const small = pyreflectStateDictLayout({ layers: 3, kernelSize: 7, inputPoints: 40, outputPoints: 25 });
    expect(cnnConfigFromStateDict(small)).toMatchObject({ layers: 3, kernelSize: 7, inputPoints: 40, outputPoints: 25 });
    // Files from torch < 0.4.1 have no num_batches_tracked.
    expect(cnnConfigFromStateDict(small.filter((e) => !e.name.endsWith('num_batches_tracked'))).layers).toBe(3);
  });

  it("refuses anything that is not pyreflect's CNN, naming what differs", () => {
    const layout = pyreflectStateDictLayout({ layers: 3, kernelSize: 51, inputPoints: 308, outputPoints: 900 });
    const fail = (entries: Array<{ name: string; shape: readonly number[] }>) => thrown(() => cnnConfigFromStateDict(entries));
    expect(fail(layout.filter((e) => e.name !== 'layers.5.running_var'))).toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringContaining('missing layers.5.running_var') });
    expect(fail([...layout, { name: 'bottleneck.weight', shape: [32, 256, 1] }])).toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringContaining('unexpected bottleneck.weight') });
    expect(fail(layout.map((e) => (e.name === 'layers.4.weight' ? { ...e, shape: [171, 86, 49] } : e)))).toMatchObject({
      code: 'CHECKPOINT_INVALID',
      message: expect.stringContaining('layers.4.weight is (171, 86, 49), expected (171, 86, 51)'),
    });
    expect(fail(layout.map((e) => ({ ...e, name: `module.${e.name}` })))).toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringContaining('DataParallel') });
    expect(fail([{ name: 'fc.weight', shape: [10, 4] }])).toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringContaining("not pyreflect's CNN") });
    // A channel count off pyreflect's schedule.
    const wrongChannels = layout.map((e) => (e.name === 'layers.0.weight' ? { ...e, shape: [80, 1, 51] } : e));
    expect(fail(wrongChannels).message).toContain('layers.0.weight is (80, 1, 51), expected (86, 1, 51)');
  });
});

describe('Cnn ↔ state_dict', () => {
  it('transposes convolution and dense weights to torch layouts and back exactly (small model)', async () => {
    const config = { layers: 3, kernelSize: 5, inputPoints: 24, outputPoints: 10, seed: 4 };
    const cnn = createCnn(config);
    randomiseBatchNorm(cnn, 1);
    const tensors = asTensors(await stateDictFromCnn(cnn, { numBatchesTracked: 42 }));
    expect(tensors.map((t) => [t.name, t.shape, t.dtype])).toEqual(pyreflectStateDictLayout(cnn.config).map((e) => [e.name, e.shape, e.dtype]));
    const byName = new Map(tensors.map((t) => [t.name, t]));
    const weight = (name: string) => cnn.model.weights.find((w) => w.originalName === name)!.read().dataSync();
    // Conv: torch (out, in, k)[o][i][t] = tfjs (k, in, out)[t][i][o]; block 1 is 86 → 171 channels.
    const [k, cin, cout] = [5, 86, 171];
    const kernel = weight('block1_conv/kernel');
    const torchConv = byName.get('layers.4.weight')!.data;
    for (const [o, i, t] of [[0, 0, 0], [170, 85, 4], [17, 3, 2], [100, 50, 1]] as const) {
      expect(torchConv[(o * cin + i) * k + t]).toBe(kernel[(t * cin + i) * cout + o]);
    }
    // Dense: torch (2P, 256·Q)[o][f] = tfjs (256·Q, 2P)[f][o].
    const dense = weight('linear1/kernel');
    const torchDense = byName.get('linear1.weight')!.data;
    for (const [o, f] of [[0, 0], [19, 6143], [7, 1000], [12, 24 * 100 + 5]] as const) expect(torchDense[o * 6144 + f]).toBe(dense[f * 20 + o]);
    expect(Array.from(byName.get('layers.9.running_var')!.data)).toEqual(Array.from(weight('block2_bn/moving_variance')));
    expect(Array.from(byName.get('layers.1.num_batches_tracked')!.data)).toEqual([42]);
    // Back into a model initialised differently: the same predictions, bit for bit.
    const other = createCnn({ ...config, seed: 99 });
    expect(loadStateDictIntoCnn(other, tensors)).toEqual({ numBatchesTracked: 42 });
    const x = curves(3, 24);
    expect(Array.from(predict(other, x))).toEqual(Array.from(predict(cnn, x)));
    expect(thrown(() => loadStateDictIntoCnn(createCnn({ ...config, layers: 2 }), tensors))).toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringContaining('layers 3, the model 2') });
    await expect(stateDictFromCnn(createCnn({ ...config, head: 'bottleneck' }))).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringContaining('bottleneck head') });
  });

  it("exports a model that pyreflect's own CNN(2) loads strictly with weights_only=True and predicts the same", async () => {
    const cnn = createCnn({ layers: 2, seed: 11 });
    randomiseBatchNorm(cnn, 2);
    const x = curves(3, 308);
    const ours = predict(cnn, x);
    const path = join(dir, 'ours.pth');
    let started = performance.now();
    await writePth(path, await stateDictFromCnn(cnn, { numBatchesTracked: 3 }), { metadata: pyreflectStateDictMetadata(2) });
    const exportSeconds = (performance.now() - started) / 1000;
    cnn.model.dispose();
    writeFileSync(join(dir, 'x.bin'), x);
    started = performance.now();
    const keys = torchPthJson<{ missing: string[]; unexpected: string[] }>('predict-pth', path, 2, join(dir, 'x.bin'), join(dir, 'y.bin'));
    const torchSeconds = (performance.now() - started) / 1000;
    expect(keys).toEqual({ missing: [], unexpected: [] });
    const theirs = new Float32Array(readFileSync(join(dir, 'y.bin')).buffer.slice(0));
    expect(theirs).toHaveLength(3 * 2 * 900);
    const relative = relativeDifference(ours, theirs);
    expect(relative).toBeLessThanOrEqual(1e-4);
    console.log(`export CNN(2) (575 MB): ${exportSeconds.toFixed(1)} s; torch load + predict: ${torchSeconds.toFixed(1)} s; relative difference ${relative.toExponential(2)}`);
  });

  it("imports a state_dict torch saved from pyreflect's CNN(2) and predicts what torch predicts", async () => {
    const path = join(dir, 'theirs.pth');
    const x = curves(3, 308);
    writeFileSync(join(dir, 'x2.bin'), x);
    torchPth('save-cnn', path, 2, 5, join(dir, 'x2.bin'), join(dir, 'y2.bin'));
    const theirs = new Float32Array(readFileSync(join(dir, 'y2.bin')).buffer.slice(0));
    const started = performance.now();
    const tensors = await readPth(path);
    const config = cnnConfigFromStateDict(tensors);
    expect(config).toMatchObject({ layers: 2, kernelSize: 51, inputPoints: 308, outputPoints: 900, head: 'dense' });
    const cnn = createCnn(config);
    expect(loadStateDictIntoCnn(cnn, tensors)).toEqual({ numBatchesTracked: 17 });
    const importSeconds = (performance.now() - started) / 1000;
    const ours = predict(cnn, x);
    cnn.model.dispose();
    const relative = relativeDifference(ours, theirs);
    expect(relative).toBeLessThanOrEqual(1e-4);
    console.log(`import CNN(2) (575 MB): ${importSeconds.toFixed(1)} s; relative difference ${relative.toExponential(2)}`);
  });
});
