import { describe, expect, it } from 'vitest';
import { compose, identity, log10Clip, minMax, zScore } from '../../src/preprocess/transforms.js';

describe('transforms', () => {
  it('log10Clip clips at the floor and inverts above it', () => {
    const t = log10Clip(1e-8);
    expect(t.forward(1e-12)).toBe(-8);
    expect(t.forward(0)).toBe(-8);
    expect(t.forward(-3)).toBe(-8);
    expect(t.forward(0.01)).toBeCloseTo(-2, 15);
    expect(t.inverse(t.forward(3.7e-5))).toBeCloseTo(3.7e-5, 18);
    expect(() => log10Clip(0)).toThrow(RangeError);
  });
  it('minMax maps the range to [0, 1] and back; a constant axis maps to 0 and back to its value', () => {
    const t = minMax({ min: -2, max: 6 });
    expect(t.forward(-2)).toBe(0);
    expect(t.forward(6)).toBe(1);
    expect(t.inverse(t.forward(1.25))).toBe(1.25);
    const flat = minMax({ min: 3, max: 3 });
    expect(flat.forward(3)).toBe(0);
    expect(flat.forward(7)).toBe(0);
    expect(flat.inverse(0)).toBe(3);
    expect(Number.isFinite(flat.forward(3))).toBe(true);
  });
  it('zScore maps the mean to 0 and one deviation to 1, and back; a constant axis maps to 0 and back to its mean', () => {
    const t = zScore({ mean: 2, std: 4 });
    expect(t.forward(2)).toBe(0);
    expect(t.forward(6)).toBe(1);
    expect(t.forward(-6)).toBe(-2);
    expect(t.inverse(t.forward(1.25))).toBe(1.25);
    const flat = zScore({ mean: 3, std: 0 });
    expect(flat.forward(3)).toBe(0);
    expect(flat.forward(7)).toBe(0);
    expect(flat.inverse(0)).toBe(3);
  });
  it('compose applies in order and inverts in reverse order', () => {
    const t = compose(log10Clip(1e-8), minMax({ min: -8, max: 0 }));
    expect(t.forward(1)).toBe(1);
    expect(t.forward(1e-8)).toBe(0);
    expect(t.forward(1e-4)).toBeCloseTo(0.5, 15);
    expect(t.inverse(0.5)).toBeCloseTo(1e-4, 18);
    expect(compose(identity, identity).forward(5)).toBe(5);
  });
});
