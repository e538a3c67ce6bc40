import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { ReflectkitError } from '../errors.js';
import { abortedError, type ChunkExecutor, type ChunkResult, type ChunkTask } from './executor.js';

/** Number of cores Node reports (`os.availableParallelism()`). */
export function coreCount(): number {
  return Math.max(1, availableParallelism());
}

/** Most worker threads a generator accepts: four per core (more only adds contention). */
export function maxWorkers(): number {
  return 4 * coreCount();
}

/**
 * The worker script: `generate-worker.js` (or `.cjs`) beside the built module; when running from the
 * TypeScript sources (tests, `tsx`), the `.ts` entry loaded through tsx.
 */
function workerLocation(): { filename: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return { filename: fileURLToPath(new URL('./generate-worker.node.ts', here)), execArgv: ['--import', 'tsx'] };
  }
  const extension = here.endsWith('.cjs') ? '.cjs' : '.js';
  const filename = fileURLToPath(new URL(`./generate-worker${extension}`, here));
  if (!existsSync(filename)) {
    throw new ReflectkitError('WORKER_FAILED', `worker script ${filename} is missing`, {
      expected: 'the generate-worker file built beside this module (run npm run build)',
    });
  }
  return { filename, execArgv: [] };
}

function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: string }).name === 'AbortError';
}

/**
 * Runs chunk tasks on a pool of worker threads (piscina). piscina is loaded and the threads are started on
 * the first task, not when the module is imported or the executor is made.
 */
export class WorkerPoolExecutor implements ChunkExecutor {
  readonly concurrency: number;
  readonly description: string;
  private pool: Promise<Piscina> | undefined;

  constructor(threads: number) {
    this.concurrency = threads;
    this.description = `${threads} worker thread${threads === 1 ? '' : 's'}`;
  }

  private start(): Promise<Piscina> {
    this.pool ??= (async () => {
      const { filename, execArgv } = workerLocation();
      const { Piscina } = await import('piscina');
      return new Piscina({
        filename,
        execArgv,
        minThreads: this.concurrency,
        maxThreads: this.concurrency,
        idleTimeout: 60_000,
        atomics: 'disabled',
      });
    })();
    return this.pool;
  }

  async run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkResult> {
    if (signal?.aborted) throw abortedError(signal);
    const pool = await this.start();
    try {
      return (await pool.run(task, {
        transferList: [task.parameters.buffer as ArrayBuffer],
        ...(signal === undefined ? {} : { signal }),
      })) as ChunkResult;
    } catch (error) {
      if (signal?.aborted || isAbortError(error)) throw abortedError(signal);
      throw new ReflectkitError('WORKER_FAILED', `a worker thread failed: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await (await pool).destroy();
  }
}
