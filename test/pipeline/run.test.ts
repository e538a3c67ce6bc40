import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../src/pipeline/events.js';
import { resumePipeline, runPipeline } from '../../src/pipeline/run.node.js';
import { FileHistoryStore } from '../../src/store/history-files.node.js';
import { rejection } from '../helpers/errors.js';

/** A run small enough for the suite: 80 curves, a 2-block CNN with the bottleneck head, wasm in this thread (deterministic). */
const SMALL_RUN = {
  name: 'pipeline test',
  generator: { numCurves: 80, numQPoints: 64, sldOutputPoints: 96, workers: 0 },
  training: { epochs: 3, batchSize: 16, layers: 2, kernelSize: 7, head: 'bottleneck', bottleneckChannels: 4 },
  seed: 11,
  backend: 'wasm',
  storage: { history: { enabled: false } },
};

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'reflectkit-pipeline-'));
}

describe('runPipeline', () => {
  it('runs every phase into one run folder, with events, and returns the result', async () => {
    const events: PipelineEvent[] = [];
    const runDir = join(scratch(), 'run');
    const result = await runPipeline(SMALL_RUN, { runDir, onEvent: (e) => events.push(e), trainingWorkers: 0 });
    expect(result.runDir).toBe(runDir);
    expect(result.metrics.testCurves).toBe(8);
    expect(Number.isFinite(result.metrics.mse)).toBe(true);
    expect(result.result.training.epochs).toEqual([1, 2, 3]);
    expect(result.result.nr.q).toHaveLength(64);
    expect(result.result.sld.predicted).toHaveLength(96);
    expect(result.result.modelId).toBe(result.modelId);
    const phases = events.filter((e): e is Extract<PipelineEvent, { type: 'phase' }> => e.type === 'phase').map((e) => `${e.phase}:${e.status}`);
    expect(phases).toEqual([
      'generate:start', 'generate:end', 'upload-data:skip', 'train:start', 'train:end', 'save:start', 'save:end',
      'evaluate:start', 'evaluate:end', 'report:start', 'report:end', 'hub:skip', 'history:skip',
    ]);
    const generation = events.filter((e): e is Extract<PipelineEvent, { type: 'progress' }> => e.type === 'progress' && e.phase === 'generate');
    expect(generation.at(-1)).toMatchObject({ done: 80, total: 80 });
    const epochs = events.filter((e): e is Extract<PipelineEvent, { type: 'progress' }> => e.type === 'progress' && e.phase === 'train' && e.validationLoss !== undefined);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(epochs.map((e) => e.validationLoss)).toEqual(result.result.training.validationLoss);
    expect(events.at(-1)).toEqual({ type: 'result', result });
    for (const name of ['pipeline.json', 'report.html', 'result.json', 'nr.png', 'sld.png', 'loss.png', 'data', 'model']) expect(readdirSync(runDir)).toContain(name);
    const state = JSON.parse(readFileSync(join(runDir, 'pipeline.json'), 'utf8')) as { seed: number; modelId: string; done: Record<string, unknown>; config: { generator: { numCurves: number } } };
    expect(state).toMatchObject({ seed: 11, modelId: result.modelId, config: { generator: { numCurves: 80 } } });
    expect(Object.keys(state.done)).toEqual(['generate', 'train', 'save', 'evaluate', 'report']);
    const bundle = JSON.parse(readFileSync(join(runDir, 'model', 'config.json'), 'utf8')) as { modelId: string; info: { pipeline: { name: string } } };
    expect(bundle.modelId).toBe(result.modelId);
    expect(bundle.info.pipeline.name).toBe('pipeline test');
    // Resuming a finished run skips everything and gives the same result.
    const again = await resumePipeline(runDir, { trainingWorkers: 0 });
    expect(again.metrics).toEqual(result.metrics);
    // A run resumed with backend "auto" stays on the backend it started on (native TensorFlow, faster, is
    // installed here and would be auto's pick); when that one is gone it says so and goes on.
    const stateFile = join(runDir, 'pipeline.json');
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as { backendName: string; config: { backend: string } };
    expect(saved.backendName).toBe('wasm');
    writeFileSync(stateFile, JSON.stringify({ ...saved, config: { ...saved.config, backend: 'auto' } }));
    expect((await resumePipeline(runDir, { trainingWorkers: 0 })).backend).toBe(result.backend);
    writeFileSync(stateFile, JSON.stringify({ ...saved, backendName: 'webgpu', config: { ...saved.config, backend: 'auto' } }));
    const warnings: string[] = [];
    const moved = await resumePipeline(runDir, { trainingWorkers: 0, onEvent: (e) => e.type === 'log' && e.level === 'warn' && warnings.push(e.message) });
    expect(moved.backend).not.toMatch(/^webgpu/);
    expect(warnings).toEqual([expect.stringMatching(/started on webgpu, which is not available now .* continues on \w+, so its result will differ/)]);
    writeFileSync(stateFile, JSON.stringify(saved));
    // One process at a time: a folder a live process holds is refused, and left as it was.
    const lockFile = join(runDir, 'run.lock');
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), since: '2026-12-07T00:00:00Z', token: 'other' }));
    const busy = await rejection(resumePipeline(runDir, { trainingWorkers: 0 }));
    expect(busy).toMatchObject({ code: 'INVALID_OPTION', path: 'runDir', message: expect.stringContaining(`in use by process ${process.pid}`) });
    expect(readFileSync(lockFile, 'utf8')).toContain('"token":"other"');
    expect(await rejection(runPipeline(SMALL_RUN, { runDir }))).toMatchObject({ code: 'INVALID_OPTION', path: 'runDir' });
    // A lock whose process is gone (killed, say) is taken over, and released at the end.
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(lockFile, JSON.stringify({ pid: gone, host: hostname(), since: '2026-12-07T00:00:00Z', token: 'dead' }));
    writeFileSync(join(runDir, 'run.lock.0123456789ab.partial'), ''); // a killed locker's temporary file
    expect((await resumePipeline(runDir, { trainingWorkers: 0 })).metrics).toEqual(result.metrics);
    expect(readdirSync(runDir).filter((name) => name.startsWith('run.lock'))).toEqual([]);
  });

  it('trains with z-score normalisation and SGD with momentum when the config asks, and the bundle says so', async () => {
    const runDir = join(scratch(), 'run');
    const config = { ...SMALL_RUN, normalizationMethod: 'z-score', optimizer: 'SGD', momentum: 0.9, learningRate: 0.01 };
    const result = await runPipeline(config, { runDir, trainingWorkers: 0 });
    const losses = result.result.training.trainingLoss;
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(Number.isFinite(result.metrics.r2)).toBe(true);
    const scaler = JSON.parse(readFileSync(join(runDir, 'model', 'scaler.json'), 'utf8')) as { normalization: string; moments: { sld: { y: { std: number } } } };
    expect(scaler.normalization).toBe('zscore');
    expect(scaler.moments.sld.y.std).toBeGreaterThan(0);
    // pyreflect knows min-max only: no normalization_stat.npy that would mislead it
    expect(readdirSync(join(runDir, 'model'))).not.toContain('normalization_stat.npy');
    const bundle = JSON.parse(readFileSync(join(runDir, 'model', 'config.json'), 'utf8')) as { info: { trainer: { optimizer: string; momentum: number } } };
    expect(bundle.info.trainer).toMatchObject({ optimizer: 'sgd', momentum: 0.9 });
  });

  it('cancelled during training, resumes from the checkpoint to the same result as an uninterrupted run', async () => {
    const root = scratch();
    const whole = await runPipeline(SMALL_RUN, { runDir: join(root, 'whole'), trainingWorkers: 0 });
    const controller = new AbortController();
    const runDir = join(root, 'cancelled');
    const error = await rejection(
      runPipeline(SMALL_RUN, {
        runDir,
        signal: controller.signal,
        trainingWorkers: 0,
        onEvent: (e) => {
          // Cancel in the middle of the second epoch.
          if (e.type === 'progress' && e.phase === 'train' && e.epoch === 2 && e.done === 2 && e.loss !== undefined) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(error.message).toContain('during train');
    expect(error.path).toBe(runDir);
    const state = JSON.parse(readFileSync(join(runDir, 'pipeline.json'), 'utf8')) as { done: Record<string, unknown> };
    expect(Object.keys(state.done)).toEqual(['generate']);
    expect(existsSync(join(runDir, 'model', 'checkpoints', 'latest.json'))).toBe(true);
    expect(existsSync(join(runDir, 'model', 'config.json'))).toBe(false);

    const events: PipelineEvent[] = [];
    const resumed = await resumePipeline(runDir, { trainingWorkers: 0, onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'phase' && e.status === 'skip').map((e) => (e as { phase: string }).phase)).toContain('generate');
    expect(resumed.result.training.trainingLoss).toEqual(whole.result.training.trainingLoss);
    expect(resumed.result.training.validationLoss).toEqual(whole.result.training.validationLoss);
    expect(resumed.metrics).toEqual(whole.metrics);
    expect(resumed.result.sld.predicted).toEqual(whole.result.sld.predicted);
  });

  it('records the run in the embedded history, and with MongoDB unreachable keeps it there pending sync, with a warning', async () => {
    const root = scratch();
    const dir = join(root, 'history');
    const config = { ...SMALL_RUN, training: { ...SMALL_RUN.training, epochs: 1 }, storage: { history: { userId: 'alice', dir } } };
    const first = await runPipeline(config, { runDir: join(root, 'a'), trainingWorkers: 0 });
    expect(first.history?.store).toBe('embedded');
    const store = new FileHistoryStore({ dir });
    const record = await store.get('alice', first.history!.id);
    expect(record.name).toBe('pipeline test');
    expect(record.result.model_id).toBe(first.modelId);
    expect((record.result.metrics as { mse: number }).mse).toBe(first.metrics.mse);
    expect((record.params.generator as { numCurves: number }).numCurves).toBe(80);
    const events: PipelineEvent[] = [];
    // Nothing listens on port 9 of the loopback: MongoDB is unreachable.
    const offline = { ...config, storage: { history: { userId: 'alice', dir, mongodbUri: 'mongodb://u:secretpw@127.0.0.1:9/?serverSelectionTimeoutMS=500' } } };
    const second = await runPipeline(offline, { runDir: join(root, 'b'), trainingWorkers: 0, onEvent: (e) => events.push(e) });
    expect(second.history?.store).toBe('embedded (pending sync)');
    const warnings = events.filter((e): e is Extract<PipelineEvent, { type: 'log' }> => e.type === 'log' && e.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).not.toContain('secretpw');
    expect(await store.isPending('alice', second.history!.id)).toBe(true);
    expect((await store.list('alice')).items.map((r) => r.id)).toEqual([second.history!.id, first.history!.id]);
    await store.close();
  });

  it('refuses a bad config before touching the disk, and a run folder that is already a run', async () => {
    const root = scratch();
    const bad = await rejection(runPipeline({ ...SMALL_RUN, training: { epochs: -1 } }, { runDir: join(root, 'bad') }));
    expect(bad).toMatchObject({ code: 'INVALID_CONFIG', path: 'training.epochs' });
    expect(existsSync(join(root, 'bad'))).toBe(false);
    const missing = await rejection(resumePipeline(join(root, 'nothing')));
    expect(missing).toMatchObject({ code: 'INVALID_OPTION', path: 'runDir' });
  });
});
