import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePickledNpy } from '../../src/io/pickled-npy.js';
import { readPth } from '../../src/io/pth-file.node.js';
import { useBackend } from '../../src/nn/backend.js';
import { loadBundle, saveBundle } from '../../src/nn/model-folder.node.js';
import type { Cnn } from '../../src/nn/cnn.js';
import { Trainer } from '../../src/nn/trainer.js';
import { tf } from '../../src/nn/tf.js';
import { SMALL, smallData } from './helpers.js';

/** SMALL with reflectkit's bottleneck head, whose weights go to weights.bin (no pyreflect state_dict exists for it). */
const SMALL_BOTTLENECK = { ...SMALL, head: 'bottleneck', bottleneckChannels: 4 } as const;

function predictionsEqual(a: Cnn, b: Cnn, x: Float32Array): void {
  const input = tf.tensor(x, [x.length / 32, 32, 1]);
  const pa = (a.model.predict(input) as tf.Tensor).dataSync();
  const pb = (b.model.predict(input) as tf.Tensor).dataSync();
  expect(Array.from(pb)).toEqual(Array.from(pa));
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('model folders', () => {
  it("save and load to identical predictions: the dense head as pyreflect's {modelId}.pth, stats also as normalization_stat.npy", async () => {
    const data = await smallData(60);
    const trainer = new Trainer(SMALL, { epochs: 1, batchSize: 16 });
    const result = await trainer.fit(data);
    const dir = join(mkdtempSync(join(tmpdir(), 'reflectkit-model-')), 'model');
    const config = await saveBundle(dir, trainer.cnn, data.scaler, { history: result.history, info: { steps: 4 } });
    expect(config.modelId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(config.weightsFile).toBe(`${config.modelId}.pth`);
    expect(readdirSync(dir).sort()).toEqual([`${config.modelId}.pth`, 'config.json', 'normalization_stat.npy', 'scaler.json'].sort());
    const loaded = await loadBundle(dir);
    predictionsEqual(trainer.cnn, loaded.cnn, data.validationX);
    expect(loaded.scaler.toJSON()).toEqual(data.scaler.toJSON());
    expect(loaded.config.history).toEqual(result.history);
    // The .pth is pyreflect's state_dict (keys in its order) with the recorded step count.
    const tensors = await readPth(join(dir, `${config.modelId}.pth`));
    expect(tensors.map((t) => t.name).slice(0, 3)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight']);
    expect(tensors.find((t) => t.name === 'layers.1.num_batches_tracked')?.data[0]).toBe(4);
    expect(tensors.at(-1)?.name).toBe('linear1.bias');
    // normalization_stat.npy holds pyreflect's {nr, sld} stats, read back without unpickling code.
    expect(decodePickledNpy(readFileSync(join(dir, 'normalization_stat.npy')))).toEqual(data.scaler.toPyreflect());
    // Saving again into the folder keeps the model id.
    expect((await saveBundle(dir, trainer.cnn, data.scaler)).modelId).toBe(config.modelId);
    await expect(saveBundle(join(dir, 'x'), trainer.cnn, data.scaler, { modelId: '../escape' })).rejects.toMatchObject({ code: 'INVALID_ID', path: 'modelId' });
    await trainer.dispose();
  });

  it('save and load the bottleneck head through weights.bin to identical predictions', async () => {
    const data = await smallData(40);
    const trainer = new Trainer(SMALL_BOTTLENECK, { epochs: 1, batchSize: 16 });
    await trainer.fit(data);
    const dir = join(mkdtempSync(join(tmpdir(), 'reflectkit-model-')), 'model');
    const config = await saveBundle(dir, trainer.cnn, data.scaler, { modelId: 'demo-model_1' });
    expect(config.weightsFile).toBe('weights.bin');
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'normalization_stat.npy', 'scaler.json', 'weights.bin']);
    predictionsEqual(trainer.cnn, (await loadBundle(dir)).cnn, data.validationX);
    await trainer.dispose();
  });

  it('refuse a folder with a truncated weights file or another architecture', async () => {
    const data = await smallData(20);
    const trainer = new Trainer(SMALL_BOTTLENECK, { epochs: 1 });
    const dir = join(mkdtempSync(join(tmpdir(), 'reflectkit-model-')), 'model');
    await saveBundle(dir, trainer.cnn, data.scaler);
    const weights = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), weights.subarray(0, weights.length - 4));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/weights\.bin does not match config\.json/) });
    // A folder from before the file manifest: the size check still catches it.
    const saved = readFileSync(join(dir, 'config.json'), 'utf8');
    const { files: _files, weightsFile: _weightsFile, modelId: _modelId, ...legacy } = JSON.parse(saved) as { files: unknown; weightsFile: unknown; modelId: unknown };
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

  it('refuse, before building it, a config.json that declares a model its weights file cannot hold, and a damaged scaler.json', async () => {
    const data = await smallData(20);
    const trainer = new Trainer(SMALL_BOTTLENECK, { epochs: 1 });
    const dir = join(mkdtempSync(join(tmpdir(), 'reflectkit-model-')), 'model');
    await saveBundle(dir, trainer.cnn, data.scaler);
    await trainer.dispose();
    // A folder without the manifest (as older ones): nothing but the sizes guards it.
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { files?: unknown; model: { inputPoints: number; outputPoints: number } };
    delete saved.files;
    const huge = { ...saved, model: { ...saved.model, inputPoints: 100_000, outputPoints: 100_000 } };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(huge));
    const tensorsBefore = tf.memory().numTensors;
    // 4 bytes for each of 1.3e12 parameters: refused from the file size, nothing allocated
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/describes \d+ trainable parameters, weights\.bin holds \d+ bytes/) });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(saved));
    const loaded = await loadBundle(dir);
    expect(loaded.scaler.toJSON()).toEqual(data.scaler.toJSON());
    loaded.cnn.model.dispose();
    writeFileSync(join(dir, 'scaler.json'), '{"format": "reflectkit-scaler", "version": 1, "logNr": tr');
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', path: join(dir, 'scaler.json') });
    writeFileSync(join(dir, 'scaler.json'), JSON.stringify({ ...data.scaler.toJSON(), clipMin: -1 }));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', path: join(dir, 'scaler.json') });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});

describe('model folders as bundles', () => {
  it('record size and SHA-256 of every file, carry the training data, and refuse a mixed or damaged folder', async () => {
    const data = await smallData(30);
    const trainer = new Trainer(SMALL_BOTTLENECK, { epochs: 1 });
    const root = mkdtempSync(join(tmpdir(), 'reflectkit-bundle-'));
    writeFileSync(join(root, 'nr.npy'), 'not really npy, but bytes to copy');
    writeFileSync(join(root, 'sld.npy'), 'other bytes');
    const dir = join(root, 'model');
    await saveBundle(dir, trainer.cnn, data.scaler, { trainingData: { nr: join(root, 'nr.npy'), sld: join(root, 'sld.npy') } });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
    expect(Object.keys(config.files).sort()).toEqual(['normalization_stat.npy', 'nr_train.npy', 'scaler.json', 'sld_train.npy', 'weights.bin']);
    expect(config.files['nr_train.npy']).toEqual({ bytes: 33, sha256: createHash('sha256').update('not really npy, but bytes to copy').digest('hex') });
    expect(readFileSync(join(dir, 'sld_train.npy'), 'utf8')).toBe('other bytes');
    expect(readdirSync(root).sort()).toEqual(['model', 'nr.npy', 'sld.npy']); // no staging folder left
    await loadBundle(dir, { verifyTrainingData: true });

    // A save of another model interrupted after its weights were moved in: old config, new weights.
    const other = new Trainer({ ...SMALL_BOTTLENECK, seed: 99 }, { epochs: 1 });
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
