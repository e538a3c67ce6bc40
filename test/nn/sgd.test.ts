import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import { TorchSgd } from '../../src/nn/sgd.js';
import { tf } from '../../src/nn/tf.js';
import { torchOptimizer } from '../helpers/torch.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const start = [0.5, -1.25, 2, 1e-3, -3e-4, 0];
const grads = Array.from({ length: 7 }, (_, t) => start.map((_, i) => Math.sin(3 * t + i)));

describe('TorchSgd', () => {
  it.each([
    [0, 0],
    [0.9, 0.01],
  ])('follows torch.optim.SGD step for step (momentum %s, weight decay %s)', (momentum, weightDecay) => {
    const variable = tf.variable(tf.tensor1d(start));
    const sgd = new TorchSgd([variable], { learningRate: 0.05, weightDecay, momentum });
    for (const g of grads) sgd.apply([tf.tensor1d(g)]);
    const reference = torchOptimizer('sgd', start, grads, 0.05, weightDecay, momentum);
    Array.from(variable.dataSync()).forEach((v, i) => expect(Math.abs(v - reference[i]!)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(reference[i]!))));
    expect(sgd.step).toBe(7);
    // Momentum moves the weights further than plain steps with the same gradients: the two cases differ.
    expect(Math.abs(reference[0]! - start[0]!)).toBeGreaterThan(0);
    variable.dispose();
    sgd.dispose();
  });

  it('saves and restores its momentum buffers to continue identically, and refuses a foreign state', async () => {
    const make = () => tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const g = (k: number) => tf.tensor2d([[0.1 * k, -0.2], [0.3, 0.05 * k]]);
    const a = make();
    const sgdA = new TorchSgd([a], { momentum: 0.8, learningRate: 0.1 });
    sgdA.apply([g(1)]);
    const saved = await sgdA.getState();
    expect(saved.v).toEqual([]);
    sgdA.apply([g(2)]);
    // a second optimizer, from the weights and state after step 1, takes step 2 exactly as the first did
    const b = make();
    const sgdB = new TorchSgd([b], { momentum: 0.8, learningRate: 0.1 });
    const c = make();
    const sgdC = new TorchSgd([c], { momentum: 0.8, learningRate: 0.1 });
    sgdC.apply([g(1)]);
    b.assign(tf.tensor2d(Array.from(await c.data()), [2, 2]));
    sgdB.setState(saved);
    sgdB.apply([g(2)]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(sgdB.step).toBe(2);
    expect(() => sgdB.setState({ step: 1, m: saved.m, v: saved.m })).toThrowError(expect.objectContaining({ code: 'CHECKPOINT_INVALID' }));
    expect(() => sgdB.setState({ step: 1, m: [new Float32Array(3)], v: [] })).toThrowError(expect.objectContaining({ code: 'CHECKPOINT_INVALID', path: 'optimizer[0]' }));
  });

  it('does not leak tensors per step', () => {
    const v = tf.variable(tf.zeros([100]));
    const sgd = new TorchSgd([v], { weightDecay: 1e-2, momentum: 0.5 });
    sgd.apply([tf.ones([100])]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) sgd.apply([tf.ones([100])]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
