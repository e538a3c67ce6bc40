// The examples run against the built package (dist/, by its own name through the exports map), so they cannot
// rot: every Node script in examples/node, and both notebooks executed cell by cell in their real kernels (Deno's
// and tslab's, driven headless over ZeroMQ by examples/notebooks/run-notebook.mjs). A cell that throws fails.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const NOTEBOOKS = join(ROOT, 'examples', 'notebooks');
const RUNNER = join(NOTEBOOKS, 'run-notebook.mjs');

/** The environment of a child: without the test runner's IPC channel variables, which would open a pipe in it. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_CHANNEL_FD;
  delete env.NODE_CHANNEL_SERIALIZATION_MODE;
  return env;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs node asynchronously (a blocking child would starve the test worker's RPC with vitest for a minute). */
function node(args: string[], timeoutMs = 150_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs); // run-notebook.mjs then stops its kernel
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Runs an example script; fails with its output when it exits non-zero. */
async function example(script: string, args: string[] = []): Promise<string> {
  const r = await node([join(ROOT, 'examples', 'node', script), ...args]);
  if (r.code !== 0) throw new Error(`${script} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The number right after `label` in `text` ("validation loss 1.2e-1" → 0.12). */
function numberAfter(text: string, label: string): number {
  const match = new RegExp(`${label.replace(/[()²]/g, '\\$&')}\\s*(-?[0-9.]+(?:e[+-]?\\d+)?)`).exec(text);
  if (!match) throw new Error(`no number after ${JSON.stringify(label)} in:\n${text}`);
  return Number(match[1]);
}

// Every folder the examples write to; removed when the file's tests end.
const scratch: string[] = [];
const tmp = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `reflectkit-${prefix}-`));
  scratch.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratch) if (dir.startsWith(join(tmpdir(), 'reflectkit-'))) rmSync(dir, { recursive: true, force: true });
});

describe('Node examples against the built package', () => {
  const dataDir = tmp('example-data');
  const modelDir = join(tmp('example-model'), 'model');
  const predictionDir = tmp('example-prediction');

  it('simulate-curve.mjs prints 12 Q points and the profile ends', async () => {
    const out = await example('simulate-curve.mjs');
    expect(out.split('\n').filter((l) => /^0\.\d{5}\s/.test(l))).toHaveLength(12);
    expect(out).toMatch(/profile: 900 points from z = -10\.0 Å \(SLD 2\.070\)/);
  });

  it('generate-dataset.mjs writes the two .npy files', async () => {
    const out = await example('generate-dataset.mjs', [dataDir, '64']);
    expect(out).toContain(`64 curves → ${join(dataDir, 'nr_train.npy')}`);
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['nr_train.npy', 'sld_train.npy', 'parameters.npy', 'generation.json']));
  });

  it('preprocess.mjs splits 80/10/10, fits the scaler on the train rows and writes both stats layouts', async () => {
    const out = await example('preprocess.mjs', [dataDir]);
    expect(out).toContain(`nr  ${join(dataDir, 'nr_train.npy')}: (64, 2, 308) float32`);
    expect(out).toContain(`sld ${join(dataDir, 'sld_train.npy')}: (64, 2, 900) float32`);
    expect(out).toContain('split (seed 0): train 51, validation 6, test 7');
    expect(out).toContain('model input: 51 × 308 values in [0.000, 1.000]');
    expect(out).toContain('model target: 51 × 2 × 900 values');
    // pyreflect's layout as printed is what scaler.json holds; R is clipped at 1e-8 so log R starts at -8,
    // the generator's z starts at 0 (pyreflect's shift), the Q grid is pyreflect's 0.0081–0.1975.
    const printed = JSON.parse(/pyreflect layout: (.*)/.exec(out)![1]!) as Record<'nr' | 'sld', Record<'x' | 'y', { min: number; max: number }>>;
    const saved = JSON.parse(readFileSync(join(dataDir, 'scaler.json'), 'utf8')) as { format: string; nr: unknown; sld: unknown };
    expect(saved.format).toBe('reflectkit-scaler');
    expect({ nr: saved.nr, sld: saved.sld }).toEqual(printed);
    expect(printed.nr.x.min).toBeCloseTo(0.0081, 6);
    expect(printed.nr.x.max).toBeCloseTo(0.1975, 6);
    expect(printed.nr.y.min).toBe(-8);
    expect(printed.sld.x.min).toBe(0);
    expect(printed.sld.y.max).toBeGreaterThan(printed.sld.y.min);
    const npy = readFileSync(join(dataDir, 'normalization_stat.npy'));
    expect(npy.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  });

  it('train.mjs trains the tiny CNN with a checkpoint per epoch and saves a bundle', async () => {
    const out = await example('train.mjs', [dataDir, modelDir, '2']);
    expect(out).toContain('training on 51 curves, validating on 6 (64 in all, Q points 308)');
    for (const epoch of [1, 2]) {
      const line = out.split('\n').find((l) => l.startsWith(`epoch ${epoch}/2:`)) ?? '';
      expect(Number.isFinite(numberAfter(line, 'training loss'))).toBe(true);
      expect(numberAfter(line, 'validation loss')).toBeGreaterThan(0);
    }
    // 51 training curves in batches of 16: 4 steps an epoch.
    expect(out).toMatch(/completed after 8 steps on /);
    expect(out).toContain(`last checkpoint: ${join(modelDir, 'checkpoints', 'epoch-2-batch-0')}`);
    expect(readdirSync(modelDir).sort()).toEqual(['checkpoints', 'config.json', 'normalization_stat.npy', 'scaler.json', 'weights.bin']);
    expect(existsSync(join(modelDir, 'checkpoints', 'latest.json'))).toBe(true);
    const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as {
      model: { layers: number; kernelSize: number; head: string };
      history: { epochs: number[] };
      info: { q: number[]; split: unknown; generator: { layers: unknown[] } };
    };
    expect(config.model).toMatchObject({ layers: 2, kernelSize: 7, head: 'bottleneck' });
    expect(config.history.epochs).toEqual([1, 2]);
    expect(config.info.q).toHaveLength(308);
    expect(config.info.split).toEqual({ seed: 0, trainFraction: 0.8 });
    expect(config.info.generator.layers.length).toBeGreaterThan(2);
  });

  it('predict.mjs predicts, computes R(Q) back, evaluates the test split and the measured curve, writes both reports', async () => {
    const fixture = join(ROOT, 'test', 'fixtures', 'REFL_212592_reduced_noQb.txt');
    const out = await example('predict.mjs', [modelDir, dataDir, fixture, predictionDir]);
    expect(out).toContain('2 blocks, kernel 7, bottleneck head; 308 Q points → 900 profile points');
    expect(out).toMatch(/predicted profile of test curve \d+: \(1, 2, 900\)/);
    // The generator's fixed media: silicon backing, air fronting.
    expect(out).toContain('media: backing 2.070, fronting 0.000');
    expect(numberAfter(out, 'χ²(log R)')).toBeGreaterThan(0);
    const split = out.split('\n').find((l) => l.startsWith('test split:')) ?? '';
    expect(split).toContain('7 curves');
    expect(numberAfter(split, 'SLD MSE')).toBeGreaterThan(0);
    expect(numberAfter(split, 'MAE')).toBeGreaterThan(0);
    expect(Number.isFinite(numberAfter(split, 'R²'))).toBe(true);
    expect(out).toContain('measured REFL_212592_reduced_noQb.txt: 416 points, Q 0.0083–0.2690 1/Å, dQ fwhm');
    const measured = out.split('\n').find((l) => l.startsWith('measured:')) ?? '';
    expect(numberAfter(measured, 'χ²')).toBeGreaterThan(0);
    expect(measured).toContain('weighted by dR');
    expect(measured).toContain('3 grid points below and 0 above');
    const charts = ['nr.svg', 'nr.png', 'sld.svg', 'sld.png', 'loss.svg', 'loss.png'];
    expect(readdirSync(join(predictionDir, 'test-split'))).toEqual(expect.arrayContaining(['result.json', 'report.html', 'parity.svg', ...charts]));
    expect(readdirSync(join(predictionDir, 'measured'))).toEqual(expect.arrayContaining(['result.json', 'report.html', ...charts]));
    const result = JSON.parse(readFileSync(join(predictionDir, 'measured', 'result.json'), 'utf8')) as { source: { kind: string }; nr: { q: number[] } };
    expect(result.source.kind).toBe('measured');
    expect(result.nr.q.length).toBeGreaterThan(300);
  });

  it('pipeline.mjs runs every phase in order and reports finite test-split metrics', async () => {
    const outDir = tmp('example-runs');
    const out = await example('pipeline.mjs', [outDir, '40', '2']);
    const phases = out.split('\n').filter((l) => l.startsWith('phase '));
    expect(phases.map((l) => l.replace(/ \(.*$/, ''))).toEqual([
      'phase generate: start',
      'phase generate: end',
      'phase upload-data: skip',
      'phase train: start',
      'phase train: end',
      'phase save: start',
      'phase save: end',
      'phase evaluate: start',
      'phase evaluate: end',
      'phase report: start',
      'phase report: end',
      'phase hub: skip',
      'phase history: skip',
    ]);
    expect(out).toContain('epoch 2/2: training loss');
    const metrics = out.split('\n').find((l) => l.startsWith('test split:')) ?? '';
    expect(metrics).toContain('4 curves'); // 40 curves: 32/4/4
    for (const label of ['SLD MSE', 'MAE', 'χ²(log R)']) expect(numberAfter(metrics, label)).toBeGreaterThan(0);
    const report = /^report: (.*)$/m.exec(out)![1]!;
    expect(report.startsWith(outDir)).toBe(true);
    expect(readFileSync(report, 'utf8')).toContain('<svg');
  });
});

interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string;
  data?: Record<string, string>;
  ename?: string;
}
interface Notebook {
  cells: Array<{ cell_type: string; source: string[] | string; execution_count?: number | null; outputs?: NotebookOutput[] }>;
  metadata: { kernelspec: { name: string; language: string } };
}

/** Runs a notebook in its kernel with run-notebook.mjs; returns the exit, the log and the executed notebook. */
async function execute(path: string, timeoutMs = 150_000): Promise<Run & { notebook: Notebook | null }> {
  const out = join(tmp('executed'), 'executed.ipynb');
  const r = await node([RUNNER, path, '--out', out, '--timeout', '120'], timeoutMs);
  return { ...r, notebook: existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Notebook) : null };
}

function codeCells(notebook: Notebook) {
  return notebook.cells.filter((c) => c.cell_type === 'code');
}

function streamText(notebook: Notebook): string {
  return codeCells(notebook)
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.output_type === 'stream' && o.name === 'stdout')
    .map((o) => o.text)
    .join('');
}

function svgOutputs(notebook: Notebook): string[] {
  return codeCells(notebook)
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.output_type === 'display_data')
    .map((o) => o.data?.['image/svg+xml'] ?? '');
}

/** Checks a notebook ran every code cell without an error and printed the walk-through's values. */
function expectWalkThrough(run: Run & { notebook: Notebook | null }): string {
  if (run.code !== 0) throw new Error(`the notebook failed (exit ${run.code}):\n${run.stdout.slice(-6000)}\n${run.stderr}`);
  const notebook = run.notebook!;
  for (const cell of codeCells(notebook)) {
    expect(cell.execution_count).toBeGreaterThan(0);
    expect((cell.outputs ?? []).filter((o) => o.output_type === 'error')).toEqual([]);
  }
  const text = streamText(notebook);
  expect(text).toContain('simulated: 200 Q points (0.0080–0.2000 1/Å)');
  expect(text).toContain('dataset: nr (64, 2, 308), sld (64, 2, 900)');
  expect(text).toContain('split: train 51, validation 6, test 7');
  expect(text).toContain('log R in [-8.000, ');
  for (const epoch of [1, 2, 3]) expect(numberAfter(text, `epoch ${epoch}/3: training loss`)).toBeGreaterThan(0);
  expect(text).toMatch(/trained: completed, 12 steps, \d+ parameters/);
  expect(text).toContain('predicted profile: (1, 2, 900)');
  const metrics = text.split('\n').find((l) => l.startsWith('test split:')) ?? '';
  expect(metrics).toContain('7 curves');
  for (const label of ['SLD MSE', 'MAE', 'χ²(log R)']) expect(numberAfter(metrics, label)).toBeGreaterThan(0);
  expect(Number.isFinite(numberAfter(metrics, 'R²'))).toBe(true);
  // The curve and profile of step 1, then the report's nr, sld, loss and parity charts.
  const svgs = svgOutputs(notebook);
  const outputs = codeCells(notebook).map((c) => (c.outputs ?? []).map((o) => `${o.output_type}${o.data ? ` ${Object.keys(o.data).join('+')}` : ''}`));
  expect(svgs.length, `outputs per code cell: ${JSON.stringify(outputs)}`).toBe(5);
  for (const svg of svgs) expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  return text;
}

/** A notebook for `kernel` whose second cell throws. */
function failingNotebook(dir: string, kernel: 'deno' | 'tslab'): string {
  const path = join(dir, `failing-${kernel}.ipynb`);
  const cell = (source: string) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source });
  const notebook = {
    cells: [cell("console.log('first cell ran');"), cell("throw new Error('boom from a cell');"), cell("console.log('never');")],
    metadata: { kernelspec: { name: kernel, display_name: kernel, language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 4,
  };
  writeFileSync(path, JSON.stringify(notebook));
  return path;
}

function expectStopsAtTheThrow(run: Run & { notebook: Notebook | null }): void {
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/cell 1 failed: .*boom from a cell/);
  const cells = codeCells(run.notebook!);
  expect(streamText({ ...run.notebook!, cells: [cells[0]!] })).toContain('first cell ran');
  expect(cells[2]!.execution_count ?? null).toBeNull();
  expect(cells[2]!.outputs ?? []).toEqual([]);
}

describe('notebooks, executed in their kernels', () => {
  const require = createRequire(import.meta.url);

  it('the kernels are installed (devDependencies deno and tslab; no skipping when they are missing)', async () => {
    expect(() => require.resolve('deno/bin.cjs'), 'npm install: the deno devDependency is missing').not.toThrow();
    expect(() => require.resolve('tslab/bin/tslab'), 'npm install: the tslab devDependency is missing').not.toThrow();
    expect(() => require.resolve('zeromq'), 'npm install: the zeromq devDependency is missing').not.toThrow();
    const version = await node([require.resolve('deno/bin.cjs'), '--version']);
    expect(version.stdout).toMatch(/^deno 2\.9\.6 /);
  });

  it('deno.ipynb (Deno kernel, npm: specifiers mapped to dist/ by examples/notebooks/deno.json) runs every cell', async () => {
    const notebook = JSON.parse(readFileSync(join(NOTEBOOKS, 'deno.ipynb'), 'utf8')) as Notebook;
    expect(notebook.metadata.kernelspec).toMatchObject({ name: 'deno', language: 'typescript' });
    const text = expectWalkThrough(await execute(join(NOTEBOOKS, 'deno.ipynb')));
    expect(text).toMatch(/reflectkit \d+\.\d+\.\d+ on Deno 2\.9\.6/);
    expect(text).toMatch(/^backend: \w+/m);
    const report = /report (\S+report\.html)/.exec(text)![1]!;
    scratch.push(join(report, '..')); // the notebook's own temp folder
    expect(readFileSync(report, 'utf8')).toContain('<svg');
    expect(text).toContain('charts: nr, sld, loss, parity');
  });

  describe('tslab.ipynb (tslab kernel, reflectkit/node as an installed package)', () => {
    let project: string;
    beforeAll(async () => {
      // A project with node_modules/reflectkit → this checkout's dist/ (link-package.mjs), as after npm install.
      project = tmp('tslab-project');
      const linked = await node([join(NOTEBOOKS, 'link-package.mjs'), project]);
      if (linked.code !== 0) throw new Error(`link-package.mjs failed:\n${linked.stderr}`);
      copyFileSync(join(NOTEBOOKS, 'tslab.ipynb'), join(project, 'tslab.ipynb'));
    });

    it('runs every cell', async () => {
      const notebook = JSON.parse(readFileSync(join(NOTEBOOKS, 'tslab.ipynb'), 'utf8')) as Notebook;
      expect(notebook.metadata.kernelspec).toMatchObject({ name: 'tslab', language: 'typescript' });
      const text = expectWalkThrough(await execute(join(project, 'tslab.ipynb')));
      expect(text).toMatch(/reflectkit \d+\.\d+\.\d+ on Node .* \(tslab 1\.0\.22\)/);
      scratch.push(/files in (\S+)/.exec(text)![1]!); // the notebook's own temp folder
      expect(text).toContain('generated 64 curves → ');
      expect(text).toMatch(/model [0-9a-f-]{36}: normalization_stat\.npy, scaler\.json, weights\.bin, config\.json/);
      expect(text).toContain('wrote 10 files: result.json, nr.svg, nr.png, sld.svg, sld.png, loss.svg, loss.png, parity.svg, parity.png, report.html');
    });

    it('fails at the first cell that throws, and runs nothing after it', async () => {
      expectStopsAtTheThrow(await execute(failingNotebook(project, 'tslab')));
    });
  });

  it('the Deno kernel run fails at the first cell that throws, and runs nothing after it', async () => {
    const dir = tmp('failing');
    mkdirSync(dir, { recursive: true });
    expectStopsAtTheThrow(await execute(failingNotebook(dir, 'deno')));
  });
});
