// One measured reflectkit training run in a fresh process:
//   node train-run.mjs <dataDir> <backend> <workers> <model-config JSON> <epochs> <budgetSeconds> <lr> <weightDecay> [seed]
// Reads the normalised arrays the benchmark prepared (train_x.npy (n, Q), train_y.npy (n, 2P), val_*.npy),
// trains (Adam with the given learning rate and coupled weight decay, batch 32) and prints one JSON line per
// epoch, then a summary line. Uses the built package (dist/), as users do.
import { join } from 'node:path';
import { readNpy, Trainer, trainableParameterCount, useNodeBackend, workerEngine } from '../dist/node.js';

const [dataDir, backend, workersArg, modelJson, epochsArg, budgetArg, lrArg, decayArg, seedArg] = process.argv.slice(2);
const load = async (name) => (await readNpy(join(dataDir, name))).data;
const data = {
  trainX: Float32Array.from(await load('train_x.npy')),
  trainY: Float32Array.from(await load('train_y.npy')),
  validationX: Float32Array.from(await load('val_x.npy')),
  validationY: Float32Array.from(await load('val_y.npy')),
};
const info = await useNodeBackend(backend);
const workers = Number(workersArg);
const model = JSON.parse(modelJson);
const budget = Number(budgetArg) * 1000;
const controller = new AbortController();
const started = performance.now();
let elapsed = 0;
const trainer = new Trainer(model, {
  epochs: Number(epochsArg),
  batchSize: 32,
  learningRate: Number(lrArg),
  weightDecay: Number(decayArg),
  seed: Number(seedArg ?? 1),
  signal: controller.signal,
  ...(workers > 0 ? { engine: workerEngine(workers) } : {}),
  callbacks: {
    onEpochEnd: (e) => {
      elapsed = (performance.now() - started) / 1000;
      process.stdout.write(`${JSON.stringify({ epoch: e.epoch, seconds: elapsed, epochSeconds: e.seconds, trainLoss: e.trainingLoss, valLoss: e.validationLoss })}\n`);
      if (performance.now() - started > budget) controller.abort();
    },
  },
});
const result = await trainer.fit(data);
await trainer.dispose();
process.stdout.write(
  `${JSON.stringify({ summary: true, backend: info.description, engine: result.engine, status: result.status, parameters: trainableParameterCount(trainer.cnn.model), trainSamples: data.trainX.length / model.inputPoints })}\n`,
);
