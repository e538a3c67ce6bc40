// One measured reflectkit run in a fresh process (so peak RSS is this run's):
//   node generate-run.mjs <memory|files> <curves> <workers>
// Uses the built package (dist/), as users do. Prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReflectivityDataGenerator } from '../dist/node.js';

const [mode, curvesArg, workersArg] = process.argv.slice(2);
const curves = Number(curvesArg);
const workers = Number(workersArg);
const generator = new ReflectivityDataGenerator({ seed: 1, workers }); // pyreflect's legacy 8-layer model
await new ReflectivityDataGenerator({ seed: 2, workers: 0 }).generate(50); // warm-up: JIT
const start = performance.now();
let dir;
if (mode === 'files') {
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-bench-'));
  await generator.generateToFiles(curves, dir);
} else {
  const { nr, sld } = await generator.generate(curves);
  if (nr.shape[0] !== curves || sld.shape[2] !== 900) throw new Error('bad shapes');
}
const seconds = (performance.now() - start) / 1000;
if (dir) rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ mode, curves, workers, seconds, curvesPerSecond: curves / seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
