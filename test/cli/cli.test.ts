import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateModel } from '../../src/data/simulate.js';
import { runPython } from '../helpers/python.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'reflectkit.js');

/** Runs the built command (the test command builds dist/ first). */
function cli(args: string[], cwd = ROOT, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'reflectkit-cli-'));
}

const model = {
  layers: [
    { sld: 2.07, thickness: 0, roughness: 3 },
    { sld: 4.5, thickness: 120, roughness: 6 },
    { sld: 0, thickness: 0, roughness: 0 },
  ],
  q: { min: 0.01, max: 0.2, points: 40 },
  background: 1e-7,
};

describe('reflectkit simulate', () => {
  it('prints one JSON object {q, R, z, sld} equal to the library’s', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
    const { status, stdout } = cli(['simulate', '--model', join(dir, 'model.json')]);
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual(simulateModel(model));
  });
  it('exits 2 with the field path for a bad model, and for malformed JSON', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...model, layers: [model.layers[0], { ...model.layers[1], thickness: -5 }, model.layers[2]] }));
    const bad = cli(['simulate', '--model', join(dir, 'bad.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('INVALID_LAYERS at layers[1].thickness');
    writeFileSync(join(dir, 'broken.json'), '{"layers": [');
    const broken = cli(['simulate', '--model', join(dir, 'broken.json')]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('is not valid JSON');
    // V8's own message would quote the text around the error: a password must not reach the terminal.
    writeFileSync(join(dir, 'secret.json'), '{"storage": {"history": {"mongodbUri": hunter2secret}}}');
    const secret = cli(['run', join(dir, 'secret.json')]);
    expect(secret.status).toBe(2);
    expect(secret.stderr).toContain('is not valid JSON');
    expect(secret.stderr + secret.stdout).not.toContain('hunter2');
    writeFileSync(join(dir, 'late.json'), '{\n  "name": "x",\n  "seed": 1 2\n}');
    expect(cli(['run', join(dir, 'late.json')]).stderr).toContain('is not valid JSON (line 3, column 13)');
    const missing = cli(['simulate', '--model', join(dir, 'nope.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('IO_ERROR');
  });
});

describe('reflectkit generate', () => {
  it('writes numpy-readable files from a pyreflect-style config, with --seed and --workers', () => {
    const dir = scratch();
    const config = {
      num_curves: 64,
      layer_desc: model.layers.map((l) => ({ ...l, isld: 0 })),
      layer_bound: [
        { i: 1, par: 'thickness', bounds: [80, 160] },
        { i: 1, par: 'sld', bounds: [3, 5] },
      ],
    };
    writeFileSync(join(dir, 'gen.json'), JSON.stringify(config));
    const out = join(dir, 'data');
    const run = cli(['generate', '--config', join(dir, 'gen.json'), '--out', out, '--workers', '2', '--seed', '9', '--json']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout.trim()) as { nrShape: number[]; seed: number; nrPath: string };
    expect(report.nrShape).toEqual([64, 2, 308]);
    expect(report.seed).toBe(9);
    expect(runPython('import sys, numpy as np; print(np.load(sys.argv[1]).shape)', [join(out, 'sld_train.npy')]).trim()).toBe('(64, 2, 900)');
    const again = cli(['generate', '--config', join(dir, 'gen.json'), '--out', join(dir, 'again'), '--workers', '0', '--seed', '9', '--quiet']);
    expect(again.status).toBe(0);
    expect(runPython('import sys, numpy as np; print(np.array_equal(np.load(sys.argv[1]), np.load(sys.argv[2])))', [join(out, 'nr_train.npy'), join(dir, 'again', 'nr_train.npy')]).trim()).toBe('True');
  });
  it('shows a progress line per tenth on a non-terminal stderr', () => {
    const run = cli(['generate', '--out', join(scratch(), 'd'), '--curves', '300', '--seed', '1']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('generate: 300/300 curves');
    expect(run.stdout).toContain('300 curves in');
  });
  it('rejects bad options with exit 2', () => {
    expect(cli(['generate', '--out', scratch(), '--curves', '0']).status).toBe(2);
    expect(cli(['generate', '--out', scratch(), '--workers', '999']).stderr).toContain('INVALID_OPTION at workers');
    const dir = scratch();
    writeFileSync(join(dir, 'gen.json'), JSON.stringify({ numCurve: 5 }));
    const typo = cli(['generate', '--config', join(dir, 'gen.json'), '--out', dir]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('unknown key "numCurve"');
  });
});

describe('reflectkit run (the main job)', () => {
  it('runs the whole demo pipeline into a new run folder: data, model, evaluation, report', () => {
    const dir = scratch();
    const run = cli(['run', '--out', dir, '--curves', '60', '--epochs', '1', '--json'], ROOT, { REFLECTKIT_HISTORY_DIR: join(dir, 'history') });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      runDir: string;
      metrics: { r2: number; mse: number; testCurves: number };
      backend: string;
      timing: Record<string, number>;
    };
    expect(report.runDir.startsWith(dir)).toBe(true);
    expect(report.metrics.testCurves).toBe(6); // 10 % of 60
    expect(Number.isFinite(report.metrics.mse)).toBe(true);
    expect(Object.keys(report.timing)).toEqual(['generate', 'train', 'save', 'evaluate', 'report', 'total', 'history', 'wall']);
    expect(readdirSync(join(report.runDir, 'data')).sort()).toEqual(['generation.json', 'nr_train.npy', 'parameters.npy', 'sld_train.npy']);
    const files = readdirSync(report.runDir);
    for (const name of ['report.html', 'result.json', 'nr.png', 'sld.png', 'loss.png', 'parity.png', 'pipeline.json', 'model']) expect(files).toContain(name);
    const result = JSON.parse(readFileSync(join(report.runDir, 'result.json'), 'utf8')) as { source: { kind: string }; training: { epochs: number[] } };
    expect(result.source.kind).toBe('test-split');
    expect(result.training.epochs).toEqual([1]);
    // The run is in the history (the embedded store: no MongoDB configured).
    const listed = cli(['history', 'list', '--dir', join(dir, 'history'), '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const page = JSON.parse(listed.stdout.trim()) as { items: Array<{ id: string; result: { model_id: string } }> };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]!.result.model_id).toBe((report as unknown as { modelId: string }).modelId);
  });
  it('answers --help and --version', () => {
    expect(cli(['--help']).stdout).toContain('simulate');
    expect(cli(['generate', '--help']).stdout).toContain('Example gen.json');
    expect(cli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(cli(['frobnicate']).status).toBe(2);
  });
});
