import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/node-generator.node.js';
import { coreCount, maxWorkers } from '../../src/data/worker-pool.node.js';
import { ReflectkitError } from '../../src/errors.js';
import { readNpy } from '../../src/io/npy-file.node.js';
import { runPython } from '../helpers/python.js';

const ROOT = join(import.meta.dirname, '..', '..');

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'reflectkit-gen-'));
}

describe('Node generator with worker threads', () => {
  it('uses one worker per core by default and refuses more than four per core', () => {
    expect(new ReflectivityDataGenerator({ seed: 1 }).workers).toBe(coreCount());
    let error: unknown;
    try {
      new ReflectivityDataGenerator({ seed: 1, workers: maxWorkers() + 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReflectkitError);
    expect((error as ReflectkitError).code).toBe('INVALID_OPTION');
    expect((error as ReflectkitError).path).toBe('workers');
  });

  it('gives bit-identical arrays with 0, 1, 2 and 3 workers for the same seed', async () => {
    const runs = [];
    for (const workers of [0, 1, 2, 3]) {
      runs.push(await new ReflectivityDataGenerator({ seed: 77, numLayers: 4, workers, chunkSize: 23 }).generate(150));
    }
    for (const run of runs.slice(1)) {
      expect(Buffer.from(run.nr.data.buffer).equals(Buffer.from(runs[0]!.nr.data.buffer))).toBe(true);
      expect(Buffer.from(run.sld.data.buffer).equals(Buffer.from(runs[0]!.sld.data.buffer))).toBe(true);
      expect(Array.from(run.parameters.data)).toEqual(Array.from(runs[0]!.parameters.data));
    }
  });

  it('reports progress from workers and cancels them with ABORTED', async () => {
    const seen: number[] = [];
    await new ReflectivityDataGenerator({ seed: 2, workers: 2, chunkSize: 25, onProgress: (p) => seen.push(p.done) }).generate(100);
    expect(seen).toEqual([25, 50, 75, 100]);
    const controller = new AbortController();
    const generator = new ReflectivityDataGenerator({
      seed: 2,
      workers: 2,
      chunkSize: 50,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(generator.generate(100_000)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('generateToFiles', () => {
  it('writes nr_train.npy and sld_train.npy that numpy loads, equal to the in-memory run', async () => {
    const dir = scratch();
    const files = await new ReflectivityDataGenerator({ seed: 31, workers: 2 }).generateToFiles(333, dir);
    const memory = await new ReflectivityDataGenerator({ seed: 31, workers: 0 }).generate(333);
    expect(files.nrShape).toEqual([333, 2, 308]);
    expect(readdirSync(dir).sort()).toEqual(['generation.json', 'nr_train.npy', 'parameters.npy', 'sld_train.npy']);
    const report = runPython(
      [
        'import sys, json, numpy as np',
        'nr = np.load(sys.argv[1]); sld = np.load(sys.argv[2]); p = np.load(sys.argv[3])',
        'print(json.dumps({"nr": [list(nr.shape), str(nr.dtype)], "sld": [list(sld.shape), str(sld.dtype)], "p": [list(p.shape), str(p.dtype)],',
        '  "nr_sum": float(nr.astype(np.float64).sum()), "sld_sum": float(sld.astype(np.float64).sum()), "z0": float(sld[:, 0, 0].max()), "last": float(sld[332, 1, 899])}))',
      ].join('\n'),
      [files.nrPath, files.sldPath, files.parametersPath],
    );
    const numpy = JSON.parse(report) as Record<string, unknown>;
    expect(numpy.nr).toEqual([[333, 2, 308], 'float32']);
    expect(numpy.sld).toEqual([[333, 2, 900], 'float32']);
    expect(numpy.p).toEqual([[333, 19], 'float64']);
    expect(numpy.z0).toBe(0);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(numpy.nr_sum).toBeCloseTo(sum(memory.nr.data), 6);
    expect(numpy.sld_sum).toBeCloseTo(sum(memory.sld.data), 3);
    expect(numpy.last).toBe(memory.sld.get(332, 1, 899));
    const fromDisk = await readNpy(files.sldPath);
    expect(Buffer.from(fromDisk.data.buffer).equals(Buffer.from(memory.sld.data.buffer))).toBe(true);
    const metadata = JSON.parse(readFileSync(files.metadataPath, 'utf8')) as { model: { seed: number; legacy: boolean } };
    expect(metadata.model).toMatchObject({ seed: 31, legacy: true });
  });

  it('leaves no .npy and no temporary file behind when cancelled', async () => {
    const dir = scratch();
    const controller = new AbortController();
    const generator = new ReflectivityDataGenerator({ seed: 4, workers: 2, chunkSize: 64, signal: controller.signal, onProgress: () => controller.abort() });
    await expect(generator.generateToFiles(50_000, dir)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps memory flat as N grows (peak RSS of a child process running the built package, 2,000 vs 50,000 curves)', () => {
    const script = [
      "import { ReflectivityDataGenerator } from './dist/node.js';",
      "import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';",
      'const n = Number(process.argv[1]);',
      "await new ReflectivityDataGenerator({ seed: 1, workers: 2, chunkSize: 256 }).generateToFiles(n, mkdtempSync(join(tmpdir(), 'rk-rss-')));",
      'process.stdout.write(String(process.resourceUsage().maxRSS * 1024));',
    ].join('\n');
    const peak = (n: number) => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script, String(n)], { cwd: ROOT }).toString());
    const small = peak(2000);
    const large = peak(50_000);
    // Holding the extra 48,000 curves in memory would take 48,000 × (2·308 + 2·900) × 4 B ≈ 464 MB. Peak RSS
    // also moves with garbage collection timing (±40 MB here when other tests load the machine).
    expect(large - small).toBeLessThan(100 * 1024 * 1024);
  });
});
