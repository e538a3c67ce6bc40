import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import { installFastGradientKernels, restoreGradientKernels } from '../../src/nn/gradient-kernels.js';
import { tf } from '../../src/nn/tf.js';

/** conv gradients (via tf.grads, which runs Conv2DBackpropInput/Filter) and transposed products. */
function compute(seed: number, shape: { b: number; h: number; w: number; cin: number; cout: number; kh: number; kw: number }, pad: 'same' | 'valid') {
  return tf.tidy(() => {
    const x = tf.randomUniform([shape.b, shape.h, shape.w, shape.cin], -1, 1, 'float32', seed) as tf.Tensor4D;
    const filter = tf.randomUniform([shape.kh, shape.kw, shape.cin, shape.cout], -1, 1, 'float32', seed + 1) as tf.Tensor4D;
    const probe = tf.randomUniform(tf.conv2d(x, filter, 1, pad).shape, -1, 1, 'float32', seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, pad), probe)))([x, filter]);
    const a = tf.randomUniform([3, 41, 7], -1, 1, 'float32', seed + 3);
    const b = tf.randomUniform([3, 9, 7], -1, 1, 'float32', seed + 4);
    const c = tf.randomUniform([3, 41, 9], -1, 1, 'float32', seed + 5);
    const d = tf.randomUniform([3, 7, 41], -1, 1, 'float32', seed + 6);
    const big = tf.randomUniform([600, 50], -1, 1, 'float32', seed + 7);
    const small = tf.randomUniform([4, 50], -1, 1, 'float32', seed + 8);
    return [dx!, dw!, tf.matMul(a, b, false, true), tf.matMul(a, c, true, false), tf.matMul(d, b, true, true), tf.matMul(small, big, false, true), tf.matMul(big, small, false, true)].map(
      (t) => t.dataSync() as Float32Array,
    );
  });
}

function maxRelative(got: Float32Array[], want: Float32Array[]): number {
  let worst = 0;
  got.forEach((g, k) => {
    const w = want[k]!;
    expect(g.length).toBe(w.length);
    const scale = Math.max(...Array.from(w, Math.abs));
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!) / scale);
  });
  return worst;
}

const SHAPES = [
  { b: 4, h: 1, w: 37, cin: 3, cout: 6, kh: 1, kw: 5 }, // conv1d as the CNN runs it
  { b: 2, h: 1, w: 64, cin: 16, cout: 8, kh: 1, kw: 51 },
  { b: 3, h: 5, w: 6, cin: 2, cout: 3, kh: 3, kw: 2 }, // 2-D, even kernel width
];

describe('composite gradient kernels against the cpu backend’s reference kernels', () => {
  const reference: Float32Array[][][] = [];

  beforeAll(async () => {
    await useBackend('cpu');
    restoreGradientKernels('cpu'); // tfjs's own cpu kernels
    for (const [k, shape] of SHAPES.entries()) reference.push([compute(10 * k, shape, 'same'), compute(10 * k, shape, 'valid')]);
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: conv input/filter gradients and transposed products agree to float tolerance`, async () => {
      await useBackend(backend); // installs the composite kernels
      for (const [k, shape] of SHAPES.entries()) {
        expect(maxRelative(compute(10 * k, shape, 'same'), reference[k]![0]!)).toBeLessThan(2e-6);
        expect(maxRelative(compute(10 * k, shape, 'valid'), reference[k]![1]!)).toBeLessThan(2e-6);
      }
    });
  }

  it('wasm cannot compute a convolution’s filter gradient without them', async () => {
    await useBackend('wasm');
    restoreGradientKernels('wasm');
    expect(() => compute(0, SHAPES[0]!, 'same')).toThrow(/Conv2DBackpropFilter' not registered for backend 'wasm'/);
    installFastGradientKernels('wasm');
    expect(() => compute(0, SHAPES[0]!, 'same')).not.toThrow();
  });
});
