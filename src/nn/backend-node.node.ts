import { totalmem } from 'node:os';
import { DEFAULT_LOADERS, useBackend, type BackendInfo, type BackendLoader, type BackendName } from './backend.js';

/** True when an import failed because the package is not installed (Node's codes, or a bundler's message). */
function missing(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  return /Cannot find (module|package)|Could not resolve/.test((error as Error)?.message ?? '');
}

function reason(error: unknown): string {
  return (error as Error)?.message?.split('\n')[0] ?? String(error);
}

/**
 * Native TensorFlow through the optional peers `@tensorflow/tfjs-node-gpu` (CUDA) or `@tensorflow/tfjs-node`
 * (CPU, all cores), whichever loads first. Both register the `tensorflow` backend.
 */
export const loadNativeTensorflow: BackendLoader = async () => {
  // TensorFlow's C library logs CPU-feature notices on load; keep them out unless asked for.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  // TF's default CPU allocator returns large buffers to the OS, so every op on pyreflect's 568 MB dense
  // kernel page-faults a fresh buffer: Adam took 5.2 s a step. The BFC allocator pools them (1.3 s).
  process.env.TF_CPU_ALLOCATOR_USE_BFC ??= 'true';
  const tried: string[] = [];
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* @vite-ignore */ name as string);
      return { description: `tensorflow (${name}${name.endsWith('-gpu') ? ', CUDA' : ', native CPU'})` };
    } catch (error) {
      tried.push(missing(error) ? `${name} is not installed` : `${name} failed to load: ${reason(error)}`);
    }
  }
  return { unavailable: tried.join('; ') };
};

/** Adapter names of software rasterisers: WebGPU on them is slower than wasm (measured). */
const CPU_ADAPTERS = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/**
 * WebGPU in Node through the optional `webgpu` package (Dawn) and `@tensorflow/tfjs-backend-webgpu`, used
 * only on a real GPU: a fallback adapter or a software rasteriser (llvmpipe, lavapipe, SwiftShader) is
 * skipped, since wasm beats it on the same CPU.
 */
export const loadDawnWebGpu: BackendLoader = async () => {
  let dawn: { create: (flags: string[]) => { requestAdapter(options?: unknown): Promise<unknown> }; globals?: Record<string, unknown> };
  try {
    dawn = (await import(/* @vite-ignore */ 'webgpu' as string)) as typeof dawn;
  } catch (error) {
    return { unavailable: missing(error) ? 'the webgpu package (Dawn) is not installed' : `webgpu failed to load: ${reason(error)}` };
  }
  const gpu = dawn.create([]);
  let adapter: { info?: { vendor?: string; architecture?: string; device?: string; description?: string }; isFallbackAdapter?: boolean } | null;
  try {
    adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as typeof adapter;
  } catch (error) {
    return { unavailable: `no WebGPU adapter: ${reason(error)}` };
  }
  if (adapter === null) return { unavailable: 'no WebGPU adapter (is a Vulkan driver installed?)' };
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  if (adapter.isFallbackAdapter || CPU_ADAPTERS.test(name)) return { unavailable: `only a software adapter (${name || 'fallback'}), slower than wasm` };
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  else if (scope.navigator.gpu === undefined) Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
  if (dawn.globals !== undefined) Object.assign(globalThis, dawn.globals);
  try {
    await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-webgpu' as string);
  } catch (error) {
    return { unavailable: missing(error) ? '@tensorflow/tfjs-backend-webgpu is not installed' : `tfjs-backend-webgpu failed to load: ${reason(error)}` };
  }
  return { description: `webgpu (Dawn, ${name})` };
};

/** Node's loaders: native TensorFlow and Dawn WebGPU first, then wasm and cpu. */
export const NODE_LOADERS: Partial<Record<BackendName, BackendLoader>> = {
  ...DEFAULT_LOADERS,
  tensorflow: loadNativeTensorflow,
  webgpu: loadDawnWebGpu,
};

/** {@link useBackend} with Node's loaders (what `reflectkit/node` users want). */
export function useNodeBackend(preference: BackendName | 'auto' = 'auto'): Promise<BackendInfo> {
  return useBackend(preference, NODE_LOADERS);
}

/** Memory a backend may use in this process: wasm's heap is separately capped; others get the machine's RAM. */
export function availableMemory(): number {
  return totalmem();
}
