import { describe, expect, it } from 'vitest';
import { BACKEND_ORDER, currentBackend, DEFAULT_LOADERS, useBackend } from '../../src/nn/backend.js';
import { tf } from '../../src/nn/tf.js';

describe('useBackend', () => {
  it('prefers native TensorFlow, then WebGPU, then wasm, then cpu', () => {
    expect(BACKEND_ORDER).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
  });
  it('with auto and the core loaders picks wasm here, saying why the faster ones were skipped', async () => {
    const info = await useBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.description).toMatch(/^wasm \(XNNPACK/);
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    expect(info.skipped[1]!.reason).toMatch(/navigator\.gpu/);
    expect(currentBackend()).toEqual(info);
  });
  it('can be forced to cpu, and records what it chose', async () => {
    expect((await useBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
  it('fails clearly for a backend that cannot load, and for an unknown name', async () => {
    await expect(useBackend('tensorflow', DEFAULT_LOADERS)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', path: 'backend' });
    await expect(useBackend('tpu' as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', path: 'backend' });
    await expect(useBackend('tensorflow', { tensorflow: async () => ({ unavailable: 'not installed' }) })).rejects.toThrow(/tensorflow: not installed/);
  });
});
