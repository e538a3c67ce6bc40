import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseColumnText } from '../../src/io/measured.js';
import { logspaceQ } from '../../src/physics/qgrid.js';
import { interpolateOntoGrid } from '../../src/preprocess/interpolate.js';
import { thrown } from '../helpers/errors.js';

const REAL = join(import.meta.dirname, '..', 'fixtures', 'REFL_212592_reduced_noQb.txt');

/** R = a·Q⁻⁴: a straight line in log-log. */
const powerLaw = (q: number): number => 2.5e-9 * q ** -4;

function expectRelative(actual: number, expected: number, tolerance = 1e-12): void {
  expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(tolerance);
}

describe('interpolateOntoGrid', () => {
  const measuredQ = Array.from(logspaceQ(0.01, 0.2, 25));
  const curve = { q: measuredQ, r: measuredQ.map(powerLaw) };

  it('is exact (to rounding) on a power law, between and at the measured points', () => {
    const grid = logspaceQ(0.0105, 0.195, 101);
    const out = interpolateOntoGrid(curve, grid);
    for (let k = 0; k < grid.length; k++) expectRelative(out.r[k]!, powerLaw(grid[k]!));
    expect(Array.from(out.inside).every((v) => v === 1)).toBe(true);
    expect(out.pointsBelow + out.pointsAbove).toBe(0);
    expect(out.outsideFraction).toBe(0);
    expect(out.dr).toBeNull();
    // on a measured Q the measured R comes back bit for bit
    const onPoints = interpolateOntoGrid(curve, [measuredQ[0]!, measuredQ[7]!, measuredQ[24]!]);
    expect(Array.from(onPoints.r)).toEqual([curve.r[0], curve.r[7], curve.r[24]]);
    expect(onPoints.qMin).toBe(measuredQ[0]);
    expect(onPoints.qMax).toBe(measuredQ[24]);
  });

  it('differs from linear interpolation in R (which would overshoot a convex curve)', () => {
    const q = [0.01, 0.02];
    const out = interpolateOntoGrid({ q, r: q.map(powerLaw) }, [0.015]);
    const linear = (powerLaw(0.01) + powerLaw(0.02)) / 2;
    expectRelative(out.r[0]!, powerLaw(0.015));
    expect(out.r[0]!).toBeLessThan(linear * 0.5);
  });

  it('does not extrapolate: outside points take the end values, are flagged and counted', () => {
    const grid = [0.005, 0.008, measuredQ[0]!, 0.05, measuredQ[24]!, 0.25, 0.3, 0.4];
    const out = interpolateOntoGrid(curve, grid);
    expect(Array.from(out.inside)).toEqual([0, 0, 1, 1, 1, 0, 0, 0]);
    expect(out.pointsBelow).toBe(2);
    expect(out.pointsAbove).toBe(3);
    expect(out.outsideFraction).toBe(5 / 8);
    const first = curve.r[0]!;
    const last = curve.r[24]!;
    expect(Array.from(out.r)).toEqual([first, first, first, out.r[3], last, last, last, last]);
    expectRelative(out.r[3]!, powerLaw(0.05));
  });

  it('interpolates dR as relative error dR/R in log Q and multiplies it back', () => {
    // relative error 0.02 at Q = 0.01 rising linearly in log10 Q to 0.12 at Q = 0.1
    const q = [0.01, 0.1];
    const r = q.map(powerLaw);
    const rel = [0.02, 0.12];
    const out = interpolateOntoGrid({ q, r, dr: [rel[0]! * r[0]!, rel[1]! * r[1]!] }, [0.005, Math.sqrt(0.001), 0.1, 1]);
    expect(out.dr).not.toBeNull();
    // halfway in log Q: R is the geometric mean, dR/R the arithmetic mean of the end ratios
    expectRelative(out.r[1]!, powerLaw(Math.sqrt(0.001)));
    expectRelative(out.dr![1]!, 0.07 * powerLaw(Math.sqrt(0.001)));
    // outside: the end's own dR, not the end's ratio times another R
    expect(out.dr![0]).toBe(0.02 * r[0]!);
    expect(out.dr![2]).toBe(0.12 * r[1]!);
    expect(out.dr![3]).toBe(0.12 * r[1]!);
    expect(Array.from(out.inside)).toEqual([0, 1, 1, 0]);
  });

  it('drops R ≤ 0 before interpolating, counts them, and interpolates across the gap', () => {
    const q = [0.01, 0.02, 0.03, 0.04, 0.05];
    const r = [powerLaw(0.01), -1e-7, 0, powerLaw(0.04), -2e-7];
    const out = interpolateOntoGrid({ q, r }, [0.02, 0.03, 0.045]);
    expect(out.droppedNonPositive).toBe(3);
    expect(out.qMax).toBe(0.04); // the range is that of the points kept
    expectRelative(out.r[0]!, powerLaw(0.02));
    expectRelative(out.r[1]!, powerLaw(0.03));
    expect(out.r[2]).toBe(powerLaw(0.04));
    expect(Array.from(out.inside)).toEqual([1, 1, 0]);
    expect(out.pointsAbove).toBe(1);
  });

  it('merges repeated Q: inverse-variance weighted with dR, plain mean without', () => {
    const q = [0.01, 0.02, 0.02, 0.04];
    const r = [1, 1, 2, 0.5];
    const weighted = interpolateOntoGrid({ q, r, dr: [0.1, 0.1, 0.2, 0.05] }, [0.02]);
    expect(weighted.mergedDuplicates).toBe(1);
    // w = 1/0.01 = 100 and 1/0.04 = 25: (100·1 + 25·2)/125 = 1.2; dR = 1/√125
    expect(weighted.r[0]).toBeCloseTo(1.2, 14);
    expect(weighted.dr![0]).toBeCloseTo(1 / Math.sqrt(125), 14);
    const plain = interpolateOntoGrid({ q, r }, [0.02]);
    expect(plain.r[0]).toBe(1.5);
    // one dR of 0: no weights; dR = √(Σ dR²)/n
    const zero = interpolateOntoGrid({ q, r, dr: [0.1, 0, 0.2, 0.05] }, [0.02]);
    expect(zero.r[0]).toBe(1.5);
    expect(zero.dr![0]).toBeCloseTo(0.1, 14);
  });

  it('handles the real REFL_212592 curve: merges its 66 overlaps, drops its 2 negative R, flags the grid ends', () => {
    const curve = parseColumnText(readFileSync(REAL, 'utf8'));
    const grid = logspaceQ(0.0081, 0.3, 308);
    const out = interpolateOntoGrid(curve, grid);
    expect(out.mergedDuplicates).toBe(66);
    expect(out.droppedNonPositive).toBe(2);
    expect(out.qMin).toBe(0.0083469176538132);
    expect(out.qMax).toBe(0.2689586889716802);
    const below = Array.from(grid).filter((g) => g < 0.0083469176538132).length;
    const above = Array.from(grid).filter((g) => g > 0.2689586889716802).length;
    expect(below).toBeGreaterThan(0);
    expect(above).toBeGreaterThan(0);
    expect(out.pointsBelow).toBe(below);
    expect(out.pointsAbove).toBe(above);
    expect(out.outsideFraction).toBe((below + above) / 308);
    expect(out.r[0]).toBe(curve.r[0]);
    for (let k = 0; k < grid.length; k++) {
      expect(out.r[k]!).toBeGreaterThan(0);
      expect(out.dr![k]!).toBeGreaterThan(0);
    }
  });

  describe('validates', () => {
    const ok = { q: [0.01, 0.02], r: [1, 0.5] };
    it.each<[string, number[], string]>([
      ['not increasing', [0.01, 0.02, 0.02], 'grid[2]'],
      ['decreasing', [0.02, 0.01], 'grid[1]'],
      ['Q = 0', [0, 0.01], 'grid[0]'],
      ['negative Q', [-0.01, 0.01], 'grid[0]'],
      ['NaN', [0.01, Number.NaN], 'grid[1]'],
      ['empty', [], 'grid'],
    ])('the grid: %s → INVALID_Q', (_, grid, path) => {
      const error = thrown(() => interpolateOntoGrid(ok, grid));
      expect(error.code).toBe('INVALID_Q');
      expect(error.path).toBe(path);
    });
    it('the curve', () => {
      expect(thrown(() => interpolateOntoGrid({ q: [0.02, 0.01], r: [1, 1] }, [0.01])).path).toBe('curve.q[1]');
      expect(thrown(() => interpolateOntoGrid({ q: [0.01, 0.02], r: [1] }, [0.01])).code).toBe('BAD_SHAPE');
      expect(thrown(() => interpolateOntoGrid({ q: [0.01, 0.02], r: [1, 1], dr: [0.1, -0.1] }, [0.01])).path).toBe('curve.dr[1]');
      const few = thrown(() => interpolateOntoGrid({ q: [0.01, 0.02, 0.02], r: [-1, 1, 2] }, [0.01]));
      expect(few.code).toBe('MEASURED_FORMAT');
      expect(few.message).toMatch(/only 1 distinct Q with R > 0 \(1 dropped/);
    });
  });
});
