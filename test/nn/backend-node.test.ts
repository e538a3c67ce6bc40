import { describe, expect, it } from 'vitest';
import { loadDawnWebGpu, loadNativeTensorflow, useNodeBackend } from '../../src/nn/backend-node.node.js';


describe('Node backend loaders', () => {
  it('load native TensorFlow through @tensorflow/tfjs-node (built by the test setup; tfjs-node-gpu is absent)', async () => {
    expect(await loadNativeTensorflow()).toEqual({ description: 'tensorflow (@tensorflow/tfjs-node, native CPU)' });
  });
  it('detect Dawn WebGPU only with a real GPU adapter', async () => {
    expect(await loadDawnWebGpu()).toEqual({ unavailable: 'the webgpu package (Dawn) is not installed' });
  });
  it('pick native TensorFlow with auto, and wasm when forced', async () => {
    const info = await useNodeBackend('auto');
    expect(info.name).toBe('tensorflow');
    expect(info.skipped).toEqual([]);
    expect((await useNodeBackend('wasm')).name).toBe('wasm');
    await expect(useNodeBackend('webgpu')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/Dawn\) is not installed/) });
  });
});
