import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import { loadModelFolder, saveModelFolder } from '../../src/nn/model-folder.node.js';
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
    await saveModelFolder(dir, trainer.cnn, data.scaler, { history: result.history });
    const loaded = await loadModelFolder(dir);
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
    await saveModelFolder(dir, trainer.cnn, data.scaler);
    const weights = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), weights.subarray(0, weights.length - 4));
    await expect(loadModelFolder(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/weights\.bin holds/) });
    writeFileSync(join(dir, 'weights.bin'), weights);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: { layers: number } };
    config.model.layers = 3;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    await expect(loadModelFolder(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
    await expect(loadModelFolder(join(dir, 'missing'))).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });
});
