import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GAUSSIAN_FWHM_PER_SIGMA } from '../../src/io/measured.js';
import { readMeasuredFile } from '../../src/io/measured-file.node.js';
import { rejection } from '../helpers/errors.js';

const REAL = join(import.meta.dirname, '..', 'fixtures', 'REFL_212592_reduced_noQb.txt');
const dir = () => mkdtempSync(join(tmpdir(), 'reflectkit-measured-'));

const ORSO = `# # ORSO reflectivity data file | 1.1 standard | YAML encoding | https://www.reflectometry.org/
# data_set: up
# columns:
# - {name: Qz, unit: 1/angstrom}
# - {name: R}
# - {error_of: R}
# - {error_of: Qz, value_is: FWHM}
0.02 0.5 0.05 0.0004
0.01 1.0 0.1 0.0002
# data_set: down
0.03 0.25 0.01 0.0006
`;

describe('readMeasuredFile', () => {
  it('reads the real REFL_212592 file, labelled with its base name', async () => {
    const curve = await readMeasuredFile(REAL);
    expect(curve.label).toBe('REFL_212592_reduced_noQb.txt');
    expect(curve.q.length).toBe(416);
    expect(curve.q[0]).toBe(0.0083469176538132);
    expect(curve.dqConvention).toBe('fwhm');
    expect(curve.dqSigma![0]).toBe(0.0002323386967239 / GAUSSIAN_FWHM_PER_SIGMA);
    expect((await readMeasuredFile(REAL, { label: 'run 212592' })).label).toBe('run 212592');
  });

  it('reads ORSO by the .ort extension and by content, passing the data set option on', async () => {
    const folder = dir();
    const ort = join(folder, 'sample.ort');
    const txt = join(folder, 'sample-orso.txt');
    writeFileSync(ort, ORSO);
    writeFileSync(txt, ORSO);
    for (const path of [ort, txt]) {
      const up = await readMeasuredFile(path);
      expect(Array.from(up.q)).toEqual([0.01, 0.02]);
      expect(up.dqSigma![0]).toBe(0.0002 / GAUSSIAN_FWHM_PER_SIGMA);
      const down = await readMeasuredFile(path, { dataset: 'down' });
      expect(Array.from(down.r)).toEqual([0.25]);
    }
    expect((await readMeasuredFile(ort)).label).toBe('sample.ort');
  });

  it('treats a .ort file without the ORSO first line as a format error naming the file', async () => {
    const path = join(dir(), 'plain.ort');
    writeFileSync(path, '0.01 1 0.1 0.001\n');
    const error = await rejection(readMeasuredFile(path));
    expect(error.code).toBe('MEASURED_FORMAT');
    expect(error.path).toBe(path);
    expect(error.message).toMatch(/line 1: not an ORSO file/);
    // an explicit format wins over the extension
    expect((await readMeasuredFile(path, { format: 'text' })).q[0]).toBe(0.01);
  });

  it('reports line numbers with the file path for malformed text', async () => {
    const path = join(dir(), 'bad.txt');
    writeFileSync(path, '# Q R dR dQ\n0.01 1 0.1 0.001\n0.02 0.5 0.1\n');
    const error = await rejection(readMeasuredFile(path));
    expect(error.code).toBe('MEASURED_FORMAT');
    expect(error.path).toBe(path);
    expect(error.message).toContain('line 3: expected 4 numbers, got 3');
  });

  it('reports a missing file as IO_ERROR with its path', async () => {
    const path = join(dir(), 'missing.txt');
    const error = await rejection(readMeasuredFile(path));
    expect(error.code).toBe('IO_ERROR');
    expect(error.path).toBe(path);
    expect(error.message).toMatch(/ENOENT/);
  });
});
