import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import { loadBundle } from '../../src/nn/model-folder.node.js';
import { tf } from '../../src/nn/tf.js';
import { runPython } from '../helpers/python.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'reflectkit.js');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
let data: string;
const small = { model: { layers: 2, kernelSize: 3, seed: 1 }, training: { epochs: 3, batchSize: 16, seed: 2, checkpointEvery: 1 } };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-train-'));
  data = join(dir, 'data');
  writeFileSync(join(dir, 'gen.json'), JSON.stringify({ numCurves: 120, numLayers: 1, q: { points: 32 }, profilePoints: 32, seed: 4 }));
  expect(cli(['generate', '--config', join(dir, 'gen.json'), '--out', data, '--quiet']).status).toBe(0);
  writeFileSync(join(dir, 'train.json'), JSON.stringify(small));
});

describe('reflectkit train', () => {
  it('trains on a generated pair and writes a model folder that loads and predicts', async () => {
    const out = join(dir, 'model');
    const run = cli(['train', '--data', data, '--config', join(dir, 'train.json'), '--out', out, '--json']);
    expect(run.status).toBe(0);
    // --json: no progress lines. TensorFlow's C library (2.21, absl logging) prints load notices on some CPUs
    // (oneDNN, CPU features) whatever TF_CPP_MIN_LOG_LEVEL says: those lines are not ours.
    const ours = run.stderr.split('\n').filter((line) => line !== '' && !/^(WARNING: All log messages before absl|[IWEF]\d{4} \d\d:\d\d:\d\d)/.test(line));
    expect(ours).toEqual([]);
    const summary = JSON.parse(run.stdout.trim()) as { status: string; epochs: number; backend: string; engine: string; validationLoss: number };
    expect(summary).toMatchObject({ status: 'completed', epochs: 3 });
    // tfjs-node is installed by the test setup, so the fastest backend is native TensorFlow, in this thread.
    expect(summary.backend).toMatch(/^tensorflow/);
    expect(summary.engine).toBe('this thread');
    await useBackend('wasm');
    const loaded = await loadBundle(out);
    expect(loaded.config.model).toMatchObject({ layers: 2, kernelSize: 3, inputPoints: 32, outputPoints: 32 });
    expect(loaded.config.history?.epochs).toEqual([1, 2, 3]);
    const prediction = loaded.cnn.model.predict(tf.zeros([1, 32, 1])) as tf.Tensor;
    expect(prediction.shape).toEqual([1, 2, 32]);
    expect(loaded.scaler.stats.logNr).toBe(true);
  });

  it('on wasm, trains with one data-parallel worker per core by default', () => {
    const run = cli(['train', '--data', data, '--config', join(dir, 'train.json'), '--out', join(dir, 'wasm-model'), '--backend', 'wasm', '--json']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ status: 'completed', engine: '2 worker threads (data-parallel, wasm)' });
  });

  it('reads pyreflect-style float64 files written by numpy', () => {
    const py = join(dir, 'py');
    runPython(
      [
        'import sys, os, numpy as np',
        'os.makedirs(sys.argv[1], exist_ok=True); n = 40',
        'rng = np.random.default_rng(0); q = np.logspace(-2, -0.7, 32); z = np.linspace(0, 300, 32)',
        'nr = np.stack([np.stack([q, 10 ** (-4 * q * rng.uniform(10, 20)) ]) for _ in range(n)])',
        'sld = np.stack([np.stack([z, 2 + np.tanh((z - rng.uniform(50, 250)) / 20)]) for _ in range(n)])',
        'np.save(os.path.join(sys.argv[1], "nr_train.npy"), nr); np.save(os.path.join(sys.argv[1], "sld_train.npy"), sld)',
      ].join('\n'),
      [py],
    );
    const run = cli(['train', '--data', py, '--config', join(dir, 'train.json'), '--out', join(dir, 'py-model'), '--quiet', '--include-data']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('completed after 3 epochs');
    // --include-data: the bundle carries the exact training files.
    for (const name of ['nr_train.npy', 'sld_train.npy']) expect(readFileSync(join(dir, 'py-model', name)).equals(readFileSync(join(py, name)))).toBe(true);
  });

  it('pauses with a checkpoint on Ctrl-C (exit 130) and --resume finishes the run', async () => {
    const out = join(dir, 'paused');
    writeFileSync(join(dir, 'long.json'), JSON.stringify({ ...small, training: { ...small.training, epochs: 12 } }));
    const child = spawn(process.execPath, [BIN, 'train', '--data', data, '--config', join(dir, 'long.json'), '--out', out], { cwd: ROOT });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += String(d);
        if (/epoch 1\/12/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', resolve);
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/paused after \d+ steps/);
    expect(existsSync(join(out, 'checkpoints', 'latest.json'))).toBe(true);
    expect(existsSync(join(out, 'config.json'))).toBe(false);
    const meta = JSON.parse(readFileSync(join(out, 'checkpoints', JSON.parse(readFileSync(join(out, 'checkpoints', 'latest.json'), 'utf8')).checkpoint, 'meta.json'), 'utf8')) as { progress: { epoch: number } };
    expect(meta.progress.epoch).toBeGreaterThanOrEqual(1);
    expect(meta.progress.epoch).toBeLessThan(12);
    const resumed = cli(['train', '--resume', '--out', out, '--json', '--quiet']);
    expect(resumed.status).toBe(0);
    expect(JSON.parse(resumed.stdout.trim())).toMatchObject({ status: 'completed', epochs: 12 });
  });

  it('explains what to do when pyreflect’s full model cannot fit the wasm heap (--backend wasm)', () => {
    const full = join(dir, 'full.json');
    writeFileSync(full, JSON.stringify({ model: { layers: 1, kernelSize: 1 } }));
    // 308 × 900 data: generate a few curves on the default grids
    const big = join(dir, 'big');
    expect(cli(['generate', '--out', big, '--curves', '10', '--quiet']).status).toBe(0);
    const run = cli(['train', '--data', big, '--config', full, '--out', join(dir, 'full-model'), '--backend', 'wasm']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/MEMORY_LIMIT.*4 GiB heap.*tfjs-node/s);
  });

  it('rejects bad configs and missing data with exit 2', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ training: { epochs: 0 } }));
    expect(cli(['train', '--data', data, '--config', join(dir, 'bad.json'), '--out', join(dir, 'x')]).stderr).toContain('INVALID_OPTION at epochs');
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ trainig: {} }));
    const typo = cli(['train', '--data', data, '--config', join(dir, 'typo.json'), '--out', join(dir, 'x')]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('INVALID_CONFIG');
    expect(cli(['train', '--data', join(dir, 'nowhere'), '--out', join(dir, 'x')]).stderr).toContain('IO_ERROR');
    expect(cli(['train', '--resume', '--out', join(dir, 'nothing-here')]).stderr).toContain('CHECKPOINT_INVALID');
  });
});
