import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationResult } from '../../src/eval/result.js';
import { splitIndices } from '../../src/preprocess/split.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'reflectkit.js');
const MEASURED = join(ROOT, 'test', 'fixtures', 'REFL_212592_reduced_noQb.txt');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
let model: string;
let data: string;
const CURVES = 200;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-predict-'));
  data = join(dir, 'data');
  model = join(dir, 'model');
  // pyreflect's default (legacy) model on its 308-point grid with 900-point profiles, and a light CNN.
  expect(cli(['generate', '--curves', String(CURVES), '--seed', '3', '--workers', '0', '--out', data, '--quiet']).status).toBe(0);
  writeFileSync(join(dir, 'train.json'), JSON.stringify({ model: { layers: 2, kernelSize: 5, head: 'bottleneck', bottleneckChannels: 2, seed: 1 }, training: { epochs: 2, batchSize: 32, seed: 2 } }));
  const train = cli(['train', '--data', data, '--config', join(dir, 'train.json'), '--out', model, '--quiet']);
  expect(train.status, train.stderr).toBe(0);
});

describe('reflectkit predict', () => {
  it('runs end to end on a real measurement (SNS Liquids Reflectometer, run 212592)', () => {
    const out = join(dir, 'measured');
    const run = cli(['predict', '--model', model, '--data', MEASURED, '--out', out, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim()) as { metrics: { chi2: number; chi2Weighted: boolean }; source: { kind: string; pointsBelow: number } };
    expect(summary.source).toMatchObject({ kind: 'measured', pointsBelow: expect.any(Number) });
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as EvaluationResult;
    // The NR is computed back at the 416 measured points and compared with the data and its dR.
    expect(result.nr.q).toHaveLength(416);
    expect(result.nr.q[0]).toBeCloseTo(0.0083469176538132, 15);
    expect(result.nr.groundTruthError).toHaveLength(416);
    expect(result.nr.computed.every((r) => Number.isFinite(r) && r > 0)).toBe(true);
    expect(result.metrics.chi2Weighted).toBe(true);
    expect(result.metrics.chi2).toBeGreaterThan(0);
    expect(summary.metrics.chi2).toBe(result.metrics.chi2);
    // The model grid starts at 0.0081 Å⁻¹, below the data's first point: reported, not extrapolated.
    expect(result.source).toMatchObject({ kind: 'measured', label: 'REFL_212592_reduced_noQb.txt' });
    if (result.source.kind === 'measured') expect(result.source.pointsBelow).toBeGreaterThan(0);
    // A profile on an increasing z axis, no ground truth for measured data.
    expect(result.sld.groundTruth).toBeNull();
    expect(result.sld.predicted).toHaveLength(900);
    expect(result.sld.z[899]).toBeGreaterThan(result.sld.z[0]!);
    for (const name of ['report.html', 'nr.svg', 'nr.png', 'sld.svg', 'sld.png']) expect(existsSync(join(out, name)), name).toBe(true);
  });

  it('evaluates a data folder on its test split, with the example from the test split', () => {
    const out = join(dir, 'evaluation');
    const run = cli(['predict', '--model', model, '--data', data, '--out', out, '--example', '3']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/test split: 20 curves, SLD MSE/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as EvaluationResult;
    const split = splitIndices(CURVES, { seed: 0 });
    expect(result.source).toEqual({ kind: 'test-split', datasetIndex: split.test[3], testCurves: split.test.length });
    expect(result.metrics.curves).toBe(20);
    expect(result.training.epochs).toEqual([1, 2]);
    expect(result.chi).toHaveLength(50);
    for (const name of ['report.html', 'parity.png', 'loss.png']) expect(existsSync(join(out, name)), name).toBe(true);
  });

  it('exits 2 with MEASURED_FORMAT for a malformed file', () => {
    writeFileSync(join(dir, 'bad.txt'), '# Q R dR dQ\n0.01 1 0.1 0.001\n0.02 oops 0.1 0.001\n');
    const run = cli(['predict', '--model', model, '--data', join(dir, 'bad.txt'), '--out', join(dir, 'bad')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('MEASURED_FORMAT');
    expect(run.stderr).toContain('line 3');
  });
});
