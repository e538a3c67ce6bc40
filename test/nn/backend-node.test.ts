import { describe, expect, it } from 'vitest';
import { loadDawnWebGpu, loadNativeTensorflow, useNodeBackend } from '../../src/nn/backend-node.node.js';

describe('Node backend loaders', () => {
  it('detect the optional native TensorFlow peers and say why they are not used', async () => {
    const result = await loadNativeTensorflow();
    // Neither tfjs-node nor tfjs-node-gpu can be installed on this machine (their install downloads a binary).
    expect(result).toEqual({ unavailable: '@tensorflow/tfjs-node-gpu is not installed; @tensorflow/tfjs-node is not installed' });
  });
  it('detect Dawn WebGPU only with a real GPU adapter', async () => {
    expect(await loadDawnWebGpu()).toEqual({ unavailable: 'the webgpu package (Dawn) is not installed' });
  });
  it('fall back to wasm with auto, recording the reasons', async () => {
    const info = await useNodeBackend('auto');
    expect(info.name).toBe('wasm');
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    await expect(useNodeBackend('tensorflow')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/tfjs-node is not installed/) });
  });
});
