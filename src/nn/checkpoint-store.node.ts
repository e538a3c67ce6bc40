import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { ioError, pathExists, writeFileAtomic } from '../io/atomic-file.node.js';
import type { CheckpointStore, TrainerSettings, TrainingSnapshot } from './checkpoint.js';
import { stateArraysPerVariable } from './optimizer.js';

/** File names inside a checkpoint folder. */
const META = 'meta.json';
const WEIGHTS = 'weights.bin';
const OPTIMIZER = 'optimizer.bin';
const BEST = 'best-weights.bin';
const LATEST = 'latest.json';

function concat(arrays: readonly Float32Array[]): Uint8Array {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return new Uint8Array(out.buffer);
}

function split(bytes: Uint8Array, sizes: readonly number[], what: string, path: string): Float32Array[] {
  const expected = sizes.reduce((n, s) => n + s, 0) * 4;
  if (bytes.byteLength !== expected) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${what} holds ${bytes.byteLength} bytes`, { path, expected: `${expected} bytes (float32) for the shapes in ${META}` });
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out: Float32Array[] = [];
  let offset = 0;
  for (const size of sizes) {
    out.push(all.slice(offset, offset + size));
    offset += size;
  }
  return out;
}

/** Names of checkpoint folders: `epoch-E-batch-B`, with `-N` when that position was saved before. */
const CHECKPOINT_NAME = /^epoch-\d+-batch-\d+(?:-\d+)?$/;

const metaSchema = z.object({
  format: z.literal('reflectkit-checkpoint'),
  version: z.literal(1),
  weightShapes: z.array(z.array(z.number().int().min(0))),
  trainableIndices: z.array(z.number().int().min(0)),
  optimizerStep: z.number().int().min(0),
  hasBest: z.boolean(),
});

/**
 * Checkpoints as folders under `dir`: each save writes a new folder `epoch-E-batch-B` (meta.json, weights.bin,
 * optimizer.bin and, with early stopping, best-weights.bin; float32 little-endian), then points
 * `latest.json` at it with an atomic rename, then removes older folders. A crash at any moment leaves
 * `latest.json` naming a complete checkpoint (or none yet).
 */
export class FolderCheckpointStore implements CheckpointStore {
  constructor(
    /** Folder the checkpoint folders and `latest.json` are written in (created when missing). */
    readonly dir: string,
    /** Checkpoint folders to keep (default 1: only the latest). */
    readonly keep = 1,
  ) {}

  async save(snapshot: TrainingSnapshot): Promise<string> {
    const { progress } = snapshot.meta;
    // A checkpoint at a position saved before (a run paused twice at the same batch) gets a new name: the
    // folder latest.json names is never removed before latest.json names its successor.
    const base = `epoch-${progress.epoch}-batch-${progress.batch}`;
    let name = base;
    for (let n = 2; await pathExists(join(this.dir, name)); n++) name = `${base}-${n}`;
    const folder = join(this.dir, name);
    const staging = join(this.dir, `.${name}.partial`);
    try {
      await mkdir(this.dir, { recursive: true });
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging);
    } catch (error) {
      throw ioError('create checkpoint folder', staging, error);
    }
    const meta = {
      ...snapshot.meta,
      optimizerStep: snapshot.optimizer.step,
      hasBest: snapshot.bestWeights !== null,
    };
    try {
      await writeFileAtomic(join(staging, WEIGHTS), concat(snapshot.weights));
      await writeFileAtomic(join(staging, OPTIMIZER), concat([...snapshot.optimizer.m, ...snapshot.optimizer.v]));
      if (snapshot.bestWeights !== null) await writeFileAtomic(join(staging, BEST), concat(snapshot.bestWeights));
      await writeFileAtomic(join(staging, META), `${JSON.stringify(meta)}\n`);
      try {
        await rename(staging, folder);
      } catch (error) {
        throw ioError('publish checkpoint', folder, error);
      }
    } catch (error) {
      // A full disk or a refused write: drop the half-written staging folder (it holds space); latest.json
      // still names the last complete checkpoint.
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    }
    await writeFileAtomic(join(this.dir, LATEST), `${JSON.stringify({ checkpoint: name })}\n`);
    await this.prune(name);
    return folder;
  }

  /** Removes checkpoint folders beyond `keep`, and the staging folders a killed save left behind. */
  private async prune(current: string): Promise<void> {
    try {
      const entries = await readdir(this.dir, { withFileTypes: true });
      const folders = [];
      for (const e of entries) {
        if (e.isDirectory() && /^\.epoch-\d+-batch-\d+(?:-\d+)?\.partial$/.test(e.name)) {
          await rm(join(this.dir, e.name), { recursive: true, force: true });
          continue;
        }
        if (!e.isDirectory() || !CHECKPOINT_NAME.test(e.name) || e.name === current) continue;
        folders.push({ name: e.name, time: (await stat(join(this.dir, e.name))).mtimeMs });
      }
      folders.sort((a, b) => b.time - a.time);
      for (const old of folders.slice(Math.max(0, this.keep - 1))) await rm(join(this.dir, old.name), { recursive: true, force: true });
    } catch (error) {
      throw ioError('remove old checkpoints from', this.dir, error);
    }
  }
}

/**
 * Loads the checkpoint `latest.json` names in `dir` (or `dir` itself when it is a checkpoint folder),
 * checking every file's size against the shapes in its metadata.
 *
 * @throws ReflectkitError `CHECKPOINT_INVALID` for a missing or inconsistent checkpoint, `IO_ERROR` when
 *   unreadable.
 */
export async function loadCheckpoint(dir: string): Promise<TrainingSnapshot> {
  let folder = dir;
  try {
    const latest = JSON.parse(await readFile(join(dir, LATEST), 'utf8')) as { checkpoint?: unknown };
    if (typeof latest.checkpoint === 'string' && CHECKPOINT_NAME.test(latest.checkpoint)) folder = join(dir, latest.checkpoint);
  } catch {
    // not a store folder: try dir as a checkpoint folder
  }
  let metaText: string;
  try {
    metaText = await readFile(join(folder, META), 'utf8');
  } catch (error) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `no checkpoint in ${dir}`, {
      path: dir,
      expected: `a folder with ${LATEST} or ${META}`,
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(metaText);
  } catch (error) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${META} is not JSON`, { path: join(folder, META), expected: 'JSON', cause: error });
  }
  const checked = metaSchema.safeParse(raw);
  if (!checked.success) {
    throw new ReflectkitError('CHECKPOINT_INVALID', `${META} is not a reflectkit checkpoint: ${checked.error.issues[0]!.message}`, {
      path: join(folder, META),
      expected: 'format reflectkit-checkpoint, version 1',
    });
  }
  const meta = raw as TrainingSnapshot['meta'] & z.infer<typeof metaSchema>;
  const sizes = meta.weightShapes.map((s) => s.reduce((a, b) => a * b, 1));
  const trainableSizes = meta.trainableIndices.map((i) => sizes[i] ?? -1);
  const read = async (name: string) => {
    try {
      return new Uint8Array(await readFile(join(folder, name)));
    } catch (error) {
      throw new ReflectkitError('CHECKPOINT_INVALID', `${name} is missing`, { path: join(folder, name), expected: 'a complete checkpoint', cause: error });
    }
  };
  const weights = split(await read(WEIGHTS), sizes, WEIGHTS, join(folder, WEIGHTS));
  // Adam and AdamW keep two arrays per trainable weight (m, v), SGD one (its momentum buffer, in m).
  const perVariable = stateArraysPerVariable((meta.settings as Partial<TrainerSettings> | undefined)?.optimizer);
  const moments = split(await read(OPTIMIZER), perVariable === 2 ? [...trainableSizes, ...trainableSizes] : trainableSizes, OPTIMIZER, join(folder, OPTIMIZER));
  const bestWeights = meta.hasBest ? split(await read(BEST), sizes, BEST, join(folder, BEST)) : null;
  const { optimizerStep, hasBest: _hasBest, ...plainMeta } = meta;
  void _hasBest;
  return {
    meta: plainMeta,
    weights,
    optimizer: { step: optimizerStep, m: moments.slice(0, trainableSizes.length), v: moments.slice(trainableSizes.length) },
    bestWeights,
  };
}
