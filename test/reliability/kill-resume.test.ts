/**
 * SIGKILL at the worst moments, then `reflectkit run --resume`: the resumed run must end exactly where an
 * uninterrupted run of the same config ends (metrics, weights byte for byte, losses), with nothing lost or
 * left twice (one history record, one bundle, no temporary files).
 *
 * Every run is a real child process: the reference and the resumes are the CLI (`reflectkit run … --json`
 * from the sources), the killed attempts are test/reliability/pipeline-child.ts (runPipeline / resumePipeline),
 * which stops dead at an exact point (mid-generation, mid-epoch, before the rename that publishes the bundle
 * or the pipeline state) so that this test can kill it there with SIGKILL.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileHistoryStore } from '../../src/store/history-files.node.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'test', 'helpers', 'run-cli.ts');
const CHILD = join(ROOT, 'test', 'reliability', 'pipeline-child.ts');
const USER = 'kill-test';
const execFileAsync = promisify(execFile);

/** Children see no MongoDB: the history goes to the embedded store in the scratch folder. */
const ENV = { ...process.env, REFLECTKIT_MONGODB_URI: '' };

/**
 * 240 curves (8 generation chunks of 30), 3 epochs of 12 batches, a 2-block CNN with the bottleneck head and
 * dropout, a checkpoint every epoch, wasm; training on the default worker threads (one per core), as the CLI does.
 */
function config(historyDir: string) {
  return {
    name: 'kill-resume',
    generator: { numCurves: 240, numQPoints: 64, sldOutputPoints: 96, workers: 2 },
    training: { epochs: 3, batchSize: 16, layers: 2, kernelSize: 7, head: 'bottleneck', bottleneckChannels: 4, dropout: 0.1, checkpointEvery: 1 },
    seed: 7,
    backend: 'wasm',
    storage: { history: { userId: USER, dir: historyDir } },
  };
}

let root: string;
let configPath: string;
let historyDir: string;
let reference: RunReport;

interface RunReport {
  runDir: string;
  modelId: string;
  metrics: Record<string, number>;
  history: { id: string; store: string } | null;
}

/** `reflectkit run …` from the sources; the last stdout line is the JSON report. */
async function cli(args: string[]): Promise<RunReport> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', CLI, 'run', ...args, '--json'], { cwd: ROOT, env: ENV, maxBuffer: 1 << 24 }));
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`reflectkit run ${args.join(' ')} exited ${e.code}:\n${e.stderr}\n${e.stdout}`);
  }
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as RunReport;
}

type Line = Record<string, unknown>;

/**
 * Starts pipeline-child.ts; `until` resolves with the lines so far once one matches, and rejects when the
 * child ends first. `kill` sends SIGKILL and resolves when the process is gone.
 */
function child(args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waiters: Array<{ match: (line: Line) => boolean; resolve: (lines: Line[]) => void; reject: (e: Error) => void }> = [];
  createInterface({ input: proc.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) w.resolve(lines);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  void exited.then(({ code, signal }) => {
    for (const w of waiters) w.reject(new Error(`pipeline-child ${args.join(' ')} ended (${code ?? signal}) first:\n${stderr}\n${lines.map((l) => JSON.stringify(l)).join('\n')}`));
  });
  return {
    lines,
    exited,
    until: (match: (line: Line) => boolean) => new Promise<Line[]>((resolve, reject) => waiters.push({ match, resolve, reject })),
    kill: async () => {
      proc.kill('SIGKILL');
      return exited;
    },
  };
}

/** Runs pipeline-child.ts until it freezes at `where`, lets `inspect` look at the run folder, then SIGKILLs it. */
async function killAt(args: string[], where: string, inspect: (lines: Line[]) => void): Promise<Line[]> {
  const run = child([...args, '--freeze-at', where]);
  const lines = await run.until((line) => 'frozen' in line);
  try {
    inspect(lines);
  } finally {
    const { code, signal } = await run.kill();
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
  }
  return lines;
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const state = (runDir: string) => json(join(runDir, 'pipeline.json')) as { done: Record<string, unknown>; trainingWorkers?: number; history?: unknown };

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      out.push(relative(dir, path));
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** The bundle's config.json without what names the run (its id and folder). */
function bundleConfig(runDir: string): Record<string, unknown> {
  const { modelId: _id, info, ...rest } = json(join(runDir, 'model', 'config.json')) as { modelId: string; info: Record<string, unknown> };
  const { data: _data, pipeline: _pipeline, ...kept } = info;
  return { ...rest, info: kept };
}

/** result.json without its timing and model id. */
function resultJson(runDir: string): Record<string, unknown> {
  const { timing: _t, modelId: _m, ...rest } = json(join(runDir, 'result.json'));
  return rest;
}

/** The resumed run ends exactly as the reference did, and its folder and the history hold it once. */
async function expectSameFinalResult(resumed: RunReport): Promise<void> {
  const dir = resumed.runDir;
  const ref = reference.runDir;
  // The same test metrics (MSE, MAE, R², χ²), bit for bit.
  expect(resumed.metrics).toEqual(reference.metrics);
  // The same data, weights and scaler, byte for byte.
  for (const file of ['data/nr_train.npy', 'data/sld_train.npy', 'data/parameters.npy', 'model/weights.bin', 'model/scaler.json', 'model/normalization_stat.npy']) {
    expect(readFileSync(join(dir, file)).equals(readFileSync(join(ref, file))), file).toBe(true);
  }
  // The same training history, steps, engine (worker threads) and file hashes in the bundle.
  const bundle = bundleConfig(dir);
  expect(bundle).toEqual(bundleConfig(ref));
  expect((bundle.history as { epochs: number[] }).epochs).toEqual([1, 2, 3]);
  expect((bundle.info as { engine: string }).engine).toBe(`${availableParallelism()} worker thread${availableParallelism() === 1 ? '' : 's'} (data-parallel, wasm)`);
  // The same evaluation (predictions, losses, metrics) in result.json.
  expect(resultJson(dir)).toEqual(resultJson(ref));
  // One bundle, one checkpoint, every phase done, no temporary file of the killed attempts left.
  expect(tree(dir)).toEqual(tree(ref));
  expect(tree(dir).filter((p) => p.includes('partial'))).toEqual([]);
  expect(Object.keys(state(dir).done).sort()).toEqual(['evaluate', 'generate', 'history', 'report', 'save', 'train']);
  // One history record for the run, the one the run names.
  const store = new FileHistoryStore({ dir: historyDir });
  try {
    const records = (await store.list(USER, { limit: 500 })).items.filter((r) => r.result.model_id === resumed.modelId);
    expect(records.map((r) => r.id)).toEqual([resumed.history!.id]);
    expect(state(dir).history).toMatchObject({ id: resumed.history!.id });
    const record = await store.get(USER, resumed.history!.id);
    expect((record.result.metrics as { mse: number }).mse).toBe(reference.metrics.mse);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'reflectkit-kill-'));
  historyDir = join(root, 'history');
  configPath = join(root, 'config.json');
  writeFileSync(configPath, JSON.stringify(config(historyDir)));
  // The reference: the same config, never interrupted.
  reference = await cli([configPath, '--out', join(root, 'reference')]);
  expect(reference.history?.store).toBe('embedded');
});

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('SIGKILL, then reflectkit run --resume', { timeout: 300_000 }, () => {
  it('killed mid-generation: the resume regenerates from the seed and ends with the same result', async () => {
    const runDir = join(root, 'generation');
    await killAt(['run', configPath, runDir], 'generate:120', () => {
      // Half the curves are in the temporary .npy files; nothing is published, nothing is done.
      const data = readdirSync(join(runDir, 'data'));
      expect(data.filter((f) => /^nr_train\.npy\.[0-9a-f]{12}\.partial$/.test(f))).toHaveLength(1);
      expect(data).not.toContain('nr_train.npy');
      expect(data).not.toContain('generation.json');
      expect(state(runDir).done).toEqual({});
    });
    const resumed = await cli(['--resume', runDir]);
    expect(resumed.runDir).toBe(runDir);
    await expectSameFinalResult(resumed);
  });

  it('killed mid-epoch, then (resumed asking for another worker count) killed while writing the next checkpoint: the folder is refused without --resume and ends with the same result', async () => {
    const runDir = join(root, 'epochs');
    const workers = availableParallelism();
    await killAt(['run', configPath, runDir], 'train:2:5', () => {
      // Epoch 1 is checkpointed, epoch 2 half done; the worker count is fixed with the run.
      expect(json(join(runDir, 'model', 'checkpoints', 'latest.json'))).toEqual({ checkpoint: 'epoch-1-batch-0' });
      expect(Object.keys(state(runDir).done)).toEqual(['generate']);
      expect(state(runDir).trainingWorkers).toBe(workers);
      expect(existsSync(join(runDir, 'model', 'config.json'))).toBe(false);
    });

    // `run` into the killed run's folder is refused, and leaves it as it was.
    const before = readFileSync(join(runDir, 'pipeline.json'));
    const refused = child(['run', configPath, runDir]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.lines.at(-1)).toMatchObject({ error: { code: 'INVALID_OPTION', path: 'runDir' } });
    expect(readFileSync(join(runDir, 'pipeline.json')).equals(before)).toBe(true);

    // Resumed asking for another worker count: it keeps the run's (with one warning). Killed again while
    // checkpointing epoch 2: its folder is written, latest.json still names epoch 1.
    const other = workers === 1 ? 2 : 1;
    const second = await killAt(['resume', runDir, '--workers', String(other), '--if-contains', 'epoch-2-batch-0'], 'rename:checkpoints/latest.json', () => {
      expect(json(join(runDir, 'model', 'checkpoints', 'latest.json'))).toEqual({ checkpoint: 'epoch-1-batch-0' });
      expect(readdirSync(join(runDir, 'model', 'checkpoints')).filter((f) => !f.includes('.partial')).sort()).toEqual(['epoch-1-batch-0', 'epoch-2-batch-0', 'latest.json']);
    });
    const warnings = second.filter((l) => 'warning' in l).map((l) => l.warning);
    expect(warnings).toEqual([`training continues on ${workers} worker threads, as it started (trainingWorkers ${other} is ignored: it would change the result)`]);
    expect(second.find((l) => l.phase === 'generate')).toEqual({ phase: 'generate', status: 'skip' });
    expect(second.find((l) => 'epoch' in l)).toEqual({ epoch: 2, batch: 0 }); // epoch 1 came from its checkpoint

    const resumed = await cli(['--resume', runDir]);
    await expectSameFinalResult(resumed);
  });

  it('killed while the bundle is being published (its files moved in, config.json not yet): the resume saves it again, whole', async () => {
    const runDir = join(root, 'bundle');
    await killAt(['run', configPath, runDir], 'rename:model/config.json', () => {
      const model = readdirSync(join(runDir, 'model'));
      expect(model).toContain('weights.bin');
      expect(model).not.toContain('config.json');
      expect(readdirSync(join(runDir, 'model.partial'))).toEqual(['config.json']);
      expect(Object.keys(state(runDir).done)).toEqual(['generate', 'train']);
    });
    const resumed = await cli(['--resume', runDir]);
    expect(existsSync(join(runDir, 'model.partial'))).toBe(false);
    await expectSameFinalResult(resumed);
  });

  it('killed while writing the pipeline state right after the history record was added: the resume finds that record and adds no second one', async () => {
    const runDir = join(root, 'history-state');
    // The state write that would record the history phase as done: the record is in the store already.
    await killAt(['run', configPath, runDir, '--if-contains', String.raw`"history": \{\s*"seconds"`], 'rename:pipeline.json', () => {
      expect(state(runDir).done).not.toHaveProperty('history');
      expect(readdirSync(runDir).filter((f) => /^pipeline\.json\.[0-9a-f]{12}\.partial$/.test(f))).toHaveLength(1);
    });
    const planned = (state(runDir) as { historyRecord?: { id: string } }).historyRecord;
    expect(planned?.id).toMatch(/^[0-9a-f]{24}$/);
    const resumed = await cli(['--resume', runDir]);
    expect(resumed.history).toEqual({ id: planned!.id, store: 'recorded before the interruption' });
    await expectSameFinalResult(resumed);
  });

  it('killed while the history store publishes the record’s summary: the resume lists the record again, once', async () => {
    const runDir = join(root, 'history-index');
    await killAt(['run', configPath, runDir], 'rename:/index/', (lines) => {
      expect(lines.at(-1)!.frozen).toMatch(/\/index\/\d{4}-\d{2}-\d{2}\/\d{15}_[0-9a-f]{24}\.json$/);
    });
    const planned = (state(runDir) as { historyRecord?: { id: string } }).historyRecord!;
    const store = new FileHistoryStore({ dir: historyDir });
    try {
      // The record is stored, not listed: what the kill left.
      expect((await store.get(USER, planned.id)).id).toBe(planned.id);
      expect((await store.list(USER, { limit: 500 })).items.map((r) => r.id)).not.toContain(planned.id);
    } finally {
      await store.close();
    }
    const resumed = await cli(['--resume', runDir]);
    expect(resumed.history).toEqual({ id: planned.id, store: 'recorded before the interruption' });
    await expectSameFinalResult(resumed);
  });
});
