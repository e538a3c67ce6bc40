import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import { loadBundle, saveBundle } from '../../src/nn/model-folder.node.js';
import { Trainer } from '../../src/nn/trainer.js';
import { tf } from '../../src/nn/tf.js';
import { SMALL, smallData } from './helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('model folders', () => {
  it('save and load to identical predictions (BatchNorm statistics included)', async () => {
    const data = await smallData(60);
    const trainer = new Trainer(SMALL, { epochs: 1, batchSize: 16 });
    const result = await trainer.fit(data);
    const dir = join(mkdtempSync(join(tmpdir(), 'reflectkit-model-')), 'model');
    await saveBundle(dir, trainer.cnn, data.scaler, { history: result.history });
    const loaded = await loadBundle(dir);
    const x = tf.tensor(data.validationX, [data.validationX.length / 32, 32, 1]);
    const a = (trainer.cnn.model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.cnn.model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(loaded.scaler.toJSON()).toEqual(data.scaler.toJSON());
    expect(loaded.config.history).toEqual(result.history);
  });

  it('refuse a folder with a truncated weights file or another architecture', async () => {
    const data = await smallData(20);
    const trainer = new Trainer(SMALL, { epochs: 1 });
    const dir = join(mkdtempSync(join(tmpdir(), 'reflectkit-model-')), 'model');
    await saveBundle(dir, trainer.cnn, data.scaler);
    const weights = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), weights.subarray(0, weights.length - 4));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/weights\.bin does not match config\.json/) });
    // A folder from before the file manifest: the size check still catches it.
    const saved = readFileSync(join(dir, 'config.json'), 'utf8');
    const { files: _files, ...legacy } = JSON.parse(saved) as { files: unknown };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(legacy));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/weights\.bin holds/) });
    writeFileSync(join(dir, 'config.json'), saved);
    writeFileSync(join(dir, 'weights.bin'), weights);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: { layers: number } };
    config.model.layers = 3;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
    await expect(loadBundle(join(dir, 'missing'))).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });
});

describe('model folders as bundles', () => {
  it('record size and SHA-256 of every file, carry the training data, and refuse a mixed or damaged folder', async () => {
    const data = await smallData(30);
    const trainer = new Trainer(SMALL, { epochs: 1 });
    const root = mkdtempSync(join(tmpdir(), 'reflectkit-bundle-'));
    writeFileSync(join(root, 'nr.npy'), 'not really npy, but bytes to copy');
    writeFileSync(join(root, 'sld.npy'), 'other bytes');
    const dir = join(root, 'model');
    await saveBundle(dir, trainer.cnn, data.scaler, { trainingData: { nr: join(root, 'nr.npy'), sld: join(root, 'sld.npy') } });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
    expect(Object.keys(config.files).sort()).toEqual(['nr_train.npy', 'scaler.json', 'sld_train.npy', 'weights.bin']);
    expect(config.files['nr_train.npy']).toEqual({ bytes: 33, sha256: createHash('sha256').update('not really npy, but bytes to copy').digest('hex') });
    expect(readFileSync(join(dir, 'sld_train.npy'), 'utf8')).toBe('other bytes');
    expect(readdirSync(root).sort()).toEqual(['model', 'nr.npy', 'sld.npy']); // no staging folder left
    await loadBundle(dir, { verifyTrainingData: true });

    // A save of another model interrupted after its weights were moved in: old config, new weights.
    const other = new Trainer({ ...SMALL, seed: 99 }, { epochs: 1 });
    const otherDir = join(root, 'other');
    await saveBundle(otherDir, other.cnn, data.scaler);
    copyFileSync(join(otherDir, 'weights.bin'), join(dir, 'weights.bin'));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/weights\.bin does not match config\.json/) });

    // Damaged training data is caught when asked for.
    await saveBundle(dir, trainer.cnn, data.scaler, { trainingData: { nr: join(root, 'nr.npy'), sld: join(root, 'sld.npy') } });
    writeFileSync(join(dir, 'sld_train.npy'), 'other byteZ');
    await loadBundle(dir);
    await expect(loadBundle(dir, { verifyTrainingData: true })).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', path: join(dir, 'sld_train.npy') });
    await trainer.dispose();
    await other.dispose();
  });
});
