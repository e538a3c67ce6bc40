import { beforeAll, describe, expect, it } from 'vitest';
import { TorchAdam } from '../../src/nn/adam.js';
import { useBackend } from '../../src/nn/backend.js';
import { tf } from '../../src/nn/tf.js';
import { runPython } from '../helpers/python.js';
import { torchOptimizer } from '../helpers/torch.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** torch.optim.Adam's update as documented (coupled weight decay, bias corrections), in numpy float64. */
const TORCH_ADAM = `
import sys, json, numpy as np
d = json.loads(sys.stdin.read())
p = np.array(d["p"], dtype=np.float64); m = np.zeros_like(p); v = np.zeros_like(p)
lr, wd, b1, b2, eps = d["lr"], d["wd"], 0.9, 0.999, 1e-8
for t, g in enumerate(d["grads"], start=1):
    g = np.array(g) + wd * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
    p = p - (lr / (1 - b1 ** t)) * m / denom
print(json.dumps(p.tolist()))
`;

describe('TorchAdam', () => {
  it('follows torch.optim.Adam step for step, coupled weight decay included', () => {
    const start = [0.5, -1.25, 2, 1e-3, -3e-4, 0];
    const grads = Array.from({ length: 7 }, (_, t) => start.map((_, i) => Math.sin(3 * t + i) * (i === 5 ? 1e-6 : 1)));
    const variable = tf.variable(tf.tensor1d(start));
    const adam = new TorchAdam([variable], { learningRate: 0.01, weightDecay: 0.1 });
    for (const g of grads) adam.apply([tf.tensor1d(g)]);
    const reference = JSON.parse(runPython(TORCH_ADAM, [], JSON.stringify({ p: start, grads, lr: 0.01, wd: 0.1 }))) as number[];
    const got = Array.from(variable.dataSync());
    got.forEach((v, i) => expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(reference[i]!))));
    expect(adam.step).toBe(7);
  });

  it('with decoupled weight decay follows torch.optim.AdamW step for step, and differs from coupled Adam', () => {
    const start = [0.5, -1.25, 2, 1e-3, -3e-4, 0];
    const grads = Array.from({ length: 7 }, (_, t) => start.map((_, i) => Math.cos(2 * t + i)));
    const variable = tf.variable(tf.tensor1d(start));
    const adamw = new TorchAdam([variable], { learningRate: 0.01, weightDecay: 0.5, decoupled: true });
    for (const g of grads) adamw.apply([tf.tensor1d(g)]);
    const reference = torchOptimizer('adamw', start, grads, 0.01, 0.5);
    const got = Array.from(variable.dataSync());
    got.forEach((v, i) => expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(reference[i]!))));
    const coupled = tf.variable(tf.tensor1d(start));
    const adam = new TorchAdam([coupled], { learningRate: 0.01, weightDecay: 0.5 });
    for (const g of grads) adam.apply([tf.tensor1d(g)]);
    expect(Math.abs(coupled.dataSync()[2]! - got[2]!)).toBeGreaterThan(1e-4);
  });

  it('saves and restores its state to continue identically', async () => {
    const make = () => tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const g = () => tf.tensor2d([[0.1, -0.2], [0.3, 0.05]]);
    const a = make();
    const adamA = new TorchAdam([a], { weightDecay: 1e-4 });
    adamA.apply([g()]);
    const saved = await adamA.getState();
    adamA.apply([g()]);
    const b = make();
    b.assign(tf.tensor2d([[1, 2], [3, 4]]));
    const adamB = new TorchAdam([b], { weightDecay: 1e-4 });
    adamB.apply([g()]);
    adamB.setState(saved);
    adamB.apply([g()]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => adamB.setState({ step: 1, m: [], v: [] })).toThrowError(expect.objectContaining({ code: 'CHECKPOINT_INVALID' }));
  });

  it('does not leak tensors per step', () => {
    const v = tf.variable(tf.zeros([100]));
    const adam = new TorchAdam([v], { weightDecay: 1e-2 });
    adam.apply([tf.ones([100])]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) adam.apply([tf.ones([100])]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
