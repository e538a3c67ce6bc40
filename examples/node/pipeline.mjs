// The whole job in one call: generate → train → save → evaluate → report (→ Hub, history when configured),
// into one resumable run folder. Prints every phase as it starts and ends, and the epochs.
// Run: node examples/node/pipeline.mjs [outDir] [curves] [epochs]
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline } from 'reflectkit/node';

const outDir = process.argv[2] ?? join(tmpdir(), 'reflectkit-example-runs');
const numCurves = Number(process.argv[3] ?? 60);
const epochs = Number(process.argv[4] ?? 2);

// The web interface's request body (layers, generator, training), with reflectkit's keys for a fast run.
// Without `layerBound`, every film layer varies around the given values (SLD ±20 %, thickness ±20 %, …).
const config = {
  name: 'example',
  layers: [
    { name: 'silicon', sld: 2.07, isld: 0, thickness: 0, roughness: 3 },
    { name: 'SiOx', sld: 3.47, isld: 0, thickness: 15, roughness: 2 },
    { name: 'polymer', sld: 1.2, isld: 0, thickness: 250, roughness: 8 },
    { name: 'air', sld: 0, isld: 0, thickness: 0, roughness: 0 },
  ],
  generator: { numCurves, workers: 1 },
  training: { epochs, batchSize: 16, layers: 2, kernelSize: 7, head: 'bottleneck', bottleneckChannels: 4 },
  seed: 7,
  // History is on by default (MongoDB, else an embedded store under ~/.reflectkit/history): off here. To keep
  // it next to the runs instead: history: { dir: join(outDir, 'history') }.
  storage: { history: { enabled: false } },
};

const run = await runPipeline(config, {
  outDir,
  trainingWorkers: 0, // a model this small trains faster in this thread than on worker replicas
  onEvent: (e) => {
    if (e.type === 'phase') console.log(`phase ${e.phase}: ${e.status}${e.seconds === undefined ? '' : ` (${e.seconds.toFixed(1)} s)`}${e.reason ? ` (${e.reason})` : ''}`);
    else if (e.type === 'log') console.log(`  ${e.level}: ${e.message}`);
  },
});

const m = run.metrics;
console.log(`run ${run.runDir} (model ${run.modelId}, backend ${run.backend})`);
console.log(`test split: ${m.testCurves} curves, SLD MSE ${m.mse.toExponential(3)} (1e-6/Å²)², MAE ${m.mae.toExponential(3)} 1e-6/Å², R² ${m.r2.toFixed(3)}, χ²(log R) ${m.chi2.toExponential(3)}`);
console.log(`report: ${run.files.report}`);
console.log(`resume or re-run: reflectkit run --resume ${run.runDir}`);
