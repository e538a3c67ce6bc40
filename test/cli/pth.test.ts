import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/io/npy-file.node.js';
import { useBackend } from '../../src/nn/backend.js';
import { createCnn } from '../../src/nn/cnn.js';
import { loadBundle, saveBundle } from '../../src/nn/model-folder.node.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { torchPth, torchPthJson, torchPython } from '../helpers/torch.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RUNNER = join(ROOT, 'test', 'helpers', 'run-cli.ts');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', RUNNER, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** pyreflect's load_normalization_stat (np.load(path, allow_pickle=True).item()), warnings as errors: the dict and a value's type. */
const NUMPY_ITEM = 'import sys, warnings; warnings.simplefilter("error"); import numpy as np; d = np.load(sys.argv[1], allow_pickle=True).item(); print(d, type(d["nr"]["y"]["max"]).__name__)';

/** pyreflect's stats as torch_pth.py save-stats writes them. */
const STATS = { nr: { x: { min: 0.0081, max: 0.1975 }, y: { min: -7.5, max: 0 } }, sld: { x: { min: 0, max: 450.25 }, y: { min: -0.5, max: 6.36 } } };

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-cli-pth-'));
  await useBackend('wasm');
  // A CNN-shaped state_dict with a small head (Q 32, P 16) keeps the CLI plumbing tests fast; the full-size
  // comparison with pyreflect's CNN class is in test/nn/torch-state.test.ts.
  torchPth('save-small-cnn', join(dir, 'small.pth'), 2, 32, 16, 1);
  torchPth('save-stats', join(dir, 'normalization_stat.npy'));
  torchPth('save-stats-numpy-scalars', join(dir, 'numpy_scalars.npy'));
});

describe('reflectkit import-pth / export-pth', () => {
  it('print help with examples', () => {
    for (const command of ['export-pth', 'import-pth']) {
      const run = cli([command, '--help']);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('Examples:');
      expect(run.stdout).toContain(`reflectkit ${command} `);
    }
  });

  it("import a torch state_dict with pyreflect's stats .npy, and export it back to the same tensors", () => {
    const model = join(dir, 'model');
    const imported = cli(['import-pth', join(dir, 'small.pth'), '--stats', join(dir, 'normalization_stat.npy'), '--out', model, '--json']);
    expect(imported.status, imported.stderr).toBe(0);
    const summary = JSON.parse(imported.stdout) as { model: Record<string, unknown>; numBatchesTracked: number };
    expect(summary.model).toMatchObject({ layers: 2, kernelSize: 51, inputPoints: 32, outputPoints: 16, head: 'dense' });
    expect(summary.numBatchesTracked).toBe(17);
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { info: { source: { format: string } } };
    expect(config.info.source.format).toBe('pth');
    const scaler = JSON.parse(readFileSync(join(model, 'scaler.json'), 'utf8')) as Record<string, unknown>;
    expect(scaler).toMatchObject({ ...STATS, logNr: true, clipMin: 1e-8 });

    const out = join(dir, 'back.pth');
    const exported = cli(['export-pth', '--model', model, '--out', out, '--stats-out', join(dir, 'stats-out.npy'), '--num-batches-tracked', '17', '--json']);
    expect(exported.status, exported.stderr).toBe(0);
    const result = JSON.parse(exported.stdout) as { statsOut: string; tensors: number } & Record<string, unknown>;
    expect(result.tensors).toBe(16);
    // pyreflect's normalization_stat.npy itself: numpy loads the same dict of Python floats, and import-pth reads it.
    expect(result.statsOut).toBe(join(dir, 'stats-out.npy'));
    expect(result).not.toHaveProperty('note');
    expect(exported.stderr).not.toContain('note');
    expect(existsSync(join(dir, 'stats-out.json'))).toBe(false);
    expect(execFileSync(torchPython(), ['-c', NUMPY_ITEM, result.statsOut], { encoding: 'utf8' }).trim()).toBe(
      "{'nr': {'x': {'min': 0.0081, 'max': 0.1975}, 'y': {'min': -7.5, 'max': 0.0}}, 'sld': {'x': {'min': 0.0, 'max': 450.25}, 'y': {'min': -0.5, 'max': 6.36}}} float",
    );
    const reimported = cli(['import-pth', out, '--stats', result.statsOut, '--out', join(dir, 'model-again')]);
    expect(reimported.status, reimported.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'model-again', 'scaler.json'), 'utf8'))).toEqual(scaler);
    // Any other name gets our scaler JSON.
    const json = cli(['export-pth', '--model', model, '--out', join(dir, 'back2.pth'), '--stats-out', join(dir, 'stats-out.json')]);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'stats-out.json'), 'utf8'))).toEqual(scaler);
    // torch reads the export as the very tensors it saved: keys, order, dtypes and values.
    const same = torchPthJson<{ keysA: string[]; keysB: string[]; different: string[] }>('equal', join(dir, 'small.pth'), out);
    expect(same.keysB).toEqual(same.keysA);
    expect(same.different).toEqual([]);
  });

  it('read stats saved as numpy float64 scalars, and our own JSON', async () => {
    const model = join(dir, 'model-scalars');
    const run = cli(['import-pth', join(dir, 'small.pth'), '--stats', join(dir, 'numpy_scalars.npy'), '--out', model]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('pyreflect CNN(2), kernel 51, Q 32, P 16');
    const loaded = await loadBundle(model);
    expect(loaded.scaler.toPyreflect()).toEqual({ nr: { x: { min: 0.0081, max: 0.1975 }, y: { min: -7.5, max: 0 } }, sld: STATS.sld });
    // Our own scaler JSON, and --data: the training data's Q grid is recorded for reflectkit predict.
    const data = join(dir, 'data');
    mkdirSync(data);
    const q = Array.from({ length: 32 }, (_, k) => 0.01 + 0.005 * k);
    const nr = new Float32Array(2 * 2 * 32);
    for (let i = 0; i < 2; i++) nr.set(q, i * 64);
    await writeNpy(join(data, 'nr_train.npy'), nr, [2, 2, 32]);
    await writeNpy(join(data, 'sld_train.npy'), new Float32Array(2 * 2 * 16), [2, 2, 16]);
    const again = cli(['import-pth', join(dir, 'small.pth'), '--stats', join(model, 'scaler.json'), '--data', data, '--out', join(dir, 'model-json')]);
    expect(again.status, again.stderr).toBe(0);
    const withData = await loadBundle(join(dir, 'model-json'));
    expect(withData.scaler.toJSON()).toEqual(loaded.scaler.toJSON());
    expect(withData.config.info).toMatchObject({ data, q: q.map((v) => Math.fround(v)) });
    // A data folder with another number of Q points is refused.
    const other = join(dir, 'data-20');
    mkdirSync(other);
    await writeNpy(join(other, 'nr_train.npy'), new Float32Array(2 * 2 * 20), [2, 2, 20]);
    await writeNpy(join(other, 'sld_train.npy'), new Float32Array(2 * 2 * 16), [2, 2, 16]);
    const wrong = cli(['import-pth', join(dir, 'small.pth'), '--stats', join(model, 'scaler.json'), '--data', other, '--out', join(dir, 'never')]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('has 20 Q points, the model takes 32');
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('refuse files whose pickles would run code (exit 2, PTH_UNSAFE), and nothing runs', () => {
    const marker = join(tmpdir(), `reflectkit-pwned-${randomBytes(6).toString('hex')}`);
    torchPth('save-evil-npy', join(dir, 'evil.npy'), marker);
    torchPth('save-evil', join(dir, 'evil.pth'), marker);
    const stats = cli(['import-pth', join(dir, 'small.pth'), '--stats', join(dir, 'evil.npy'), '--out', join(dir, 'never'), '--json']);
    expect(stats.status).toBe(2);
    expect(JSON.parse(stats.stderr).error).toMatchObject({ code: 'PTH_UNSAFE', message: expect.stringContaining('global posix.system is not allowed') });
    const pth = cli(['import-pth', join(dir, 'evil.pth'), '--stats', join(dir, 'normalization_stat.npy'), '--out', join(dir, 'never')]);
    expect(pth.status).toBe(2);
    expect(pth.stderr).toContain('PTH_UNSAFE');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('refuse a checkpoint that is not a state_dict, and a model pyreflect has no counterpart for', async () => {
    torchPth('save-checkpoint', join(dir, 'checkpoint.pth'));
    const run = cli(['import-pth', join(dir, 'checkpoint.pth'), '--stats', join(dir, 'normalization_stat.npy'), '--out', join(dir, 'never')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('PTH_FORMAT');
    const bottleneck = join(dir, 'bottleneck');
    await saveBundle(bottleneck, createCnn({ layers: 1, kernelSize: 3, inputPoints: 8, outputPoints: 4, head: 'bottleneck', bottleneckChannels: 2 }), NrSldScaler.fromPyreflect(STATS));
    const exported = cli(['export-pth', '--model', bottleneck, '--out', join(dir, 'never.pth')]);
    expect(exported.status).toBe(2);
    expect(exported.stderr).toContain('CHECKPOINT_INVALID');
    expect(existsSync(join(dir, 'never.pth'))).toBe(false);
  });
});
