/**
 * `npm run bench:generate-million`: 1,000,000 curves of pyreflect's default model streamed to `.npy` with
 * `generateToFiles` (2 worker threads), and the same at 100,000, each in a fresh process: wall time,
 * curves/s, peak RSS (the kernel's high-water mark of the whole process, worker threads included, and RSS
 * sampled through the run), file sizes. Memory must not grow with N. Writes the section "Streaming 1,000,000
 * curves to disk" of benchmarks/RESULTS.md and deletes the generated files (about 9.8 GB at 1,000,000).
 *
 * Environment: BENCH_MILLION_SIZES (default `100000,1000000`), BENCH_MILLION_WORKERS (default 2),
 * BENCH_MILLION_DIR (scratch parent, default the system's temporary folder).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const RESULTS = join(ROOT, 'benchmarks', 'RESULTS.md');
const HEADING = '## Streaming 1,000,000 curves to disk';
const SIZES = (process.env.BENCH_MILLION_SIZES ?? '100000,1000000').split(',').map(Number);
const WORKERS = Number(process.env.BENCH_MILLION_WORKERS ?? 2);
const PARENT = process.env.BENCH_MILLION_DIR ?? tmpdir();

interface Run {
  curves: number;
  workers: number;
  seconds: number;
  cpuSeconds: number;
  curvesPerSecond: number;
  loadAverage?: number;
  peakRssBytes: number;
  sampledPeakRssBytes: number;
  timeline: Array<{ done: number; rssBytes: number; seconds: number }>;
  sizes: Record<string, number>;
  nrShape: number[];
  sldShape: number[];
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
const count = (n: number): string => n.toLocaleString('en-US');

function measure(curves: number): Run {
  const dir = mkdtempSync(join(PARENT, 'reflectkit-million-'));
  const free = statfsSync(dir);
  const needed = curves * (2 * 308 * 4 + 2 * 900 * 4 + 19 * 8);
  if (free.bavail * free.bsize < needed * 1.05) throw new Error(`${dir} has ${gb(free.bavail * free.bsize)} free; ${count(curves)} curves need ${gb(needed)}`);
  try {
    console.error(`bench: ${count(curves)} curves into ${dir} …`);
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'benchmarks', 'generate-million-run.ts'), String(curves), String(WORKERS), dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    return { ...(JSON.parse(out.toString().trim().split('\n').at(-1)!) as Run), loadAverage: loadavg()[0]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const runs = SIZES.map(measure);
  const table = [
    '| curves | wall time | curves/s | CPU time (all threads) | load average (1 min, at the end) | peak RSS (kernel high-water mark) | peak RSS (sampled every 100 ms) | nr_train.npy | sld_train.npy | parameters.npy | total written |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...runs.map((r) => {
      const total = Object.values(r.sizes).reduce((a, b) => a + b, 0);
      return `| ${count(r.curves)} | ${r.seconds.toFixed(1)} s | ${r.curvesPerSecond.toFixed(0)} | ${r.cpuSeconds.toFixed(0)} s | ${r.loadAverage?.toFixed(1) ?? '–'} | ${mb(r.peakRssBytes)} | ${mb(r.sampledPeakRssBytes)} | ${gb(r.sizes['nr_train.npy'] ?? 0)} | ${gb(r.sizes['sld_train.npy'] ?? 0)} | ${gb(r.sizes['parameters.npy'] ?? 0)} | ${gb(total)} |`;
    }),
  ].join('\n');
  const largest = runs.at(-1)!;
  const timeline = largest.timeline
    .filter((_, i) => i % 2 === 0 || i === largest.timeline.length - 1)
    .map((t) => `${count(t.done)}: ${mb(t.rssBytes)}`)
    .join(' · ');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const section = [
    HEADING,
    '',
    `Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench:generate-million\`: \`generateToFiles\` with pyreflect's default`,
    `(legacy 8-layer) model, seed 1, ${WORKERS} worker threads, default chunks (1,024 curves, at most ${2 * WORKERS} in flight), into a scratch`,
    'folder on the local disk that is deleted afterwards; each size in a fresh process, reflectkit run from its sources',
    `through tsx. Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${mb(totalmem())} RAM; Node ${process.versions.node}; reflectkit ${pkg.version}.`,
    '',
    table,
    '',
    `RSS through the ${count(largest.curves)}-curve run, by curves written: ${timeline}.`,
    '',
    'Peak RSS does not grow with N: the writer holds only the chunks in flight (each chunk is appended to the',
    'three temporary `.npy` files as it arrives, in order), and the worker threads share the process RSS. Throughput',
    'depends on what else the machine runs: compare CPU time with wall time, and the load average, before comparing rates.',
    '',
  ].join('\n');
  const existing = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n\nEach section is rewritten by the benchmark that owns it.\n\n';
  const start = existing.indexOf(`${HEADING}\n`);
  const end = start < 0 ? -1 : existing.indexOf('\n## ', start + 1);
  const updated = start < 0 ? `${existing.trimEnd()}\n\n${section}` : `${existing.slice(0, start)}${section}${end < 0 ? '' : existing.slice(end + 1)}`;
  writeFileSync(RESULTS, `${updated.trimEnd()}\n`);
  console.log(table);
  console.log(timeline);
}

main();
