/**
 * Disk full and permission denied while writing `.npy` datasets, checkpoints, bundles and history records:
 * real kernel failures (a small tmpfs that runs out of space; a child process running as nobody against
 * root's folders; RLIMIT_FSIZE), see test/helpers/small-disk.ts. For every writer: the operation fails with
 * one `IO_ERROR` naming the path and the errno, the process exits by itself, an existing good file is never
 * replaced (byte-for-byte equal and still loads), no temporary file is left, and the folder works again once
 * space or permission is back.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReflectivityDataGenerator } from '../../src/data/node-generator.node.js';
import { readTrainingFiles } from '../../src/data/training-files.node.js';
import { readNpy } from '../../src/io/npy-file.node.js';
import { useBackend } from '../../src/nn/backend.js';
import { loadCheckpoint } from '../../src/nn/checkpoint-store.node.js';
import { createCnn } from '../../src/nn/cnn.js';
import { loadBundle } from '../../src/nn/model-folder.node.js';
import { FileHistoryStore } from '../../src/store/history-files.node.js';
import { denyWrites, pages, runWriter, scratchFolder as newScratchFolder, SmallDisk, startWriter, treeOf, type WriterOutcome } from '../helpers/small-disk.js';
import { SMALL } from '../nn/helpers.js';

const CURVES = 300;

// Child jobs (JavaScript run by runWriter; `input` and `src` in scope).
const GENERATE = `
  const { ReflectivityDataGenerator } = await src('src/data/node-generator.node.ts');
  const files = await new ReflectivityDataGenerator({ seed: input.seed, workers: 2, chunkSize: 32 }).generateToFiles(input.curves, input.dir);
  return files.numCurves;`;

/** A snapshot of `size` weights whose values say which epoch wrote them (weights: epoch + 0.5). */
const CHECKPOINT = `
  const { resolveCnnConfig } = await src('src/nn/cnn.ts');
  const { FolderCheckpointStore } = await src('src/nn/checkpoint-store.node.ts');
  const { epoch, size } = input;
  const fill = (n, v) => new Float32Array(n).fill(v);
  const snapshot = {
    meta: {
      format: 'reflectkit-checkpoint', version: 1, savedAt: '2026-12-01T00:00:00.000Z',
      model: resolveCnnConfig({ layers: 1, kernelSize: 1, inputPoints: 2, outputPoints: 2 }),
      settings: { epochs: 5, batchSize: 2, learningRate: 1e-3, weightDecay: 0, seed: 1, earlyStopping: null, checkpointEvery: 1 },
      progress: { epoch, batch: 0, epochOrder: null, epochLosses: [], shuffleState: [1, 2, 3, 4], step: 10 * epoch, best: null, epochsWithoutImprovement: 0 },
      history: { epochs: [epoch], trainingLoss: [0.5], validationLoss: [0.4] },
      weightShapes: [[size], [3]], trainableIndices: [0], backend: 'wasm', extra: {},
    },
    weights: [fill(size, epoch + 0.5), fill(3, epoch)],
    optimizer: { step: epoch, m: [fill(size, 0.25)], v: [fill(size, 2)] },
    bestWeights: [fill(size, epoch), fill(3, 0)],
  };
  return await new FolderCheckpointStore(input.dir).save(snapshot);`;

/** SMALL (dense head: the weights go to {modelId}.pth) with the seed's initial weights, min-max scaler of 20 curves. */
const BUNDLE = `
  const { useBackend } = await src('src/nn/backend.ts');
  await useBackend('wasm');
  const { createCnn } = await src('src/nn/cnn.ts');
  const { saveBundle } = await src('src/nn/model-folder.node.ts');
  const { NrSldScaler } = await src('src/preprocess/scaler.ts');
  const { ReflectivityDataGenerator } = await src('src/data/generator.ts');
  const data = await new ReflectivityDataGenerator({ seed: 1, numLayers: 1, numQ: 32, profilePoints: 32 }).generate(20);
  const cnn = createCnn({ ...input.model, seed: input.seed });
  const config = await saveBundle(input.dir, cnn, NrSldScaler.fit(data.nr, data.sld), { modelId: 'disk-faults-model' });
  return config.files;`;

/** SMALL trained 3 epochs with a checkpoint each epoch, from scratch or from the folder's last checkpoint. */
const TRAIN = `
  const { useBackend } = await src('src/nn/backend.ts');
  await useBackend('wasm');
  const { Trainer } = await src('src/nn/trainer.ts');
  const { FolderCheckpointStore, loadCheckpoint } = await src('src/nn/checkpoint-store.node.ts');
  const { SMALL, smallData } = await src('test/nn/helpers.ts');
  const data = await smallData(60);
  const options = { epochs: 3, batchSize: 16, checkpointEvery: 1, checkpointStore: new FolderCheckpointStore(input.dir) };
  const trainer = input.resume ? Trainer.fromSnapshot(await loadCheckpoint(input.dir), options) : new Trainer(SMALL, options);
  try {
    const result = await trainer.fit(data);
    return { status: result.status, epochs: result.history.epochs };
  } finally {
    await trainer.dispose();
  }`;

const HISTORY = `
  const { FileHistoryStore } = await src('src/store/history-files.node.ts');
  const store = new FileHistoryStore({ dir: input.dir });
  return (await store.add(input.user, { name: input.name, params: { seed: 1 }, result: { metrics: { r2: 0.9 } } })).id;`;

/** Every entry under `dir` (the ballast left out): files with their bytes, folders as null. */
function snapshotOf(dir: string): Map<string, Buffer | null> {
  const entries = new Map<string, Buffer | null>();
  for (const path of treeOf(dir)) entries.set(path, statSync(join(dir, path)).isFile() ? readFileSync(join(dir, path)) : null);
  return entries;
}

/** `dir` holds exactly the entries of `before`, files byte for byte (no new file or folder, no temporary file). */
function expectUnchanged(dir: string, before: Map<string, Buffer | null>): void {
  const after = snapshotOf(dir);
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [path, bytes] of before) {
    if (bytes === null) expect(after.get(path), `${path} is no longer a folder`).toBeNull();
    else expect(after.get(path)?.equals(bytes), `${path} changed`).toBe(true);
  }
}

/**
 * The writer failed with one IO_ERROR for `errno` about a path under `under`; the child printed it once (no
 * other line mentions the errno) and exited by itself.
 */
function expectFailure(outcome: WriterOutcome, errno: string, under: string, action?: RegExp): void {
  expect(outcome.result, outcome.output).toBeUndefined();
  const error = outcome.error!;
  expect(error).toMatchObject({ name: 'ReflectkitError', code: 'IO_ERROR', errno });
  expect(error.path!.startsWith(under), `${error.path} is not under ${under}`).toBe(true);
  expect(error.message).toContain(error.path);
  expect(error.message).toMatch(new RegExp(`${errno} \\(.+\\)`));
  if (action !== undefined) expect(error.message).toMatch(action);
  const others = outcome.output.split('\n').filter((line) => line !== '' && !line.startsWith('@@writer@@'));
  expect(others.filter((line) => line.includes(errno)), outcome.output).toEqual([]);
  expect(outcome.output.split('@@writer@@').length - 1).toBe(1);
  expect(outcome.status, outcome.output).toBe(0);
}

/** Polls `ready` and kills `child` with SIGKILL as soon as it holds (failing if the child exits first). */
async function killWhen(child: ChildProcess, ready: () => boolean): Promise<void> {
  const exited = once(child, 'exit');
  while (!ready()) {
    expect(child.exitCode, 'the writer finished before it could be killed').toBeNull();
    await sleep(5);
  }
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
}

function expectSuccess(outcome: WriterOutcome): unknown {
  expect(outcome.error, outcome.output).toBeUndefined();
  expect(outcome.status).toBe(0);
  return outcome.result;
}

/** The dataset in `dir` equals the in-memory run of the same seed. */
async function expectDataset(dir: string, seed: number): Promise<void> {
  const expected = await new ReflectivityDataGenerator({ seed, workers: 0 }).generate(CURVES);
  const files = await readTrainingFiles(dir);
  expect(Buffer.from(files.nr.data.buffer).equals(Buffer.from(expected.nr.data.buffer))).toBe(true);
  expect(Buffer.from(files.sld.data.buffer).equals(Buffer.from(expected.sld.data.buffer))).toBe(true);
  expect(Array.from((await readNpy(join(dir, 'parameters.npy'))).data)).toEqual(Array.from(expected.parameters.data));
  expect(JSON.parse(readFileSync(join(dir, 'generation.json'), 'utf8')).model.seed).toBe(seed);
}

const disks: SmallDisk[] = [];
function mount(bytes: number): SmallDisk {
  const disk = SmallDisk.mount(bytes);
  disks.push(disk);
  return disk;
}

const scratchFolders: string[] = [];
function scratchFolder(): string {
  const dir = newScratchFolder();
  scratchFolders.push(dir);
  return dir;
}

const restores: Array<() => void> = [];
afterEach(() => {
  for (const restore of restores.splice(0)) restore();
  for (const disk of disks.splice(0)) disk.unmount();
});
afterAll(() => {
  for (const dir of scratchFolders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  await useBackend('wasm');
});

describe('disk full (a small tmpfs)', () => {
  it('generateToFiles: the disk filling up mid-generation fails once with IO_ERROR ENOSPC, keeps the earlier dataset byte for byte, leaves no temporary file; after freeing space it generates again', async () => {
    const disk = mount(8 << 20);
    const dir = disk.path('data');
    await new ReflectivityDataGenerator({ seed: 1, workers: 0 }).generateToFiles(CURVES, dir);
    const good = snapshotOf(dir);
    expect([...good.keys()]).toEqual(['generation.json', 'nr_train.npy', 'parameters.npy', 'sld_train.npy']);
    disk.fill(1 << 20); // a third of a new dataset fits
    expectFailure(runWriter(GENERATE, { seed: 2, curves: CURVES, dir }), 'ENOSPC', dir, /could not write/);
    expectUnchanged(dir, good);
    await expectDataset(dir, 1);
    disk.free();
    expect(expectSuccess(runWriter(GENERATE, { seed: 2, curves: CURVES, dir }))).toBe(CURVES);
    await expectDataset(dir, 2);
    expect(treeOf(dir)).toEqual([...good.keys()]);
  });

  it('generateToFiles: when the data fits but generation.json does not, no file is published (no dataset without its generation record)', async () => {
    const disk = mount(8 << 20);
    const reference = join(scratchFolder(), 'data');
    await new ReflectivityDataGenerator({ seed: 2, workers: 0 }).generateToFiles(CURVES, reference);
    const dir = disk.path('data');
    mkdirSync(dir);
    // Exactly the room of the three .npy files, not one page more.
    disk.fill(['nr_train.npy', 'sld_train.npy', 'parameters.npy'].reduce((n, name) => n + pages(statSync(join(reference, name)).size), 0));
    const outcome = runWriter(GENERATE, { seed: 2, curves: CURVES, dir });
    expectFailure(outcome, 'ENOSPC', dir, /could not write/);
    expect(outcome.error!.path).toBe(join(dir, 'generation.json'));
    expect(treeOf(dir)).toEqual([]);
    disk.free();
    expectSuccess(runWriter(GENERATE, { seed: 2, curves: CURVES, dir }));
    expect(treeOf(dir)).toEqual(treeOf(reference));
    for (const name of ['nr_train.npy', 'sld_train.npy', 'parameters.npy']) expect(readFileSync(join(dir, name)).equals(readFileSync(join(reference, name))), name).toBe(true);
    const model = (folder: string): unknown => JSON.parse(readFileSync(join(folder, 'generation.json'), 'utf8')).model;
    expect(model(dir)).toEqual(model(reference));
  });

  it('FolderCheckpointStore: a checkpoint that does not fit fails once with IO_ERROR ENOSPC; latest.json still names the last good one, which loads and is unchanged byte for byte; no staging folder is left; it saves once the disk grows', async () => {
    const size = 128 * 1024; // 512 KiB of weights: a checkpoint of 2 MiB (weights, m, v, best weights)
    const disk = mount(3 << 20); // room for one checkpoint, not for a second one beside it
    const dir = disk.path('checkpoints');
    expect(expectSuccess(runWriter(CHECKPOINT, { dir, epoch: 1, size }))).toBe(join(dir, 'epoch-1-batch-0'));
    const good = snapshotOf(dir);
    expectFailure(runWriter(CHECKPOINT, { dir, epoch: 2, size }), 'ENOSPC', dir, /could not write/);
    expectUnchanged(dir, good);
    const back = await loadCheckpoint(dir);
    expect(back.meta.progress.epoch).toBe(1);
    expect(back.weights[0]!.every((v) => v === 1.5)).toBe(true);
    disk.resize(6 << 20);
    expect(expectSuccess(runWriter(CHECKPOINT, { dir, epoch: 2, size }))).toBe(join(dir, 'epoch-2-batch-0'));
    expect(treeOf(dir)).toEqual(['epoch-2-batch-0', ...['best-weights.bin', 'meta.json', 'optimizer.bin', 'weights.bin'].map((f) => join('epoch-2-batch-0', f)), 'latest.json']);
    const saved = await loadCheckpoint(dir);
    expect(saved.meta.progress.epoch).toBe(2);
    expect(saved.weights[0]!.every((v) => v === 2.5)).toBe(true);
  });

  it('training: the disk filling up at a checkpoint fails the run once with IO_ERROR ENOSPC; resumed from the last good checkpoint once the disk grows, it ends with the same weights as an uninterrupted run', async () => {
    const reference = join(scratchFolder(), 'checkpoints');
    expect(expectSuccess(runWriter(TRAIN, { dir: reference, resume: false }))).toEqual({ status: 'completed', epochs: [1, 2, 3] });
    const last = join(reference, 'epoch-3-batch-0');
    const checkpointBytes = readdirSync(last).reduce((n, f) => n + pages(statSync(join(last, f)).size), 0);
    // One checkpoint and latest.json fit; the second checkpoint, written beside the first, does not.
    const disk = mount(checkpointBytes + checkpointBytes / 2 + 2 * 4096);
    const dir = disk.path('checkpoints');
    expectFailure(runWriter(TRAIN, { dir, resume: false }), 'ENOSPC', dir, /could not write/);
    expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'))).toEqual({ checkpoint: 'epoch-1-batch-0' });
    expect(treeOf(dir).filter((p) => !p.includes('/'))).toEqual(['epoch-1-batch-0', 'latest.json']);
    disk.resize(4 * checkpointBytes);
    expect(expectSuccess(runWriter(TRAIN, { dir, resume: true }))).toEqual({ status: 'completed', epochs: [1, 2, 3] });
    for (const file of ['weights.bin', 'optimizer.bin', 'best-weights.bin', 'meta.json'].filter((f) => readdirSync(last).includes(f))) {
      const resumed = readFileSync(join(dir, 'epoch-3-batch-0', file));
      const uninterrupted = readFileSync(join(last, file));
      if (file === 'meta.json') {
        const { savedAt: _a, ...a } = JSON.parse(resumed.toString('utf8')) as Record<string, unknown>;
        const { savedAt: _b, ...b } = JSON.parse(uninterrupted.toString('utf8')) as Record<string, unknown>;
        expect(a).toEqual(b);
      } else {
        expect(resumed.equals(uninterrupted), `${file} differs from the uninterrupted run's`).toBe(true);
      }
    }
  });

  it('saveBundle: a bundle that does not fit fails once with IO_ERROR ENOSPC; the earlier bundle loads unchanged byte for byte; no staging folder is left; it saves once space is freed', async () => {
    const reference = join(scratchFolder(), 'model');
    expectSuccess(runWriter(BUNDLE, { dir: reference, model: SMALL, seed: 7 }));
    const bundleBytes = readdirSync(reference).reduce((n, f) => n + pages(statSync(join(reference, f)).size), 0);
    const disk = mount(bundleBytes + bundleBytes / 2);
    const dir = disk.path('model');
    expectSuccess(runWriter(BUNDLE, { dir, model: SMALL, seed: 7 }));
    const good = snapshotOf(disk.dir);
    expectFailure(runWriter(BUNDLE, { dir, model: SMALL, seed: 8 }), 'ENOSPC', disk.dir);
    expectUnchanged(disk.dir, good);
    const loaded = await loadBundle(dir);
    expect(weightsOf(loaded.cnn)).toEqual(weightsOf(createCnn({ ...SMALL, seed: 7 })));
    disk.resize(3 * bundleBytes);
    expectSuccess(runWriter(BUNDLE, { dir, model: SMALL, seed: 8 }));
    expect(treeOf(disk.dir)).toEqual(treeOf(reference).map((f) => join('model', f)).concat('model').sort());
    expect(weightsOf((await loadBundle(dir)).cnn)).toEqual(weightsOf(createCnn({ ...SMALL, seed: 8 })));
  });

  it('FileHistoryStore: adding a record to a full disk fails once with IO_ERROR ENOSPC; the records there read and list as before; adding works once space is freed', async () => {
    const disk = mount(4 << 20);
    const dir = disk.path('history');
    const store = new FileHistoryStore({ dir });
    const ids = [];
    for (const name of ['first', 'second']) ids.push(expectSuccess(runWriter(HISTORY, { dir, user: 'alice', name })) as string);
    const listed = await store.list('alice');
    const good = snapshotOf(dir);
    disk.fill(0);
    expectFailure(runWriter(HISTORY, { dir, user: 'alice', name: 'third' }), 'ENOSPC', dir);
    expectUnchanged(dir, good);
    expect(await store.list('alice')).toEqual(listed);
    for (const id of ids) expect((await store.get('alice', id)).id).toBe(id);
    disk.free();
    const third = expectSuccess(runWriter(HISTORY, { dir, user: 'alice', name: 'third' })) as string;
    expect((await store.list('alice')).items.map((item) => item.name)).toEqual(['third', 'second', 'first']);
    expect((await store.get('alice', third)).name).toBe('third');
  });
});

describe('permission denied (a child process that may not write the folder)', () => {
  it('generateToFiles into a read-only folder fails once with IO_ERROR EACCES and changes nothing; with permission it generates', async () => {
    const dir = join(scratchFolder(), 'data');
    await new ReflectivityDataGenerator({ seed: 1, workers: 0 }).generateToFiles(CURVES, dir);
    const good = snapshotOf(dir);
    restores.push(denyWrites(dir));
    expectFailure(runWriter(GENERATE, { seed: 2, curves: CURVES, dir }, { as: 'restricted' }), 'EACCES', dir, /could not create/);
    expectUnchanged(dir, good);
    restores.pop()!();
    expectSuccess(runWriter(GENERATE, { seed: 2, curves: CURVES, dir }));
    await expectDataset(dir, 2);
  });

  it('FolderCheckpointStore in a read-only folder fails once with IO_ERROR EACCES; latest.json and its checkpoint are unchanged', async () => {
    const dir = join(scratchFolder(), 'checkpoints');
    expectSuccess(runWriter(CHECKPOINT, { dir, epoch: 1, size: 1000 }));
    const good = snapshotOf(dir);
    restores.push(denyWrites(dir));
    expectFailure(runWriter(CHECKPOINT, { dir, epoch: 2, size: 1000 }, { as: 'restricted' }), 'EACCES', dir, /could not create checkpoint folder/);
    expectUnchanged(dir, good);
    expect((await loadCheckpoint(dir)).meta.progress.epoch).toBe(1);
    restores.pop()!();
    expectSuccess(runWriter(CHECKPOINT, { dir, epoch: 2, size: 1000 }));
    expect((await loadCheckpoint(dir)).meta.progress.epoch).toBe(2);
  });

  it('saveBundle fails once with IO_ERROR EACCES when the parent folder or the bundle folder is read-only; the earlier bundle loads unchanged and no staging folder is left', async () => {
    const parent = scratchFolder();
    const dir = join(parent, 'model');
    expectSuccess(runWriter(BUNDLE, { dir, model: SMALL, seed: 7 }));
    const good = snapshotOf(parent);
    // The parent read-only: the staging folder beside the bundle cannot be made.
    restores.push(denyWrites(parent, dir));
    expectFailure(runWriter(BUNDLE, { dir, model: SMALL, seed: 8 }, { as: 'restricted' }), 'EACCES', parent, /could not create/);
    expectUnchanged(parent, good);
    // The parent writable, the bundle folder not: everything is staged, then moving it in is refused.
    chmodSync(parent, 0o777);
    expectFailure(runWriter(BUNDLE, { dir, model: SMALL, seed: 8 }, { as: 'restricted' }), 'EACCES', dir, /could not publish model/);
    expectUnchanged(parent, good);
    expect(weightsOf((await loadBundle(dir)).cnn)).toEqual(weightsOf(createCnn({ ...SMALL, seed: 7 })));
  });

  it('FileHistoryStore in a read-only folder fails once with IO_ERROR EACCES; its records still list', async () => {
    const dir = join(scratchFolder(), 'history');
    const id = expectSuccess(runWriter(HISTORY, { dir, user: 'alice', name: 'first' })) as string;
    const good = snapshotOf(dir);
    const folders = treeOf(dir).filter((p) => statSync(join(dir, p)).isDirectory()).map((p) => join(dir, p));
    restores.push(denyWrites(dir, ...folders));
    expectFailure(runWriter(HISTORY, { dir, user: 'alice', name: 'second' }, { as: 'restricted' }), 'EACCES', dir);
    expectUnchanged(dir, good);
    expect((await new FileHistoryStore({ dir }).list('alice')).items.map((item) => item.id)).toEqual([id]);
  });
});

describe('a writer killed midway (SIGKILL): its temporary files are removed by the next run', () => {
  it('generateToFiles deletes the .partial files a killed generation left; FolderCheckpointStore the staging folder of a killed save', async () => {
    const data = join(scratchFolder(), 'data');
    mkdirSync(data);
    const generation = startWriter(GENERATE, { seed: 3, curves: 500_000, dir: data });
    await killWhen(generation, () => readdirSync(data).some((name) => name.startsWith('sld_train.npy.') && statSync(join(data, name)).size > 1 << 20));
    expect(readdirSync(data).filter((name) => name.endsWith('.partial'))).toHaveLength(3);
    expectSuccess(runWriter(GENERATE, { seed: 2, curves: CURVES, dir: data }));
    expect(treeOf(data)).toEqual(['generation.json', 'nr_train.npy', 'parameters.npy', 'sld_train.npy']);
    await expectDataset(data, 2);

    const checkpoints = join(scratchFolder(), 'checkpoints');
    expectSuccess(runWriter(CHECKPOINT, { dir: checkpoints, epoch: 1, size: 1000 }));
    const save = startWriter(CHECKPOINT, { dir: checkpoints, epoch: 2, size: 16 << 20 });
    await killWhen(save, () => readdirSync(checkpoints).includes('.epoch-2-batch-0.partial'));
    expect(treeOf(checkpoints).filter((p) => !p.includes('/'))).toEqual(['.epoch-2-batch-0.partial', 'epoch-1-batch-0', 'latest.json']);
    expect((await loadCheckpoint(checkpoints)).meta.progress.epoch).toBe(1);
    expectSuccess(runWriter(CHECKPOINT, { dir: checkpoints, epoch: 3, size: 1000 }));
    expect(treeOf(checkpoints).filter((p) => !p.includes('/'))).toEqual(['epoch-3-batch-0', 'latest.json']);
  });
});

describe('a file-size limit (RLIMIT_FSIZE, ulimit -f)', () => {
  it('generateToFiles past the limit fails once with IO_ERROR EFBIG and keeps the earlier dataset byte for byte', async () => {
    const dir = join(scratchFolder(), 'data');
    mkdirSync(dir);
    await new ReflectivityDataGenerator({ seed: 1, workers: 0 }).generateToFiles(CURVES, dir);
    const good = snapshotOf(dir);
    expectFailure(runWriter(GENERATE, { seed: 2, curves: CURVES, dir }, { fileSizeLimitKiB: 256 }), 'EFBIG', dir, /could not write/);
    expectUnchanged(dir, good);
    await expectDataset(dir, 1);
  });
});

/** Every weight of a model, as plain arrays. */
function weightsOf(cnn: ReturnType<typeof createCnn>): number[][] {
  return cnn.model.weights.map((w) => Array.from(w.read().dataSync()));
}
