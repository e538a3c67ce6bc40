import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeNrFromSld } from '../../src/eval/nr-from-sld.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'reflectkit.js');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('reflectkit nr-from-sld', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reflectkit-nrsld-'));
  const q = Array.from({ length: 60 }, (_, i) => 0.008 + i * 0.003);
  const profile = { z: [0, 0, 150, 150, 200, 200], sld: [2.07, 4.5, 4.5, 1.2, 1.2, 0], order: 'substrate-to-air', q, qResolution: 0.03, backing: 2.07, fronting: 0 };

  it('prints {q, R} for a step profile, equal to computeNrFromSld', () => {
    writeFileSync(join(dir, 'profile.json'), JSON.stringify(profile));
    const run = cli(['nr-from-sld', '--profile', join(dir, 'profile.json')]);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { q: number[]; R: number[]; backing: { sld: number; estimated: boolean } };
    const { z, sld, order, ...options } = profile;
    const expected = computeNrFromSld({ z, sld, order: order as 'substrate-to-air' }, options);
    expect(out.q).toEqual(q);
    expect(out.R).toEqual(Array.from(expected.reflectivity));
    expect(out.backing).toEqual({ sld: 2.07, isld: 0, estimated: false });
    // Total reflection below the substrate's critical edge, Q_c = √(16π·2.07e-6) ≈ 0.0102 Å⁻¹ (smeared).
    expect(out.R[0]).toBeGreaterThan(0.9);
    expect(out.R[59]).toBeLessThan(1e-5);
  });

  it('writes to --out and takes dq as FWHM', () => {
    const { qResolution: _, ...rest } = profile;
    writeFileSync(join(dir, 'dq.json'), JSON.stringify({ ...rest, dq: q.map((v) => 0.03 * v), dqIs: 'fwhm' }));
    expect(cli(['nr-from-sld', '--profile', join(dir, 'dq.json'), '--out', join(dir, 'curve.json')]).status).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, 'curve.json'), 'utf8')) as { R: number[] };
    const { z, sld, ...options } = rest;
    const expected = computeNrFromSld({ z, sld }, { ...options, order: undefined, dq: q.map((v) => 0.03 * v), dqIs: 'fwhm' } as never);
    expect(out.R).toEqual(Array.from(expected.reflectivity));
  });

  it('exits 2 naming the field for a bad profile', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...profile, z: [0, 10, 5, 150, 200, 200] }));
    const run = cli(['nr-from-sld', '--profile', join(dir, 'bad.json')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('INVALID_PROFILE');
    expect(run.stderr).toContain('z[2]');
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ ...profile, qresolution: 0.1 }));
    const typo = cli(['nr-from-sld', '--profile', join(dir, 'typo.json')]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('qresolution');
  });
});
