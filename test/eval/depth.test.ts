import { describe, expect, it } from 'vitest';
import { straightenDepth } from '../../src/eval/depth.js';
import { thrown } from '../helpers/errors.js';

describe('straightenDepth', () => {
  it('recovers the uniform grid under zero-mean noise, increasing', () => {
    const n = 900;
    const exact = Array.from({ length: n }, (_, i) => -12 + (i * 612) / (n - 1));
    const noisy = exact.map((z, i) => z + (i % 2 === 0 ? 0.8 : -0.8));
    const z = straightenDepth(noisy);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(z[i]! - exact[i]!));
    expect(worst).toBeLessThan(0.01);
    for (let i = 1; i < n; i++) expect(z[i]).toBeGreaterThan(z[i - 1]!);
  });

  it('refuses a row that does not rise', () => {
    expect(thrown(() => straightenDepth([3, 2, 1]))).toMatchObject({ code: 'INVALID_PROFILE', path: 'z' });
    expect(thrown(() => straightenDepth([1]))).toMatchObject({ code: 'INVALID_PROFILE' });
  });
});
