// Trains a tiny CNN on a training set (from generate-dataset.mjs): split, scaler fitted on the train rows,
// the Trainer (PyTorch's Adam, seeded shuffling) with a checkpoint after every epoch, then a model folder
// (a bundle) that loadBundle, predict.mjs and `reflectkit predict` read.
// Run: node examples/node/train.mjs [dataDir] [modelDir] [epochs]
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FolderCheckpointStore,
  NrSldScaler,
  readTrainingFiles,
  saveBundle,
  splitIndices,
  Trainer,
  useNodeBackend,
} from 'reflectkit/node';

const dataDir = process.argv[2] ?? join(tmpdir(), 'reflectkit-example');
const modelDir = process.argv[3] ?? join(tmpdir(), 'reflectkit-example-model');
const epochs = Number(process.argv[4] ?? 3);

// Native TensorFlow when @tensorflow/tfjs-node is installed, else WebAssembly (one thread here; pass
// `engine: workerEngine()` to the Trainer to use every core on wasm).
const backend = await useNodeBackend();
console.log(`backend: ${backend.description}`);

const files = await readTrainingFiles(dataDir);
const [n, , qPoints] = files.nr.shape;
const split = { seed: 0, trainFraction: 0.8 };
const rows = splitIndices(n, split);
const scaler = NrSldScaler.fit(files.nr, files.sld, { rows: rows.train });

// A deliberately small model so this finishes in seconds: 2 convolution blocks with kernel 7 and the
// bottleneck head (1×1 conv to 4 channels before the dense layer). pyreflect's own CNN is
// { layers: 12, kernelSize: 51, head: 'dense' } (155 M parameters).
const model = { layers: 2, kernelSize: 7, head: 'bottleneck', bottleneckChannels: 4, inputPoints: qPoints, outputPoints: files.sld.shape[2] };
const trainer = new Trainer(model, {
  epochs,
  batchSize: 16,
  learningRate: 1e-3,
  seed: 0,
  checkpointEvery: 1, // a checkpoint folder after every epoch; Trainer.fromSnapshot(await loadCheckpoint(dir)) resumes
  checkpointStore: new FolderCheckpointStore(join(modelDir, 'checkpoints')),
  extra: { scaler: scaler.toJSON() },
  callbacks: {
    onEpochEnd: (e) =>
      console.log(`epoch ${e.epoch}/${epochs}: training loss ${e.trainingLoss.toExponential(3)}, validation loss ${e.validationLoss.toExponential(3)} (normalised MSE), ${e.seconds.toFixed(1)} s`),
  },
});
console.log(`model: ${JSON.stringify(trainer.cnn.config)}, ${trainer.cnn.model.countParams()} parameters`);
console.log(`training on ${rows.train.length} curves, validating on ${rows.validation.length} (${n} in all, Q points ${qPoints})`);

const result = await trainer.fit({
  trainX: scaler.modelInput(files.nr, rows.train),
  trainY: scaler.modelTarget(files.sld, rows.train),
  validationX: scaler.modelInput(files.nr, rows.validation),
  validationY: scaler.modelTarget(files.sld, rows.validation),
});
console.log(`${result.status} after ${result.steps} steps on ${result.engine}; best validation loss ${result.best.loss.toExponential(3)} at epoch ${result.best.epoch}`);
console.log(`last checkpoint: ${result.checkpoint}`);

// What prediction needs later goes into config.json's info: the Q grid the model takes, the split, and the
// generator's physics (generation.json, written next to the .npy files) for computing R(Q) back.
let generator;
try {
  const { model: m } = JSON.parse(await readFile(join(dataDir, 'generation.json'), 'utf8'));
  generator = { layers: m.layers, bounds: m.bounds, qResolution: m.qResolution, scale: m.scale, background: m.background };
} catch {
  generator = undefined; // pyreflect's own data has no generation.json
}
const q = Array.from({ length: qPoints }, (_, k) => files.nr.get(0, 0, k));
const saved = await saveBundle(modelDir, trainer.cnn, scaler, {
  history: result.history,
  info: { q, split, data: dataDir, steps: result.steps, backend: backend.description, ...(generator ? { generator } : {}) },
});
console.log(`model ${saved.modelId} → ${modelDir}: ${Object.keys(saved.files).sort().join(', ')}, config.json`);
await trainer.dispose();
