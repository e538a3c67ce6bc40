// One measured streaming run in a fresh process (so its peak RSS is this run's own):
//   node --import tsx benchmarks/generate-million-run.ts <curves> <workers> <dir>
// Runs the sources (through tsx, as the tests do), pyreflect's default model, seed 1. Samples the resident
// set size every 100 ms (worker threads share the process's RSS) and at every 5% of the curves; prints one
// JSON line. The caller deletes <dir>.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ReflectivityDataGenerator } from '../src/data/node-generator.node.js';

const [curvesArg, workersArg, dir] = process.argv.slice(2);
const curves = Number(curvesArg);
const workers = Number(workersArg);
if (!Number.isSafeInteger(curves) || !Number.isSafeInteger(workers) || dir === undefined) {
  throw new Error('usage: generate-million-run.ts <curves> <workers> <dir>');
}

let sampledPeak = 0;
const sample = (): number => {
  const rss = process.memoryUsage.rss();
  sampledPeak = Math.max(sampledPeak, rss);
  return rss;
};
const timeline: Array<{ done: number; rssBytes: number; seconds: number }> = [];
let nextMilestone = 0;
const started = performance.now();
const timer = setInterval(sample, 100);
const generator = new ReflectivityDataGenerator({
  seed: 1,
  workers,
  onProgress: ({ done, total }) => {
    if (done >= nextMilestone) {
      timeline.push({ done, rssBytes: sample(), seconds: (performance.now() - started) / 1000 });
      nextMilestone = Math.min(total, nextMilestone + total / 20);
    }
  },
});
const files = await generator.generateToFiles(curves, dir);
const seconds = (performance.now() - started) / 1000;
clearInterval(timer);
sample();
const sizes = Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]));
process.stdout.write(
  `${JSON.stringify({
    curves: files.numCurves,
    workers,
    seconds,
    curvesPerSecond: curves / seconds,
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    sampledPeakRssBytes: sampledPeak,
    timeline,
    sizes,
    nrShape: files.nrShape,
    sldShape: files.sldShape,
  })}\n`,
);
