import { describe, expect, it } from 'vitest';
import { erf, erfTable, fastErf } from '../../src/physics/erf.js';

describe('erf (library)', () => {
  it('has its known values', () => {
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 16);
    expect(erf(-1.5)).toBeCloseTo(-0.9661051464753108, 16);
    expect(erf(6)).toBe(1);
  });
});

describe('fastErf (quintic Hermite table)', () => {
  it('stays within 1e-14 of the library erf over a dense grid of [−7, 7]', () => {
    let worst = 0;
    for (let i = 0; i <= 1_400_000; i++) {
      const x = -7 + i * 1e-5;
      worst = Math.max(worst, Math.abs(fastErf(x) - erf(x)));
    }
    expect(worst).toBeLessThanOrEqual(1e-14);
  });
  it('is odd, exact at 0 and ±1 beyond 6, NaN for NaN', () => {
    expect(fastErf(0)).toBe(0);
    expect(fastErf(6)).toBe(1);
    expect(fastErf(-80)).toBe(-1);
    expect(fastErf(Infinity)).toBe(1);
    expect(fastErf(Number.NaN)).toBeNaN();
    for (const x of [0.1, 0.9, 2.5, 5.99]) expect(fastErf(-x)).toBe(-fastErf(x));
  });
  it('builds its table lazily, once', () => {
    expect(erfTable()).toBe(erfTable());
    expect(erfTable().length).toBe(6 * 6 * 128);
  });
});
