import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import { channelSchedule, countParameters, createCnn, resolveCnnConfig, trainableParameterCount } from '../../src/nn/cnn.js';
import { SeededDropout } from '../../src/nn/dropout.js';
import { tf } from '../../src/nn/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('pyreflect’s CNN', () => {
  it('has pyreflect’s channel schedule', () => {
    expect(channelSchedule(12).map(([, out]) => out)).toEqual([22, 44, 65, 86, 107, 129, 150, 171, 192, 214, 235, 256]);
    expect(channelSchedule(6).map(([, out]) => out)).toEqual([44, 86, 129, 171, 214, 256]);
    expect(channelSchedule(1)).toEqual([[1, 256]]);
    expect(channelSchedule(12)[5]).toEqual([107, 129]);
  });

  it('has 155,285,778 parameters for layers = 12 (and pyreflect’s counts for 6, 1 and 20), built and counted', () => {
    const cnn = createCnn({ layers: 12 });
    expect(trainableParameterCount(cnn.model)).toBe(155_285_778);
    cnn.model.dispose();
    expect(countParameters(resolveCnnConfig({ layers: 12 }))).toEqual({ total: 155_285_778, convolution: 13_357_578, head: 141_928_200 });
    expect(countParameters(resolveCnnConfig({ layers: 6 })).total).toBe(148_477_209);
    expect(countParameters(resolveCnnConfig({ layers: 1 })).total).toBe(141_942_024);
    expect(countParameters(resolveCnnConfig({ layers: 20 })).total).toBe(164_280_165);
  });

  it('stacks Conv1d(same) → BatchNorm(ε 1e-5, momentum 0.1) → ReLU → dropout (spatial on odd blocks) → Linear → (2, P)', () => {
    const cnn = createCnn({ layers: 4, kernelSize: 5, inputPoints: 20, outputPoints: 7, dropout: 0.3 });
    const layers = cnn.model.layers;
    const convs = layers.filter((l) => l.getClassName() === 'Conv1D');
    expect(convs.map((l) => (l.getConfig() as { filters: number }).filters)).toEqual([65, 129, 192, 256]);
    expect(convs.every((l) => (l.getConfig() as { padding: string }).padding === 'same')).toBe(true);
    const bn = layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.getConfig() as { epsilon: number; momentum: number });
    expect(bn).toHaveLength(4);
    expect(bn.every((c) => c.epsilon === 1e-5 && c.momentum === 0.9)).toBe(true); // tfjs momentum 0.9 = PyTorch 0.1
    const dropout = layers.filter((l) => l instanceof SeededDropout) as SeededDropout[];
    expect(dropout.map((d) => d.spatial)).toEqual([false, true, false, false]);
    expect(dropout.every((d) => d.rate === 0.3)).toBe(true);
    expect(cnn.model.outputs[0]!.shape).toEqual([null, 2, 7]);
    expect(cnn.model.inputs[0]!.shape).toEqual([null, 20, 1]);
  });

  it('flattens channel-major (c·Q + t), as PyTorch does, so the Linear weight maps by a transpose', () => {
    const cnn = createCnn({ layers: 1, kernelSize: 1, inputPoints: 3, outputPoints: 2 });
    const features = tf.tidy(() => {
      const before = tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]); // (batch, t = 3, c = 2)
      return (cnn.model.getLayer('flatten').apply(cnn.model.getLayer('channels_first').apply(before) as tf.Tensor) as tf.Tensor).arraySync();
    });
    expect(features).toEqual([[1, 3, 5, 2, 4, 6]]);
  });

  it('initialises as PyTorch does: U(±1/√fan_in), reproducibly from the seed', () => {
    const a = createCnn({ layers: 2, kernelSize: 3, inputPoints: 16, outputPoints: 4, seed: 5 });
    const b = createCnn({ layers: 2, kernelSize: 3, inputPoints: 16, outputPoints: 4, seed: 5 });
    const c = createCnn({ layers: 2, kernelSize: 3, inputPoints: 16, outputPoints: 4, seed: 6 });
    const values = (m: typeof a) => m.model.weights.map((w) => Array.from(w.read().dataSync()));
    expect(values(b)).toEqual(values(a));
    expect(values(c)).not.toEqual(values(a));
    const kernel = a.model.getLayer('block1_conv').getWeights()[0]!.dataSync();
    const bound = 1 / Math.sqrt(128 * 3);
    expect(Math.max(...Array.from(kernel, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(kernel, Math.abs))).toBeGreaterThan(0.9 * bound);
  });

  it('has a bottleneck head 8× lighter than the dense one (32 channels by default)', () => {
    const dense = countParameters(resolveCnnConfig({ layers: 12 }));
    const light = countParameters(resolveCnnConfig({ layers: 12, head: 'bottleneck' }));
    expect(light.head).toBe(256 * 32 + 32 + 32 * 308 * 1800 + 1800);
    expect(dense.head / light.head).toBeGreaterThan(7.9);
    expect(countParameters(resolveCnnConfig({ layers: 12, head: 'bottleneck', bottleneckChannels: 8 })).head).toBe(256 * 8 + 8 + 8 * 308 * 1800 + 1800);
    const cnn = createCnn({ layers: 2, kernelSize: 3, inputPoints: 16, outputPoints: 4, head: 'bottleneck', bottleneckChannels: 4 });
    expect(trainableParameterCount(cnn.model)).toBe(countParameters(cnn.config).total);
  });

  it('rejects bad configurations with the field', () => {
    expect(() => createCnn({ kernelSize: 4 })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', path: 'model.kernelSize' }));
    expect(() => createCnn({ layers: 0 })).toThrowError(expect.objectContaining({ path: 'model.layers' }));
    expect(() => createCnn({ dropout: 1 })).toThrowError(expect.objectContaining({ path: 'model.dropout' }));
    expect(() => createCnn({ head: 'pooled' as never })).toThrowError(expect.objectContaining({ path: 'model.head' }));
  });
});
