import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function run(script: string, args: string[] = []): string {
  return execFileSync(process.execPath, [join(ROOT, 'examples', 'node', script), ...args], { cwd: ROOT }).toString();
}

describe('examples run against the built package', () => {
  it('simulate-curve.mjs prints 12 Q points and the profile ends', () => {
    const out = run('simulate-curve.mjs');
    expect(out.split('\n').filter((l) => /^0\.\d{5}\s/.test(l))).toHaveLength(12);
    expect(out).toMatch(/profile: 900 points from z = -10\.0 Å \(SLD 2\.070\)/);
  });
  it('generate-dataset.mjs writes the two .npy files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflectkit-example-'));
    const out = run('generate-dataset.mjs', [dir, '64']);
    expect(out).toContain('64 curves');
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['nr_train.npy', 'sld_train.npy']));
  });
});
