import * as tf from '@tensorflow/tfjs-core';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Info = tf.TensorInfo;
type Backend = tf.KernelBackend;

/** The registered kernel function `name` of `backendName`, or undefined. */
function kernelFunc(name: string, backendName: string): KernelFunc | undefined {
  return tf.getKernel(name, backendName)?.kernelFunc;
}

function required(name: string, backendName: string): KernelFunc {
  const f = kernelFunc(name, backendName);
  if (f === undefined) throw new Error(`backend ${backendName} has no ${name} kernel`);
  return f;
}

function call(f: KernelFunc, backend: Backend, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info {
  return f({ inputs, backend, attrs } as unknown as Parameters<KernelFunc>[0]) as Info;
}

function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

const installed = new Map<string, Map<string, tf.KernelConfig | undefined>>();

/**
 * Replaces the convolution gradient kernels of a backend (`wasm` or `cpu`) with compositions of its own
 * forward kernels, and, on wasm, its transposed matrix product with explicit transposes:
 *
 * - `Conv2DBackpropFilter` (missing on wasm; 0.013 GFLOP/s on cpu): dW = conv(transpose(pad(x), [3,1,2,0]),
 *   transpose(dy, [1,2,0,3])), transposed back to (KH, KW, Cin, Cout);
 * - `Conv2DBackpropInput` (2.5 GFLOP/s on wasm): dx = conv(pad(dy, K − 1 − pad), reverse(W) with in/out
 *   swapped);
 * - `BatchMatMul` with transposes (about 2 GFLOP/s on wasm): the operand (or the product, A·Bᵀ = (B·Aᵀ)ᵀ)
 *   that is cheaper to transpose is materialised, then the plain product runs at XNNPACK speed.
 *
 * Only stride 1 and NHWC are composed; other calls go to the backend's original kernel where it has one
 * (and fail as before where it has none). Idempotent per backend. Verified against the cpu backend's
 * reference kernels in the tests.
 */
export function installFastGradientKernels(backendName: 'wasm' | 'cpu'): void {
  if (installed.has(backendName)) return;
  const originals = new Map<string, tf.KernelConfig | undefined>();
  for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul']) originals.set(name, tf.getKernel(name, backendName));
  installed.set(backendName, originals);
  const pad = required('PadV2', backendName);
  const transpose = required('Transpose', backendName);
  const reverse = required('Reverse', backendName);
  const conv = required('Conv2D', backendName);
  const originalFilter = originals.get('Conv2DBackpropFilter')?.kernelFunc;
  const originalInput = originals.get('Conv2DBackpropInput')?.kernelFunc;

  // Replacements keep the original's setup and dispose functions (wasm kernels bind their wasm export in
  // setup), so the originals still work as fallbacks and after restoreGradientKernels.
  const keep = (name: string) => {
    const original = originals.get(name);
    return original === undefined ? {} : { setupFunc: original.setupFunc, disposeFunc: original.disposeFunc };
  };

  replaceKernel({
    ...keep('Conv2DBackpropFilter'),
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args as unknown as { inputs: { x: Info; dy: Info }; backend: Backend; attrs: tf.Conv2DBackpropFilterAttrs };
      const { x, dy } = inputs;
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        attrs.filterShape,
        attrs.strides,
        1,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        'channelsLast',
      );
      if (info.strideHeight !== 1 || info.strideWidth !== 1 || attrs.dataFormat !== 'NHWC') {
        if (originalFilter) return originalFilter(args);
        throw new Error(`Conv2DBackpropFilter on ${backendName} supports stride 1, NHWC only`);
      }
      const { top, bottom, left, right } = info.padInfo;
      const padded = call(pad, backend, { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
      const xT = call(transpose, backend, { x: padded }, { perm: [3, 1, 2, 0] });
      const dyT = call(transpose, backend, { x: dy }, { perm: [1, 2, 0, 3] });
      const product = call(conv, backend, { x: xT, filter: dyT }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 });
      const out = call(transpose, backend, { x: product }, { perm: [1, 2, 0, 3] });
      for (const t of [padded, xT, dyT, product]) backend.disposeData(t.dataId);
      return out;
    },
  });

  replaceKernel({
    ...keep('Conv2DBackpropInput'),
    kernelName: 'Conv2DBackpropInput',
    backendName,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args as unknown as { inputs: { dy: Info; filter: Info }; backend: Backend; attrs: tf.Conv2DBackpropInputAttrs };
      const { dy, filter } = inputs;
      const [kh, kw] = filter.shape as [number, number, number, number];
      const info = tf.backend_util.computeConv2DInfo(
        attrs.inputShape,
        filter.shape as [number, number, number, number],
        attrs.strides,
        1,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        'channelsLast',
      );
      const { top, bottom, left, right } = info.padInfo;
      const pads = [kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right];
      if (info.strideHeight !== 1 || info.strideWidth !== 1 || attrs.dataFormat !== 'NHWC' || pads.some((p) => p < 0)) {
        if (originalInput) return originalInput(args);
        throw new Error(`Conv2DBackpropInput on ${backendName} supports stride 1, NHWC only`);
      }
      const padded = call(pad, backend, { x: dy }, { paddings: [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]], constantValue: 0 });
      const flipped = call(reverse, backend, { x: filter }, { dims: [0, 1] });
      const swapped = call(transpose, backend, { x: flipped }, { perm: [0, 1, 3, 2] });
      const out = call(conv, backend, { x: padded, filter: swapped }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 });
      for (const t of [padded, flipped, swapped]) backend.disposeData(t.dataId);
      return out;
    },
  });

  const matMul = originals.get('BatchMatMul');
  if (backendName === 'wasm' && matMul !== undefined) {
    const plain = matMul.kernelFunc;
    replaceKernel({
      ...matMul,
      kernelFunc: (args) => {
        const { inputs, backend, attrs } = args as unknown as { inputs: { a: Info; b: Info }; backend: Backend; attrs: tf.BatchMatMulAttrs };
        const { transposeA, transposeB } = attrs;
        if (!transposeA && !transposeB) return plain(args);
        const { a, b } = inputs;
        const size = (t: Info) => t.shape.reduce((p, s) => p * s, 1);
        const swapLast = (t: Info) => {
          const perm = t.shape.map((_, i) => i);
          const r = perm.length;
          [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
          return call(transpose, backend, { x: t }, { perm });
        };
        const rows = a.shape[a.shape.length - (transposeA ? 1 : 2)]!;
        const cols = b.shape[b.shape.length - (transposeB ? 2 : 1)]!;
        const batch = Math.max(size(a) / (a.shape.at(-1)! * a.shape.at(-2)!), size(b) / (b.shape.at(-1)! * b.shape.at(-2)!));
        const costDirect = (transposeA ? size(a) : 0) + (transposeB ? size(b) : 0);
        const costSwapped = (transposeA ? 0 : size(a)) + (transposeB ? 0 : size(b)) + batch * rows * cols;
        const temporaries: Info[] = [];
        let out: Info;
        if (costDirect <= costSwapped) {
          const left = transposeA ? swapLast(a) : a;
          const right = transposeB ? swapLast(b) : b;
          if (transposeA) temporaries.push(left);
          if (transposeB) temporaries.push(right);
          out = plain({ inputs: { a: left, b: right }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as never) as Info;
        } else {
          // op(A)·op(B) = (op(B)ᵀ·op(A)ᵀ)ᵀ, and op(B)ᵀ is B itself when transposeB (likewise A).
          const left = transposeB ? b : swapLast(b);
          const right = transposeA ? a : swapLast(a);
          if (!transposeB) temporaries.push(left);
          if (!transposeA) temporaries.push(right);
          const product = plain({ inputs: { a: left, b: right }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as never) as Info;
          temporaries.push(product);
          out = swapLast(product);
        }
        for (const t of temporaries) backend.disposeData(t.dataId);
        return out;
      },
    });
  }
}

/** Puts back the kernels {@link installFastGradientKernels} replaced (for tests and benchmarks). */
export function restoreGradientKernels(backendName: 'wasm' | 'cpu'): void {
  const originals = installed.get(backendName);
  if (originals === undefined) return;
  for (const [name, config] of originals) {
    if (tf.getKernel(name, backendName) !== undefined) tf.unregisterKernel(name, backendName);
    if (config !== undefined) tf.registerKernel(config);
  }
  installed.delete(backendName);
}
