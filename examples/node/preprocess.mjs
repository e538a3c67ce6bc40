// pyreflect's preprocessing of a training set: log10(clip(R, 1e-8)), then one global min-max per axis
// (Q, log R, z, SLD), fitted on the training split only. Prints the split and the statistics, and writes them
// as our JSON (scaler.json) and in pyreflect's pickled layout (normalization_stat.npy).
// Run after generate-dataset.mjs: node examples/node/preprocess.mjs [dataDir] [seed]
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePickledStatsNpy, NrSldScaler, readTrainingFiles, splitIndices } from 'reflectkit/node';

const dir = process.argv[2] ?? join(tmpdir(), 'reflectkit-example');
const seed = Number(process.argv[3] ?? 0);

// nr: (N, 2, Q) rows Q (1/Å) and R; sld: (N, 2, P) rows z (Å) and SLD (1e-6/Å²). float64 files become float32.
const { nr, sld, nrPath, sldPath } = await readTrainingFiles(dir);
const n = nr.shape[0];
console.log(`nr  ${nrPath}: (${nr.shape.join(', ')}) float32`);
console.log(`sld ${sldPath}: (${sld.shape.join(', ')}) float32`);

// pyreflect's 80/10/10 sizes, but reproducible from the seed (sklearn's split in pyreflect is not seeded).
const split = splitIndices(n, { seed });
console.log(`split (seed ${seed}): train ${split.train.length}, validation ${split.validation.length}, test ${split.test.length}`);

// Statistics from the training rows only: pyreflect fits them on every curve, leaking test data into them.
const scaler = NrSldScaler.fit(nr, sld, { rows: split.train });
const { nr: nrStats, sld: sldStats, clipMin } = scaler.toJSON();
const range = (r, unit) => `[${r.min.toPrecision(5)}, ${r.max.toPrecision(5)}]${unit}`;
console.log(`Q      ${range(nrStats.x, ' 1/Å')}`);
console.log(`log R  ${range(nrStats.y, '')}  (R clipped at ${clipMin} before log10)`);
console.log(`z      ${range(sldStats.x, ' Å')}`);
console.log(`SLD    ${range(sldStats.y, ' 1e-6/Å²')}`);

// What the CNN sees: the normalised log R row (rows, Q) and the normalised (rows, 2, P) target.
const input = scaler.modelInput(nr, split.train);
const target = scaler.modelTarget(sld, split.train);
let lo = Infinity;
let hi = -Infinity;
for (const v of input) {
  lo = Math.min(lo, v);
  hi = Math.max(hi, v);
}
console.log(`model input: ${input.length / nr.shape[2]} × ${nr.shape[2]} values in [${lo.toFixed(3)}, ${hi.toFixed(3)}]`);
console.log(`model target: ${target.length / (2 * sld.shape[2])} × 2 × ${sld.shape[2]} values`);

// Both serialisations: ours round-trips through NrSldScaler.fromJSON, pyreflect's loads with
// np.load('normalization_stat.npy', allow_pickle=True).item() and is read back by NrSldScaler.fromPyreflect.
await writeFile(join(dir, 'scaler.json'), `${JSON.stringify(scaler.toJSON(), null, 2)}\n`);
await writeFile(join(dir, 'normalization_stat.npy'), encodePickledStatsNpy(scaler.toPyreflect()));
console.log(`pyreflect layout: ${JSON.stringify(scaler.toPyreflect())}`);
console.log(`wrote ${join(dir, 'scaler.json')} and ${join(dir, 'normalization_stat.npy')}`);
