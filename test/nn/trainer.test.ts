import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src/nn/backend-node.node.js';
import type { BackendName } from '../../src/nn/backend.js';
import type { CheckpointStore, TrainingSnapshot } from '../../src/nn/checkpoint.js';
import { FolderCheckpointStore, loadCheckpoint } from '../../src/nn/checkpoint-store.node.js';
import { Trainer } from '../../src/nn/trainer.js';
import { SMALL, smallData } from './helpers.js';

let data: Awaited<ReturnType<typeof smallData>>;

beforeAll(async () => {
  data = await smallData(120);
});

/** Keeps snapshots in memory (what a browser store would do with IndexedDB). */
class MemoryStore implements CheckpointStore {
  snapshots: TrainingSnapshot[] = [];
  async save(snapshot: TrainingSnapshot): Promise<string> {
    this.snapshots.push(structuredClone(snapshot));
    return `memory:${this.snapshots.length - 1}`;
  }
}

describe.each(['wasm', 'tensorflow'] as BackendName[])('Trainer on %s', (backend) => {
  beforeAll(async () => {
    await useNodeBackend(backend);
  });

  it('learns: the training and validation losses fall over a few epochs', async () => {
    const result = await new Trainer({ ...SMALL, dropout: 0.1 }, { epochs: 6, batchSize: 16, seed: 2 }).fit(data);
    const { trainingLoss, validationLoss, epochs } = result.history;
    expect(result.status).toBe('completed');
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(trainingLoss.at(-1)!).toBeLessThan(0.2 * trainingLoss[0]!);
    expect(Math.min(...validationLoss.slice(3))).toBeLessThan(validationLoss[0]!);
    expect(result.steps).toBe(6 * Math.ceil(96 / 16));
  });

  it('fits a tiny problem (8 curves) to a small loss', async () => {
    const tiny = { trainX: data.trainX.slice(0, 8 * 32), trainY: data.trainY.slice(0, 8 * 64), validationX: data.trainX.slice(0, 8 * 32), validationY: data.trainY.slice(0, 8 * 64) };
    const result = await new Trainer(SMALL, { epochs: 60, batchSize: 8, seed: 2, learningRate: 3e-3, weightDecay: 0 }).fit(tiny);
    expect(result.history.trainingLoss.at(-1)!).toBeLessThan(0.1 * result.history.trainingLoss[0]!);
    expect(result.history.validationLoss.at(-1)!).toBeLessThan(0.05);
  });

  it('is reproducible from its seeds, dropout included', async () => {
    const run = () => new Trainer({ ...SMALL, dropout: 0.3 }, { epochs: 2, batchSize: 16, seed: 9 }).fit(data);
    const [a, b] = [await run(), await run()];
    expect(b.history).toEqual(a.history);
    const c = await new Trainer({ ...SMALL, dropout: 0.3 }, { epochs: 2, batchSize: 16, seed: 10 }).fit(data);
    expect(c.history.trainingLoss).not.toEqual(a.history.trainingLoss);
  });

  it('pauses on its signal after the current batch and continues to the same result (in memory and from a checkpoint)', async () => {
    const options = { epochs: 4, batchSize: 16, seed: 4 } as const;
    const model = { ...SMALL, dropout: 0.2 };
    const uninterrupted = await new Trainer(model, options).fit(data);

    const controller = new AbortController();
    const store = new MemoryStore();
    const trainer = new Trainer(model, {
      ...options,
      signal: controller.signal,
      checkpointStore: store,
      callbacks: { onBatchEnd: (b) => b.epoch === 2 && b.batch === 2 && controller.abort() },
    });
    const paused = await trainer.fit(data);
    expect(paused.status).toBe('paused');
    expect(paused.history.epochs).toEqual([1]);
    expect(store.snapshots).toHaveLength(1);
    expect(store.snapshots[0]!.meta.progress).toMatchObject({ epoch: 1, batch: 3 });

    // From the checkpoint, in a fresh trainer:
    const resumed = await Trainer.fromSnapshot(store.snapshots[0]!).fit(data);
    expect(resumed.status).toBe('completed');
    expect(resumed.history).toEqual(uninterrupted.history);
    expect(resumed.steps).toBe(uninterrupted.steps);
  });

  it('checkpoints every N epochs to a folder that resumes to the same losses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflectkit-ckpt-'));
    const options = { epochs: 3, batchSize: 32, seed: 6, earlyStopping: { patience: 5 } } as const;
    const full = await new Trainer(SMALL, options).fit(data);
    const first = await new Trainer(SMALL, { ...options, epochs: 2, checkpointEvery: 1, checkpointStore: new FolderCheckpointStore(dir), extra: { note: 'kept' } }).fit(data);
    expect(first.checkpoint).toBe(join(dir, 'epoch-2-batch-0'));
    expect(readdirSync(dir).sort()).toEqual(['epoch-2-batch-0', 'latest.json']);
    const snapshot = await loadCheckpoint(dir);
    expect(snapshot.meta.extra).toEqual({ note: 'kept' });
    expect(snapshot.bestWeights).not.toBeNull();
    const rest = await Trainer.fromSnapshot(snapshot, { epochs: 3 }).fit(data);
    expect(rest.history).toEqual(full.history);
  });

});

describe('Trainer', () => {
  beforeAll(async () => {
    await useNodeBackend('wasm');
  });

  it.each(['sgd', 'adamw'] as const)('trains with %s, records it in the checkpoint and resumes from a folder to the same losses', async (optimizer) => {
    const dir = mkdtempSync(join(tmpdir(), `reflectkit-ckpt-${optimizer}-`));
    const options = { epochs: 3, batchSize: 32, seed: 4, optimizer, learningRate: 0.01, momentum: optimizer === 'sgd' ? 0.9 : 0 } as const;
    const full = await new Trainer(SMALL, options).fit(data);
    expect(full.history.trainingLoss.at(-1)!).toBeLessThan(full.history.trainingLoss[0]!);
    await new Trainer(SMALL, { ...options, epochs: 2, checkpointEvery: 1, checkpointStore: new FolderCheckpointStore(dir) }).fit(data);
    const snapshot = await loadCheckpoint(dir);
    expect(snapshot.meta.settings).toMatchObject({ optimizer, momentum: options.momentum });
    expect(snapshot.optimizer.v.length).toBe(optimizer === 'sgd' ? 0 : snapshot.optimizer.m.length);
    const rest = await Trainer.fromSnapshot(snapshot, { epochs: 3 }).fit(data);
    expect(rest.history).toEqual(full.history);
  });

  it('refuses an unknown optimizer and a momentum outside [0, 1)', () => {
    expect(() => new Trainer(SMALL, { optimizer: 'rmsprop' as never })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', path: 'optimizer' }));
    expect(() => new Trainer(SMALL, { optimizer: 'sgd', momentum: 1 })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', path: 'momentum' }));
  });

  it('calls onBatchEnd, onEpochEnd and onTrainEnd', async () => {
    const batches: number[] = [];
    const epochs: number[] = [];
    let ended = '';
    await new Trainer(SMALL, {
      epochs: 2,
      batchSize: 32,
      callbacks: { onBatchEnd: (b) => batches.push(b.batch), onEpochEnd: (e) => void epochs.push(e.epoch), onTrainEnd: (r) => (ended = r.status) },
    }).fit(data);
    expect(batches).toEqual([0, 1, 2, 0, 1, 2]);
    expect(epochs).toEqual([1, 2]);
    expect(ended).toBe('completed');
  });

  it('stops early after `patience` epochs without improvement and restores the best weights', async () => {
    const epochs: number[] = [];
    // A learning rate this large makes the validation loss wander, so patience 1 triggers.
    const trainer = new Trainer(SMALL, {
      epochs: 30,
      batchSize: 16,
      learningRate: 0.05,
      seed: 3,
      earlyStopping: { patience: 1 },
      callbacks: { onEpochEnd: (e) => void epochs.push(e.epoch) },
    });
    const result = await trainer.fit(data);
    expect(result.status).toBe('early-stopped');
    expect(epochs.length).toBeLessThan(30);
    expect(epochs.at(-1)).toBe(result.best!.epoch + 1);
    expect(trainer.evaluate(data.validationX, data.validationY)).toBeCloseTo(result.best!.loss, 6);
  });

  it('rejects inconsistent data and bad settings', async () => {
    const trainer = new Trainer(SMALL, { epochs: 1 });
    await expect(trainer.fit({ ...data, trainY: data.trainY.slice(64) })).rejects.toMatchObject({ code: 'BAD_SHAPE', path: 'trainY' });
    await expect(trainer.fit({ ...data, trainX: data.trainX.slice(1) })).rejects.toMatchObject({ code: 'BAD_SHAPE', path: 'trainX' });
    expect(() => new Trainer(SMALL, { epochs: 0 })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', path: 'epochs' }));
    expect(() => new Trainer(SMALL, { learningRate: -1 })).toThrowError(expect.objectContaining({ path: 'learningRate' }));
    expect(() => new Trainer(SMALL, { earlyStopping: { patience: 0 } })).toThrowError(expect.objectContaining({ path: 'earlyStopping.patience' }));
  });

  it('trains pyreflect’s full model (layers 12, 155 M parameters) on the native backend, which wasm cannot', async () => {
    await useNodeBackend('tensorflow');
    const x = new Float32Array(4 * 308).map((_, i) => Math.sin(i) * 0.5 + 0.5);
    const y = new Float32Array(4 * 2 * 900).map((_, i) => Math.cos(i) * 0.5 + 0.5);
    const trainer = new Trainer({ layers: 12 }, { epochs: 1, batchSize: 4 });
    const result = await trainer.fit({ trainX: x, trainY: y, validationX: x, validationY: y });
    expect(result.steps).toBe(1);
    expect(result.backend).toMatch(/^tensorflow/);
    expect(Number.isFinite(result.history.trainingLoss[0])).toBe(true);
    await trainer.dispose();
    await useNodeBackend('wasm');
  });

  it('refuses, before building it, a model that cannot fit the wasm heap', async () => {
    // pyreflect's 142 M-weight head on wasm:
    expect(() => new Trainer({ layers: 1, kernelSize: 1 }, { epochs: 1 })).toThrowError(expect.objectContaining({ code: 'MEMORY_LIMIT' }));
  });
});
