import { describe, expect, it } from 'vitest';
import { chiSquaredData, chiSquaredLog, comparisonIndices, relativeError, sldErrorMetrics } from '../../src/eval/metrics.js';
import { thrown } from '../helpers/errors.js';

describe('sldErrorMetrics', () => {
  // Two profiles of 3 points, (N, 2, P): row 0 z, row 1 SLD.
  const truth = [0, 1, 2, /* sld */ 1, 2, 3, 0, 1, 2, /* sld */ 4, 4, 4];
  const predicted = [0, 1, 2, /* sld */ 1, 2, 4, 9, 9, 9, /* sld */ 4, 5, 4];

  it('computes MSE, MAE and R² of the SLD row only, overall and per curve', () => {
    const m = sldErrorMetrics(predicted, truth, 2, (v) => v / 2);
    // Errors: curve 0: 0, 0, 1; curve 1: 0, 1, 0 (z rows differ but are not counted).
    expect(m.mse).toBeCloseTo(2 / 6, 15);
    expect(m.mae).toBeCloseTo(2 / 6, 15);
    // Truth SLD 1, 2, 3, 4, 4, 4: mean 3, SS_tot = 4 + 1 + 0 + 1 + 1 + 1 = 8.
    expect(m.r2).toBeCloseTo(1 - 2 / 8, 15);
    expect(m.perCurve.mse).toEqual([1 / 3, 1 / 3]);
    expect(m.perCurve.r2[0]).toBeCloseTo(1 - 1 / 2, 15);
    expect(m.perCurve.r2[1]).toBeNaN(); // constant truth, imperfect fit
    // Normalised: errors halve, MSE quarters, R² unchanged (an affine map).
    expect(m.normalized.mse).toBeCloseTo(2 / 6 / 4, 15);
    expect(m.normalized.mae).toBeCloseTo(1 / 6, 15);
    expect(m.normalized.r2).toBeCloseTo(m.r2, 12);
    expect(m.curves).toBe(2);
  });

  it('rejects arrays that are not N profiles of two rows', () => {
    expect(thrown(() => sldErrorMetrics([1, 2, 3], [1, 2, 3], 1, (v) => v))).toMatchObject({ code: 'BAD_SHAPE' });
    expect(thrown(() => sldErrorMetrics([1, 2], [1, 2, 3, 4], 1, (v) => v))).toMatchObject({ code: 'BAD_SHAPE' });
  });
});

describe('χ² and relative error', () => {
  it('χ² in log R is the mean squared log10 ratio', () => {
    expect(chiSquaredLog([10, 1, 0.01], [1, 1, 0.1])).toBeCloseTo((1 + 0 + 1) / 3, 15);
  });

  it('χ² against data weights by dR and skips points without an uncertainty', () => {
    expect(chiSquaredData([1.1, 2, 5], [1, 2.4, 7], [0.1, 0.2, 0])).toBeCloseTo((1 + 4) / 2, 12);
    expect(chiSquaredData([1.1, 2, 5], [1, 2.4, 7], [0.1, 0.2, 1], [1, 0, 1])).toBeCloseTo((1 + 4) / 2, 12);
    expect(thrown(() => chiSquaredData([1], [1], [0]))).toMatchObject({ code: 'BAD_SHAPE', path: 'dr' });
  });

  it('relative error reports the median and the worst point', () => {
    expect(relativeError([1.1, 2, 2.5], [1, 2, 2])).toEqual({ median: expect.closeTo(0.1, 12), max: 0.25 });
  });
});

describe('comparisonIndices', () => {
  it('are pyreflect interface\'s floor(linspace(0, 899, 50))', () => {
    const documented = [0, 18, 36, 55, 73, 91, 110, 128, 146, 165, 183, 201, 220, 238, 256, 275, 293, 311, 330, 348, 366, 385, 403, 421, 440, 458, 477, 495, 513, 532, 550, 568, 587, 605, 623, 642, 660, 678, 697, 715, 733, 752, 770, 788, 807, 825, 843, 862, 880, 899];
    expect(comparisonIndices(900)).toEqual(documented);
  });
});
