import { describe, expect, it } from 'vitest';
import type { LayerBound } from '../../src/sample/layers.js';
import { SeededRandom } from '../../src/sample/random.js';
import { ParameterSampler } from '../../src/sample/sampler.js';

const bounds: LayerBound[] = [
  { i: 1, par: 'sld', bounds: [1, 3] },
  { i: 1, par: 'thickness', bounds: [10, 10] },
  { i: 2, par: 'roughness', bounds: [0, 150] },
];

function draw(method: 'lhs' | 'uniform', n: number, chunks: number[], seed = 9): Float64Array {
  const [a, b] = SeededRandom.fromSeed(seed).split(2) as [SeededRandom, SeededRandom];
  const sampler = new ParameterSampler(bounds, n, method, a, b);
  const out = new Float64Array(n * 3);
  let row = 0;
  for (const c of chunks) {
    const chunk = new Float64Array(c * 3);
    expect(sampler.next(c, chunk)).toBe(row);
    out.set(chunk, row * 3);
    row += c;
  }
  return out;
}

describe('ParameterSampler', () => {
  it('Latin hypercube: each of the N strata of each parameter holds exactly one curve', () => {
    const n = 200;
    const values = draw('lhs', n, [n]);
    for (const [j, b] of [0, 2].map((j) => [j, bounds[j]!] as const)) {
      const [lo, hi] = b.bounds;
      const strata = new Set<number>();
      for (let r = 0; r < n; r++) {
        const v = values[r * 3 + j]!;
        expect(v >= lo && v < hi).toBe(true);
        strata.add(Math.floor(((v - lo) / (hi - lo)) * n));
      }
      expect(strata.size).toBe(n);
    }
  });
  it('maps with pyreflect’s p·(hi − lo)/2 + (hi + lo)/2, so lo = hi is exactly fixed', () => {
    const values = draw('uniform', 50, [50]);
    for (let r = 0; r < 50; r++) expect(values[r * 3 + 1]).toBe(10);
  });
  it('gives the same matrix whatever the chunking', () => {
    expect(Array.from(draw('lhs', 100, [7, 50, 43]))).toEqual(Array.from(draw('lhs', 100, [100])));
    expect(Array.from(draw('uniform', 100, [1, 99]))).toEqual(Array.from(draw('uniform', 100, [100])));
  });
  it('refuses to draw past the end of the run', () => {
    const [a, b] = SeededRandom.fromSeed(1).split(2) as [SeededRandom, SeededRandom];
    const sampler = new ParameterSampler(bounds, 5, 'lhs', a, b);
    sampler.next(4, new Float64Array(12));
    expect(() => sampler.next(2, new Float64Array(6))).toThrow(RangeError);
  });
});
