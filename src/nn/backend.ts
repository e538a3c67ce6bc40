import { ReflectkitError } from '../errors.js';
import { installFastGradientKernels } from './gradient-kernels.js';
import { tf } from './tf.js';

/**
 * tfjs backends reflectkit can train on, fastest first: native TensorFlow (`@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node`), WebGPU on a real GPU, WebAssembly (XNNPACK, SIMD), plain JavaScript.
 */
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Preference order of {@link useBackend} with `'auto'`. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** The backend in use and how it was found. */
export interface BackendInfo {
  /** tfjs backend name. */
  name: BackendName;
  /** What runs it, e.g. `wasm (XNNPACK, SIMD, 1 thread)` or `tensorflow (@tensorflow/tfjs-node-gpu)`. */
  description: string;
  /** Why the faster backends before it were not used. */
  skipped: Array<{
    /** The backend passed over. */
    name: BackendName;
    /** Why, in words (not installed, not in this runtime, initialisation failed, …). */
    reason: string;
  }>;
}

/**
 * Makes one backend available: imports its package, registers it with tfjs and says what it is.
 * Resolves to `{ unavailable }` (with a reason) when it cannot run here.
 */
export type BackendLoader = () => Promise<
  | {
      /** What runs it, e.g. `wasm (XNNPACK, SIMD, 1 thread)`; becomes {@link BackendInfo.description}. */
      description: string;
    }
  | {
      /** Why the backend cannot run here, in words. */
      unavailable: string;
    }
>;

async function loadWasm(): Promise<{ description: string } | { unavailable: string }> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { description: `wasm (XNNPACK${simd ? ', SIMD' : ''}, 1 thread)` };
  } catch (error) {
    return { unavailable: `@tensorflow/tfjs-backend-wasm did not load: ${(error as Error).message}` };
  }
}

async function loadCpu(): Promise<{ description: string } | { unavailable: string }> {
  await import('@tensorflow/tfjs-backend-cpu');
  return { description: 'cpu (plain JavaScript)' };
}

async function loadBrowserWebGpu(): Promise<{ description: string } | { unavailable: string }> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (gpu === undefined) return { unavailable: 'no navigator.gpu in this runtime' };
  try {
    await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-webgpu' as string);
  } catch {
    return { unavailable: '@tensorflow/tfjs-backend-webgpu is not installed' };
  }
  return { description: 'webgpu (navigator.gpu)' };
}

/** Loaders for any runtime; the Node entry point adds native TensorFlow and Dawn WebGPU. */
export const DEFAULT_LOADERS: Partial<Record<BackendName, BackendLoader>> = {
  webgpu: loadBrowserWebGpu,
  wasm: loadWasm,
  cpu: loadCpu,
};

let current: BackendInfo | undefined;

/**
 * Selects the tfjs backend: the given one, or with `'auto'` the first of {@link BACKEND_ORDER} that loads.
 * On `wasm` and `cpu` it installs reflectkit's gradient kernels (see `installFastGradientKernels`),
 * without which wasm cannot train at all and cpu trains 10–100× slower.
 *
 * @throws ReflectkitError `BACKEND_UNAVAILABLE` when the requested backend (or, with auto, every one) fails.
 */
export async function useBackend(
  preference: BackendName | 'auto' = 'auto',
  loaders: Partial<Record<BackendName, BackendLoader>> = DEFAULT_LOADERS,
): Promise<BackendInfo> {
  if (preference !== 'auto' && !BACKEND_ORDER.includes(preference)) {
    throw new ReflectkitError('INVALID_OPTION', `unknown backend ${JSON.stringify(preference)}`, {
      path: 'backend',
      expected: `'auto' or one of ${BACKEND_ORDER.join(', ')}`,
    });
  }
  // tfjs prints console advice about tfjs-node on the cpu backend unless in production mode.
  tf.env().set('PROD', true);
  const candidates = preference === 'auto' ? BACKEND_ORDER : [preference];
  const skipped: BackendInfo['skipped'] = [];
  for (const name of candidates) {
    const loader = loaders[name];
    if (loader === undefined) {
      skipped.push({ name, reason: 'not available in this runtime' });
      continue;
    }
    const loaded = await loader();
    if ('unavailable' in loaded) {
      skipped.push({ name, reason: loaded.unavailable });
      continue;
    }
    if (name === 'wasm' || name === 'cpu') installFastGradientKernels(name);
    let ok = false;
    try {
      ok = await tf.setBackend(name);
      await tf.ready();
    } catch (error) {
      skipped.push({ name, reason: `initialisation failed: ${(error as Error).message}` });
      continue;
    }
    if (!ok) {
      skipped.push({ name, reason: 'initialisation failed' });
      continue;
    }
    current = { name, description: loaded.description, skipped };
    return current;
  }
  throw new ReflectkitError(
    'BACKEND_UNAVAILABLE',
    `no usable tfjs backend (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`,
    { path: 'backend', expected: preference === 'auto' ? 'one of the tfjs backends to load' : `the ${preference} backend to load` },
  );
}

/** The backend chosen by the last {@link useBackend}, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current?.name === tf.getBackend() ? current : undefined;
}
