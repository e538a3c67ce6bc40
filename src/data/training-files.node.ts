import ndarray from 'ndarray';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { readNpy } from '../io/npy-file.node.js';
import type { NrArray, SldArray } from './dataset.js';
import type { ResolvedGeneratorModel } from './generator-options.js';

/** A training pair read from disk. */
export interface TrainingFiles {
  /** `(N, 2, Q)` float32. */
  nr: NrArray;
  /** `(N, 2, P)` float32. */
  sld: SldArray;
  /** Path of the reflectivity file read, `<dir>/nr_train.npy`. */
  nrPath: string;
  /** Path of the SLD file read, `<dir>/sld_train.npy`. */
  sldPath: string;
}

function asCurves(data: Float32Array | Float64Array, shape: number[], path: string): ndarray.NdArray<Float32Array> {
  if (shape.length !== 3 || shape[1] !== 2 || shape[0]! < 1 || shape[2]! < 2) {
    throw new ReflectkitError('BAD_SHAPE', `${path} has shape (${shape.join(', ')})`, { path, expected: '(N, 2, L) with N ≥ 1, L ≥ 2' });
  }
  return ndarray(data instanceof Float32Array ? data : Float32Array.from(data), shape);
}

/**
 * Reads `nr_train.npy` and `sld_train.npy` from `dir`: ours, pyreflect's, or any numpy-written pair of the
 * right shapes (float64 files are converted to float32, as pyreflect's newer files are).
 *
 * @throws ReflectkitError `IO_ERROR`, `NPY_FORMAT`, or `BAD_SHAPE` when the shapes do not pair up.
 */
export async function readTrainingFiles(dir: string): Promise<TrainingFiles> {
  const nrPath = join(dir, 'nr_train.npy');
  const sldPath = join(dir, 'sld_train.npy');
  const nrFile = await readNpy(nrPath);
  const sldFile = await readNpy(sldPath);
  const nr = asCurves(nrFile.data, nrFile.shape, nrPath);
  const sld = asCurves(sldFile.data, sldFile.shape, sldPath);
  if (nr.shape[0] !== sld.shape[0]) {
    throw new ReflectkitError('BAD_SHAPE', `${nr.shape[0]} curves but ${sld.shape[0]} profiles`, { path: sldPath, expected: `${nr.shape[0]} profiles, one per curve` });
  }
  return { nr, sld, nrPath, sldPath };
}

/**
 * The generator model recorded in a data folder's `generation.json` (written by `reflectkit generate` and
 * `generateToFiles`), or null when the folder has none (pyreflect's or other numpy data).
 *
 * @throws ReflectkitError `INVALID_CONFIG` when the file exists but is not a generation record.
 */
export async function readGenerationModel(dir: string): Promise<ResolvedGeneratorModel | null> {
  const path = join(dir, 'generation.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    const json = JSON.parse(text) as { model?: ResolvedGeneratorModel };
    if (json.model === undefined || !Array.isArray(json.model.layers) || !Array.isArray(json.model.q)) throw new Error('no model');
    return json.model;
  } catch (error) {
    throw new ReflectkitError('INVALID_CONFIG', `${path} is not a generation record`, { path, expected: 'generation.json with a "model" entry', cause: error });
  }
}
