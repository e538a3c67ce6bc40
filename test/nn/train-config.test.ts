import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from '../../src/nn/train-config.js';

describe('parseTrainConfig', () => {
  it('fills in the split and clip defaults', () => {
    expect(parseTrainConfig({})).toEqual({ model: {}, training: {}, split: { seed: 0, trainFraction: 0.8 }, clipMin: 1e-8, normalization: 'minmax' });
  });
  it('takes the optimizer, its momentum and the normalisation method', () => {
    const c = parseTrainConfig({ training: { optimizer: 'sgd', momentum: 0.9 }, normalization: 'zscore' });
    expect(c.training).toEqual({ optimizer: 'sgd', momentum: 0.9 });
    expect(c.normalization).toBe('zscore');
    expect(() => parseTrainConfig({ training: { optimizer: 'lbfgs' } })).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG', path: 'training.optimizer' }));
    expect(() => parseTrainConfig({ normalization: 'robust' })).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG', path: 'normalization' }));
  });
  it('moves the web interface’s training.layers / dropout into the model', () => {
    const c = parseTrainConfig({ training: { batchSize: 64, epochs: 20, layers: 6, dropout: 0.1 } });
    expect(c.model).toEqual({ layers: 6, dropout: 0.1 });
    expect(c.training).toEqual({ batchSize: 64, epochs: 20 });
  });
  it('rejects unknown keys and repeated options with their path', () => {
    expect(() => parseTrainConfig({ training: { epoch: 3 } })).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG', path: 'training' }));
    expect(() => parseTrainConfig({ model: { layers: 3 }, training: { layers: 4 } })).toThrowError(expect.objectContaining({ path: 'training.layers' }));
    expect(() => parseTrainConfig({ split: { trainFraction: 1.2 } })).toThrowError(expect.objectContaining({ path: 'split.trainFraction' }));
    expect(() => parseTrainConfig({ model: { head: 'pooled' } })).toThrowError(expect.objectContaining({ path: 'model.head' }));
  });
});
