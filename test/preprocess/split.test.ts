import { describe, expect, it } from 'vitest';
import { splitIndices, splitSizes } from '../../src/preprocess/split.js';

describe('splitIndices', () => {
  it('gives pyreflect’s sizes', () => {
    expect(splitSizes(1000)).toEqual({ train: 800, validation: 100, test: 100 });
    expect(splitSizes(1001)).toEqual({ train: 800, validation: 100, test: 101 });
    expect(splitSizes(10)).toEqual({ train: 8, validation: 1, test: 1 });
    expect(splitSizes(6)).toEqual({ train: 4, validation: 1, test: 1 });
  });
  it('partitions the rows, reproducibly from the seed', () => {
    const a = splitIndices(257, { seed: 3 });
    const all = [...a.train, ...a.validation, ...a.test].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 257 }, (_, i) => i));
    expect(splitIndices(257, { seed: 3 })).toEqual(a);
    expect(Array.from(splitIndices(257, { seed: 4 }).test)).not.toEqual(Array.from(a.test));
  });
  it('refuses sets too small to split, with a clear error', () => {
    for (const n of [0, 1, 5]) {
      expect(() => splitIndices(n, { seed: 1 })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', path: 'numCurves' }));
    }
    expect(() => splitIndices(100, { seed: 1, trainFraction: 1 })).toThrowError(expect.objectContaining({ path: 'trainFraction' }));
  });
});
