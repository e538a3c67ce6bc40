/**
 * `npm run bench:train [-- --gpu]`: training speed and time-to-accuracy, pyreflect's CNN in PyTorch against
 * reflectkit on each backend available, on one generated dataset, side by side in one run. Writes the table
 * to benchmarks/RESULTS.md (section "Training", or "Training (GPU)" with --gpu).
 *
 * Protocol: N curves of pyreflect's default model (seed 7), split 80/10/10 (seed 0), normalised by
 * reflectkit's scaler fitted on the training split, saved as .npy and read by both sides. Adam (coupled weight
 * decay), MSE, batch 32, shuffled, at most E epochs or B seconds per run. pyreflect's dense architecture runs
 * with the learning rate and decay pyreflect's code uses (2.15481e-5, 2.6324e-5; at the seed's 1e-3 its
 * 142 M-weight head diverges), on both sides; the light configuration (kernel 15, bottleneck head) with the seed's 1e-3 and 1e-4. The target
 * validation MSE is what pyreflect's CNN reaches in PyTorch after T epochs; every run reports when it gets there.
 *
 * Environment: BENCH_TRAIN_CURVES (1000), BENCH_TRAIN_LAYERS (3), BENCH_TRAIN_EPOCHS (10),
 * BENCH_TRAIN_BUDGET seconds (420), BENCH_TRAIN_TARGET_EPOCH (3).
 * Python side: torch from PyPI and pyreflect-nr (its CNN class) in .cache/python-torch (about 3 GB once).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { NrSldScaler, ReflectivityDataGenerator, splitIndices, writeNpy } from '../dist/node.js';

const ROOT = join(import.meta.dirname, '..');
const WORK = join(ROOT, 'benchmarks', '.work', 'train');
const VENV = join(ROOT, '.cache', 'python-torch');
const PYTHON = join(VENV, 'bin', 'python');
const RESULTS = join(ROOT, 'benchmarks', 'RESULTS.md');
const GPU = process.argv.includes('--gpu');
const CURVES = Number(process.env.BENCH_TRAIN_CURVES ?? 1000);
const LAYERS = Number(process.env.BENCH_TRAIN_LAYERS ?? 3);
const EPOCHS = Number(process.env.BENCH_TRAIN_EPOCHS ?? 10);
const BUDGET = Number(process.env.BENCH_TRAIN_BUDGET ?? 420);
const TARGET_EPOCH = Number(process.env.BENCH_TRAIN_TARGET_EPOCH ?? 3);
const CORES = availableParallelism();
/** pyreflect's code defaults (NRSLDModelTrainer): the dense head needs them. */
const PYREFLECT_ADAM = { lr: 2.15481e-5, decay: 2.6324e-5 };
/** The seed's defaults, reflectkit's defaults. */
const SEED_ADAM = { lr: 1e-3, decay: 1e-4 };

interface Epoch {
  epoch: number;
  seconds: number;
  epochSeconds: number;
  trainLoss: number;
  valLoss: number;
}
interface Run {
  label: string;
  architecture: string;
  epochs: Epoch[];
  summary: { backend: string; engine: string; parameters: number; trainSamples: number } | null;
  error?: string;
}

function ensureTorch(): void {
  const probe = ['-c', 'import torch, numpy, pyreflect; print(torch.__version__)'];
  if (existsSync(PYTHON) && spawnSync(PYTHON, probe).status === 0) return;
  console.error('bench: installing torch (CPU use; PyPI wheels carry CUDA libraries, about 3 GB) and pyreflect-nr into .cache/python-torch …');
  if (!existsSync(PYTHON)) execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'torch', 'numpy'], { stdio: 'inherit' });
  // pyreflect-nr pins torch 2.5.1 and numpy 2.1.0; its CNN class needs neither pin, so it goes in without them.
  execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', 'pyreflect-nr'], { stdio: 'inherit' });
}

async function prepareData(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const stamp = join(WORK, 'dataset.json');
  const want = JSON.stringify({ curves: CURVES, seed: 7, split: 0 });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  console.error(`bench: generating ${CURVES} curves of pyreflect's default model …`);
  const { nr, sld } = await new ReflectivityDataGenerator({ seed: 7 }).generate(CURVES);
  const split = splitIndices(CURVES, { seed: 0 });
  const scaler = NrSldScaler.fit(nr, sld, { rows: split.train });
  const q = nr.shape[2]!;
  const p = sld.shape[2]!;
  await writeNpy(join(WORK, 'train_x.npy'), scaler.modelInput(nr, split.train), [split.train.length, q]);
  await writeNpy(join(WORK, 'train_y.npy'), scaler.modelTarget(sld, split.train), [split.train.length, 2 * p]);
  await writeNpy(join(WORK, 'val_x.npy'), scaler.modelInput(nr, split.validation), [split.validation.length, q]);
  await writeNpy(join(WORK, 'val_y.npy'), scaler.modelTarget(sld, split.validation), [split.validation.length, 2 * p]);
  writeFileSync(stamp, want);
}

function parse(label: string, architecture: string, output: string, error?: string): Run {
  const lines = output.split('\n').filter((l) => l.startsWith('{'));
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    label,
    architecture,
    epochs: records.filter((r) => !r.summary) as unknown as Epoch[],
    summary: (records.find((r) => r.summary) as Run['summary']) ?? null,
    ...(error === undefined ? {} : { error }),
  };
}

function runPytorch(device: string): Run {
  console.error(`bench: PyTorch, pyreflect CNN(layers=${LAYERS}) on ${device} …`);
  const args = [WORK, String(LAYERS), String(EPOCHS), String(BUDGET), String(PYREFLECT_ADAM.lr), String(PYREFLECT_ADAM.decay), String(CORES), device];
  const r = spawnSync(PYTHON, [join(ROOT, 'benchmarks', 'pytorch_train.py'), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return parse('pyreflect CNN in PyTorch', `pyreflect CNN, layers ${LAYERS}, dense head; lr 2.15e-5`, r.stdout, r.status === 0 ? undefined : r.stderr.split('\n').slice(-3).join(' '));
}

function runOurs(label: string, backend: string, workers: number, model: Record<string, unknown>, architecture: string, adam: { lr: number; decay: number }): Run {
  console.error(`bench: reflectkit, ${label} …`);
  const config = JSON.stringify({ inputPoints: 308, outputPoints: 900, ...model });
  const args = [WORK, backend, String(workers), config, String(EPOCHS), String(BUDGET), String(adam.lr), String(adam.decay)];
  const r = spawnSync(process.execPath, [join(ROOT, 'benchmarks', 'train-run.mjs'), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return parse(label, architecture, r.stdout, r.status === 0 ? undefined : r.stderr.split('\n').filter(Boolean).slice(-2).join(' '));
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
}

function table(runs: Run[], target: number): string {
  const rows = runs.map((run) => {
    if (run.summary === null || run.epochs.length === 0) return `| ${run.label} | – | ${run.architecture} | – | – | – | – | – | failed: ${run.error ?? 'no output'} |`;
    const steady = run.epochs.length > 1 ? run.epochs.slice(1) : run.epochs;
    const epochSeconds = median(steady.map((e) => e.epochSeconds));
    const samples = run.summary.trainSamples / epochSeconds;
    const reached = run.epochs.find((e) => e.valLoss <= target);
    const best = Math.min(...run.epochs.map((e) => e.valLoss));
    return `| ${run.label} | ${run.summary.backend}; ${run.summary.engine} | ${run.architecture} | ${(run.summary.parameters / 1e6).toFixed(1)} M | ${epochSeconds.toFixed(1)} s | ${samples.toFixed(1)} | ${run.epochs.length} | ${best.toExponential(2)} | ${reached ? `${reached.seconds.toFixed(0)} s (epoch ${reached.epoch})` : 'not within budget'} |`;
  });
  return [
    '| run | backend; engine | architecture | parameters | epoch (median) | samples/s | epochs run | best val MSE | time to target |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'setup-tfjs-node.mjs')], { stdio: 'inherit' });
  ensureTorch();
  await prepareData();
  const torchVersion = execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)']).toString().trim();
  // reflectkit's light configuration: a shorter kernel and the bottleneck head (docs/training.md).
  const light = { layers: LAYERS, kernelSize: 15, head: 'bottleneck', bottleneckChannels: 32 };
  const lightName = `layers ${LAYERS}, kernel 15, bottleneck head (32); lr 1e-3`;
  const runs: Run[] = [];
  if (GPU) {
    runs.push(runPytorch('cuda'));
    runs.push(runOurs('reflectkit, fastest GPU backend, same architecture', 'auto', 0, { layers: LAYERS }, `pyreflect CNN, layers ${LAYERS}, dense head; lr 2.15e-5`, PYREFLECT_ADAM));
    runs.push(runOurs('reflectkit, fastest GPU backend, light configuration', 'auto', 0, light, lightName, SEED_ADAM));
  } else {
    runs.push(runPytorch('cpu'));
    runs.push(runOurs('reflectkit, native TensorFlow, same architecture', 'tensorflow', 0, { layers: LAYERS }, `pyreflect CNN, layers ${LAYERS}, dense head; lr 2.15e-5`, PYREFLECT_ADAM));
    runs.push(runOurs('reflectkit, native TensorFlow, light configuration', 'tensorflow', 0, light, lightName, SEED_ADAM));
    runs.push(runOurs(`reflectkit, wasm, ${CORES} data-parallel workers, light configuration`, 'wasm', CORES, light, lightName, SEED_ADAM));
  }
  const baseline = runs[0]!;
  const targetEpoch = baseline.epochs[Math.min(TARGET_EPOCH, baseline.epochs.length) - 1];
  const target = targetEpoch?.valLoss ?? Number.NaN;
  const heading = GPU ? '## Training (GPU)' : '## Training';
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const section = [
    heading,
    '',
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench:train${GPU ? ' -- --gpu' : ''}\`. ${CURVES} curves of pyreflect's default model, split 80/10/10,`,
    `normalised by reflectkit's scaler (training split), the same .npy arrays for every run. Adam with coupled weight decay: pyreflect's`,
    `code defaults (lr 2.15481e-5, decay 2.6324e-5) for its dense architecture on both sides (at 1e-3 its 142 M-weight head diverges),`,
    `the seed's 1e-3 / 1e-4 for reflectkit's light configuration (kernel 15, bottleneck head). MSE, batch 32, at most ${EPOCHS} epochs or ${BUDGET} s per run.`,
    `Target: the validation MSE pyreflect's CNN reaches in PyTorch`,
    `after ${targetEpoch?.epoch ?? '?'} epochs, ${target.toExponential(3)}. Epoch times are medians from epoch 2 on (epoch 1 includes warm-up).`,
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${CORES} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.versions.node}; reflectkit ${pkg.version};`,
    `tfjs 4.22.0 (tfjs-node built against the tensorflow-cpu 2.21.0 wheel); PyTorch ${torchVersion}, pyreflect-nr's CNN class.`,
    '',
    table(runs, target),
    '',
    'Validation MSE per epoch:',
    '',
    ...runs.map((r) => `- ${r.label}: ${r.epochs.map((e) => e.valLoss.toExponential(2)).join(', ') || '–'}`),
    '',
  ].join('\n');
  const existing = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  const start = existing.indexOf(`${heading}\n`);
  const end = start < 0 ? -1 : existing.indexOf('\n## ', start + 1);
  const updated = start < 0 ? `${existing.trimEnd()}\n\n${section}` : `${existing.slice(0, start)}${section}${end < 0 ? '' : existing.slice(end + 1)}`;
  writeFileSync(RESULTS, `${updated.trimEnd()}\n`);
  console.log(section);
}

await main();
