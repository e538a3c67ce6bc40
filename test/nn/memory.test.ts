import { describe, expect, it } from 'vitest';
import { resolveCnnConfig } from '../../src/nn/cnn.js';
import { assertTrainingFits, estimateTrainingMemory, WASM_HEAP_LIMIT } from '../../src/nn/memory.js';

describe('estimateTrainingMemory / assertTrainingFits', () => {
  it('counts weights, gradients and Adam moments of the full model (155 M parameters ≈ 2.5 GB before activations)', () => {
    const e = estimateTrainingMemory(resolveCnnConfig({ layers: 12 }), 32);
    expect(e.gradients).toBe(155_285_778 * 4);
    expect(e.optimizer).toBe(2 * 155_285_778 * 4);
    expect(e.total).toBeGreaterThan(WASM_HEAP_LIMIT);
  });
  it('refuses the full pyreflect model on wasm and names what to do instead', () => {
    const e = estimateTrainingMemory(resolveCnnConfig({ layers: 12 }), 32);
    expect(() => assertTrainingFits(e, 'wasm')).toThrowError(
      expect.objectContaining({ code: 'MEMORY_LIMIT', message: expect.stringMatching(/4 GiB heap/), expected: expect.stringMatching(/tfjs-node.*bottleneck/) }),
    );
    expect(() => assertTrainingFits(e, 'tensorflow')).not.toThrow();
    expect(() => assertTrainingFits(e, 'tensorflow', 1024 ** 3)).toThrowError(expect.objectContaining({ code: 'MEMORY_LIMIT' }));
  });
  it('blames the dense head, not the depth: every pyreflect depth has the 142 M-weight head; the bottleneck fits', () => {
    expect(() => assertTrainingFits(estimateTrainingMemory(resolveCnnConfig({ layers: 3 }), 32), 'wasm')).toThrowError(expect.objectContaining({ code: 'MEMORY_LIMIT' }));
    expect(() => assertTrainingFits(estimateTrainingMemory(resolveCnnConfig({ layers: 12, head: 'bottleneck' }), 32), 'wasm')).not.toThrow();
    expect(() => assertTrainingFits(estimateTrainingMemory(resolveCnnConfig({ layers: 12, inputPoints: 64, outputPoints: 64 }), 32), 'wasm')).not.toThrow();
  });
  it('grows with the batch', () => {
    const config = resolveCnnConfig({ layers: 6 });
    expect(estimateTrainingMemory(config, 64).activations).toBe(2 * estimateTrainingMemory(config, 32).activations);
  });
});
