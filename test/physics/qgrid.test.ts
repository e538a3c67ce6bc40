import { describe, expect, it } from 'vitest';
import { DEFAULT_Q_GRID, LEGACY_Q_GRID, linspace, logspaceQ } from '../../src/physics/qgrid.js';
import { runPython } from '../helpers/python.js';

describe('q grids', () => {
  it('reproduce numpy’s logspace ends for pyreflect’s default grid to an ulp (Math.pow vs libm pow)', () => {
    const q = logspaceQ(DEFAULT_Q_GRID.qMin, DEFAULT_Q_GRID.qMax, DEFAULT_Q_GRID.numQ);
    expect(q.length).toBe(308);
    expect(Math.abs(q[0]! - 0.008099999999999996)).toBeLessThanOrEqual(0.0081 * Number.EPSILON);
    expect(Math.abs(q[307]! - 0.19750000000000004)).toBeLessThanOrEqual(0.1975 * Number.EPSILON);
  });
  it('agree with numpy to an ulp for both pyreflect grids, and linspace exactly', () => {
    const code = [
      'import json, numpy as np',
      'a = np.logspace(np.log10(0.0081), np.log10(0.1975), 308)',
      'b = np.logspace(np.log10(0.008101436040354381), np.log10(0.1975709062238298), 308)',
      'c = np.linspace(-183.0, 1584.9100773437804, 900)',
      'print(json.dumps([a.tolist(), b.tolist(), c.tolist()]))',
    ].join('\n');
    const [a, b, c] = JSON.parse(runPython(code)) as [number[], number[], number[]];
    const ours = [logspaceQ(0.0081, 0.1975, 308), logspaceQ(LEGACY_Q_GRID.qMin, LEGACY_Q_GRID.qMax, 308)];
    [a, b].forEach((reference, k) => {
      reference.forEach((v, i) => expect(Math.abs(ours[k]![i]! - v)).toBeLessThanOrEqual(2 * Number.EPSILON * v));
    });
    expect(Array.from(linspace(-183.0, 1584.9100773437804, 900))).toEqual(c);
  });
});
