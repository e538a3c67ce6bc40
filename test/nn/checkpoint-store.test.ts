import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrainingSnapshot } from '../../src/nn/checkpoint.js';
import { FolderCheckpointStore, loadCheckpoint } from '../../src/nn/checkpoint-store.node.js';
import { resolveCnnConfig } from '../../src/nn/cnn.js';

function snapshot(epoch: number, best = true): TrainingSnapshot {
  return {
    meta: {
      format: 'reflectkit-checkpoint',
      version: 1,
      savedAt: '2026-11-27T00:00:00.000Z',
      model: resolveCnnConfig({ layers: 1, kernelSize: 1, inputPoints: 2, outputPoints: 2 }),
      settings: { epochs: 5, batchSize: 2, optimizer: 'adam', learningRate: 1e-3, weightDecay: 0, momentum: 0, seed: 1, earlyStopping: null, checkpointEvery: 1 },
      progress: { epoch, batch: 0, epochOrder: null, epochLosses: [], shuffleState: [1, 2, 3, 4], step: 10, best: null, epochsWithoutImprovement: 0 },
      history: { epochs: [1], trainingLoss: [0.5], validationLoss: [0.4] },
      weightShapes: [[2, 3], [3], [3]],
      trainableIndices: [0, 1],
      backend: 'wasm',
      extra: {},
    },
    weights: [Float32Array.from([1, 2, 3, 4, 5, 6]), Float32Array.from([7, 8, 9]), Float32Array.from([epoch, 0, 0])],
    optimizer: { step: 3, m: [new Float32Array(6).fill(0.5), new Float32Array(3).fill(0.25)], v: [new Float32Array(6).fill(2), new Float32Array(3).fill(4)] },
    bestWeights: best ? [new Float32Array(6), new Float32Array(3), new Float32Array(3)] : null,
  };
}

describe('FolderCheckpointStore / loadCheckpoint', () => {
  it('round-trips a snapshot and keeps only the latest folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflectkit-store-'));
    const store = new FolderCheckpointStore(dir);
    await store.save(snapshot(1));
    const where = await store.save(snapshot(2, false));
    expect(where).toBe(join(dir, 'epoch-2-batch-0'));
    expect(readdirSync(dir).sort()).toEqual(['epoch-2-batch-0', 'latest.json']);
    const back = await loadCheckpoint(dir);
    expect(back).toEqual(snapshot(2, false));
    expect(await loadCheckpoint(where)).toEqual(snapshot(2, false));
  });

  it('saves a position saved before under a new name, so the folder latest.json names is never removed first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflectkit-store-'));
    const store = new FolderCheckpointStore(dir);
    await store.save(snapshot(2));
    const second = { ...snapshot(2, false), optimizer: { ...snapshot(2).optimizer, step: 4 } };
    const where = await store.save(second);
    expect(where).toBe(join(dir, 'epoch-2-batch-0-2'));
    expect(readdirSync(dir).sort()).toEqual(['epoch-2-batch-0-2', 'latest.json']);
    expect(await loadCheckpoint(dir)).toEqual(second);
    // a third save at that position takes the name the first one had, now free
    expect(await store.save(snapshot(2))).toBe(join(dir, 'epoch-2-batch-0'));
    expect(readdirSync(dir).sort()).toEqual(['epoch-2-batch-0', 'latest.json']);
  });

  it('ignores a half-written checkpoint: latest.json still names the last complete one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflectkit-store-'));
    await new FolderCheckpointStore(dir).save(snapshot(1));
    // A crash while writing the next one leaves only a staging folder.
    writeFileSync(join(dir, '.epoch-2-batch-0.partial'), 'x');
    expect((await loadCheckpoint(dir)).meta.progress.epoch).toBe(1);
  });

  it('reports missing or inconsistent files as CHECKPOINT_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflectkit-store-'));
    await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
    const where = await new FolderCheckpointStore(dir).save(snapshot(1));
    writeFileSync(join(where, 'weights.bin'), readFileSync(join(where, 'weights.bin')).subarray(0, 8));
    await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/weights\.bin holds 8 bytes/) });
    rmSync(join(where, 'optimizer.bin'));
    writeFileSync(join(where, 'weights.bin'), new Uint8Array(48));
    await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID', message: expect.stringMatching(/optimizer\.bin is missing/) });
    writeFileSync(join(where, 'meta.json'), '{"format": "something-else"}');
    await expect(loadCheckpoint(dir)).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });
});
