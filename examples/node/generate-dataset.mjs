// A pyreflect-compatible training set: N curves (N, 2, 308) and profiles (N, 2, 900) streamed to .npy
// with worker threads, reproducible from the seed. Run: node examples/node/generate-dataset.mjs [outDir] [N]
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReflectivityDataGenerator } from 'reflectkit/node';

const out = process.argv[2] ?? join(tmpdir(), 'reflectkit-example');
const n = Number(process.argv[3] ?? 500);

const generator = new ReflectivityDataGenerator({
  numLayers: 2, // two film layers on SiOx on silicon; pyreflect's automatic bounds
  seed: 2026,
  onProgress: ({ done, total }) => process.stderr.write(`\r${done}/${total}`),
});
const files = await generator.generateToFiles(n, out);
process.stderr.write('\n');
console.log(`${files.numCurves} curves → ${files.nrPath}`);
console.log(`${files.numCurves} profiles → ${files.sldPath}`);
console.log(`parameters varied: ${generator.model.bounds.map((b) => `${b.par}[${b.i}]`).join(', ')}`);
console.log("numpy: np.load('nr_train.npy').shape == (N, 2, 308)");
