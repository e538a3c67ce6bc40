import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/sample/random.js';

describe('SeededRandom', () => {
  it('repeats a stream for the same seed and differs for another', () => {
    const a = SeededRandom.fromSeed(7);
    const b = SeededRandom.fromSeed(7);
    const c = SeededRandom.fromSeed(8);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
  });
  it('draws uniform floats in [0, 1) with a plausible mean and integers in [lo, hi]', () => {
    const r = SeededRandom.fromSeed(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
    }
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(r.integer(10, 14));
    expect([...seen].sort()).toEqual([10, 11, 12, 13, 14]);
  });
  it('makes permutations of 0…n−1', () => {
    const p = SeededRandom.fromSeed(3).permutation(1000);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
  it('splits into independent streams without advancing itself, and resumes from a state', () => {
    const root = SeededRandom.fromSeed(5);
    const before = root.state();
    const [s1, s2] = root.split(2) as [SeededRandom, SeededRandom];
    expect(root.state()).toEqual(before);
    expect(s1.uniform()).not.toBe(s2.uniform());
    const saved = s1.state();
    const next = s1.uniform();
    expect(SeededRandom.fromState(saved).uniform()).toBe(next);
  });
});
