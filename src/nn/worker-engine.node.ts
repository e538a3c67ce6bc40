import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ReflectkitError } from '../errors.js';
import type { AdamState } from './adam.js';
import type { OptimizerSettings } from './optimizer.js';
import type { BackendName } from './backend.js';
import type { Cnn } from './cnn.js';
import { readWeights, type TrainingData, type TrainingEngine } from './engine.js';
import { tf } from './tf.js';
import type { EngineFactory } from './trainer.js';

/**
 * How to start a replica thread: the built `train-worker.js` (or `.cjs`) beside this module, or, when
 * running from the TypeScript sources (tests, tsx), a bootstrap that registers tsx's loader inside the
 * worker and then imports the `.ts` entry (Node 20 does not carry `--import` hooks into workers).
 */
function workerScript(): { script: string; options: { eval?: boolean; execArgv: string[] } } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = JSON.stringify(new URL('./train-worker.node.ts', here).href);
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); });`;
    return { script: bootstrap, options: { eval: true, execArgv: [] } };
  }
  const filename = fileURLToPath(new URL(`./train-worker${here.endsWith('.cjs') ? '.cjs' : '.js'}`, here));
  if (!existsSync(filename)) {
    throw new ReflectkitError('WORKER_FAILED', `worker script ${filename} is missing`, { expected: 'the train-worker file built beside this module (run npm run build)' });
  }
  return { script: filename, options: { execArgv: [] } };
}

function shared(values: Float32Array): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(values.byteLength);
  new Float32Array(buffer).set(values);
  return buffer;
}

/** One replica's thread and its request/response channel. */
class ReplicaThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private failure: ReflectkitError | undefined;

  constructor(index: number) {
    const { script, options } = workerScript();
    this.worker = new Worker(script, options);
    this.worker.on('message', (reply: { id: number; result?: unknown; error?: { message: string; code?: string } }) => {
      const entry = this.pending.get(reply.id);
      if (entry === undefined) return;
      this.pending.delete(reply.id);
      if (reply.error) entry.reject(new ReflectkitError('WORKER_FAILED', `training worker ${index}: ${reply.error.message}`, {}));
      else entry.resolve(reply.result);
    });
    const fail = (error: unknown) => {
      this.failure = new ReflectkitError('WORKER_FAILED', `training worker ${index} stopped: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      for (const entry of this.pending.values()) entry.reject(this.failure);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => code !== 0 && fail(new Error(`exit code ${code}`)));
  }

  call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, message });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Data-parallel training on `workers` threads, each with a replica of the model on the same tfjs backend.
 * Each batch is cut into contiguous shards, one per replica; every replica computes its shard's gradient,
 * and all of them apply the same shard-size-weighted average (so the update equals the full batch's
 * gradient) and average their BatchNorm running statistics, which keeps the replicas identical.
 * BatchNorm's batch statistics are those of each shard, as with PyTorch's DistributedDataParallel without
 * SyncBatchNorm. Deterministic for a given number of workers.
 */
export class WorkerEngine implements TrainingEngine {
  readonly description: string;
  readonly sharesModel = false;
  private threads: ReplicaThread[] | undefined;
  private started: Promise<void> | undefined;
  private validationRows = 0;

  constructor(
    private readonly cnn: Cnn,
    private readonly adam: OptimizerSettings & { dropoutSeed: number },
    /** Number of replica threads, each training on its shard of every batch. */
    readonly workers: number,
  ) {
    this.description = `${workers} worker thread${workers === 1 ? '' : 's'} (data-parallel, ${tf.getBackend()})`;
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      const weights = await readWeights(this.cnn);
      const slot =
        this.cnn.model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0) +
        this.cnn.model.nonTrainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
      const exchange = new SharedArrayBuffer(this.workers * slot * 4);
      this.threads = Array.from({ length: this.workers }, (_, i) => new ReplicaThread(i));
      await Promise.all(
        this.threads.map((t, index) =>
          t.call({
            cmd: 'init',
            backend: tf.getBackend() as BackendName,
            config: this.cnn.config,
            optimizer: this.adam.optimizer ?? 'adam',
            learningRate: this.adam.learningRate,
            weightDecay: this.adam.weightDecay,
            momentum: this.adam.momentum ?? 0,
            dropoutSeed: this.adam.dropoutSeed,
            index,
            workers: this.workers,
            weights,
            exchange,
          }),
        ),
      );
    })();
    return this.started;
  }

  async load(data: TrainingData): Promise<void> {
    await this.start();
    const buffers = { trainX: shared(data.trainX), trainY: shared(data.trainY), validationX: shared(data.validationX), validationY: shared(data.validationY) };
    this.validationRows = data.validationX.length / this.cnn.config.inputPoints;
    await Promise.all(this.threads!.map((t) => t.call({ cmd: 'load', ...buffers })));
  }

  async step(rows: ArrayLike<number>, step: number): Promise<number> {
    const threads = this.threads!;
    const k = threads.length;
    const total = rows.length;
    const all = Array.from(rows);
    const shares = threads.map((_, i) => all.slice(Math.floor((i * total) / k), Math.floor(((i + 1) * total) / k)));
    const losses = await Promise.all(threads.map((t, i) => (shares[i]!.length > 0 ? t.call<number>({ cmd: 'gradient', rows: shares[i], step }) : Promise.resolve(0))));
    const weights = shares.map((s) => s.length / total);
    await Promise.all(threads.map((t) => t.call({ cmd: 'apply', weights })));
    return losses.reduce((sum, loss, i) => sum + weights[i]! * loss, 0);
  }

  async validationLoss(batchSize: number): Promise<number> {
    const threads = this.threads!;
    const batches = Math.ceil(this.validationRows / batchSize);
    const assigned = threads.map((_, i) => Array.from({ length: batches }, (_, b) => b).filter((b) => b % threads.length === i));
    const results = await Promise.all(threads.map((t, i) => t.call<number[]>({ cmd: 'validation', batchSize, batches: assigned[i] })));
    const byBatch = new Array<number>(batches);
    assigned.forEach((list, i) => list.forEach((b, j) => (byBatch[b] = results[i]![j]!)));
    return byBatch.reduce((a, v) => a + v, 0) / batches;
  }

  async getWeights(): Promise<Float32Array[]> {
    await this.start();
    return this.threads![0]!.call<Float32Array[]>({ cmd: 'getWeights' });
  }

  async setWeights(values: Float32Array[]): Promise<void> {
    await this.start();
    await Promise.all(this.threads!.map((t) => t.call({ cmd: 'setWeights', weights: values })));
  }

  async getOptimizerState(): Promise<AdamState> {
    await this.start();
    return this.threads![0]!.call<AdamState>({ cmd: 'getOptimizerState' });
  }

  async setOptimizerState(state: AdamState): Promise<void> {
    await this.start();
    await Promise.all(this.threads!.map((t) => t.call({ cmd: 'setOptimizerState', state })));
  }

  async dispose(): Promise<void> {
    const threads = this.threads;
    this.threads = undefined;
    this.started = undefined;
    if (threads) await Promise.all(threads.map((t) => t.terminate()));
  }
}

/**
 * An engine factory for `TrainerOptions.engine`: `workers` data-parallel worker threads (default: one per
 * core). With one worker it still trains off the main thread.
 *
 * @throws ReflectkitError `INVALID_OPTION` for fewer than 1 or more than 4 workers per core.
 */
export function workerEngine(workers: number = availableParallelism()): EngineFactory {
  const cores = availableParallelism();
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > 4 * cores) {
    throw new ReflectkitError('INVALID_OPTION', `${workers} training workers on ${cores} cores`, { path: 'workers', expected: `1 to ${4 * cores}` });
  }
  return (cnn, adam) => new WorkerEngine(cnn, adam, workers);
}
