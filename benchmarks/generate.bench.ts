/**
 * `npm run bench:generate`: reflectkit's ReflectivityDataGenerator against pyreflect's, side by side in one
 * run, on pyreflect's default (legacy 8-layer) model and Q grid. Each measurement is a fresh process, so
 * peak RSS is that run's own. Writes the table to benchmarks/RESULTS.md (section "Data generation").
 *
 * Python side: pyreflect-nr from PyPI (installed --no-deps, its generator's imports added) with refl1d
 * 1.0.1 and its default numba backend, in the venv the tests use (.cache/python).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const PYTHON = join(ROOT, '.cache', 'python', 'bin', 'python');
const RESULTS = join(ROOT, 'benchmarks', 'RESULTS.md');
const SIZES = (process.env.BENCH_SIZES ?? '2000,20000').split(',').map(Number);
const STREAM_SIZE = Number(process.env.BENCH_STREAM ?? 100_000);
const CORES = cpus().length;

interface Row {
  mode: string;
  curves: number;
  workers?: number;
  seconds: number;
  curvesPerSecond: number;
  peakRssBytes: number;
  versions?: Record<string, string>;
}

function ensurePython(): void {
  if (!existsSync(PYTHON)) execFileSync('python3', ['-m', 'venv', join(ROOT, '.cache', 'python')], { stdio: 'inherit' });
  const probe = 'import refl1d, numba, pyreflect, typer, tqdm, scipy';
  try {
    execFileSync(PYTHON, ['-c', probe], { stdio: 'pipe' });
  } catch {
    console.error('bench: installing pyreflect-nr, refl1d 1.0.1 (numba backend) into .cache/python …');
    execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', 'refl1d==1.0.1', 'numba', 'scipy', 'typer', 'tqdm'], { stdio: 'inherit' });
    // pyreflect-nr pins torch and old numpy; its generator needs neither, so install it without its pins.
    execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--no-deps', 'pyreflect-nr'], { stdio: 'inherit' });
  }
}

function pyreflect(curves: number): Row {
  const out = execFileSync(PYTHON, [join(ROOT, 'benchmarks', 'pyreflect_generate.py'), String(curves)], { maxBuffer: 1 << 24 });
  return { mode: 'pyreflect', ...(JSON.parse(out.toString().trim().split('\n').at(-1)!) as Omit<Row, 'mode'>) };
}

function reflectkit(mode: 'memory' | 'files', curves: number, workers: number): Row {
  const out = execFileSync(process.execPath, [join(ROOT, 'benchmarks', 'generate-run.mjs'), mode, String(curves), String(workers)]);
  return JSON.parse(out.toString().trim()) as Row;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

function main(): void {
  ensurePython();
  const rows: Array<{ label: string; row: Row; base?: Row }> = [];
  for (const n of SIZES) {
    console.error(`bench: ${n} curves, pyreflect …`);
    const base = pyreflect(n);
    rows.push({ label: 'pyreflect `ReflectivityDataGenerator(5).generate` (refl1d numba, 1 core)', row: base });
    for (const workers of [0, CORES]) {
      console.error(`bench: ${n} curves, reflectkit in memory, ${workers} workers …`);
      const label = workers === 0 ? 'reflectkit `generate`, 1 thread (workers: 0)' : `reflectkit \`generate\`, ${workers} worker threads`;
      rows.push({ label, row: reflectkit('memory', n, workers), base });
    }
  }
  console.error(`bench: ${STREAM_SIZE} curves streamed to .npy …`);
  const lastBase = [...rows].reverse().find((r) => r.row.mode === 'pyreflect')?.row;
  rows.push({
    label: `reflectkit \`generateToFiles\` to .npy, ${CORES} worker threads (ratio against the last pyreflect rate)`,
    row: reflectkit('files', STREAM_SIZE, CORES),
    ...(lastBase === undefined ? {} : { base: lastBase }),
  });
  const versions = rows.find((r) => r.row.versions)?.row.versions ?? {};
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const table = [
    '| run | curves | wall time | curves/s | vs pyreflect | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(({ label, row, base }) => {
      const ratio = base ? `${(row.curvesPerSecond / base.curvesPerSecond).toFixed(1)}×` : '–';
      return `| ${label} | ${row.curves.toLocaleString('en-US')} | ${row.seconds.toFixed(2)} s | ${row.curvesPerSecond.toFixed(0)} | ${ratio} | ${mb(row.peakRssBytes)} |`;
    }),
  ].join('\n');
  const section = [
    '## Data generation',
    '',
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench:generate\`. Model: pyreflect's default (legacy`,
    'five-film-layer, 8-layer) model with its 19 bounds and Q grid (308 points, resolution 0.0294855), 900-point',
    'profiles; every run a fresh process after a 50-curve (JS) or 20-curve (numba) warm-up.',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${CORES} cores, ${mb(totalmem())} RAM; Node ${process.versions.node};`,
    `reflectkit ${pkg.version} (dist build); Python ${versions.python}, numpy ${versions.numpy}, refl1d ${versions.refl1d}`,
    `(${versions.backend} backend, numba ${versions.numba}), pyreflect-nr ${versions['pyreflect-nr']}.`,
    '',
    table,
    '',
    'pyreflect keeps every curve in Python lists and stacks them at the end; reflectkit `generate` fills',
    'preallocated float32 arrays, and `generateToFiles` streams chunks to `.npy` (its peak RSS does not grow with N).',
    '',
  ].join('\n');
  const existing = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n\nEach section is rewritten by the benchmark that owns it.\n\n';
  const start = existing.indexOf('## Data generation');
  const end = start < 0 ? -1 : existing.indexOf('\n## ', start + 1);
  const updated = start < 0 ? `${existing.trimEnd()}\n\n${section}` : `${existing.slice(0, start)}${section}${end < 0 ? '' : existing.slice(end + 1)}`;
  writeFileSync(RESULTS, `${updated.trimEnd()}\n`);
  console.log(table);
}

main();
