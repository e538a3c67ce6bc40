import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { AtomicFile, ioError, removeStalePartials } from '../io/atomic-file.node.js';
import { NpyWriter } from '../io/npy-file.node.js';
import type { ChunkExecutor } from './executor.js';
import { ReflectivityDataGenerator as CoreGenerator, validateCurveCount, type RunOptions } from './generator.js';
import type { GeneratorOptions, ResolvedGeneratorModel } from './generator-options.js';
import { coreCount, maxWorkers, WorkerPoolExecutor } from './worker-pool.node.js';

/** The files {@link ReflectivityDataGenerator.generateToFiles} writes into its folder. */
const OUTPUT_FILES = ['nr_train.npy', 'sld_train.npy', 'parameters.npy', 'generation.json'];

/** Where {@link ReflectivityDataGenerator.generateToFiles} put a dataset. */
export interface GeneratedFiles {
  /** Folder. */
  dir: string;
  /** `nr_train.npy`, `(N, 2, Q)` float32. */
  nrPath: string;
  /** `sld_train.npy`, `(N, 2, P)` float32. */
  sldPath: string;
  /** `parameters.npy`, `(N, d)` float64: the sampled values in the bounds' order and units. */
  parametersPath: string;
  /** `generation.json`: the resolved model, seed, shapes and timing. */
  metadataPath: string;
  /** Curves written. */
  numCurves: number;
  /** NR shape. */
  nrShape: [number, number, number];
  /** SLD shape. */
  sldShape: [number, number, number];
  /** Wall time, s. */
  seconds: number;
  /** The model used. */
  model: ResolvedGeneratorModel;
}

/**
 * The Node generator: {@link CoreGenerator} plus worker threads (one per core by default) and
 * streaming to `.npy` files. The same seed gives bit-identical arrays whatever the number of workers,
 * because parameters are drawn in order in the calling thread and only the physics runs in workers.
 */
export class ReflectivityDataGenerator extends CoreGenerator {
  /** Worker threads a run uses (0: the calling thread). */
  readonly workers: number;

  /**
   * @throws ReflectkitError as the core generator, and `INVALID_OPTION` for more than 4 workers per core.
   */
  constructor(options: GeneratorOptions = {}) {
    super(options);
    const workers = options.workers ?? coreCount();
    if (workers > maxWorkers()) {
      throw new ReflectkitError('INVALID_OPTION', `${workers} workers on ${coreCount()} cores`, {
        path: 'workers',
        expected: `0 to ${maxWorkers()} (four per core)`,
        received: workers,
      });
    }
    this.workers = workers;
  }

  protected override createExecutor(): ChunkExecutor {
    return this.workers === 0 ? super.createExecutor() : new WorkerPoolExecutor(this.workers);
  }

  /**
   * Generates `numCurves` curves straight to `dir/nr_train.npy` and `dir/sld_train.npy` (pyreflect's
   * names and layouts, float32), plus `parameters.npy` and `generation.json`. Memory stays flat as N
   * grows: chunks are appended as they arrive, in order. Files are written under temporary names and
   * renamed into place only when all four are complete and flushed; a cancelled or failed run (a full disk,
   * a folder it may not write) leaves no partial `.npy` and the folder's earlier dataset as it was. The
   * temporary files a killed run left in `dir` are deleted when the next run starts.
   *
   * @throws ReflectkitError `INVALID_OPTION`, `ABORTED`, `IO_ERROR`.
   */
  async generateToFiles(numCurves: number, dir: string, run: RunOptions = {}): Promise<GeneratedFiles> {
    const total = validateCurveCount(numCurves);
    const started = performance.now();
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw ioError('create folder', dir, error);
    }
    const qLength = this.model.q.length;
    const p = this.model.profilePoints;
    const d = this.parameterCount;
    const nrPath = join(dir, 'nr_train.npy');
    const sldPath = join(dir, 'sld_train.npy');
    const parametersPath = join(dir, 'parameters.npy');
    const metadataPath = join(dir, 'generation.json');
    // A killed earlier run leaves its temporary files (up to the whole dataset's size): remove them first.
    await removeStalePartials(dir, OUTPUT_FILES);
    const writers: NpyWriter[] = [];
    let metadata: AtomicFile | undefined;
    let result: GeneratedFiles;
    try {
      writers.push(await NpyWriter.open(nrPath, 'f4', [total, 2, qLength]));
      writers.push(await NpyWriter.open(sldPath, 'f4', [total, 2, p]));
      writers.push(await NpyWriter.open(parametersPath, 'f8', [total, d]));
      const [nrWriter, sldWriter, parameterWriter] = writers as [NpyWriter, NpyWriter, NpyWriter];
      for await (const chunk of this.stream(total, run)) {
        await nrWriter.append(chunk.nr);
        await sldWriter.append(chunk.sld);
        await parameterWriter.append(chunk.parameters);
      }
      // Everything that needs space (the data, its flush, generation.json) is done before any file is
      // renamed into place, so a full disk leaves the folder's earlier dataset whole and consistent.
      for (const writer of writers) await writer.seal();
      result = {
        dir,
        nrPath,
        sldPath,
        parametersPath,
        metadataPath,
        numCurves: total,
        nrShape: [total, 2, qLength],
        sldShape: [total, 2, p],
        seconds: (performance.now() - started) / 1000,
        model: this.model,
      };
      metadata = await AtomicFile.create(metadataPath);
      await metadata.write(new TextEncoder().encode(`${JSON.stringify({ ...result, workers: this.workers }, null, 2)}\n`));
      await metadata.seal();
      for (const writer of writers) await writer.publish();
      await metadata.publish();
    } catch (error) {
      await Promise.all([...writers.map((w) => w.discard()), metadata?.discard()]);
      throw error;
    }
    return result;
  }
}
