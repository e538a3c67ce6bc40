// Uses a trained model (from train.mjs): predicts SLD profiles from curves, computes R(Q) back from a
// predicted profile with the generator's physics, measures the errors on the test split, then does the same
// for a real measured curve and writes both reports (result.json, SVG/PNG charts, report.html).
// Run: node examples/node/predict.mjs [modelDir] [dataDir] [measuredFile] [outDir]
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chiSquaredLog,
  computeNrFromSld,
  currentBackend,
  evaluate,
  loadBundle,
  physicsFromGenerator,
  predictSld,
  readMeasuredFile,
  readTrainingFiles,
  relativeError,
  splitIndices,
  straightenDepth,
  useNodeBackend,
  writeReport,
} from 'reflectkit/node';

const modelDir = process.argv[2] ?? join(tmpdir(), 'reflectkit-example-model');
const dataDir = process.argv[3] ?? join(tmpdir(), 'reflectkit-example');
// A real curve: Liquids Reflectometer (SNS) run 212592, columns Q (1/Å), R, dR, dQ (FWHM).
const measuredFile = process.argv[4] ?? fileURLToPath(new URL('../../test/fixtures/REFL_212592_reduced_noQb.txt', import.meta.url));
const outDir = process.argv[5] ?? join(tmpdir(), 'reflectkit-example-prediction');

await useNodeBackend();
const backend = currentBackend().description;
const { cnn, scaler, config } = await loadBundle(modelDir); // checks every file against config.json's SHA-256
const model = { cnn, scaler };
const info = config.info ?? {};
// The generator's resolution, scale, background and fixed media, as recorded by train.mjs (else estimated).
const physics = info.generator ? physicsFromGenerator(info.generator) : {};
console.log(`model ${config.modelId}: ${cnn.config.layers} blocks, kernel ${cnn.config.kernelSize}, ${cnn.config.head} head; ${cnn.config.inputPoints} Q points → ${cnn.config.outputPoints} profile points`);

// 1. By hand: one test curve → profile → R(Q) computed back from it.
const files = await readTrainingFiles(dataDir);
const split = splitIndices(files.nr.shape[0], info.split ?? { seed: 0 }); // the split the model was trained with
const row = split.test[0];
const predicted = predictSld(model, files.nr.pick(row)); // (1, 2, P): z (Å), SLD (1e-6/Å²)
console.log(`predicted profile of test curve ${row}: (${predicted.shape.join(', ')})`);
const p = predicted.shape[2];
const z = straightenDepth(Array.from({ length: p }, (_, k) => predicted.get(0, 0, k))); // the model's z row, made straight
const sld = Array.from({ length: p }, (_, k) => predicted.get(0, 1, k));
const q = Array.from({ length: files.nr.shape[2] }, (_, k) => files.nr.get(row, 0, k));
const truth = Array.from({ length: q.length }, (_, k) => files.nr.get(row, 1, k));
const back = computeNrFromSld({ z, sld }, { q, ...physics });
const rel = relativeError(back.reflectivity, truth);
console.log(`z from ${z[0].toFixed(1)} to ${z[p - 1].toFixed(1)} Å; media: backing ${back.backing.sld.toFixed(3)}, fronting ${back.fronting.sld.toFixed(3)} (1e-6/Å²)`);
console.log(`R(Q) from the predicted profile vs the curve: χ²(log R) ${chiSquaredLog(back.reflectivity, truth).toExponential(3)}, median relative error ${(100 * rel.median).toFixed(1)} %`);

// 2. The whole test split, the result object pyreflect's interface returns (corrected; docs/evaluation.md).
const history = config.history;
const common = { backend, modelId: config.modelId ?? null, physics, ...(history ? { history } : {}) };
const test = evaluate(model, { kind: 'test-split', nr: files.nr, sld: files.sld, testRows: split.test, options: common });
const m = test.metrics;
console.log(`test split: ${m.curves} curves, SLD MSE ${m.mse.toExponential(3)} (1e-6/Å²)², MAE ${m.mae.toExponential(3)} 1e-6/Å², R² ${m.r2.toFixed(3)}; example χ²(log R) ${m.chi2.toExponential(3)}`);
const testFiles = await writeReport(join(outDir, 'test-split'), test, { title: 'reflectkit example: test split' });

// 3. A measured curve: interpolated onto the model's Q grid (log Q / log R, never extrapolated), predicted,
// and R computed back at the measured Q with the measured dQ; χ² weighted by dR.
const data = await readMeasuredFile(measuredFile); // dQ FWHM → σ from the header
console.log(`measured ${data.label}: ${data.q.length} points, Q ${data.q[0].toFixed(4)}–${data.q.at(-1).toFixed(4)} 1/Å, dQ ${data.dqConvention}`);
const measured = evaluate(model, { kind: 'measured', curve: data, options: { ...common, modelQ: info.q } });
const s = measured.source;
console.log(`measured: χ² ${measured.metrics.chi2.toPrecision(4)} (${measured.metrics.chi2Weighted ? 'weighted by dR' : 'log R'}); ${s.pointsBelow} grid points below and ${s.pointsAbove} above the measured range clamped`);
const measuredFiles = await writeReport(join(outDir, 'measured'), measured, { title: `reflectkit example: ${data.label}` });
for (const [name, list] of [['test-split', testFiles], ['measured', measuredFiles]]) {
  console.log(`wrote ${join(outDir, name)}: ${list.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(', ')}`);
}
