import cliProgress from 'cli-progress';
import type { GenerationProgress } from '../data/generator-options.js';

/** A progress reporter: a bar on a terminal, a line per 10 % otherwise, nothing when quiet. */
export interface ProgressReporter {
  update(progress: GenerationProgress): void;
  stop(): void;
}

/** Creates a progress reporter on stderr (stdout stays clean for JSON output). */
export function createProgress(label: string, quiet: boolean): ProgressReporter {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} curves | {rate} curves/s | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const t0 = performance.now();
    return {
      update({ done, total }) {
        if (!started) {
          bar.start(total, 0, { rate: '0' });
          started = true;
        }
        const rate = done / Math.max(1e-3, (performance.now() - t0) / 1000);
        bar.update(done, { rate: rate.toFixed(0) });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let nextTenth = 1;
  return {
    update({ done, total }) {
      while (done >= (nextTenth * total) / 10 && nextTenth <= 10) {
        process.stderr.write(`${label}: ${done}/${total} curves\n`);
        nextTenth = Math.floor((10 * done) / total) + 1;
      }
    },
    stop: () => undefined,
  };
}
