import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import type { CheckpointStore, TrainingSnapshot } from '../../src/nn/checkpoint.js';
import { Trainer } from '../../src/nn/trainer.js';
import { workerEngine } from '../../src/nn/worker-engine.node.js';
import { SMALL, smallData } from './helpers.js';

let data: Awaited<ReturnType<typeof smallData>>;

beforeAll(async () => {
  await useBackend('wasm');
  data = await smallData(120);
});

describe('data-parallel worker engine (real worker threads)', () => {
  it('with one worker trains exactly as this thread does (gradient exchange is lossless)', async () => {
    const options = { epochs: 2, batchSize: 16, seed: 3 } as const;
    const local = await new Trainer(SMALL, options).fit(data);
    const trainer = new Trainer(SMALL, { ...options, engine: workerEngine(1) });
    const threaded = await trainer.fit(data);
    await trainer.dispose();
    expect(threaded.engine).toMatch(/^1 worker thread/);
    expect(threaded.history).toEqual(local.history);
  });

  it.each(['sgd', 'adamw'] as const)('with one worker and %s trains exactly as this thread does', async (optimizer) => {
    const options = { epochs: 2, batchSize: 16, seed: 3, optimizer, momentum: optimizer === 'sgd' ? 0.9 : 0, learningRate: 0.01 } as const;
    const local = await new Trainer(SMALL, options).fit(data);
    const trainer = new Trainer(SMALL, { ...options, engine: workerEngine(1) });
    const threaded = await trainer.fit(data);
    await trainer.dispose();
    expect(threaded.history).toEqual(local.history);
    const adam = await new Trainer(SMALL, { ...options, optimizer: 'adam', momentum: 0 }).fit(data);
    expect(adam.history.trainingLoss).not.toEqual(local.history.trainingLoss);
  });

  it('with two workers learns, deterministically, and stays close to single-thread training', async () => {
    const options = { epochs: 4, batchSize: 16, seed: 3 } as const;
    const run = async () => {
      const trainer = new Trainer(SMALL, { ...options, engine: workerEngine(2) });
      const result = await trainer.fit(data);
      await trainer.dispose();
      return result;
    };
    const [a, b] = [await run(), await run()];
    expect(b.history).toEqual(a.history);
    expect(a.history.trainingLoss.at(-1)!).toBeLessThan(0.3 * a.history.trainingLoss[0]!);
    const local = await new Trainer(SMALL, options).fit(data);
    // Same gradients up to BatchNorm's per-shard batch statistics: the curves track each other.
    a.history.validationLoss.forEach((v, i) => expect(Math.abs(Math.log(v / local.history.validationLoss[i]!))).toBeLessThan(1));
  });

  it('pauses and resumes from a checkpoint to the same losses', async () => {
    const options = { epochs: 3, batchSize: 16, seed: 5 } as const;
    const full = new Trainer(SMALL, { ...options, engine: workerEngine(2) });
    const uninterrupted = await full.fit(data);
    await full.dispose();
    const snapshots: TrainingSnapshot[] = [];
    const store: CheckpointStore = { save: async (s) => (snapshots.push(structuredClone(s)), 'memory') };
    const controller = new AbortController();
    const first = new Trainer(SMALL, {
      ...options,
      engine: workerEngine(2),
      signal: controller.signal,
      checkpointStore: store,
      callbacks: { onBatchEnd: (b) => b.epoch === 2 && b.batch === 1 && controller.abort() },
    });
    expect((await first.fit(data)).status).toBe('paused');
    await first.dispose();
    const second = Trainer.fromSnapshot(snapshots[0]!, { engine: workerEngine(2) });
    const resumed = await second.fit(data);
    await second.dispose();
    expect(resumed.history).toEqual(uninterrupted.history);
  });

  it('refuses nonsense worker counts', () => {
    expect(() => workerEngine(0)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION', path: 'workers' }));
    expect(() => workerEngine(10_000)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
